"""selfseed.stats.meta against R metafor 3.8 and survival (stored by tests/reference/meta.R).

`python tests/test_meta.py` rewrites tests/reference/meta_pooled_cohorts.tsv (the pooled SurvSet
cohorts R reads); then `Rscript tests/reference/meta.R` rewrites meta_reference.json.
"""

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.errors import InputDataError
from selfseed.stats.meta import random_effects, stratified_cox, study_weights

REFERENCE = Path(__file__).resolve().parent / "reference"
STUDIES = pd.read_csv(REFERENCE / "meta_studies.tsv", sep="\t")
POOLED_TSV = REFERENCE / "meta_pooled_cohorts.tsv"
SURVSET_COHORTS = ("gse1992", "gse3143")
SCORE_GENES = ("num_HS_IL6", "num_HS_IL8")
COMPARED = ("estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "h2", "q", "q_p")
SETS = sorted(STUDIES["set"].unique())


@cache
def _r():
    """The stored R reference values."""
    return json.loads((REFERENCE / "meta_reference.json").read_text())


def _zscore(x):
    return (x - x.mean()) / x.std(ddof=1)


def pooled_survset_cohorts():
    """gse1992 + gse3143 patients with score = mean within-cohort z-score of IL6 and IL8,
    re-standardised to unit SD within cohort."""
    from SurvSet.data import SurvLoader

    loader = SurvLoader()
    frames = []
    for cohort in SURVSET_COHORTS:
        df = loader.load_dataset(ds_name=cohort)["df"]
        score = _zscore(df[list(SCORE_GENES)].apply(_zscore).mean(axis=1))
        frames.append(
            pd.DataFrame(
                {
                    "cohort": cohort,
                    "pid": df["pid"].astype(str),
                    "time_months": df["time"].astype(float),
                    "event": df["event"].astype(int),
                    "score": score,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _set(name):
    rows = STUDIES[STUDIES["set"] == name]
    return rows["log_hr"].to_numpy(), rows["se"].to_numpy()


def _assert_matches(ours, theirs, atol=1e-6):
    for key in COMPARED:
        assert ours[key] == pytest.approx(theirs[key], abs=atol, rel=1e-6), key
    assert ours["k"] == theirs["k"]


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("method", ["REML", "DL", "PM"])
@pytest.mark.parametrize("hartung_knapp", [False, True])
def test_random_effects_equals_metafor(name, method, hartung_knapp):
    fit = random_effects(*_set(name), method=method, hartung_knapp=hartung_knapp)
    _assert_matches(fit, _r()["meta"][name][method + ("_knha" if hartung_knapp else "")])
    assert fit["hr_ci_low"] == pytest.approx(np.exp(fit["ci_low"]))
    assert fit["estimable"]
    assert fit["q_df"] == fit["k"] - 1


@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("method", ["REML", "PM"])
def test_metafor_default_stopping_rule_is_within_its_tolerance(name, method):
    """metafor's default control stops tau2 iterations early; we iterate to convergence."""
    fit = random_effects(*_set(name), method=method, hartung_knapp=False)
    default = _r()["meta"][name][method + "_default_control"]
    assert fit["tau2"] == pytest.approx(default["tau2"], abs=5e-5)
    assert fit["estimate"] == pytest.approx(default["estimate"], abs=2e-5)


def test_homogeneous_inputs_clip_negative_dl_tau2_to_zero():
    log_hr, se = _set("k5_homogeneous")
    w = 1 / se**2
    q = w @ (log_hr - w @ log_hr / w.sum()) ** 2
    assert q < len(log_hr) - 1  # the unclipped DL tau2 would be negative
    for method in ("REML", "DL", "PM"):
        fit = random_effects(log_hr, se, method=method, hartung_knapp=False)
        assert fit["tau2"] == 0
        assert fit["i2"] == 0
        assert fit["h2"] == 1
        assert fit["estimate"] == pytest.approx(w @ log_hr / w.sum(), abs=1e-12)  # fixed effect


def test_heterogeneous_set_is_detected():
    fit = random_effects(*_set("k5_heterogeneous"), method="REML", hartung_knapp=False)
    assert fit["i2"] > 75
    assert fit["q_p"] < 1e-6
    assert fit["method"] == "REML"
    assert not fit["hartung_knapp"]


@pytest.mark.parametrize("k", [0, 1])
def test_fewer_than_two_cohorts_is_not_estimable(k):
    fit = random_effects([0.3][:k], [0.1][:k], method="REML", hartung_knapp=True)
    assert not fit["estimable"]
    assert fit["k"] == k
    assert "not estimable" in fit["note"]
    assert np.isnan(fit["estimate"])
    assert np.isnan(fit["tau2"])
    assert np.isnan(fit["p"])


@pytest.mark.parametrize(
    ("log_hr", "se"),
    [([0.1, 0.2], [0.1]), ([0.1, np.nan], [0.1, 0.2]), ([0.1, 0.2], [0.1, 0.0])],
)
def test_bad_study_inputs_raise(log_hr, se):
    with pytest.raises(InputDataError):
        random_effects(log_hr, se, method="REML", hartung_knapp=False)


def test_unknown_method_raises():
    with pytest.raises(InputDataError, match="method"):
        random_effects([0.1, 0.2], [0.1, 0.2], method="HS", hartung_knapp=False)


@pytest.mark.parametrize("name", SETS)
def test_study_weights_equal_metafor(name):
    log_hr, se = _set(name)
    cohorts = STUDIES.loc[STUDIES["set"] == name, "cohort"]
    for method in ("FE", "REML"):
        tau2 = (
            0.0
            if method == "FE"
            else random_effects(log_hr, se, method="REML", hartung_knapp=False)["tau2"]
        )
        table = study_weights(pd.Series(log_hr, index=cohorts), se, tau2)
        assert list(table.index) == list(cohorts)
        np.testing.assert_allclose(
            table["weight_percent"], _r()["meta"][name][method]["weights"], atol=1e-6
        )
        assert table["weight_percent"].sum() == pytest.approx(100)


def _pooled_cox(event=None):
    pooled = pd.read_csv(POOLED_TSV, sep="\t")
    event = pooled["event"] if event is None else event(pooled["event"])
    return stratified_cox(pooled["time_months"], event, pooled["score"], pooled["cohort"])


def test_stratified_cox_equals_coxph():
    fit = _pooled_cox()
    theirs = _r()["stratified_cox"]
    for key in ("coef", "se", "hr", "ci_low", "ci_high", "p"):
        assert fit[key] == pytest.approx(theirs[key], abs=1e-6, rel=1e-6), key
    assert (fit["n"], fit["events"]) == (theirs["n"], theirs["events"])


def test_competing_events_are_censored_in_stratified_cox():
    censored_as_competing = _pooled_cox(lambda event: event.where(event == 1, 2))
    assert censored_as_competing["coef"] == pytest.approx(_pooled_cox()["coef"], abs=1e-12)
    with pytest.raises(InputDataError, match="event"):
        _pooled_cox(lambda event: event + 3)
    with pytest.raises(InputDataError, match="no events"):
        _pooled_cox(lambda event: event * 0)


def test_pooled_tsv_is_the_survset_data():
    pytest.importorskip("SurvSet", reason="SurvSet (a pipeline dependency) is not installed")
    stored = pd.read_csv(POOLED_TSV, sep="\t", dtype={"pid": str})
    pd.testing.assert_frame_equal(stored, pooled_survset_cohorts(), check_exact=False, rtol=1e-14)


if __name__ == "__main__":
    pooled_survset_cohorts().to_csv(POOLED_TSV, sep="\t", index=False, float_format="%.17g")
