"""Discrimination of a risk score for censored outcomes: Harrell's and Uno's C, time-dependent AUC.

``risk``: higher = worse prognosis (e.g. the signature score or a Cox linear predictor).
"""

import numpy as np
import pandas as pd

from selfseed.errors import NotEstimable
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
