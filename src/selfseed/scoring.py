"""Per-sample signature scores: zmean, scanpy score_genes and single-sample GSEA (ssGSEA)."""

import numpy as np
import pandas as pd

from selfseed.signatures import gene_coverage, signature_genes, signature_status

METHODS = ("zmean", "score_genes", "ssgsea")
# ssGSEA ranks the signature genes among all genes of a sample: on a panel of selected genes the
# ranks are among the other selected genes, not the transcriptome, and the score means something else
SSGSEA_MIN_GENES = 1000


def method_unmet(method, n_genes, signature_size, finite, *, ctrl_size, n_bins):
    """Why `method` cannot score a signature of `signature_size` genes in a matrix of `n_genes`
    genes (`finite`: every value is finite), or "" when it can.

    zmean needs only the signature's genes. score_genes and ssGSEA need genome-wide data and
    finite values: score_genes draws `ctrl_size` control genes from each of `n_bins` bins of
    average expression, so it needs n_bins x ctrl_size genes besides the signature's; ssGSEA ranks
    the signature among the other genes of each sample and needs SSGSEA_MIN_GENES genes."""
    if method == "zmean":
        return ""
    if method == "score_genes":
        needed = n_bins * ctrl_size + signature_size
        rule = f"n_bins x ctrl_size = {n_bins} x {ctrl_size} control genes besides the signature's"
    else:
        needed, rule = SSGSEA_MIN_GENES, "genes to rank the signature among"
    if n_genes < needed:
        return (
            f"skipped: {method} needs genome-wide data: at least {needed} genes in the matrix "
            f"({rule}), found {n_genes}"
        )
    if not finite:
        return f"skipped: {method} needs finite expression values"
    return ""


def zmean(expression, genes):
    """Mean over genes of within-cohort z-scores (sample SD, ddof=1); expression is samples x genes."""
    values = expression[genes]
    z = (values - values.mean()) / values.std(ddof=1)
    return z.mean(axis=1)


def score_genes(adata, genes, *, ctrl_size, n_bins, random_state):
    """scanpy.tl.score_genes: mean of the genes minus the mean of expression-matched control genes."""
    import anndata as ad
    import scanpy as sc

    # scored in place on a shell that shares the matrix: copy=True would copy it per signature
    shell = ad.AnnData(
        X=adata.X, obs=pd.DataFrame(index=adata.obs_names), var=pd.DataFrame(index=adata.var_names)
    )
    sc.tl.score_genes(
        shell,
        genes,
        ctrl_size=ctrl_size,
        n_bins=n_bins,
        random_state=random_state,
        score_name="_score",
    )
    return shell.obs["_score"].astype(float)


