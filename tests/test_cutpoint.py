"""Quantile groups and the maximally selected log-rank cutpoint against R's maxstat
(tests/reference/coxdiag.R on the real SurvSet cohorts gse1992 and gse3143)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from selfseed.errors import InputDataError
from selfseed.stats.cutpoint import group_by_quantiles, logrank_scores, optimal_cutpoint

REFERENCE = Path(__file__).resolve().parent / "reference"
R = json.loads((REFERENCE / "coxdiag_reference.json").read_text())["maxstat"]
COHORTS = {name: pd.read_csv(REFERENCE / f"coxdiag_{name}.tsv", sep="\t") for name in R}
# optimal_cutpoint(..., method="permutation", n_perm=2000, seed=2024) with numpy's Generator
# maxstat's Lau94 bound and Lau92 (Altman) approximation, for minprop = 0.1
LAU94 = {"minprop": 0.1, "method": "lausen_schumacher"}
SEEDED_PERMUTATION_P = {"gse1992": 0.0029985007496251873, "gse3143": 0.22588705647176413}


@pytest.mark.parametrize("name", sorted(R))
def test_maximally_selected_logrank_equals_maxstat(name):
    data, expected = COHORTS[name], R[name]
    result = optimal_cutpoint(data.time, data.event, data.score, **LAU94)
    assert result["max_stat"] == pytest.approx(expected["statistic"], abs=1e-6)
    assert result["cutpoint"] == expected["cutpoint"]
    assert result["p_corrected"] == pytest.approx(expected["p_lau94"], rel=1e-4)
    np.testing.assert_allclose(result["statistics"]["cutpoint"], expected["cuts"], rtol=1e-12)
    np.testing.assert_allclose(result["statistics"]["statistic"], expected["stats"], atol=1e-6)
    assert result["n_low"] == int((data.score <= expected["cutpoint"]).sum())
    assert result["n_low"] + result["n_high"] == len(data)
    assert "Lausen & Schumacher 1994" in result["label"]
    assert result["label"].startswith("data-driven cutpoint (maximally selected log-rank")


@pytest.mark.parametrize("name", sorted(R))
def test_altman_approximation_equals_maxstat_lau92(name):
    data = COHORTS[name]
    result = optimal_cutpoint(data.time, data.event, data.score, minprop=0.1, method="altman")
    assert result["p_corrected"] == pytest.approx(R[name]["p_lau92"], rel=1e-4)
    assert "Altman et al. 1994" in result["label"]
    assert "eps = 0.1" in result["label"]


def test_corrected_p_is_larger_than_the_naive_minimum_p():
    data = COHORTS["gse1992"]
    result = optimal_cutpoint(data.time, data.event, data.score, **LAU94)
    naive = 2 * stats.norm.sf(result["max_stat"])  # what an uncorrected search would report
    assert naive < 0.001 < result["p_corrected"]
    assert result["p_corrected"] == pytest.approx(0.00724, abs=1e-5)


@pytest.mark.parametrize("name", sorted(R))
def test_permutation_p_is_seeded(name):
    data = COHORTS[name]
    run = dict(minprop=0.1, method="permutation", n_perm=2000, seed=2024)
    first = optimal_cutpoint(data.time, data.event, data.score, **run)
    again = optimal_cutpoint(data.time, data.event, data.score, **run)
    assert first["p_corrected"] == again["p_corrected"] == SEEDED_PERMUTATION_P[name]
    assert "2000 permutations, seed 2024" in first["label"]


def test_permutation_p_agrees_with_maxstat_condmc():
    # R: pmethod = "condMC", B = 1e5; both are Monte Carlo estimates of the same p-value
    data, expected = COHORTS["gse1992"], R["gse1992"]["p_condmc_b1e5"]
    n_perm = 100_000
    result = optimal_cutpoint(
        data.time,
        data.event,
        data.score,
        minprop=0.1,
        method="permutation",
        n_perm=n_perm,
        seed=1,
    )
    se = np.sqrt(expected * (1 - expected) * (1 / n_perm + 1 / 100_000))
    assert abs(result["p_corrected"] - expected) < 4 * se


def test_logrank_scores_equal_exact_rank_tests_with_ties():
    # exactRankTests::cscores(Surv(c(3,1,2,2,2,5), c(1,0,1,0,1,1)), type = "LogRank")
    scores = logrank_scores(np.array([3, 1, 2, 2, 2, 5.0]), np.array([1, 0, 1, 0, 1, 1.0]))
    np.testing.assert_allclose(scores, [-1 / 6, 0, 1 / 3, -2 / 3, 1 / 3, -7 / 6])


def test_cutpoint_input_errors():
    data = COHORTS["gse3143"]
    with pytest.raises(InputDataError, match="unknown p-value correction"):
        optimal_cutpoint(data.time, data.event, data.score, minprop=0.1, method="minimum_p")
    with pytest.raises(InputDataError, match="minprop"):
        optimal_cutpoint(data.time, data.event, data.score, minprop=0.6, method="permutation")


def test_quantile_groups():
    score = pd.Series([1.0, 2, 3, 4, 5, 6], index=list("abcdef"))
    median = group_by_quantiles(score, "median")
    assert median.tolist() == ["low"] * 3 + ["high"] * 3
    assert median.index.tolist() == list("abcdef")
    tertile = group_by_quantiles(score, "tertile")
    assert tertile.tolist() == ["low", "low", "mid", "mid", "high", "high"]
    assert list(tertile.cat.categories) == ["low", "mid", "high"]
    # a sample exactly at the median goes to the lower group
    assert group_by_quantiles([1.0, 2, 3, 4, 5], "median").tolist() == ["low"] * 3 + ["high"] * 2
    counts = group_by_quantiles(COHORTS["gse3143"].score, "tertile").value_counts()
    assert sorted(counts.tolist()) == [52, 53, 53]
    with pytest.raises(InputDataError, match="quantile grouping"):
        group_by_quantiles(score, "quartile")
    with pytest.raises(InputDataError, match="tied"):
        group_by_quantiles([1.0] * 5 + [2.0], "tertile")


def test_quantile_groups_of_too_few_or_tied_scores_are_not_estimable():
    from selfseed.errors import NotEstimable

    with pytest.raises(NotEstimable, match="too few scores"):
        group_by_quantiles(pd.Series([], dtype=float), "median")
    with pytest.raises(NotEstimable, match="too few scores"):
        group_by_quantiles([0.3, 0.4], "tertile")
    with pytest.raises(NotEstimable, match="tied"):
        group_by_quantiles([1.0] * 5 + [2.0], "tertile")
