"""Pooling per-cohort log hazard ratios: random-effects meta-analysis (as R metafor's `rma`)
and a one-stage Cox model stratified by cohort (as R survival's `coxph(... + strata(cohort))`).

Heterogeneity follows metafor 3.8: tau2 is clipped at 0; Q = max(0, Q);
I2 = 100 tau2 / (tau2 + vt) and H2 = tau2 / vt + 1 with the "typical" within-cohort variance
vt = (k - 1) / (sum w - sum w^2 / sum w), w = 1 / se^2.

tau2 is iterated to convergence (REML: change < 1e-12; PM: |Q(tau2) - (k - 1)| < 1e-12). metafor's
defaults stop earlier (REML threshold 1e-5, PM `uniroot` tol 1.2e-4), so its default output can
differ from the converged tau2 by ~1e-5; with `control=list(threshold=1e-12, tol=1e-12)` it agrees
with this module to < 1e-8.
"""

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from selfseed.contracts import EVENT
from selfseed.errors import InputDataError, NotEstimable
from selfseed.stats.cox import fit_cox, hazard_ratios

RE_METHODS = ("REML", "DL", "PM")
_TAU2_TOL = 1e-12
_MAXITER = 1000


def _studies(log_hr, se):
    """Per-cohort log HRs and sampling variances as float arrays, checked."""
    y = np.asarray(log_hr, dtype=float).ravel()
    s = np.asarray(se, dtype=float).ravel()
    if y.shape != s.shape:
        raise InputDataError(
            "log hazard ratios and standard errors differ in length",
            column="se",
            found=f"{y.size} log HRs, {s.size} SEs",
            expected="one SE per cohort",
        )
    if not (np.isfinite(y).all() and np.isfinite(s).all() and (s > 0).all()):
        raise InputDataError(
            "a cohort's log HR or SE is missing, infinite or not positive",
            column="log_hr/se",
            found=f"log_hr={y.tolist()}, se={s.tolist()}",
            expected="finite log HRs and SEs > 0",
            fix="drop cohorts whose Cox model did not converge before pooling",
        )
    return y, s**2


def _reml_tau2(y, v):
    """REML tau2 by metafor's Fisher scoring (start: Hedges' estimate clipped at 0; steps halved
    to stay >= 0; falls back to 0 when the restricted likelihood is higher there)."""
    k = y.size
    yc = y - y.mean()
    tau2 = max(0.0, (yc @ yc - v.sum() * (k - 1) / k) / (k - 1))

    def projection(t2):
        w = 1 / (v + t2)
        return np.diag(w) - np.outer(w, w) / w.sum()

    for _ in range(_MAXITER):
        p = projection(tau2)
        pp = p @ p
        step = (yc @ pp @ yc - np.trace(p)) / np.trace(pp)
        while tau2 + step < 0:
            step /= 2
        tau2 += step
        if abs(step) < _TAU2_TOL:
            break
    else:
        raise NotEstimable(
            "REML estimate of between-cohort variance did not converge",
            found=f"log_hr={y.tolist()}, variances={v.tolist()}",
            fix="use method='PM' or 'DL'",
        )

    def restricted_loglik(t2):
        w = 1 / (v + t2)
        mu = w @ y / w.sum()
        return -0.5 * (np.log(v + t2).sum() + np.log(w.sum()) + w @ (y - mu) ** 2)

    return 0.0 if restricted_loglik(0.0) > restricted_loglik(tau2) else tau2


def _combine(y, v, **options):
    """statsmodels' combine_effects; its random-effects columns take sqrt of a negative DL tau2,
    which we do not use, so that warning is silenced."""
    with np.errstate(invalid="ignore"):
        return combine_effects(y, v, **options)


def _tau2(y, v, method):
    """Between-cohort variance tau2 (clipped at 0) by REML, DerSimonian-Laird or Paule-Mandel."""
    if method == "REML":
        return _reml_tau2(y, v)
    if method == "DL":
        fit = _combine(y, v, method_re="dl")
    else:  # statsmodels' Paule-Mandel iteration stops at tau2 = 0 when Q(0) < k - 1
        fit = _combine(y, v, method_re="pm", atol=_TAU2_TOL, maxiter=_MAXITER)
    return max(0.0, float(fit.tau2))


def _not_estimable(k, method, hartung_knapp):
    keys = (
        "estimate se ci_low ci_high hr hr_ci_low hr_ci_high hr_pi_low hr_pi_high p tau2 i2 h2 q "
        "q_df q_p"
    ).split()
    return {
        **dict.fromkeys(keys, np.nan),
        "k": k,
        "method": method,
        "hartung_knapp": hartung_knapp,
        "estimable": False,
        "note": f"not estimable: pooling needs at least 2 cohorts, got {k}",
    }


