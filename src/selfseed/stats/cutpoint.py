"""Score groups: fixed quantile groups, and the data-driven cutpoint with an honest p-value.

The data-driven cutpoint is the maximally selected standardised log-rank statistic of
maxstat::maxstat.test(Surv(time, event) ~ score, smethod = "LogRank"); its p-value is always
corrected for the search over cutpoints (an uncorrected minimum p is never returned).
"""

import numpy as np
import pandas as pd
from scipy import stats

from selfseed.errors import InputDataError, NotEstimable
from selfseed.stats.coxdiag import check_survival_data

QUANTILE_GROUPS = {"median": ["low", "high"], "tertile": ["low", "mid", "high"]}
CORRECTIONS = {
    "lausen_schumacher": "Lausen & Schumacher 1994 (maxstat pmethod 'Lau94')",
    "altman": "the Altman et al. 1994 approximation (maxstat pmethod 'Lau92')",
    "permutation": "conditional Monte Carlo permutation",
}


def r_quantiles(values, probs):
    """Quantiles as R's quantile(type = 7), including its fuzz for indices that are whole numbers
    up to rounding (e.g. (n - 1) * 2/3), so that group boundaries match R's exactly."""
    x = np.sort(values)
    index = (len(x) - 1) * np.asarray(probs)
    fuzz = 4 * np.finfo(float).eps
    low = np.floor(index + fuzz).astype(int)
    weight = index - low
    weight[np.abs(weight) < fuzz] = 0
    high = np.minimum(low + 1, len(x) - 1)
    return np.where(weight == 0, x[low], (1 - weight) * x[low] + weight * x[high])


def group_by_quantiles(score, groups):
    """Ordered labels low/high (median split) or low/mid/high (tertiles) of the scores' quantiles
    (missing scores stay unlabelled); a score on a boundary goes to the lower group. Too few or
    too tied scores are not estimable (NotEstimable)."""
    if groups not in QUANTILE_GROUPS:
        raise InputDataError(
            "unknown quantile grouping",
            key="groups",
            found=groups,
            expected="'median' or 'tertile'",
        )
    labels = QUANTILE_GROUPS[groups]
    score = pd.Series(score, dtype=float)
    if score.notna().sum() < len(labels):
        raise NotEstimable(
            "too few scores to form quantile groups",
            key="groups",
            found=f"{groups}: {int(score.notna().sum())} scores",
            expected=f"at least {len(labels)} scores",
        )
    bounds = r_quantiles(score.dropna().to_numpy(), np.linspace(0, 1, len(labels) + 1))
    if len(np.unique(bounds)) < len(bounds):
        raise NotEstimable(
            "the score has too many tied values to form quantile groups",
            key="groups",
            found=f"{groups}: boundaries {bounds.tolist()}",
            expected=f"{len(labels)} groups with distinct boundaries",
        )
    return pd.cut(score, bounds, labels=labels, include_lowest=True)


def logrank_scores(time, event):
    """Log-rank scores of exactRankTests::cscores (as used by maxstat): event minus the
    cumulative sum of event / (n - rank + 1), with rank the maximum rank among tied times."""
    order = np.argsort(time, kind="stable")
    rank = stats.rankdata(time, method="max").astype(int)
    share = event / (len(time) - rank + 1)
    return event - np.cumsum(share[order])[rank - 1]


def _split_sizes(score, minprop, maxprop):
    """Sizes m of the lower group for each cut between distinct sorted scores, within limits."""
    n = len(score)
    sorted_score = np.sort(score)
    m = np.flatnonzero(np.r_[True, sorted_score[1:] != sorted_score[:-1]])
    m = m[(m >= max(1, np.floor(n * minprop))) & (m <= np.floor(n * maxprop))]
    if len(m) == 0:
        raise NotEstimable(
            "no cutpoint leaves the required share of samples in each group",
            key="minprop",
            found=f"minprop {minprop}, {n} samples, {len(np.unique(score))} distinct scores",
            expected="enough distinct score values between the minprop and maxprop quantiles",
        )
    return m


def _standardised_statistics(y_sorted, m):
    """|sum of the first m scores - E| / sqrt(V) under permutation, for each split size m."""
    n = len(y_sorted)
    total = y_sorted.sum()
    expected = m / n * total
    variance = m * (n - m) / (n**2 * (n - 1)) * (n * (y_sorted**2).sum() - total**2)
    return np.abs(np.cumsum(y_sorted)[m - 1] - expected) / np.sqrt(variance), expected, variance


