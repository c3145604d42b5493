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
    at_risk = len(time) - np.searchsorted(np.sort(time), cens_times, side="left")
    event_times = np.sort(time[event == 1])
    events = np.searchsorted(event_times, cens_times, "right") - np.searchsorted(
        event_times, cens_times, "left"
    )
    after = np.cumprod(1 - censored / (at_risk - events))
    return np.r_[1.0, after][np.searchsorted(cens_times, at, side=side)]


def _earlier_in_run(key, weight):
    """Per position of a sequence sorted by ``key``: the summed ``weight`` of the earlier
    positions with the same key."""
    before = np.cumsum(weight) - weight
    starts = np.r_[True, key[1:] != key[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(key)), 0))
    return before - before[run_start]


def _earlier_same_key(key, weight):
    """Per position of a sequence: the summed ``weight`` of the earlier positions with its key."""
    order = np.argsort(key, kind="stable")
    total = np.empty(len(key))
    total[order] = _earlier_in_run(key[order], weight[order])
    return total


def _earlier_smaller(rank, weight, group):
    """Per position p of a sequence: the summed ``weight`` of the earlier positions q of p's
    ``group`` with rank[q] < rank[p]; a Fenwick-tree count done one bit of the ranks at a time
    (at the highest bit where two ranks differ the smaller has 0, the larger 1): one stable sort
    per bit, O(n log^2 n)."""
    total = np.zeros(len(rank))
    bits = max(int(rank.max()).bit_length(), 1)
    for bit in range(bits):
        prefix = group * (1 << (bits - bit)) + (rank >> (bit + 1))
        order = np.argsort(prefix, kind="stable")
        ones = ((rank[order] >> bit) & 1).astype(bool)
        zeros_before = _earlier_in_run(prefix[order], np.where(ones, 0.0, weight[order]))
        total[order[ones]] += zeros_before[ones]
    return total


def _earlier_pairs(rank, weight, block):
    """Per position p of a sequence: the summed ``weight`` of the earlier positions outside p's
    ``block`` (a run of patients with an event at the same time), with a rank lower than, equal
    to and higher than p's."""
    n_ranks = int(rank.max()) + 1

    def by_rank(rank, weight, group):
        lower = _earlier_smaller(rank, weight, group)
        equal = _earlier_same_key(group * n_ranks + rank, weight)
        return np.stack([lower, equal, _earlier_same_key(group, weight) - lower - equal])

    pairs = by_rank(rank, weight, np.zeros_like(block))
    same = block[1:] == block[:-1]
    tied = np.flatnonzero(np.r_[same, False] | np.r_[False, same])  # blocks of 2 or more
    if len(tied):
        pairs[:, tied] -= by_rank(rank[tied], weight[tied], block[tied])
    return pairs


def _pair_roles(time, event, risk, pair_weight):
    """Each patient's summed pair weights [concordant, discordant, tied on risk] (n x 3) as the
    earlier time of its pairs (an event, paired with the later patients, censorings tied with it
    included: sorted by decreasing time) and as the later one (sorted by increasing time)."""
    n = len(time)
    rank = np.unique(risk, return_inverse=True)[1].astype(np.int64)
    dead = event == 1
    tied_events = np.where(dead, np.unique(time, return_inverse=True)[1], n + np.arange(n))
    as_earlier, as_later = np.zeros((n, 3)), np.zeros((n, 3))
    earlier = np.lexsort((event, -time))  # censorings before events at a tied time
    lower, equal, higher = _earlier_pairs(rank[earlier], np.ones(n), tied_events[earlier])
    as_earlier[earlier] = np.column_stack([lower, higher, equal]) * pair_weight[earlier, None]
    later = np.lexsort((-event, time))  # events before censorings at a tied time
    lower, equal, higher = _earlier_pairs(rank[later], pair_weight[later], tied_events[later])
    as_later[later] = np.column_stack([higher, lower, equal])
    return as_earlier, as_later


def _concordance(time, event, risk, time_weight):
    """survival::concordance(Surv(time, event) ~ risk, reverse = TRUE); ``time_weight`` maps the
    sorted unique event times to their pair weights.

    A pair is comparable when the shorter time is an event (a censoring tied with an event time
    counts as longer); risk ties count 1/2; pairs of events at the same time are excluded.
    The standard error is survival's infinitesimal-jackknife one (weights held fixed).
    O(n log^2 n): pairs are counted by sorting, not enumerated."""
    event_times, deaths = np.unique(time[event == 1], return_counts=True)
    weights = time_weight(event_times)
    pair_weight = np.zeros(len(time))
    dead = event == 1
    pair_weight[dead] = weights[np.searchsorted(event_times, time[dead])]
    tied_time = float((weights * deaths * (deaths - 1) / 2).sum())
    as_earlier, as_later = _pair_roles(time, event, risk, pair_weight)
    counts = as_earlier.sum(axis=0)  # each pair once, at its event
    influence = as_earlier + as_later
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
        control_risk = np.sort(risk[controls])
        lower = np.searchsorted(control_risk, risk[cases], side="left")
        wins = lower + 0.5 * (np.searchsorted(control_risk, risk[cases], side="right") - lower)
        auc = (wins / g).sum() / ((1 / g).sum() * controls.sum())
        rows.append((horizon, auc, int(cases.sum()), int(controls.sum())))
    return pd.DataFrame(rows, columns=["horizon", "auc", "n_cases", "n_controls"])
