"""EfronPHReg (vectorised Efron functions) equals statsmodels PHReg on real cohorts with ties."""

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from selfseed.stats.cox import EfronPHReg


@pytest.fixture(scope="module")
def real_cohort(gse1992):
    """gse1992: RFS in whole months (many tied event times), 3 genes and a covariate as exog."""
    frame = gse1992.dropna(subset=["num_HS_IL8", "num_HS_MMP1", "num_HS_FSCN1"])
    exog = frame[["num_HS_IL8", "num_HS_MMP1", "num_HS_FSCN1"]].to_numpy(float)
    exog = np.column_stack([exog, (frame["fac_er_positive"] == "1").to_numpy(float)])
    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(int)
    assert len(np.unique(time[event == 1])) < (event == 1).sum()  # tied event times
    return time, event, exog


@pytest.mark.parametrize("strata", [False, True])
@pytest.mark.parametrize("offset", [False, True])
def test_likelihood_score_hessian_equal_phreg(real_cohort, strata, offset):
    time, event, exog = real_cohort
    rng = np.random.default_rng(7)
    kwargs = {}
    if strata:
        kwargs["strata"] = rng.integers(0, 3, size=len(time))
    if offset:
        kwargs["offset"] = rng.normal(scale=0.5, size=len(time))
    ours = EfronPHReg(time, exog, status=event, **kwargs)
    library = PHReg(time, exog, status=event, ties="efron", **kwargs)
    for params in [np.zeros(4), rng.normal(scale=0.5, size=4), np.array([1.5, -2.0, 0.3, 1.0])]:
        assert ours.loglike(params) == pytest.approx(library.loglike(params), rel=1e-12)
        np.testing.assert_allclose(ours.score(params), library.score(params), rtol=1e-10)
        np.testing.assert_allclose(ours.hessian(params), library.hessian(params), rtol=1e-10)


def test_fit_equals_phreg(real_cohort):
    time, event, exog = real_cohort
    ours = EfronPHReg(time, exog, status=event).fit()
    library = PHReg(time, exog, status=event, ties="efron").fit()
    np.testing.assert_allclose(ours.params, library.params, rtol=1e-9)
    np.testing.assert_allclose(ours.bse, library.bse, rtol=1e-9)


def test_stratum_without_events(real_cohort):
    time, event, exog = real_cohort
    strata = np.r_[np.zeros(len(time) - 5), np.ones(5)]
    event = np.where(strata == 1, 0, event)
    ours = EfronPHReg(time, exog, status=event, strata=strata)
    library = PHReg(time, exog, status=event, ties="efron", strata=strata)
    params = np.full(4, 0.1)
    assert ours.loglike(params) == pytest.approx(library.loglike(params), rel=1e-12)


def test_left_truncation_is_refused(real_cohort):
    time, event, exog = real_cohort
    with pytest.raises(ValueError, match="left truncation"):
        EfronPHReg(time, exog, status=event, entry=np.full(len(time), 0.5))


def assert_same_arrays(ours, library):
    assert len(ours) == len(library)
    for a, b in zip(ours, library, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("strata", [None, "three", "without_events"])
def test_sorted_survival_time_equals_statsmodels(real_cohort, strata):
    """SortedSurvivalTime builds the same strata, sorted rows and risk-set indices as
    statsmodels' PHSurvivalTime (on gse1992's tied months; a stratum without events is left out)."""
    from statsmodels.duration.hazard_regression import PHSurvivalTime

    from selfseed.stats.cox import SortedSurvivalTime

    time, event, exog = real_cohort
    event = event.astype(float)
    levels = {
        None: None,
        "three": np.random.default_rng(3).integers(0, 3, size=len(time)),
        "without_events": np.r_[np.zeros(len(time) - 5), np.ones(5)],
    }[strata]
    if strata == "without_events":
        event = np.where(levels == 1, 0.0, event)
    ours = SortedSurvivalTime(time, event, exog, levels)
    library = PHSurvivalTime(time, event, exog, levels)
    for name in ("nstrat", "nstrat_orig", "n_obs", "stratum_names", "offset_s"):
        assert getattr(ours, name) == getattr(library, name), name
    for name in ("stratum_rows", "time_s", "status_s", "entry_s", "exog_s", "ufailt"):
        assert_same_arrays(getattr(ours, name), getattr(library, name))
    for name in ("ufailt_ix", "risk_enter", "risk_exit"):
        for a, b in zip(getattr(ours, name), getattr(library, name), strict=True):
            assert_same_arrays(a, b)
