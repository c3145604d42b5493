"""The quadratic implementations of selfseed's discrimination and competing-risk statistics, as
they were before issue 17 made them O(n log n) / one pass over the sorted times (selfseed
commit 347613c, src/selfseed/stats/discrimination.py and competing.py, copied unchanged but for
the names). They stay here, out of the package, as the reference the fast code must equal to
1e-10 (tests/test_discrimination.py, test_competing.py); they are checked against R and
scikit-survival there too. Not used by the pipeline.

- harrell_c, uno_c: one (dead x later) risk-difference matrix per event time, O(n^2);
- time_dependent_auc: one (cases x controls) matrix per horizon, O(n^2);
- _censoring_survival: a (censoring times x patients) comparison, O(n^2);
- cumulative_incidence: statsmodels CumIncidenceRight per group;
- gray_test: cmprsk's crstm recursion, one Python step per distinct time;
- _zph_time, _zph_score_and_information (coxdiag.py, cox.zph's score test): masks over all
  patients per event time, O(n^2);
- fine_gray: (failures x patients) risk-set weights and a (censoring times x failures x
  patients) sum for crr's censoring term, O(n^2) memory and O(n^3) time.
"""

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import CumIncidenceRight

from selfseed.contracts import CENSORED
from selfseed.errors import InputDataError, NotEstimable
from selfseed.stats.competing import (
    CAUSES,
    GrayTest,
    _censoring_survival_before,
    _check_outcome,
    _hazard_ratio_table,
    _name,
)
from selfseed.stats.cox import covariate_matrix
from selfseed.stats.coxdiag import check_survival_data


def _censoring_survival(time, event, at, side):
    """Kaplan-Meier of censoring at each ``at``: G(t-) for side="left" (survival's concordance,
    fastkm1), G(t) for side="right" (scikit-survival's IPCW). Censorings tied with an event count
    after it: at a censoring time c, G drops by 1 - censored(c) / (at risk(c) - events(c))."""
    cens_times, censored = np.unique(time[event == 0], return_counts=True)
    at_risk = (time[None, :] >= cens_times[:, None]).sum(axis=1)
    events = ((time[None, :] == cens_times[:, None]) & (event[None, :] == 1)).sum(axis=1)
    after = np.cumprod(1 - censored / (at_risk - events))
    return np.r_[1.0, after][np.searchsorted(cens_times, at, side=side)]


def _concordance(time, event, risk, time_weight):
    """survival::concordance(Surv(time, event) ~ risk, reverse = TRUE); ``time_weight`` maps the
    sorted unique event times to their pair weights.

    A pair is comparable when the shorter time is an event (a censoring tied with an event time
    counts as longer); risk ties count 1/2; pairs of events at the same time are excluded.
    The standard error is survival's infinitesimal-jackknife one (weights held fixed)."""
    n = len(time)
    counts = np.zeros(3)  # concordant, discordant, tied on risk
    influence = np.zeros((n, 3))
    tied_time = 0.0
    event_times = np.unique(time[event == 1])
    for t, weight in zip(event_times, time_weight(event_times), strict=True):
        dead = np.flatnonzero((time == t) & (event == 1))
        later = (time > t) | ((time == t) & (event == 0))
        tied_time += weight * len(dead) * (len(dead) - 1) / 2
        if weight == 0 or not later.any():
            continue
        diff = risk[dead][:, None] - risk[later][None, :]
        classes = np.stack([diff > 0, diff < 0, diff == 0], axis=-1) * weight
        counts += classes.sum(axis=(0, 1))
        influence[dead] += classes.sum(axis=1)
        influence[later] += classes.sum(axis=0)
    n_pairs = counts.sum()
    if n_pairs == 0:
        raise NotEstimable(
            "no comparable pairs: concordance is undefined",
            column="event",
            expected="at least one event followed by a longer follow-up time",
        )
    somers_d = (counts[0] - counts[1]) / n_pairs
    dfbeta = (influence[:, 0] - influence[:, 1]) / n_pairs - somers_d / n_pairs * influence.sum(
        axis=1
    )
    return {
        "concordance": (somers_d + 1) / 2,
        "se": float(np.sqrt((dfbeta**2).sum() / 4)),
        "concordant": counts[0],
        "discordant": counts[1],
        "tied_risk": counts[2],
        "tied_time": tied_time,
    }


