import numpy as np
import pandas as pd
import pytest

from selfseed.survival import add_fdr, cox_per_sd, km_median_split, median_split


@pytest.fixture(scope="module")
def attractor(gse1992):
    """gse1992 RFS with the attractor zmean score (IL6, IL8) and the configured covariates."""
    genes = gse1992[["num_HS_IL6", "num_HS_IL8"]]
    score = ((genes - genes.mean()) / genes.std()).mean(axis=1)
    missing = gse1992.replace("missing", np.nan)
    return pd.DataFrame(
        {
            "time_months": gse1992["time"].astype(float),
            "event": gse1992["event"].astype(int),
            "score": score,
            "er": missing["fac_er_positive"],
            "grade": pd.to_numeric(missing["fac_grade"]),
        }
    )


def lifelines_fit(frame, columns):
    from lifelines import CoxPHFitter

    design = frame.dropna(subset=["score", *columns])
    design = design.assign(score=(design["score"] - design["score"].mean()) / design["score"].std())
    design = pd.get_dummies(
        design[["time_months", "event", "score", *columns]], drop_first=True, dtype=float
    )
    return CoxPHFitter().fit(design, "time_months", "event").summary.loc["score"], len(design)


def test_univariable_cox_equals_lifelines(attractor):
    ours = cox_per_sd(attractor)
    theirs, n = lifelines_fit(attractor, [])
    assert (ours["n"], ours["events"]) == (124, 35)
    assert ours["hr"] == pytest.approx(theirs["exp(coef)"], rel=1e-6)
    assert ours["ci_low"] == pytest.approx(theirs["exp(coef) lower 95%"], rel=1e-6)
    assert ours["ci_high"] == pytest.approx(theirs["exp(coef) upper 95%"], rel=1e-6)
    assert ours["p"] == pytest.approx(theirs["p"], rel=1e-6)


def test_adjusted_cox_equals_lifelines_on_complete_cases(attractor):
    ours = cox_per_sd(attractor, [("er", "categorical"), ("grade", "numeric")])
    theirs, n = lifelines_fit(attractor, ["er", "grade"])
    assert ours["n"] == n == 120  # 2 ER and 4 grade values missing
    assert ours["hr"] == pytest.approx(theirs["exp(coef)"], rel=1e-6)
    assert ours["ci_high"] == pytest.approx(theirs["exp(coef) upper 95%"], rel=1e-6)
    assert ours["p"] == pytest.approx(theirs["p"], rel=1e-6)


def test_competing_events_are_censored_in_the_cause_specific_model(attractor):
    competing = attractor.assign(event=attractor["event"].replace({0: 2}))
    censored = attractor
    assert cox_per_sd(competing)["hr"] == pytest.approx(cox_per_sd(censored)["hr"], rel=1e-12)


def test_degenerate_fits_give_a_reason_not_a_crash(attractor):
    no_events = cox_per_sd(attractor.assign(event=0))
    assert np.isnan(no_events["hr"])
    assert no_events["note"] == "not fitted: no events of interest"
    constant = cox_per_sd(attractor.assign(score=1.0))
    assert np.isnan(constant["hr"])
    assert constant["note"] == "not fitted: score is constant"
    # every patient with a higher score fails earlier: the partial likelihood has no maximum
    ordered = attractor.assign(time_months=200 - attractor["score"].rank(method="first"), event=1)
    separated = cox_per_sd(ordered)
    assert np.isnan(separated["hr"])
    assert separated["note"].startswith("not fitted: no finite maximum likelihood estimate")


def test_km_log_rank_equals_lifelines(attractor):
    from lifelines.statistics import logrank_test

    summary, curves = km_median_split(median_split(attractor))
    high = attractor["score"] > attractor["score"].median()
    reference = logrank_test(
        attractor.loc[high, "time_months"],
        attractor.loc[~high, "time_months"],
        attractor.loc[high, "event"],
        attractor.loc[~high, "event"],
    )
    assert summary["chi2"] == pytest.approx(reference.test_statistic, rel=1e-8)
    assert summary["p"] == pytest.approx(reference.p_value, rel=1e-8)
    assert (summary["n_low"], summary["n_high"]) == (62, 62)
    assert curves.groupby("group")["survival"].min().between(0, 1).all()


def test_fdr_by_hand():
    table = pd.DataFrame({"p": [0.01, 0.04, 0.03, np.nan, 0.5]})
    # BH: sorted 0.01, 0.03, 0.04, 0.5 (m = 4) -> 0.04, 0.0533, 0.0533, 0.5
    assert add_fdr(table)["fdr"].tolist()[:3] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3])
    assert np.isnan(add_fdr(table)["fdr"][3])
    assert add_fdr(table)["fdr"][4] == pytest.approx(0.5)