def _pool(y, v, tau2, method, hartung_knapp, level):
    """Inverse-variance pooled log HR with weights 1 / (v + tau2), plus heterogeneity."""
    k = y.size
    q = max(0.0, float(_combine(y, v, method_re="dl").q))
    w = 1 / (v + tau2)
    estimate = w @ y / w.sum()
    if hartung_knapp:
        rss = w @ (y - estimate) ** 2
        s2w = rss / (k - 1) if rss > np.finfo(float).eps else 0.0
        se = np.sqrt(s2w / w.sum())
        reference = stats.t(df=k - 1)
    else:
        se = np.sqrt(1 / w.sum())
        reference = stats.norm()
    crit = reference.isf((1 - level) / 2)
    w_fixed = 1 / v
    vt = (k - 1) / (w_fixed.sum() - (w_fixed**2).sum() / w_fixed.sum())
    i2 = 100 * tau2 / (vt + tau2)
    h2 = tau2 / vt + 1
    low, high = estimate - crit * se, estimate + crit * se
    # prediction interval for the log HR of a new cohort, as metafor's predict.rma: the same
    # critical value, over sqrt(se^2 + tau2)
    spread = crit * np.sqrt(se**2 + tau2)
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "hr": np.exp(estimate),
        "hr_ci_low": np.exp(low),
        "hr_ci_high": np.exp(high),
        "hr_pi_low": np.exp(estimate - spread),
        "hr_pi_high": np.exp(estimate + spread),
        "p": 2 * reference.sf(abs(estimate / se)) if se > 0 else 0.0,
        "tau2": tau2,
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_df": k - 1,
        "q_p": stats.chi2.sf(q, k - 1),
        "k": k,
        "method": method,
        "hartung_knapp": hartung_knapp,
        "estimable": True,
        "note": "",
    }


def random_effects(log_hr, se, *, method, hartung_knapp, level=0.95):
    """Random-effects meta-analysis of per-cohort log HRs, as `metafor::rma(yi, sei=se,
    method=method)` (with `test="knha"` when `hartung_knapp`: t with k - 1 df and the
    Hartung-Knapp variance, without metafor's ad-hoc truncation at 1); the config's
    statistics.meta_method and statistics.hartung_knapp.
    With fewer than 2 cohorts, returns NaNs and `estimable=False` with a note."""
    if method not in RE_METHODS:
        raise InputDataError(
            "unknown random-effects method", key="method", found=method, expected=RE_METHODS
        )
    y, v = _studies(log_hr, se)
    if y.size < 2:
        return _not_estimable(y.size, method, hartung_knapp)
    return _pool(y, v, _tau2(y, v, method), method, hartung_knapp, level)


def study_weights(log_hr, se, tau2):
    """Per-cohort weights in percent, 100 w / sum w with w = 1 / (se^2 + tau2), as metafor's
    `weights()`; indexed like `log_hr` when it is a pandas Series."""
    y, v = _studies(log_hr, se)
    w = 1 / (v + tau2)
    index = log_hr.index if isinstance(log_hr, pd.Series) else None
    return pd.DataFrame(
        {"log_hr": y, "se": np.sqrt(v), "weight_percent": 100 * w / w.sum()}, index=index
    )


def stratified_cox(time, event, score, stratum, level=0.95):
    """One-stage Cox model of the pooled patients, baseline hazard stratified by cohort, Efron
    ties, as `coxph(Surv(time, event == 1) ~ score + strata(cohort))`. Event 1 is the event of
    interest; 0 (censored) and 2 (competing event) are censored, i.e. a cause-specific hazard.
    `ci_low`/`ci_high` are on the HR scale (as `summary(coxph)`'s lower/upper .95)."""
    frame = pd.DataFrame(
        {"time": time, "event": event, "score": score, "stratum": stratum}
    ).reset_index(drop=True)
    for column in ("time", "event", "score", "stratum"):
        if frame[column].isna().any():
            raise InputDataError(
                "missing values in the pooled survival data",
                column=column,
                found=f"{int(frame[column].isna().sum())} missing",
                expected="no missing values (drop such patients first)",
            )
    if not (frame["time"] > 0).all() or not frame["event"].isin([0, 1, 2]).all():
        raise InputDataError(
            "survival times must be > 0 and events coded 0, 1 or 2",
            column="time/event",
            found=f"times {frame['time'].min()}..{frame['time'].max()}, "
            f"events {sorted(frame['event'].unique().tolist())}",
            expected="time_months > 0; event 0 = censored, 1 = event, 2 = competing event",
        )
    status = (frame["event"] == EVENT).astype(float).to_numpy()
    if status.sum() == 0:
        raise NotEstimable(
            "no events of interest in the pooled cohorts: the Cox model is not estimable",
            column="event",
            found="no patient with event == 1",
            expected="at least one event (event == 1)",
        )
    fit = fit_cox(
        frame["time"], status, frame[["score"]], strata=frame["stratum"].astype(str).to_numpy()
    )
    return {
        **hazard_ratios(float(fit.params[0]), float(fit.bse[0]), level),
        "n": len(frame),
        "events": int(status.sum()),
    }
