"""Genome-wide ranking: every gene's cause-specific Cox score test for the event of interest, all
genes at once, and its weighted Stouffer combination across cohorts.

For one gene x (standardised within the cohort), the statistic is the partial-likelihood score test
at beta = 0 of the univariable cause-specific Cox model (competing events censored),

    z = U(0) / sqrt(I(0)),   U = d log L / d beta,   I = -d^2 log L / d beta^2,

the signed square root of R coxph's score ("log-rank") test `summary(fit)$sctest`, and of
statsmodels PHReg's own score and Hessian at 0. At beta = 0 every risk is 1, so U and I need only the
risk-set sums of x and x^2 at each event time; these are cumulative sums over patients sorted by
time, done for all genes in one pass (a matrix of genes, in chunks of columns).

Ties: Efron, as every Cox fit of the project (`survival.cox_per_sd`, `stats.cox.EfronPHReg`, R
coxph's default), so z is the score test of the model those fits estimate. For the l-th (l = 0..m-1)
of m events tied at t, with r patients at risk, R1/R2 the risk-set sums of x/x^2 and D1/D2 the sums
over the m events: c0 = r - l, c1 = R1 - (l/m) D1, c2 = R2 - (l/m) D2, and
U = sum (D1 - sum_l c1/c0), I = sum sum_l (c2/c0 - (c1/c0)^2). Breslow (l/m = 0) is available.
"""

import numpy as np
import pandas as pd
from scipy.stats import norm

from selfseed.contracts import EVENT
from selfseed.endpoints import coded_samples
from selfseed.errors import InputDataError

TIES = ("efron", "breslow")
MIN_EXPRESSING = 10  # patients with the gene above its lowest value, for a gene to be ranked


def _tie_weights(r, m, ties):
    """Per event time, the sums over its tied events l = 0..m-1 of 1/c0, s/c0, 1/c0^2, s/c0^2 and
    s^2/c0^2, with c0 = r - l (Efron) or r (Breslow) and s = l/m (0 for Breslow)."""
    group = np.repeat(np.arange(len(m)), m)
    before = np.arange(len(group)) - np.repeat(np.cumsum(m) - m, m)  # l: tied events before
    share = before / m[group] if ties == "efron" else np.zeros(len(group))
    c0 = r[group] - before if ties == "efron" else r[group].astype(float)
    terms = (1 / c0, share / c0, 1 / c0**2, share / c0**2, share**2 / c0**2)
    return [np.bincount(group, weights=t, minlength=len(m)) for t in terms]


