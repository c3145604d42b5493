"""The project's one Cox model: `fit_cox` (every Cox fit of selfseed goes through it), the hazard
ratios with Wald intervals (`hazard_ratios`) and the covariate matrix (`covariate_matrix`).

statsmodels' Cox model with its Efron-ties likelihood, score and Hessian vectorised:

`PHReg` evaluates the Efron partial likelihood in a Python loop over the unique event times; at
2,000 patients that loop was most of a cohort's model job (benchmarks/README.md). `EfronPHReg` is
`PHReg` (same fit, standard errors, baseline hazards, strata, offsets) with the three Efron functions
computed from reverse cumulative sums instead. tests/test_cox.py checks them against PHReg's own at
arbitrary parameters on real cohorts with tied times; the fits are checked against R's coxph there
and in tests/test_models_vs_r.py.
"""

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg

from selfseed.errors import InputDataError, NotEstimable


class EfronPHReg(PHReg):
    """statsmodels PHReg with vectorised Efron functions (no left truncation: entry times 0)."""

    def __init__(self, endog, exog, status=None, **kwargs):
        if kwargs.get("entry") is not None and np.any(np.asarray(kwargs["entry"]) != 0):
            raise ValueError("EfronPHReg has no left truncation (entry times); use PHReg")
        super().__init__(endog, exog, status=status, **{**kwargs, "ties": "efron"})

    def fit(self, *args, **kwargs):
        """PHReg's fit; a singular information matrix or a non-finite estimate or standard error
        (e.g. a covariate that separates the patients with events) raises NotEstimable."""
        try:
            result = super().fit(*args, **kwargs)
            finite = np.isfinite(result.params).all() and np.isfinite(result.bse).all()
        except np.linalg.LinAlgError as error:
            raise NotEstimable(
                "Cox model not estimable: singular information matrix",
                found=str(error),
                expected="covariates that vary and are not collinear among the patients at risk",
            ) from error
        if not finite:
            raise NotEstimable(
                "Cox model not estimable: no finite maximum likelihood estimate",
                found=f"coefficients {np.asarray(result.params).tolist()}",
                expected="covariates that do not separate the patients with and without events",
            )
        return result

    def _efron_terms(self, params, order):
        """Per stratum: the linear predictor and covariates of its events, and the Efron-adjusted
        risk-set sums c0 (and c1, c2 up to `order`), one row per event: for the l-th of m events
        tied at time t, sum over the risk set at t minus l/m of the sum over the tied events."""
        surv = self.surv
        for stx in range(surv.nstrat):
            time, status = surv.time_s[stx], surv.status_s[stx].astype(bool)
            exog = surv.exog_s[stx]
            linpred = exog @ params
            if surv.offset_s is not None:
                linpred = linpred + surv.offset_s[stx]
            linpred = linpred - linpred.max()
            risk = np.exp(linpred)
            sort = np.argsort(time, kind="stable")
            sorted_time = time[sort]
            failure_time, failure_group = np.unique(time[status], return_inverse=True)
            ties = np.bincount(failure_group)
            first_at_risk = np.searchsorted(sorted_time, failure_time, side="left")
            group = np.sort(failure_group)
            tie_index = np.arange(len(group)) - np.r_[0, np.cumsum(ties)[:-1]][group]
            share = tie_index / ties[group]  # l / m for the l-th of m tied events
            weighted = [risk]
            if order >= 1:
                weighted.append(risk[:, None] * exog)
            if order >= 2:
                weighted.append(risk[:, None, None] * exog[:, :, None] * exog[:, None, :])
            terms = []
            for w in weighted:
                at_risk = np.cumsum(w[sort][::-1], axis=0)[::-1][first_at_risk]
                failing = np.zeros_like(at_risk)
                np.add.at(failing, failure_group, w[status])
                shape = (-1,) + (1,) * (w.ndim - 1)
                terms.append(at_risk[group] - share.reshape(shape) * failing[group])
            yield linpred[status], exog[status], terms

    def efron_loglike(self, params):
        return sum(lp.sum() - np.log(c0).sum() for lp, _, (c0,) in self._efron_terms(params, 0))

    def efron_gradient(self, params):
        return sum(
            x.sum(axis=0) - (c1 / c0[:, None]).sum(axis=0)
            for _, x, (c0, c1) in self._efron_terms(params, 1)
        )

    def efron_hessian(self, params):
        hessian = 0.0
        for _, _, (c0, c1, c2) in self._efron_terms(params, 2):
            ratio = c1 / c0[:, None]
            hessian = hessian + (c2 / c0[:, None, None]).sum(axis=0) - ratio.T @ ratio
        return -hessian


def fit_cox(time, status, exog, *, strata=None):
    """The project's one Cox fit: `status` (1 event, 0 censored) on the columns of `exog`, Efron
    ties, baseline hazards free per stratum when `strata` is given (as `coxph(... + strata())`)."""
    return EfronPHReg(
        np.asarray(time, dtype=float),
        np.asarray(exog, dtype=float),
        status=np.asarray(status, dtype=float),
        strata=strata,
    ).fit()


def hazard_ratios(coef, se, level=0.95):
    """exp(coef) with its Wald confidence interval at `level` and the two-sided Wald p, for a
    number or an array of coefficients."""
    crit = stats.norm.ppf(0.5 + level / 2)
    return {
        "coef": coef,
        "se": se,
        "hr": np.exp(coef),
        "ci_low": np.exp(coef - crit * se),
        "ci_high": np.exp(coef + crit * se),
        "p": 2 * stats.norm.sf(np.abs(coef / se)),
    }


def covariate_matrix(X, n, prefix="x"):
    """Covariates (Series, DataFrame or array; n rows, finite) as (float n x p array, term names);
    unnamed columns are `{prefix}1`, `{prefix}2`, ..."""
    frame = X.to_frame() if isinstance(X, pd.Series) else pd.DataFrame(X)
    if not isinstance(X, pd.Series | pd.DataFrame):
        frame.columns = [f"{prefix}{i + 1}" for i in range(frame.shape[1])]
    elif isinstance(X, pd.Series) and X.name is None:
        frame.columns = [prefix]
    x = frame.to_numpy(dtype=float)
    if x.shape[0] != n:
        raise InputDataError(
            "covariates and outcome differ in length",
            found=f"{x.shape[0]} covariate rows for {n} patients",
            expected="one covariate row per patient",
        )
    missing = ~np.isfinite(x).all(axis=0)
    if missing.any():
        raise InputDataError(
            "covariate has missing or infinite values",
            column=", ".join(map(str, frame.columns[missing])),
            expected="finite numbers (drop or impute patients first)",
        )
    return x, [str(c) for c in frame.columns]
