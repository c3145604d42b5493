"""Cox diagnostics against R (tests/reference/coxdiag.R on the real SurvSet cohorts gse1992 and
gse3143; inputs in tests/reference/coxdiag_<cohort>.tsv, values in coxdiag_reference.json)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.errors import InputDataError
from selfseed.stats.coxdiag import (
    rcs_knots,
    schoenfeld_test,
    spline_nonlinearity,
    treatment_interaction,
)

REFERENCE = Path(__file__).resolve().parent / "reference"
R = json.loads((REFERENCE / "coxdiag_reference.json").read_text())


def cohort(name):
    return pd.read_csv(REFERENCE / f"coxdiag_{name}.tsv", sep="\t")


G1992, G3143 = cohort("gse1992"), cohort("gse3143")
CC1992 = G1992.dropna().assign(grade3=lambda d: (d["grade"] == 3).astype(float))
ER1992 = G1992[G1992["er_positive"] == 1]


def assert_zph_equal(result, key):
    expected = pd.DataFrame(R["zph"][key])
    assert result["term"].tolist() == expected["term"].tolist()
    assert result["df"].tolist() == expected["df"].tolist()
    np.testing.assert_allclose(result["chisq"], expected["chisq"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(result["p"], expected["p"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("transform", ["km", "rank", "identity", "log"])
def test_schoenfeld_single_score_equals_cox_zph(transform):
    result = schoenfeld_test(G1992.time, G1992.event, G1992[["score"]], transform=transform)
    assert_zph_equal(result, f"gse1992_score_{transform}")


def test_schoenfeld_adjusted_model_equals_cox_zph():
    columns = ["score", "age", "node_positive", "er_positive", "grade3"]
    result = schoenfeld_test(CC1992.time, CC1992.event, CC1992[columns])
    assert_zph_equal(result, "gse1992_adjusted_km")
    assert_zph_equal(
        schoenfeld_test(G3143.time, G3143.event, G3143[["score", "er_level"]]), "gse3143_km"
    )
    # er_level violates proportional hazards in gse3143 (p = 0.024 in R)
    assert result.iloc[-1]["term"] == "GLOBAL"


def test_schoenfeld_multi_df_term_equals_cox_zph():
    dummies = pd.get_dummies(G3143["er_level"].astype(int), prefix="er", drop_first=True)
    X = pd.concat([G3143[["score"]], dummies.astype(float)], axis=1)
    terms = {"score": ["score"], "factor(er_level)": list(dummies.columns)}
    result = schoenfeld_test(G3143.time, G3143.event, X, terms=terms)
    assert_zph_equal(result, "gse3143_er_factor_km")
    assert result["df"].tolist() == [1, 3, 4]


def test_schoenfeld_rejects_competing_event_code_and_unknown_transform():
    event = G1992.event.to_numpy().copy()
    event[0] = 2
    with pytest.raises(InputDataError, match="cause-specific"):
        schoenfeld_test(G1992.time, event, G1992[["score"]])
    with pytest.raises(InputDataError, match="transform"):
        schoenfeld_test(G1992.time, G1992.event, G1992[["score"]], transform="loglog")


SPLINE_CASES = {
    "gse1992_k4": (G1992, 4, None),
    "gse1992_adjusted_k4": (CC1992, 4, ["age", "node_positive"]),
    "gse1992_er_positive_k4": (ER1992, 4, None),  # n = 72 < 100: outer knots at 5th values
    "gse3143_k3": (G3143, 3, None),
    "gse3143_k5": (G3143, 5, None),
}


@pytest.mark.parametrize("key", SPLINE_CASES)
def test_spline_nonlinearity_equals_coxph_rcs(key):
    data, knots, covariates = SPLINE_CASES[key]
    expected = R["spline"][key]
    result = spline_nonlinearity(
        data.time,
        data.event,
        data.score,
        None if covariates is None else data[covariates],
        knots=knots,
    )
    np.testing.assert_allclose(result["knots"], expected["knots"], rtol=1e-12)
    assert result["df"] == expected["df"] == knots - 2
    assert result["lr_stat"] == pytest.approx(expected["lr_stat"], abs=1e-6)
    assert result["p"] == pytest.approx(expected["p"], abs=1e-6)
    assert result["median_score"] == pytest.approx(expected["median_score"], abs=1e-12)
    curve = pd.DataFrame(expected["curve"])
    np.testing.assert_allclose(result["curve"].to_numpy(), curve.to_numpy(), atol=1e-6)


def test_spline_curve_equals_rms_predict():
    # rms::cph + Predict(ref.zero = TRUE): log HR relative to the median, an independent route
    result = spline_nonlinearity(G1992.time, G1992.event, G1992.score, knots=4)
    rms_curve = pd.DataFrame(R["spline"]["gse1992_k4"]["rms_curve"])
    np.testing.assert_allclose(result["curve"].to_numpy(), rms_curve.to_numpy(), atol=1e-6)


def test_rcs_knots_small_sample_rule():
    # fewer than 100 values: the outer knots are the 5th smallest and 5th largest
    values = np.sort(ER1992.score.to_numpy())
    knots = rcs_knots(values, 4)
    assert knots[0] == values[4]
    assert knots[-1] == values[-5]
    assert list(knots) == pytest.approx(R["spline"]["gse1992_er_positive_k4"]["knots"])


INTERACTION_CASES = {
    "gse1992_er_adjusted": (CC1992, "er_positive", ["age", "node_positive"]),
    "gse3143_er_high": (G3143.assign(er_high=(G3143.er_level >= 2).astype(float)), "er_high", None),
}


@pytest.mark.parametrize("key", INTERACTION_CASES)
def test_treatment_interaction_equals_coxph(key):
    data, treatment, covariates = INTERACTION_CASES[key]
    expected = R["interaction"][key]
    result = treatment_interaction(
        data.time,
        data.event,
        data.score,
        data[treatment],
        None if covariates is None else data[covariates],
    )
    for field in ["interaction_hr", "ci_low", "ci_high", "wald_p", "lr_stat", "lrt_p"]:
        assert result[field] == pytest.approx(expected[field], rel=1e-6, abs=1e-8), field
    by_treatment = pd.DataFrame(expected["score_hr_by_treatment"])
    np.testing.assert_allclose(
        result["score_hr_by_treatment"][["hr", "ci_low", "ci_high", "p"]].to_numpy(),
        by_treatment[["hr", "ci_low", "ci_high", "p"]].to_numpy(),
        rtol=1e-6,
    )
    assert result["treatment_levels"] == [0.0, 1.0]


def test_treatment_interaction_input_errors():
    three_levels = G3143.er_level
    with pytest.raises(InputDataError, match="two levels"):
        treatment_interaction(G3143.time, G3143.event, G3143.score, three_levels)
    with pytest.raises(
        InputDataError, match="covariate has missing or infinite values(.|\n)*grade"
    ):
        treatment_interaction(G1992.time, G1992.event, G1992.score, G1992.event, G1992[["grade"]])


def zph_cases():
    """(time, event, x, eta) of real cohorts (gse1992 complete cases; the shipped TCGA cohorts,
    LR as first event) and seeded cohorts with tied times, up to 8,000 patients."""
    cases = {"gse1992": (CC1992.time, CC1992.event, CC1992[["score", "age", "grade3"]])}
    tcga = pd.read_csv(REFERENCE / "lr_cohorts.tsv", sep="\t")
    for name, frame in tcga.groupby("cohort"):
        cases[name] = (frame.time_months, (frame.event == 1).astype(float), frame[["score"]])
    for n, distinct in ((300, 20), (8000, 150)):
        rng = np.random.default_rng(n)
        x = pd.DataFrame(rng.normal(size=(n, 2)), columns=["a", "b"])
        time = pd.Series(rng.integers(1, distinct + 1, n).astype(float))
        cases[f"seeded_{n}"] = (time, pd.Series((rng.random(n) < 0.4).astype(float)), x)
    return cases


@pytest.mark.parametrize("case", sorted(zph_cases()))
@pytest.mark.parametrize("transform", ["km", "rank"])
def test_zph_score_equals_quadratic_reference(case, transform):
    """The O(n log n) risk-set sums equal the per-event-time masks they replaced (issue 17;
    tests/reference/quadratic_stats.py) to 1e-10."""
    from reference import quadratic_stats as quadratic

    from selfseed.stats import coxdiag

    time, event, x = (np.asarray(v, dtype=float) for v in zph_cases()[case])
    eta = (x - x.mean(axis=0)) @ np.linspace(0.2, -0.3, x.shape[1])
    gtime = coxdiag._zph_time(time, event, transform)
    np.testing.assert_allclose(gtime, quadratic._zph_time(time, event, transform), atol=1e-12)
    gtime = gtime - gtime[event == 1].mean()
    fast = coxdiag._zph_score_and_information(time, event, x, eta, gtime)
    slow = quadratic._zph_score_and_information(time, event, x, eta, gtime)
    for new, old in zip(fast, slow, strict=True):
        np.testing.assert_allclose(new, old, rtol=1e-10, atol=1e-10 * np.abs(old).max())