def score_test(time, event, expression, *, ties="efron", chunk=256):
    """Cause-specific Cox score test at beta = 0 of each column of `expression` (patients x genes),
    for event == 1 (event 2, competing, and 0 are censored).

    Returns DataFrame[score, information, z, p] indexed by gene: U(0) and I(0) per SD of the gene
    (sample SD, ddof=1), z = U / sqrt(I) and its two-sided normal p. A gene constant across the
    patients at risk at the first event time (so in every risk set) has I = 0 and gets NaN."""
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, not {ties!r}")
    time = np.asarray(time, dtype=float)
    status = np.asarray(event) == EVENT
    frame = pd.DataFrame(expression)
    values = frame.to_numpy(dtype=float)
    if values.shape[0] != len(time):
        raise InputDataError(
            "expression and outcome differ in length",
            found=f"{values.shape[0]} expression rows for {len(time)} patients",
            expected="one expression row per patient",
        )
    if not np.isfinite(values).all():
        raise InputDataError(
            "expression has missing or infinite values",
            expected="finite values (ingest imputes missing values)",
        )
    score, information = np.full(values.shape[1], np.nan), np.full(values.shape[1], np.nan)
    if status.any():
        order = np.argsort(time, kind="stable")  # patients by time; rows of each chunk below
        time, status = time[order], status[order]
        failure_time, m = np.unique(time[status], return_counts=True)
        first = np.searchsorted(time, failure_time, side="left")  # first patient at risk
        a, b, c, e, f = _tie_weights(len(time) - first, m, ties)
        event_start = np.r_[0, np.cumsum(m)[:-1]]
        for start in range(0, values.shape[1], chunk):
            x = values[order, start : start + chunk]
            # every risk set is within the first one: a gene constant there has no information
            at_risk = x[first[0] :]
            varies = at_risk.max(axis=0) > at_risk.min(axis=0)
            x = (x - x.mean(axis=0)) / np.where(varies, x.std(axis=0, ddof=1), 1.0)
            sums = []
            for power in (x, x**2):  # risk-set sums: blocks between event times, summed backwards
                blocks = np.add.reduceat(power[first[0] :], first - first[0], axis=0)
                sums.append(np.cumsum(blocks[::-1], axis=0)[::-1])
                sums.append(np.add.reduceat(power[status], event_start, axis=0))
            r1, d1, r2, d2 = sums
            u = (1 + b) @ d1 - a @ r1
            i = a @ r2 - b @ d2 - c @ r1**2 + 2 * e @ (r1 * d1) - f @ d1**2
            score[start : start + chunk] = np.where(varies, u, np.nan)
            information[start : start + chunk] = np.where(varies, i, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = score / np.sqrt(information)
    return pd.DataFrame(
        {"score": score, "information": information, "z": z, "p": 2 * norm.sf(np.abs(z))},
        index=pd.Index(frame.columns, name="gene"),
    )


def cohort_ranking(adata, *, ties="efron", min_expressing=MIN_EXPRESSING):
    """Genome-wide score-test z of one cohort AnnData (obs: time_months, event; X: samples x genes)
    for its primary endpoint coding (samples without one are left out).

    A gene is ranked when at least `min_expressing` of these patients have it above its lowest
    value: a gene at its floor (e.g. 0) in all but a few patients has a score test that rests on
    those few (on the shipped TCGA cohorts, genes above their floor in at most 3 patients had z with
    SD 1.6-2.2 and up to 8.8, against 1.1 for the other genes of TCGA-UCS).

    Returns DataFrame[gene, cohort, n, events, expressing, score, information, z, p, note]; the
    note says why a gene has no z."""
    obs = coded_samples(adata.obs)
    values = np.asarray(adata.X)
    if len(obs) < adata.n_obs:  # otherwise no copy of the matrix
        values = values[adata.obs_names.get_indexer(obs.index)]
    expressing = (values > values.min(axis=0)).sum(axis=0)
    ranked = expressing >= min_expressing
    expression = pd.DataFrame(values, columns=adata.var_names, copy=False)
    table = score_test(obs["time_months"], obs["event"], expression, ties=ties).reset_index()
    table.loc[~ranked, ["score", "information", "z", "p"]] = np.nan
    events = int((obs["event"] == EVENT).sum())
    note = np.select(
        [events == 0, expressing == 0, ~ranked, table["z"].isna()],
        [
            "no z: no events of interest",
            "no z: gene constant across the patients",
            f"not ranked: above its lowest value in fewer than {min_expressing} patients",
            "no z: gene constant across the patients at risk",
        ],
        "",
    )
    table.insert(1, "cohort", adata.uns["cohort"])
    table.insert(2, "n", len(obs))
    table.insert(3, "events", events)
    table.insert(4, "expressing", expressing)
    return table.assign(note=note)


def stouffer(rankings):
    """Weighted Stouffer combination of per-cohort z (rows of `cohort_ranking`, concatenated):
    z = sum_k w_k z_k / sqrt(sum_k w_k^2) with w_k = sqrt(events_k), over the cohorts that have a z
    for the gene. For a common small effect beta per SD, z_k ~ beta sqrt(I_k) with I_k about the
    cohort's events, so these weights make the combined z the inverse-variance (fixed-effect) one.

    Returns DataFrame[gene, z, p, cohorts, events] sorted by decreasing z (then gene)."""
    used = rankings[rankings["z"].notna()]
    weight = np.sqrt(used["events"].astype(float))
    grouped = used.assign(wz=weight * used["z"], w2=weight**2).groupby("gene")
    combined = pd.DataFrame(
        {
            "z": grouped["wz"].sum() / np.sqrt(grouped["w2"].sum()),
            "cohorts": grouped["cohort"].agg(",".join),
            "events": grouped["events"].sum(),
        }
    )
    combined.insert(1, "p", 2 * norm.sf(combined["z"].abs()))
    combined = combined.reset_index()
    return combined.sort_values(["z", "gene"], ascending=[False, True], ignore_index=True)