def harrell_c(time, event, risk):
    """Harrell's C of a risk score (higher = worse), equal to
    survival::concordance(Surv(time, event) ~ risk, reverse = TRUE), with its standard error."""
    time, event, risk = check_survival_data(time, event, risk=risk)
    return _concordance(time, event, risk, np.ones_like)


def uno_c(time, event, risk, tau=None):
    """Uno's C (pairs weighted by 1/G(t-)^2, G the censoring Kaplan-Meier), truncated at ``tau``
    (only event times <= tau count), equal to survival::concordance(..., reverse = TRUE,
    timewt = "n/G2", ymax = tau), with its standard error (weights held fixed)."""
    time, event, risk = check_survival_data(time, event, risk=risk)

    def weight(event_times):
        if event.sum() < 2:  # survival falls back to Harrell's weights
            uno = np.ones_like(event_times)
        else:
            uno = _censoring_survival(time, event, event_times, "left") ** -2.0
        return np.where(event_times > tau, 0.0, uno) if tau is not None else uno

    return _concordance(time, event, risk, weight)


def time_dependent_auc(time, event, risk, horizons):
    """Cumulative/dynamic AUC(t) with inverse-probability-of-censoring weights (Uno 2007;
    Hung & Chiang 2010): cases have an event by t (weight 1/G(T_i), G the censoring
    Kaplan-Meier), controls are event-free beyond t; risk ties count 1/2.
    Equal to scikit-survival's cumulative_dynamic_auc with the same data for training and test.
    Returns [horizon, auc, n_cases, n_controls]."""
    time, event, risk = check_survival_data(time, event, risk=risk)
    rows = []
    for horizon in np.atleast_1d(np.asarray(horizons, dtype=float)):
        cases = (time <= horizon) & (event == 1)
        controls = time > horizon
        if not cases.any() or not controls.any():
            raise NotEstimable(
                "time-dependent AUC needs events before and follow-up beyond the horizon",
                key="horizons",
                found=f"{horizon:g} months: {cases.sum()} cases, {controls.sum()} controls",
                expected="a horizon between the first event and the last follow-up time",
            )
        g = _censoring_survival(time, event, time[cases], "right")
        if (g == 0).any():
            raise NotEstimable(
                "censoring survival reaches 0 before an event time", key="horizons", found=horizon
            )
        diff = risk[cases][:, None] - risk[controls][None, :]
        wins = (diff > 0) + 0.5 * (diff == 0)
        auc = (wins.sum(axis=1) / g).sum() / ((1 / g).sum() * controls.sum())
        rows.append((horizon, auc, int(cases.sum()), int(controls.sum())))
    return pd.DataFrame(rows, columns=["horizon", "auc", "n_cases", "n_controls"])


def cumulative_incidence(time, event, group=None):
    """Aalen-Johansen cumulative incidence of causes 1 and 2, per group.

    Returns one row per group, cause and distinct observed time of the group:
    columns group, cause, time, cif, se. The CIF equals `cmprsk::cuminc`; `se` is statsmodels'
    delta-method standard error, which differs from cuminc's variance (Gray's estimator with a
    tie correction): on the reference cohorts they differ by a median <5% and up to 18% at
    single times in small tied groups; `se` is NaN at a group's last time when its last
    patients all have an event.
    """
    t, e = _check_outcome(time, event)
    labels = np.full(len(t), "all", dtype=object) if group is None else np.asarray(group)
    if pd.isna(labels).any():
        raise InputDataError("group label missing", column=_name(group, "group"))
    rows = []
    for label in pd.unique(labels[np.argsort(labels.astype(str), kind="stable")]):
        ts, es = t[labels == label], e[labels == label]
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = CumIncidenceRight(ts, es)
        for cause in CAUSES:
            fitted = cause <= len(fit.cinc)
            cif = fit.cinc[cause - 1] if fitted else np.zeros(len(fit.times))
            se = fit.cinc_se[cause - 1] if fitted else np.zeros(len(fit.times))
            rows.append(
                pd.DataFrame(
                    {"group": label, "cause": cause, "time": fit.times, "cif": cif, "se": se}
                )
            )
    return pd.concat(rows, ignore_index=True)


