"""Cox model diagnostics: proportional hazards, non-linearity of the score, treatment interaction.

All fits are statsmodels PHReg with Efron ties (``selfseed.stats.cox.EfronPHReg``); each function matches
the R result named in its docstring (see tests/reference/coxdiag.R).
"""

import numpy as np
import pandas as pd
from scipy import stats

from selfseed.errors import InputDataError, NotEstimable
from selfseed.stats.cox import covariate_matrix, fit_cox, hazard_ratios

Z95 = stats.norm.ppf(0.975)


def check_survival_data(time, event, **columns):
    """Validate survival inputs: time > 0, event coded 0/1, equal lengths, nothing missing.

    Returns float arrays ``time, event`` and the other named columns (1-D or 2-D) as arrays."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    arrays = {"time": time, "event": event}
    arrays.update({name: np.asarray(values, dtype=float) for name, values in columns.items()})
    for name, values in arrays.items():
        if len(values) != len(time):
            raise InputDataError(
                "survival inputs differ in length",
                column=name,
                found=f"{len(values)} values",
                expected=f"{len(time)} values, one per sample (as 'time')",
            )
        missing = np.isnan(values.reshape(len(values), -1)).any(axis=1)
        if missing.any():
            raise InputDataError(
                "missing values in a survival analysis input",
                column=name,
                found=f"{int(missing.sum())} samples with missing values",
                expected="complete data",
                fix="drop or impute incomplete samples before the analysis",
            )
    if (time <= 0).any():
        raise InputDataError(
            "survival times must be positive",
            column="time",
            found=f"{int((time <= 0).sum())} times <= 0 (smallest {time.min():g})",
            expected="time in months > 0",
        )
    if not np.isin(event, (0, 1)).all():
        raise InputDataError(
            "event must be coded 0 = censored, 1 = event of interest",
            column="event",
            found=sorted({float(v) for v in np.unique(event)} - {0.0, 1.0}),
            expected="0 or 1 (censor competing events (2) before a cause-specific analysis)",
            fix="recode competing events as 0 for a cause-specific Cox model",
        )
    if event.sum() == 0:
        raise NotEstimable("no events: the Cox model is not estimable", column="event")
    return tuple(arrays.values())


def _covariates(covariates, time):
    """The adjustment covariates as (array, names); None gives (None, [])."""
    if covariates is None:
        return None, []
    return covariate_matrix(covariates, len(np.asarray(time)), prefix="covariate")


def _zph_time(time, event, transform):
    """The time transform of survival::cox.zph: km = 1 - KM(t-), rank, identity or log."""
    if transform == "km":
        event_times, deaths = np.unique(time[event == 1], return_counts=True)
        at_risk = len(time) - np.searchsorted(np.sort(time), event_times, side="left")
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

    The first p entries are the Cox score at beta-hat; the last p are sum g(t) (x - xbar(t)).
    The risk-set sums come from reverse cumulative sums over the sorted times (O(n log n)): at
    an event time with m deaths, the k-th of them (k = 1..m) sees the survivors' sums plus k/m
    of the deaths'."""
    x = x - x.mean(axis=0)
    risk = np.exp(eta - eta.max())
    dead = event == 1
    sort = np.argsort(time, kind="stable")
    death_times, group, ties = np.unique(time[dead], return_inverse=True, return_counts=True)
    first_at_risk = np.searchsorted(time[sort], death_times, side="left")
    rows = np.argsort(group, kind="stable")  # the deaths by time
    by_time = group[rows]
    share = (np.arange(len(rows)) - np.r_[0, np.cumsum(ties)[:-1]][by_time] + 1) / ties[by_time]
    sums = []
    for w in (risk, risk[:, None] * x, risk[:, None, None] * x[:, :, None] * x[:, None, :]):
        at_risk = np.cumsum(w[sort][::-1], axis=0)[::-1][first_at_risk]
        dying = np.zeros_like(at_risk)
        np.add.at(dying, group, w[dead])
        shape = (-1,) + (1,) * (w.ndim - 1)
        sums.append((at_risk - dying)[by_time] + share.reshape(shape) * dying[by_time])
    s0, s1, s2 = sums
    mean = s1 / s0[:, None]
    step_var = s2 / s0[:, None, None] - mean[:, :, None] * mean[:, None, :]
    score = x[dead][rows] - mean
    g = gtime[dead][rows]
    u = np.r_[score.sum(axis=0), (g[:, None] * score).sum(axis=0)]
    cross = (g[:, None, None] * step_var).sum(axis=0)
    imat = np.block(
        [[step_var.sum(axis=0), cross], [cross.T, (g[:, None, None] ** 2 * step_var).sum(axis=0)]]
    )
    return u, imat


