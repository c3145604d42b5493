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

import functools

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.base.model import LikelihoodModel
from statsmodels.duration.hazard_regression import PHReg, PHSurvivalTime

from selfseed.errors import InputDataError, NotEstimable


class SortedSurvivalTime(PHSurvivalTime):
    """statsmodels' PHSurvivalTime (the strata, their patients sorted by time, who fails at, enters
    and leaves the risk set at each failure time) built with array operations instead of a
    Python step per patient (0.12 s per Cox fit at 8,000 patients), the per-failure-time index
    lists only when first used; the same attributes and values (tests/test_cox.py)."""

    def __init__(self, time, status, exog, strata=None, entry=None, offset=None):
        strata = np.zeros(len(time), dtype=np.int32) if strata is None else strata
        entry = np.zeros(len(time)) if entry is None else entry
        self._check(time, status, strata, entry)
        levels = np.unique(strata)
        rows = [np.flatnonzero(strata == level).astype(np.int32) for level in levels]
        self.nstrat_orig = len(rows)
        with_events = [i for i, ix in enumerate(rows) if status[ix].sum() > 0]
        self.stratum_rows = [self._informative(rows[i], time, status, entry) for i in with_events]
        self.stratum_names = [levels[i] for i in with_events]
        self.nstrat = len(self.stratum_rows)
        self.offset_s = None if offset is None else self._split(offset)
        self.n_obs = sum(len(ix) for ix in self.stratum_rows)
        self.time_s, self.exog_s = self._split(time), self._split(exog)
        self.status_s, self.entry_s = self._split(status), self._split(entry)
        self.ufailt = [
            np.unique(t[d == 1]) for t, d in zip(self.time_s, self.status_s, strict=True)
        ]

    @staticmethod
    def _informative(ix, time, status, entry):
        """A stratum's rows without entries after its last failure or times before its first,
        sorted by time (numpy's default sort, as statsmodels)."""
        ix = ix[entry[ix] <= time[ix][status[ix] == 1].max()]
        ix = ix[time[ix] >= time[ix][status[ix] == 1].min()]
        return ix[np.argsort(time[ix])]

    def _risk_sets(self, stx):
        """Per distinct failure time of stratum `stx` (times sorted): who fails, who enters the
        risk set (time in [this failure time, the next)) and who leaves it (entry up to it)."""
        time, status, entry = self.time_s[stx], self.status_s[stx], self.entry_s[stx]
        failing = np.flatnonzero(status == 1)
        failure_times = self.ufailt[stx]
        enters = np.searchsorted(failure_times, time, "right") - 1
        leaves = np.searchsorted(failure_times, entry)

        def groups(index, members):
            order = np.argsort(index, kind="stable")
            counts = np.bincount(index, minlength=len(failure_times))
            return np.split(members[order].astype(np.int32), np.cumsum(counts)[:-1])

        seen = np.flatnonzero(enters >= 0)
        return (
            groups(np.searchsorted(failure_times, time[failing]), failing),
            groups(enters[seen], seen),
            groups(leaves, np.arange(len(time))),
        )

    # Breslow's likelihood, residuals and baseline hazards use these; EfronPHReg's fit does not
    @functools.cached_property
    def _all_risk_sets(self):
        return [self._risk_sets(stx) for stx in range(self.nstrat)]

    @property
    def ufailt_ix(self):
        return [sets[0] for sets in self._all_risk_sets]

    @property
    def risk_enter(self):
        return [sets[1] for sets in self._all_risk_sets]

    @property
    def risk_exit(self):
        return [sets[2] for sets in self._all_risk_sets]


class EfronPHReg(PHReg):
    """statsmodels PHReg with vectorised Efron functions and risk sets (no left truncation:
    entry times 0)."""

    def __init__(self, endog, exog, status=None, entry=None, strata=None, offset=None, **kwargs):
        """PHReg's constructor, its survival times built by SortedSurvivalTime."""
        if entry is not None and np.any(np.asarray(entry) != 0):
            raise ValueError("EfronPHReg has no left truncation (entry times); use PHReg")
        status = np.ones(len(endog)) if status is None else status
        missing = kwargs.pop("missing", "drop")
        kwargs.pop("ties", None)
        LikelihoodModel.__init__(
            self,
            endog,
            exog,
            status=status,
            strata=strata,
            offset=offset,
            missing=missing,
            **kwargs,
        )
        for name in ("status", "entry", "strata", "offset"):
            value = getattr(self, name, None)
            setattr(self, name, None if value is None else np.asarray(value))
        self.surv = SortedSurvivalTime(
            self.endog, self.status, self.exog, self.strata, self.entry, self.offset
        )
        self.nobs, self.groups, self.missing, self.ties = len(self.endog), None, missing, "efron"
        self.df_resid = float(self.exog.shape[0] - np.linalg.matrix_rank(self.exog))
        self.df_model = float(np.linalg.matrix_rank(self.exog))

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
