"""The pipeline's Cox, log-rank and PH numbers on a real cohort equal R's survival (stored reference)."""

import pandas as pd
import pytest

from conftest import REPO
from selfseed.analysis import cox_rows, group_rows
from selfseed.survival import cox_per_sd, km_median_split, median_split

REFERENCE = REPO / "tests" / "reference"


@pytest.fixture(scope="module")
def cohort():
    data = pd.read_csv(REFERENCE / "coxdiag_gse1992.tsv", sep="\t")
    return data.rename(columns={"time": "time_months"}).assign(
        er_positive=lambda d: d["er_positive"].map({0.0: "0", 1.0: "1"})
    )


@pytest.fixture(scope="module")
def r():
    table = pd.read_csv(REFERENCE / "pipeline_models.tsv", sep="\t")
    return dict(zip(table["name"], table["value"], strict=True))


def test_cox_equals_r_coxph(cohort, r):
    uni = cox_per_sd(cohort)
    assert uni["coef"] == pytest.approx(r["cox_univariable_coef"], rel=1e-6)
    assert uni["se"] == pytest.approx(r["cox_univariable_se"], rel=1e-6)
    assert uni["p"] == pytest.approx(r["cox_univariable_p"], rel=1e-6)
    adjusted = cox_per_sd(cohort, [("er_positive", "categorical"), ("grade", "numeric")])
    assert adjusted["n"] == r["cox_adjusted_n"]
    assert adjusted["coef"] == pytest.approx(r["cox_adjusted_coef"], rel=1e-6)
    assert adjusted["se"] == pytest.approx(r["cox_adjusted_se"], rel=1e-6)
    assert adjusted["p"] == pytest.approx(r["cox_adjusted_p"], rel=1e-6)


def test_log_rank_equals_r_survdiff(cohort, r):
    summary, _ = km_median_split(median_split(cohort))
    assert summary["chi2"] == pytest.approx(r["logrank_median_chisq"], rel=1e-8)
    median, tertile = group_rows(cohort, ["median", "tertile"])
    assert median["logrank_chi2"] == pytest.approx(r["logrank_median_chisq"], rel=1e-8)
    assert tertile["logrank_chi2"] == pytest.approx(r["logrank_tertile_chisq"], rel=1e-8)
    assert tertile["logrank_df"] == 2


def test_proportional_hazards_test_equals_r_cox_zph(cohort, r):
    (row,) = cox_rows(cohort, [("univariable", [])])
    assert row["ph_p"] == pytest.approx(r["cox_zph_p"], abs=1e-4)