def schoenfeld_test(time, event, X, transform="km", terms=None):
    """Proportional-hazards test on scaled Schoenfeld residuals, as R's survival::cox.zph (>= 3.0).

    The score test of survival 3.x: for each term, beta(t) = beta + theta * g(t) with g the
    centred time transform; the chi-square is U' I^-1 U with the Cox score at beta-hat (Efron
    ties). ``terms`` maps a term name to its columns of X (e.g. the dummies of grade) for
    multi-df terms; by default each column is one term. Returns [term, chisq, df, p] plus GLOBAL.
    """
    values, names = covariate_matrix(X, len(np.asarray(time)))
    time, event, values = check_survival_data(time, event, X=values)
    terms = terms or {name: [name] for name in names}
    unknown = sorted({c for columns in terms.values() for c in columns} - set(names))
    if unknown:
        raise InputDataError(
            "a Schoenfeld test term names columns that are not in X",
            key="terms",
            found=unknown,
            expected=f"columns of X: {names}",
        )
    fit = fit_cox(time, event, values)
    eta = values @ fit.params
    gtime = _zph_time(time, event, transform)
    gtime = gtime - gtime[event == 1].mean()
    u, imat = _zph_score_and_information(time, event, values, eta, gtime)
    p = len(names)
    u[:p] = 0.0
    rows = []
    for term, columns in list(terms.items()) + [("GLOBAL", names)]:
        jj = [names.index(c) for c in columns]
        keep = list(range(p)) + [p + j for j in jj]
        uk = u[keep]
        try:
            chisq = float(uk @ np.linalg.solve(imat[np.ix_(keep, keep)], uk))
        except np.linalg.LinAlgError as error:
            raise NotEstimable(
                "proportional-hazards test not estimable: singular information matrix",
                found=f"term {term}",
            ) from error
        rows.append((term, chisq, len(jj), stats.chi2.sf(chisq, len(jj))))
    return pd.DataFrame(rows, columns=["term", "chisq", "df", "p"])


def rcs_knots(x, n_knots):
    """Knot locations of Hmisc::rcspline.eval (as rms::rcs) for a continuous variable.

    Quantiles (type 7) at 5..95% equally spaced (10..90% for 3 knots, 2.5..97.5% above 6);
    with fewer than 100 values the outer knots are the 5th smallest and 5th largest."""
    x = np.sort(np.asarray(x, dtype=float))
    n = len(x)
    if n_knots < 3 or n < 6 or len(np.unique(x)) - 2 <= n_knots:
        raise NotEstimable(
            "too few distinct score values for a restricted cubic spline",
            key="knots",
            found=f"{n_knots} knots, {len(np.unique(x))} distinct values",
            expected="knots >= 3 and more than knots + 2 distinct values",
        )
    share = pd.Series(x).value_counts(sort=False).sort_index().to_numpy() / n
    if share[1:-1].max() < 0.05 and max(share[0], share[-1]) >= 0.05:
        raise NotEstimable(
            "the score has a heavily tied end value; Hmisc's special knot rule is not reproduced",
            found=f"{max(share[0], share[-1]):.0%} of samples share the minimum or maximum",
            expected="a continuous score",
        )
    outer = 0.1 if n_knots == 3 else 0.025 if n_knots > 6 else 0.05
    knots = np.quantile(x, np.linspace(outer, 1 - outer, n_knots))
    if n < 100:
        knots[0], knots[-1] = x[4], x[n - 5]
    return np.unique(knots)


def rcs_basis(x, knots):
    """Non-linear columns of Harrell's restricted cubic spline (Hmisc::rcspline.eval, norm=2)."""
    x = np.asarray(x, dtype=float)[:, None]
    first, last, second_last = knots[0], knots[-1], knots[-2]
    scale = (last - first) ** (2 / 3)

    def cube(v):
        return np.maximum(v / scale, 0) ** 3

    inner = np.asarray(knots[:-2])[None, :]
    return cube(x - inner) + (
        (second_last - inner) * cube(x - last) - (last - inner) * cube(x - second_last)
    ) / (last - second_last)


