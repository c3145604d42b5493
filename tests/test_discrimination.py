"""Harrell's and Uno's C against survival::concordance (tests/reference/coxdiag.R) and the
time-dependent AUC against scikit-survival (tests/reference/discrimination_sksurv.py), on the
real SurvSet cohorts gse1992 (integer months: many tied times) and gse3143."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.errors import InputDataError
from selfseed.stats.discrimination import harrell_c, time_dependent_auc, uno_c

REFERENCE = Path(__file__).resolve().parent / "reference"
R = json.loads((REFERENCE / "coxdiag_reference.json").read_text())["concordance"]
SKSURV = json.loads((REFERENCE / "discrimination_sksurv.json").read_text())
COHORTS = {n: pd.read_csv(REFERENCE / f"coxdiag_{n}.tsv", sep="\t") for n in ("gse1992", "gse3143")}
RISKS = {"exact": "score", "round1": "score_round1"}  # round1: tied risk scores
ESTIMATORS = {
    "harrell": lambda d, risk: harrell_c(d.time, d.event, d[risk]),
    "uno": lambda d, risk: uno_c(d.time, d.event, d[risk]),
    "uno_tau36": lambda d, risk: uno_c(d.time, d.event, d[risk], tau=36),
}


@pytest.mark.parametrize("cohort", sorted(COHORTS))
@pytest.mark.parametrize("risk", sorted(RISKS))
@pytest.mark.parametrize("estimator", sorted(ESTIMATORS))
def test_concordance_equals_survival_concordance(cohort, risk, estimator):
    expected = R[f"{cohort}_{risk}_{estimator}"]
    result = ESTIMATORS[estimator](COHORTS[cohort], RISKS[risk])
    assert result["concordance"] == pytest.approx(expected["concordance"], abs=1e-6)
    assert result["se"] == pytest.approx(expected["se"], abs=1e-6)
    count = expected["count"]
    assert result["concordant"] == pytest.approx(count["concordant"], rel=1e-9)
    assert result["discordant"] == pytest.approx(count["discordant"], rel=1e-9)
    assert result["tied_risk"] == pytest.approx(count["tied.x"], rel=1e-9, abs=1e-9)
    assert result["tied_time"] == pytest.approx(count["tied.y"] + count["tied.xy"], abs=1e-9)


def test_concordance_direction_and_ties_by_hand():
    time = np.array([1.0, 2, 3, 4])
    event = np.array([1.0, 1, 0, 1])
    assert harrell_c(time, event, [4, 3, 2, 1])["concordance"] == 1.0  # higher risk, earlier
    assert harrell_c(time, event, [1, 2, 3, 4])["concordance"] == 0.0
    # 5 comparable pairs (1-2, 1-3, 1-4, 2-3, 2-4); one risk tie counts 1/2
    assert harrell_c(time, event, [4, 3, 3, 1])["concordance"] == pytest.approx(4.5 / 5)
    # a censoring tied with an event time counts as the longer time; two tied events do not pair
    tied = harrell_c([1.0, 1, 1, 2], [1.0, 1, 0, 0], [3, 2, 1, 0])
    assert (tied["concordant"], tied["tied_time"]) == (4, 1)


def test_uno_tau_removes_late_event_times():
    data = COHORTS["gse3143"]
    late = uno_c(data.time, data.event, data.score, tau=1e6)
    assert late["concordance"] == pytest.approx(
        uno_c(data.time, data.event, data.score)["concordance"]
    )
    assert uno_c(data.time, data.event, data.score, tau=36)["concordance"] != late["concordance"]


@pytest.mark.parametrize("cohort", sorted(COHORTS))
@pytest.mark.parametrize("risk", sorted(RISKS.values()))
def test_time_dependent_auc_equals_sksurv(cohort, risk):
    expected = SKSURV[f"{cohort}_{risk}"]
    data = COHORTS[cohort]
    result = time_dependent_auc(data.time, data.event, data[risk], expected["horizons"])
    np.testing.assert_allclose(result["auc"], expected["auc"], atol=1e-6)
    assert result["horizon"].tolist() == expected["horizons"]
    first = expected["horizons"][0]
    assert result["n_cases"].iloc[0] == int(((data.time <= first) & (data.event == 1)).sum())
    assert result["n_controls"].iloc[0] == int((data.time > first).sum())


def test_time_dependent_auc_needs_cases_and_controls():
    data = COHORTS["gse3143"]
    with pytest.raises(InputDataError, match="horizon"):
        time_dependent_auc(data.time, data.event, data.score, [data.time.max() + 1])
    with pytest.raises(InputDataError, match="horizon"):
        time_dependent_auc(data.time, data.event, data.score, [1.0])


# The O(n log n) code against the quadratic implementation it replaced (issue 17), kept as
# tests/reference/quadratic_stats.py, on the real cohorts above, the shipped TCGA cohorts (LR as
# first event) and seeded cohorts with tied times and risks, up to 8,000 patients.
def seeded_cohort(n, seed, distinct_times, risk_decimals):
    rng = np.random.default_rng(seed)
    time = rng.integers(1, distinct_times + 1, n).astype(float)
    event = (rng.random(n) < 0.4).astype(float)
    risk = np.round(rng.normal(size=n), risk_decimals)
    return pd.DataFrame({"time": time, "event": event, "score": risk})


def tcga_cohorts():
    table = pd.read_csv(REFERENCE / "lr_cohorts.tsv", sep="\t")
    table = table.rename(columns={"time_months": "time"}).assign(event=lambda t: t.event == 1)
    return {name: frame for name, frame in table.groupby("cohort")}


EQUALITY_COHORTS = {
    **{name: (lambda d=d: d.assign(score=d["score"])) for name, d in COHORTS.items()},
    **{
        f"{name}_round1": (lambda d=d: d.assign(score=d["score_round1"]))
        for name, d in COHORTS.items()
    },
    **{name: (lambda d=d: d) for name, d in tcga_cohorts().items()},
    "seeded_300_ties": lambda: seeded_cohort(300, 1, 20, 1),
    "seeded_2000_ties": lambda: seeded_cohort(2000, 2, 60, 1),
    "seeded_8000_ties": lambda: seeded_cohort(8000, 3, 150, 2),
    "seeded_8000_few_times": lambda: seeded_cohort(8000, 4, 12, 0),
}


def assert_same_statistics(fast, slow):
    for key, expected in slow.items():
        assert fast[key] == pytest.approx(expected, rel=1e-10, abs=1e-10), key


@pytest.mark.parametrize("cohort", sorted(EQUALITY_COHORTS))
def test_concordance_equals_quadratic_reference(cohort):
    from reference import quadratic_stats as quadratic

    data = EQUALITY_COHORTS[cohort]()
    time, event, score = data["time"], data["event"].astype(float), data["score"]
    tau = float(np.median(time))
    assert_same_statistics(harrell_c(time, event, score), quadratic.harrell_c(time, event, score))
    assert_same_statistics(uno_c(time, event, score), quadratic.uno_c(time, event, score))
    assert_same_statistics(
        uno_c(time, event, score, tau=tau), quadratic.uno_c(time, event, score, tau=tau)
    )


@pytest.mark.parametrize("cohort", sorted(EQUALITY_COHORTS))
def test_time_dependent_auc_equals_quadratic_reference(cohort):
    from reference import quadratic_stats as quadratic

    data = EQUALITY_COHORTS[cohort]()
    time, event, score = data["time"], data["event"].astype(float), data["score"]
    event_times = np.sort(time[event == 1])
    horizons = np.unique(event_times[[len(event_times) // 4, len(event_times) // 2]])
    fast = time_dependent_auc(time, event, score, horizons)
    slow = quadratic.time_dependent_auc(time, event, score, horizons)
    np.testing.assert_allclose(fast["auc"], slow["auc"], rtol=0, atol=1e-10)
    assert fast[["n_cases", "n_controls"]].equals(slow[["n_cases", "n_controls"]])