def gray_test(time, event, group, cause=1):
    """Gray's K-sample test that the cumulative incidence of `cause` is equal across groups.

    Returns (statistic, df, p) with df = number of groups - 1, as `cmprsk::cuminc(...)$Tests`
    (rho = 0, no strata). The statistic is NaN when its variance matrix is singular.
    """
    t, e = _check_outcome(time, event, cause)
    labels = np.asarray(group)
    if len(labels) != len(t) or pd.isna(labels).any():
        raise InputDataError(
            "group labels missing or of the wrong length",
            column=_name(group, "group"),
            expected="one label per patient",
        )
    levels, g = np.unique(labels.astype(str), return_inverse=True)
    ng = len(levels)
    if ng < 2:
        raise NotEstimable(
            "Gray's test needs at least two groups", column=_name(group, "group"), found=ng
        )
    m = np.where(e == CENSORED, 0, np.where(e == cause, 1, 2))
    order = np.argsort(t, kind="stable")
    t, m, g = t[order], m[order], g[order]

    at_risk = np.bincount(g, minlength=ng).astype(float)
    km_before, km = np.ones(ng), np.ones(ng)  # overall survival, left/right continuous
    cif_before, cif = np.zeros(ng), np.zeros(ng)  # cause CIF, left/right continuous
    pooled_before = 0.0
    score = np.zeros(ng)
    var = np.zeros((ng, ng))
    c = np.zeros((ng, ng))
    v2 = np.zeros((ng, ng))
    v3 = np.zeros(ng)
    _, starts = np.unique(t, return_index=True)  # t is sorted: each time is a slice
    for start, stop in zip(starts, np.r_[starts[1:], len(t)], strict=True):
        g_now, m_now = g[start:stop], m[start:stop]
        d1 = np.bincount(g_now[m_now == 1], minlength=ng)
        d2 = np.bincount(g_now[m_now == 2], minlength=ng)
        nd1, nd2 = d1.sum(), d2.sum()
        if nd1 or nd2:
            live = at_risk > 0
            r = np.where(live, at_risk, 1.0)
            km = np.where(live, km_before * (r - d1 - d2) / r, km)
            cif = np.where(live, cif_before + km_before * d1 / r, cif)
            h = np.divide(at_risk, km_before, out=np.zeros(ng), where=live)
            tr = h.sum()
            tq = (h * (1 - cif_before)).sum()
            pooled = pooled_before + nd1 / tr
            a = np.diag(h) - np.outer(h, h) / tr
            c += a * nd1 / (tr * (1 - pooled_before))
            score += np.where(live, d1 - nd1 * h * (1 - cif_before) / tq, 0.0)
            if nd1:
                for k in np.flatnonzero(live):
                    t4 = 1 - (1 - pooled) / km[k] if km[k] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * km_before[k] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * km_before[k] * nd1 / (tr * at_risk[k])
                    t1 = a[:, k] - t4 * c[:, k]
                    v3[k] += t4 * t4 * t3
                    v2[:, k] += t1 * t4 * t3
                    var += np.outer(t1, t1) * t3
            if nd2:
                for k in np.flatnonzero((km > 0) & (d2 > 0)):
                    t4 = (1 - pooled) / km[k]
                    t5 = 1 - (d2[k] - 1) / (at_risk[k] - 1) if d2[k] > 1 else 1.0
                    t3 = t5 * km_before[k] ** 2 * d2[k] / at_risk[k] ** 2
                    t1 = t4 * c[:, k]
                    v3[k] += t4 * t4 * t3
                    v2[:, k] -= t1 * t4 * t3
                    var += np.outer(t1, t1) * t3
            pooled_before = pooled
            cif_before, km_before = cif.copy(), km.copy()
        at_risk -= np.bincount(g_now, minlength=ng)
    var += c @ np.diag(v3) @ c.T + c @ v2.T + v2 @ c.T
    s, v = score[:-1], var[:-1, :-1]
    df = ng - 1
    if np.linalg.matrix_rank(v) < df:
        return GrayTest(np.nan, df, np.nan)
    statistic = float(s @ np.linalg.solve(v, s))
    return GrayTest(statistic, df, float(stats.chi2.sf(statistic, df)))