def spline_nonlinearity(time, event, score, covariates=None, *, knots, n_grid=50):
    """Likelihood-ratio test of non-linearity of the score with a restricted cubic spline.

    Cox model with rcs(score, knots) (+ covariates) against the linear-score model; df = knots-2.
    ``curve`` gives the log hazard ratio relative to the median score with 95% Wald limits over
    ``n_grid`` equally spaced scores from min to max. Equal to R coxph with rms::rcs.
    """
    cov_values, cov_names = _covariates(covariates, time)
    extra = {} if cov_values is None else {"covariates": cov_values}
    time, event, score, *rest = check_survival_data(time, event, score=score, **extra)
    cov_values = rest[0] if rest else np.empty((len(time), 0))
    knot_values = rcs_knots(score, knots)
    basis = rcs_basis(score, knot_values)
    linear = fit_cox(time, event, np.column_stack([score, cov_values]))
    spline = fit_cox(time, event, np.column_stack([score, basis, cov_values]))
    lr_stat = 2 * (spline.llf - linear.llf)
    df = basis.shape[1]
    median = np.median(score)
    grid = np.linspace(score.min(), score.max(), n_grid)
    contrast = np.column_stack(
        [grid - median, rcs_basis(grid, knot_values) - rcs_basis([median], knot_values)]
    )
    k = contrast.shape[1]
    log_hr = contrast @ spline.params[:k]
    se = np.sqrt(np.einsum("ij,jk,ik->i", contrast, spline.cov_params()[:k, :k], contrast))
    curve = pd.DataFrame(
        {"score": grid, "log_hr": log_hr, "ci_low": log_hr - Z95 * se, "ci_high": log_hr + Z95 * se}
    )
    return {
        "lr_stat": float(lr_stat),
        "df": df,
        "p": float(stats.chi2.sf(lr_stat, df)),
        "knots": knot_values.tolist(),
        "median_score": float(median),
        "covariates": cov_names,
        "curve": curve,
    }


def _binary_treatment(treatment):
    """Code a two-level treatment as 0/1 (reference = first sorted level); return codes, levels."""
    treatment = pd.Series(np.asarray(treatment))
    if treatment.isna().any():
        raise InputDataError(
            "missing treatment values",
            column="treatment",
            found=f"{int(treatment.isna().sum())} missing",
            expected="a treatment label for every sample",
        )
    levels = sorted(treatment.unique().tolist())
    if len(levels) != 2:
        raise NotEstimable(
            "treatment must have exactly two levels",
            column="treatment",
            found=levels[:10],
            expected="two levels, e.g. 0 = no radiotherapy, 1 = radiotherapy",
        )
    return (treatment == levels[1]).to_numpy(dtype=float), levels


def treatment_interaction(time, event, score, treatment, covariates=None):
    """Score x treatment interaction in a Cox model (score, treatment, score:treatment [+ covs]).

    Returns the interaction hazard ratio with 95% CI and Wald p, the likelihood-ratio p against
    the model without the interaction, and the hazard ratio of the score (per unit) within each
    treatment level from the interaction model (exp(b_score) and exp(b_score + b_interaction)).
    """
    codes, levels = _binary_treatment(treatment)
    cov_values, cov_names = _covariates(covariates, time)
    extra = {} if cov_values is None else {"covariates": cov_values}
    time, event, score, codes, *rest = check_survival_data(
        time, event, score=score, treatment=codes, **extra
    )
    cov_values = rest[0] if rest else np.empty((len(time), 0))
    main = np.column_stack([score, codes, cov_values])
    full = fit_cox(time, event, np.column_stack([score, codes, score * codes, cov_values]))
    reduced = fit_cox(time, event, main)
    beta, cov = full.params, full.cov_params()
    b_int, se_int = beta[2], np.sqrt(cov[2, 2])
    lr_stat = 2 * (full.llf - reduced.llf)
    rows = []
    for level, contrast in zip(levels, ([1.0, 0, 0], [1.0, 0, 1.0]), strict=True):
        c = np.r_[contrast, np.zeros(len(beta) - 3)]
        ratio = hazard_ratios(c @ beta, np.sqrt(c @ cov @ c))
        rows.append((level, *(ratio[key] for key in ("hr", "ci_low", "ci_high", "p"))))
    interaction = hazard_ratios(b_int, se_int)
    return {
        "interaction_hr": float(interaction["hr"]),
        "ci_low": float(interaction["ci_low"]),
        "ci_high": float(interaction["ci_high"]),
        "wald_p": float(interaction["p"]),
        "lr_stat": float(lr_stat),
        "lrt_p": float(stats.chi2.sf(lr_stat, 1)),
        "treatment_levels": levels,
        "covariates": cov_names,
        "score_hr_by_treatment": pd.DataFrame(
            rows, columns=["treatment", "hr", "ci_low", "ci_high", "p"]
        ),
    }
