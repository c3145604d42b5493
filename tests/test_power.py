"""Study planning equals powerSurvEpi (R, tests/reference/power.R): events and patients needed
(Schoenfeld 1983 for the cause-specific HR, Latouche et al. 2004 for the subdistribution HR; per SD,
covariate variance 1), the power of a number of events and the minimum detectable HR per SD, to 1e-6;
the cumulative incidence at 5 years equals cmprsk::cuminc; the planning table on the shipped
cohorts' pooled HRs."""

import numpy as np
import pandas as pd
import pytest

from conftest import REPO
from selfseed.stats.power import (
    LATOUCHE,
    SCHOENFELD,
    detectable_table,
    events_needed,
    incidence_at,
    minimum_detectable_hr,
    patients_needed,
    planning_table,
    power_of_events,
)

REFERENCE = REPO / "tests" / "reference"


@pytest.fixture(scope="module")
def cases():
    return pd.read_csv(REFERENCE / "power_r_cases.tsv", sep="\t")


def test_events_and_patients_equal_powersurvepi(cases):
    assert len(cases) == 56
    for case in cases.itertuples():
        events = events_needed(case.hr, case.power, case.alpha)
        patients = patients_needed(case.hr, case.p_event, case.power, case.alpha)
        assert events == pytest.approx(case.events_exact, rel=1e-6)
        assert patients == pytest.approx(case.patients_exact, rel=1e-6)
        assert np.ceil(events) == case.events  # ssizeEpiCont.default(psi = 1)
        assert np.ceil(patients) == case.patients  # ssizeEpiCont.default(psi = P(event))


def test_power_equals_powersurvepi(cases):
    for case in cases.itertuples():
        power = power_of_events(case.patients * case.p_event, case.hr, case.alpha)
        assert power == pytest.approx(case.power_at_patients, rel=1e-6)
        assert power >= case.power  # rounding up never loses power


def test_minimum_detectable_hr_equals_powersurvepi():
    detectable = pd.read_csv(REFERENCE / "power_r_detectable.tsv", sep="\t")
    for row in detectable.itertuples():
        hr = minimum_detectable_hr(row.events, row.power, row.alpha)
        assert hr == pytest.approx(row.hr, rel=1e-6)
        assert power_of_events(row.events, 1 / hr, row.alpha) == pytest.approx(row.power)


def test_incidence_at_five_years_equals_cuminc():
    patients = pd.read_csv(REFERENCE / "lr_cohorts.tsv", sep="\t")
    expected = pd.read_csv(REFERENCE / "power_r_incidence.tsv", sep="\t").iloc[0]
    lr, competing = incidence_at(patients["time_months"], patients["event"], 60)
    assert lr == pytest.approx(expected["cif_lr"], rel=1e-6)
    assert competing == pytest.approx(expected["cif_competing"], rel=1e-6)
    short = patients[patients["cohort"] == "tcga_chol"]  # followed up to 64.9 months
    assert np.isnan(incidence_at(short["time_months"], short["event"], 72)).all()


def test_planning_table_on_the_shipped_pooled_hrs(cases):
    reference = pd.read_csv(REFERENCE / "lr_cohorts_r.tsv", sep="\t")
    pooled = reference[reference["cohort"] == "pooled"].set_index("name")["value"]
    hazards = {
        "cause_specific": tuple(pooled[f"cox_rma_{k}"] for k in ("hr", "ci_low", "ci_high")),
        "subdistribution": tuple(pooled[f"crr_rma_{k}"] for k in ("hr", "ci_low", "ci_high")),
    }
    p_event = cases["p_event"].iloc[0]
    table = planning_table(hazards, p_event, 0.39)
    assert len(table) == 8
    assert (table["note"] == "").all()
    names = {
        ("cause_specific", "pooled estimate"): "cox_rma_hr",
        ("cause_specific", "CI bound nearer 1"): "cox_rma_ci_low",
        ("subdistribution", "pooled estimate"): "crr_rma_hr",
        ("subdistribution", "CI bound nearer 1"): "crr_rma_ci_low",
    }
    expected = cases[cases["hr_name"] != "grid"].set_index(["hr_name", "power"]).sort_index()
    for row in table.itertuples():
        case = expected.loc[(names[row.hazard, row.assumed], row.power)]
        assert row.hr_per_sd == pytest.approx(case["hr"], rel=1e-12)
        assert (row.events, row.patients) == (case["events"], case["patients"])
        assert row.patients_exact == pytest.approx(case["patients_exact"], rel=1e-6)
        assert row.formula == (SCHOENFELD if row.hazard == "cause_specific" else LATOUCHE)


def test_planning_table_says_why_not():
    table = planning_table({"cause_specific": (0.8, 0.6, 1.1)}, np.nan, np.nan, powers=(0.8,))
    estimate, bound = table.iloc[0], table.iloc[1]
    assert estimate["events"] == np.ceil(events_needed(0.8))  # HR below 1: same events as 1.25
    assert estimate["note"].startswith("no patient number: no cumulative incidence at 60 months")
    assert bound["hr_per_sd"] == 1.0
    assert bound["note"] == "not estimable: no power against an HR of 1"
    below = planning_table({"cause_specific": (0.5, 0.3, 0.8)}, 0.2, 0.1, powers=(0.8,))
    assert below.iloc[1]["hr_per_sd"] == 0.8  # the bound nearer 1


def test_detectable_table():
    cohorts = pd.DataFrame({"cohort": ["a", "b"], "n": [50, 79], "events": [14, 0]})
    table = detectable_table(cohorts, powers=(0.8,))
    assert table.loc[0, "hr_per_sd"] == pytest.approx(minimum_detectable_hr(14))
    assert np.isnan(table.loc[1, "hr_per_sd"])
    assert table.loc[1, "note"] == "no events of interest"