def _subdistribution_risk(beta, x, weight):
    """Weighted risk-set sums at each cause failure: w*exp(x b), S0, covariate mean xbar."""
    risk = weight * np.exp(x @ beta)
    s0 = risk.sum(axis=1)
    return risk, s0, (risk @ x) / s0[:, None]


def _censoring_influence(t, e, cause, fail_time, share, x, xbar):
    """crr's psi: each patient's effect on the score through the Kaplan-Meier estimate of G,
    -sum_{u <= t_i} q(u) dNc(u) / Y(u)^2 + I(censored at t_i) q(t_i) / Y(t_i), where q(u) sums the
    other cause's risk-set shares over cause failures at or after u (Fine & Gray 1999)."""
    censored = e == CENSORED
    psi = np.zeros_like(x)
    if not censored.any():
        return psi
    compete = (e != cause) & ~censored
    cens_times, cens_counts = np.unique(t[censored], return_counts=True)
    n_at_risk = (t[None, :] >= cens_times[:, None]).sum(axis=1)
    before_u = compete[None, :] & (t[None, :] < cens_times[:, None])  # (u, patient)
    fails_from_u = fail_time[None, :] >= cens_times[:, None]  # (u, failure)
    share_x = np.einsum("uk,jk,kp->ujp", before_u, share, x, optimize=True)
    share_0 = before_u @ share.T
    q = np.einsum("uj,ujp->up", fails_from_u, share_x - share_0[:, :, None] * xbar[None])
    cumulative = np.cumsum(q * (cens_counts / n_at_risk**2)[:, None], axis=0)
    u_index = np.searchsorted(cens_times, t, side="right") - 1
    seen = u_index >= 0
    psi[seen] = -cumulative[u_index[seen]]
    psi[censored] += q[u_index[censored]] / n_at_risk[u_index[censored], None]
    return psi


def fine_gray(time, event, X, cause=1, tol=1e-10, max_iter=50):  # noqa: C901 (as it was)
    """Fine-Gray subdistribution hazard model for `cause`, as `cmprsk::crr`.

    Patients with the other cause stay in the risk set after their event with weight
    G(s-)/G(t_i-) (G: Kaplan-Meier of censoring); tied failures use Breslow's likelihood; the
    standard error is crr's sandwich estimate including the term for estimating G.
    Returns columns term, coef, se, hr, ci_low, ci_high, p (Wald).
    """
    t, e = _check_outcome(time, event, cause)
    x, terms = covariate_matrix(X, len(t))
    x = x - x.mean(axis=0)  # the partial likelihood and its variance do not change
    fail = e == cause
    if not fail.any():
        raise NotEstimable("no event of the modelled cause", found=0, expected=f"event=={cause}")
    compete = (e != cause) & (e != 0)
    g_before = _censoring_survival_before(t, e == CENSORED)

    # weight[j, k]: patient k in the subdistribution risk set at the j-th cause failure
    fail_time = t[fail]
    still_at_risk = t[None, :] >= fail_time[:, None]
    after_competing = compete[None, :] & ~still_at_risk
    weight = np.where(
        still_at_risk, 1.0, np.where(after_competing, g_before[fail][:, None] / g_before, 0.0)
    )

    def loglik(b):
        _, s0, _ = _subdistribution_risk(b, x, weight)
        return (x[fail] @ b).sum() - np.log(s0).sum()

    def information(risk, s0, xbar):
        return np.einsum("jk,ka,kb->ab", risk / s0[:, None], x, x) - xbar.T @ xbar

    def singular(error):
        return NotEstimable(
            "Fine-Gray model not estimable: singular information matrix",
            column=", ".join(terms),
            found=str(error),
            expected="covariates that vary among the patients at risk",
        )

    beta = np.zeros(x.shape[1])
    for _ in range(max_iter):
        risk, s0, xbar = _subdistribution_risk(beta, x, weight)
        try:
            step = np.linalg.solve(information(risk, s0, xbar), (x[fail] - xbar).sum(axis=0))
        except np.linalg.LinAlgError as error:
            raise singular(error) from error
        current = loglik(beta)
        while loglik(beta + step) < current - 1e-12 and np.abs(step).max() > tol:
            step /= 2
        beta = beta + step
        if np.abs(step).max() < tol:
            break
    else:
        raise NotEstimable(
            f"Fine-Gray model did not converge in {max_iter} Newton steps",
            column=", ".join(terms),
            expected="covariates that do not separate patients with and without the event",
        )

    risk, s0, xbar = _subdistribution_risk(beta, x, weight)
    hessian = information(risk, s0, xbar)
    # eta: each patient's score contribution (its own failure minus its dLambda-weighted share)
    share = risk / s0[:, None]
    eta = -(share.sum(axis=0)[:, None] * x - share.T @ xbar)
    eta[fail] += x[fail] - xbar
    psi = _censoring_influence(t, e, cause, fail_time, share, x, xbar)
    influence = eta + psi
    try:
        bread = np.linalg.inv(hessian)
    except np.linalg.LinAlgError as error:
        raise singular(error) from error
    cov = bread @ influence.T @ influence @ bread
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    if not (np.isfinite(beta).all() and np.isfinite(se).all() and (se > 0).all()):
        raise NotEstimable(
            "Fine-Gray model not estimable: no finite estimate or standard error",
            column=", ".join(terms),
            found=f"coefficients {beta.tolist()}, standard errors {se.tolist()}",
        )
    return _hazard_ratio_table(terms, beta, se)


