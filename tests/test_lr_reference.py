"""The shipped TCGA local-recurrence cohorts: per cohort, the self-seeding zmean cause-specific Cox,
Fine-Gray and Lunn-McNeil numbers, and across cohorts the random-effects pool with its prediction
interval, equal R's coxph, cmprsk::crr and metafor (tests/reference/lr_cohorts.R on lr_cohorts.tsv)."""

import pandas as pd
import pytest

from conftest import REPO
from selfseed.analysis import fine_gray_row, locality_row
from selfseed.pooled import random_effects_row
from selfseed.survival import cox_per_sd

REFERENCE = REPO / "tests" / "reference"
STATISTICS = {"meta_method": "REML", "hartung_knapp": False}


@pytest.fixture(scope="module")
def inputs():
    return pd.read_csv(REFERENCE / "lr_cohorts.tsv", sep="\t")


@pytest.fixture(scope="module")
def r():
    table = pd.read_csv(REFERENCE / "lr_cohorts_r.tsv", sep="\t")
    return {(row.cohort, row.name): row.value for row in table.itertuples()}


@pytest.fixture(scope="module")
def fits(inputs):
    rows = {}
    for cohort, frame in inputs.groupby("cohort"):
        frame = frame.set_index("sample_id")
        rows[cohort] = {
            "cox": cox_per_sd(frame),
            "dm": cox_per_sd(frame.assign(event=frame["event_dm"])),
            "fine_gray": fine_gray_row(frame),
            "locality": locality_row(frame, frame["event_dm"]),
        }
    return rows


def test_reference_inputs_are_what_the_pipeline_computes(inputs):
    """lr_cohorts.tsv holds the shipped data's endpoints and scores as the pipeline makes them."""
    from reference.lr_cohorts_inputs import lr_cohorts

    pd.testing.assert_frame_equal(lr_cohorts().reset_index(drop=True), inputs, rtol=1e-12)
    assert inputs.groupby("cohort")["event"].value_counts().unstack().to_dict("index") == {
        "tcga_acc": {0: 37, 1: 9, 2: 33},
        "tcga_chol": {0: 17, 1: 12, 2: 7},
        "tcga_ucs": {0: 15, 1: 14, 2: 21},
    }


@pytest.mark.parametrize("cohort", ["tcga_acc", "tcga_chol", "tcga_ucs"])
def test_cause_specific_cox_equals_coxph(fits, r, cohort):
    fit = fits[cohort]["cox"]
    assert fit["coef"] == pytest.approx(r[cohort, "cox_coef"], rel=1e-6)
    assert fit["se"] == pytest.approx(r[cohort, "cox_se"], rel=1e-6)
    assert fit["p"] == pytest.approx(r[cohort, "cox_p"], rel=1e-6)
    assert fit["ci_low"] == pytest.approx(r[cohort, "cox_ci_low"], rel=1e-6)
    assert fit["ci_high"] == pytest.approx(r[cohort, "cox_ci_high"], rel=1e-6)


@pytest.mark.parametrize("cohort", ["tcga_acc", "tcga_chol", "tcga_ucs"])
def test_fine_gray_equals_crr(fits, r, cohort):
    fit = fits[cohort]["fine_gray"]
    assert fit["coef"] == pytest.approx(r[cohort, "crr_coef"], abs=1e-4)
    assert fit["se"] == pytest.approx(r[cohort, "crr_se"], abs=1e-4)


@pytest.mark.parametrize("cohort", ["tcga_acc", "tcga_chol", "tcga_ucs"])
def test_lunn_mcneil_equals_stacked_coxph(fits, r, cohort):
    row = fits[cohort]["locality"]
    assert row["coef_lr"] == pytest.approx(r[cohort, "lunn_mcneil_lr_coef"], rel=1e-6)
    assert row["coef_diff"] == pytest.approx(r[cohort, "lunn_mcneil_diff_coef"], rel=1e-6)
    assert row["se_diff"] == pytest.approx(r[cohort, "lunn_mcneil_diff_se"], rel=1e-6)
    assert row["p_equal"] == pytest.approx(r[cohort, "lunn_mcneil_diff_p"], rel=1e-6)
    # with a stratum per cause, the stacked model's score effects are the separate fits'
    assert row["coef_dm"] == pytest.approx(fits[cohort]["dm"]["coef"], rel=1e-8)
    assert row["se_dm"] == pytest.approx(r[cohort, "cox_dm_se"], rel=1e-6)


@pytest.mark.parametrize(("what", "coef", "se"), [("cox", "coef", "se"), ("cox_dm", "coef", "se")])
def test_pooled_prediction_interval_equals_metafor(fits, r, what, coef, se):
    key = "cox" if what == "cox" else "dm"
    part = pd.DataFrame([fits[c][key] for c in sorted(fits)])
    row = random_effects_row(part, STATISTICS, coef, se)
    for ours, theirs in (
        ("hr", "hr"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("pi_low", "pi_low"),
        ("pi_high", "pi_high"),
        ("p", "p"),
    ):
        assert row[ours] == pytest.approx(r["pooled", f"{what}_rma_{theirs}"], rel=1e-6), ours
    assert row["tau2"] == pytest.approx(r["pooled", f"{what}_rma_tau2"], abs=1e-8)


def test_pooled_fine_gray_equals_metafor_on_crr(fits, r):
    part = pd.DataFrame([fits[c]["fine_gray"] for c in sorted(fits)])
    row = random_effects_row(part, STATISTICS)
    assert row["hr"] == pytest.approx(r["pooled", "crr_rma_hr"], rel=1e-4)
    assert row["pi_high"] == pytest.approx(r["pooled", "crr_rma_pi_high"], rel=1e-4)
