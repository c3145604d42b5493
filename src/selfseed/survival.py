"""Survival models linking a signature score to the endpoint: Cox per SD, Kaplan-Meier by median split, BH FDR.

The event of interest is event == 1; competing events (event == 2) are censored, so with competing
events the Cox model is cause-specific and 1 - KM is not a cumulative incidence.
"""

import warnings

import numpy as np
import pandas as pd

from selfseed.contracts import EVENT

ROUNDING = 1e-9  # relative: a score whose values differ by less than this is constant


def constant(score):
    """True when a score takes one value up to rounding (e.g. the mean of two z-scores that are
    each other's negatives, 0 but for the last bits), or has fewer than 2 finite values."""
    values = np.asarray(score, dtype=float)
    values = values[np.isfinite(values)]
    return len(values) < 2 or np.ptp(values) <= ROUNDING * max(1.0, np.abs(values).max())


def design_matrix(frame, covariates):
    """Standardised score plus covariates (categorical ones dummy-coded against the first sorted level)."""
    columns = [frame["score_sd"]]
    for name, kind in covariates:
        if kind == "numeric":
            columns.append(frame[name].astype(float))
        else:
            levels = sorted(frame[name].astype(str).unique())
            for level in levels[1:]:
                columns.append(
                    (frame[name].astype(str) == level).astype(float).rename(f"{name}[{level}]")
                )
    return pd.concat(columns, axis=1)


def cox_per_sd(data, covariates=()):
    """Cox PH (statsmodels PHReg, Efron ties) of the event of interest on the score per SD.

    data: DataFrame[time_months, event, score, covariate columns]; covariates: [(name, type)].
    Complete cases only. Returns a dict with n, events, coef, se, hr, ci_low, ci_high, p and a note
    (empty when the fit is usable, the reason otherwise).
    """
    from selfseed.errors import NotEstimable
    from selfseed.stats.cox import fit_cox, hazard_ratios

    used = ["time_months", "event", "score", *[name for name, _ in covariates]]
    frame = data[used].dropna()
    result = {"n": len(frame), "events": int((frame["event"] == EVENT).sum())}
    empty = dict.fromkeys(["coef", "se", "hr", "ci_low", "ci_high", "p"], np.nan)
    sd = frame["score"].std(ddof=1)
    if result["n"] == 0:
        return {**result, **empty, "note": "not fitted: no patient has the score and every term"}
    if result["events"] == 0:
        return {**result, **empty, "note": "not fitted: no events of interest"}
    if constant(frame["score"]):
        return {**result, **empty, "note": "not fitted: score is constant"}
    frame = frame.assign(score_sd=(frame["score"] - frame["score"].mean()) / sd)
    exog = design_matrix(frame, covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fit = fit_cox(frame["time_months"], frame["event"] == EVENT, exog)
        except (NotEstimable, RuntimeWarning, UserWarning) as error:
            reason = error.problem if isinstance(error, NotEstimable) else error
            note = f"not fitted: no finite maximum likelihood estimate (e.g. separation): {reason}"
            return {**result, **empty, "note": note}
    return {**result, **hazard_ratios(float(fit.params[0]), float(fit.bse[0])), "note": ""}


def median_split(data):
    """The pre-specified median split: complete cases of time_months, event and score with `group`
    high (score above the median) or low (at or below); the one split the Kaplan-Meier curves, the
    cumulative incidences and the figures' marks and numbers at risk all use."""
    frame = data[["time_months", "event", "score"]].dropna()
    cutpoint = float(frame["score"].median())
    split = frame.assign(group=np.where(frame["score"] > cutpoint, "high", "low"))
    split.attrs["cutpoint"] = cutpoint
    return split


def km_median_split(split):
    """Kaplan-Meier curves of the event of interest by `median_split` group (high vs low).

    Returns (summary dict with group sizes, events, log-rank chi2 and p, note; curves DataFrame
    [group, time_months, survival, at_risk]).
    """
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    group = split["group"].to_numpy()
    status = (split["event"] == EVENT).to_numpy(int)
    time = split["time_months"].to_numpy(float)
    summary = {"cutpoint": split.attrs["cutpoint"], "cutpoint_rule": "median (pre-specified)"}
    curves = []
    for label in ("low", "high"):
        mask = group == label
        summary[f"n_{label}"] = int(mask.sum())
        summary[f"events_{label}"] = int(status[mask].sum())
        if mask.any():
            fit = SurvfuncRight(time[mask], status[mask])
            curves.append(
                pd.DataFrame(
                    {
                        "group": label,
                        "time_months": np.r_[0.0, fit.surv_times],
                        "survival": np.r_[1.0, fit.surv_prob],
                        "at_risk": np.r_[mask.sum(), fit.n_risk],
                    }
                )
            )
    if min(summary["n_low"], summary["n_high"]) == 0 or status.sum() == 0:
        note = "no log-rank test: " + ("no events" if status.sum() == 0 else "one group is empty")
        summary.update(chi2=np.nan, p=np.nan, note=note)
    else:
        chi2, p = survdiff(time, status, group)
        summary.update(chi2=float(chi2), p=float(p), note="")
    return summary, pd.concat(curves, ignore_index=True)


def add_fdr(table, p_column="p"):
    """Benjamini-Hochberg FDR over every row with a p-value (rows without one get NaN)."""
    from statsmodels.stats.multitest import multipletests

    fdr = pd.Series(np.nan, index=table.index)
    tested = table[p_column].notna()
    if tested.any():
        fdr[tested] = multipletests(table.loc[tested, p_column], method="fdr_bh")[1]
    return table.assign(fdr=fdr)