def _zph_time(time, event, transform):
    """The time transform of survival::cox.zph: km = 1 - KM(t-), rank, identity or log."""
    if transform == "km":
        event_times, deaths = np.unique(time[event == 1], return_counts=True)
        at_risk = (time[None, :] >= event_times[:, None]).sum(axis=1)
        surv_after = np.cumprod(1 - deaths / at_risk)
        n_before = np.searchsorted(event_times, time, side="left")
        return 1 - np.r_[1.0, surv_after][n_before]
    if transform == "rank":
        return stats.rankdata(time)
    if transform == "identity":
        return time.copy()
    if transform == "log":
        return np.log(time)
    raise InputDataError(
        "unknown time transform for the Schoenfeld test",
        key="transform",
        found=transform,
        expected="'km', 'rank', 'identity' or 'log'",
    )


def _zph_score_and_information(time, event, x, eta, gtime):
    """Score vector (2p) and information matrix (2p x 2p) of survival's zph1 C routine (Efron).

    The first p entries are the Cox score at beta-hat; the last p are sum g(t) (x - xbar(t))."""
    p = x.shape[1]
    x = x - x.mean(axis=0)
    risk = np.exp(eta - eta.max())
    u = np.zeros(2 * p)
    imat = np.zeros((2 * p, 2 * p))
    for t in np.unique(time[event == 1]):
        dead = (time == t) & (event == 1)
        others = (time >= t) & ~dead
        nd = dead.sum()
        r0, rd = risk[others], risk[dead]
        a, a2 = r0 @ x[others], rd @ x[dead]
        c, c2 = (x[others].T * r0) @ x[others], (x[dead].T * rd) @ x[dead]
        g = gtime[dead][0]
        step_var = np.zeros((p, p))
        mean_sum = np.zeros(p)
        for k in range(1, nd + 1):
            frac = k / nd
            denom = r0.sum() + frac * rd.sum()
            mean = (a + frac * a2) / denom
            mean_sum += mean
            step_var += (c + frac * c2) / denom - np.outer(mean, mean)
        score = x[dead].sum(axis=0) - mean_sum
        u[:p] += score
        u[p:] += g * score
        imat[:p, :p] += step_var
        imat[:p, p:] += g * step_var
        imat[p:, p:] += g * g * step_var
    imat[p:, :p] = imat[:p, p:].T
    return u, imat