def ssgsea(expression, gene_sets, *, weight):
    """Single-sample GSEA enrichment scores (Barbie et al. 2009), samples x gene sets, vectorised.

    The estimator of gseapy.ssgsea(sample_norm_method='rank', correl_norm_type='rank') raw ES (not
    its NES, which is rescaled by the range over all samples, so a sample's score would depend on
    the other samples) and of GSVA's ssgsea (ssgsea.norm=FALSE). Genes are ranked within each sample;
    the walk over the N genes sorted by decreasing rank sums (weighted hit CDF - miss CDF), which is

        ES = sum_h w_h q_h / sum_h w_h - (N(N+1)/2 - sum_h q_h) / (N - k)

    over the k hits h, with w_h = rank_h ** weight (average ranks) and q_h = N + 1 - position_h.
    Only the ranks of the signature genes are needed, so this is O(samples x genes x hits) with no
    per-sample sort. Ties are broken as gseapy does (of tied genes, the later column walks first:
    q_h = #lower + #tied in earlier columns + 1). tests/test_ssgsea.py checks it against gseapy and
    GSVA on real cohorts.
    """
    values = np.asarray(expression.to_numpy(), dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("ssgsea needs finite expression values (ingest imputes missing values)")
    n_genes = values.shape[1]
    columns = pd.Index(expression.columns)
    hits = {}
    for gene in dict.fromkeys(g for genes in gene_sets.values() for g in genes):
        j = columns.get_loc(gene)
        value = values[:, [j]]
        lower = (values < value).sum(axis=1)
        tied = (values == value).sum(axis=1)
        tied_before = (values[:, :j] == value).sum(axis=1)
        hits[gene] = ((lower + (tied + 1) / 2) ** weight, lower + tied_before + 1)
    scores = {}
    for name, genes in gene_sets.items():
        w = np.column_stack([hits[g][0] for g in genes])
        q = np.column_stack([hits[g][1] for g in genes]).astype(np.float64)
        misses = n_genes - len(genes)
        scores[name] = (w * q).sum(axis=1) / w.sum(axis=1) - (
            n_genes * (n_genes + 1) / 2 - q.sum(axis=1)
        ) / misses
    return pd.DataFrame(scores, index=expression.index, columns=list(gene_sets))


def method_status(signature_rows, methods, n_genes, finite, *, ctrl_size, n_bins):
    """One row per signature x method: the signature's gene coverage (signature_status), and
    whether the method scores it or why not (its genes, or the method's minimum)."""
    rows = []
    for row in signature_rows.to_dict("records"):
        for method in dict.fromkeys(methods):
            reason = row["reason"] or method_unmet(
                method, n_genes, row["n_present"], finite, ctrl_size=ctrl_size, n_bins=n_bins
            )
            rows.append({**row, "method": method, "scored": not reason, "reason": reason})
    columns = [*signature_rows.columns[:1], "method", *signature_rows.columns[1:]]
    return pd.DataFrame(rows, columns=columns)


def score_cohort(adata, signatures, *, methods, min_genes, ctrl_size, n_bins, random_state, weight):
    """Return (scores long DataFrame[sample_id, signature, method, score], coverage, status: one
    row per signature x method, scored or the reason why not)."""
    values = np.asarray(adata.X)
    expression = pd.DataFrame(values, index=adata.obs_names, columns=adata.var_names, copy=False)
    constant = adata.var_names[values.min(axis=0) == values.max(axis=0)]
    coverage = gene_coverage(signature_genes(signatures), adata.var_names, constant)
    status = method_status(
        signature_status(coverage, min_genes),
        methods,
        adata.n_vars,
        bool(np.isfinite(values).all()),
        ctrl_size=ctrl_size,
        n_bins=n_bins,
    )
    present = {
        name: coverage.loc[(coverage["signature"] == name) & coverage["present"], "symbol"].tolist()
        for name in status.loc[status["scored"], "signature"].unique()
    }

    def scored_by(method):
        chosen = status.loc[status["scored"] & (status["method"] == method), "signature"]
        return {name: present[name] for name in chosen}

    columns = {}
    for name, genes in scored_by("zmean").items():
        columns[(name, "zmean")] = zmean(expression, genes)
    for name, genes in scored_by("score_genes").items():
        columns[(name, "score_genes")] = score_genes(
            adata, genes, ctrl_size=ctrl_size, n_bins=n_bins, random_state=random_state
        )
    if scored_by("ssgsea"):
        enrichment = ssgsea(expression, scored_by("ssgsea"), weight=weight)
        for name in enrichment.columns:
            columns[(name, "ssgsea")] = enrichment[name]
    wide = pd.DataFrame(columns, index=expression.index)
    if wide.empty:
        long = pd.DataFrame(columns=["sample_id", "signature", "method", "score"])
    else:
        wide.columns.names = ["signature", "method"]
        long = wide.stack(["signature", "method"], future_stack=True).rename("score").reset_index()
        long = long.rename(columns={long.columns[0]: "sample_id"})
        long["method"] = pd.Categorical(long["method"], categories=METHODS)
        long = long.sort_values(["signature", "method", "sample_id"]).astype({"method": str})
    return long.reset_index(drop=True), coverage, status


def scores_wide(long):
    """samples x score columns (`contracts.score_column`) from the long scores table."""
    from selfseed.contracts import score_column

    if long.empty:
        return pd.DataFrame()
    wide = long.pivot(index="sample_id", columns=["signature", "method"], values="score")
    wide.columns = [score_column(s, m) for s, m in wide.columns]
    return wide.astype(np.float64)