def p_lausen_schumacher(statistic, n, m):
    """Lausen & Schumacher (1994) improved Bonferroni bound (maxstat pLausen94), capped at 1."""
    m1, m2 = m[:-1], m[1:]
    t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
    d = np.sum(np.exp(-(statistic**2) / 2) / np.pi * (t - (statistic**2 / 4 - 1) * t**3 / 6))
    return min(1.0, 2 * stats.norm.sf(statistic) + d)


def p_altman(statistic, minprop, maxprop=None):
    """Altman et al. (1994) / Lausen & Schumacher (1992) approximation (maxstat pLausen92):
    phi(z)(z - 1/z) log((1-eps)^2/eps^2) + 4 phi(z)/z for maxprop = 1 - minprop = 1 - eps."""
    maxprop = 1 - minprop if maxprop is None else maxprop
    if statistic < 1:
        return 1.0
    dens = stats.norm.pdf(statistic)
    span = np.log(maxprop * (1 - minprop) / ((1 - maxprop) * minprop))
    return float(
        min(1.0, max(0.0, 4 * dens / statistic + dens * (statistic - 1 / statistic) * span))
    )


def p_permutation(statistic, y, m, n_perm, seed):
    """Share of permutations of the log-rank scores whose maximal statistic reaches the observed
    one, over the same split sizes, as (1 + count) / (1 + n_perm) (never 0)."""
    rng = np.random.default_rng(seed)
    _, expected, variance = _standardised_statistics(y, m)
    sd = np.sqrt(variance)
    reached = 0
    for start in range(0, n_perm, 1000):
        block = rng.permuted(np.tile(y, (min(1000, n_perm - start), 1)), axis=1)
        maxima = (np.abs(np.cumsum(block, axis=1)[:, m - 1] - expected) / sd).max(axis=1)
        reached += int((maxima >= statistic * (1 - 1e-12)).sum())
    return (1 + reached) / (1 + n_perm)


def optimal_cutpoint(time, event, score, *, minprop, method, n_perm=10_000, seed=None):
    """Data-driven cutpoint by the maximally selected standardised log-rank statistic.

    Candidate cuts leave between minprop and maxprop = 1 - minprop of the samples in the lower
    group (score <= cutpoint). ``method`` corrects the p-value for the search: 'permutation'
    (n_perm permutations of the log-rank scores, seed), 'lausen_schumacher' (Lau94) or 'altman'
    (Altman et al. 1994 formula); the config's statistics.cutpoint_minprop and
    statistics.cutpoint_correction.
    Equal to maxstat::maxstat.test(..., smethod = "LogRank", minprop, maxprop = 1 - minprop).
    ``statistics`` lists the standardised statistic at every candidate cutpoint.
    """
    if method not in CORRECTIONS:
        raise InputDataError(
            "unknown p-value correction for the cutpoint search",
            key="method",
            found=method,
            expected=" or ".join(f"'{name}'" for name in CORRECTIONS),
        )
    if not 0 < minprop < 0.5:
        raise InputDataError(
            "minprop must leave both groups non-empty",
            key="minprop",
            found=minprop,
            expected="0 < minprop < 0.5",
        )
    time, event, score = check_survival_data(time, event, score=score)
    maxprop = 1 - minprop
    order = np.argsort(score, kind="stable")
    y_sorted = logrank_scores(time, event)[order]
    m = _split_sizes(score, minprop, maxprop)
    statistics, _, _ = _standardised_statistics(y_sorted, m)
    best = int(np.argmax(statistics))
    statistic = float(statistics[best])
    cutpoint = float(score[order][m[best] - 1])
    if method == "lausen_schumacher":
        p = p_lausen_schumacher(statistic, len(score), m)
        how = CORRECTIONS[method]
    elif method == "altman":
        p = p_altman(statistic, minprop, maxprop)
        how = f"{CORRECTIONS[method]} with eps = {minprop}"
    else:
        p = p_permutation(statistic, y_sorted, m, n_perm, seed)
        how = f"{CORRECTIONS[method]} ({n_perm} permutations, seed {seed})"
    return {
        "cutpoint": cutpoint,
        "max_stat": statistic,
        "p_corrected": float(p),
        "method": method,
        "n_low": int((score <= cutpoint).sum()),
        "n_high": int((score > cutpoint).sum()),
        "minprop": minprop,
        "statistics": pd.DataFrame({"cutpoint": score[order][m - 1], "statistic": statistics}),
        "label": "data-driven cutpoint (maximally selected log-rank statistic); "
        f"p corrected by {how}",
    }
