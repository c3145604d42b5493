"""Per-sample signature scores: zmean, scanpy score_genes and gseapy single-sample GSEA."""

import numpy as np
import pandas as pd

from selfseed.signatures import gene_coverage, signature_genes, signature_status

METHODS = ("zmean", "score_genes", "ssgsea")


def zmean(expression, genes):
    """Mean over genes of within-cohort z-scores (sample SD, ddof=1); expression is samples x genes."""
    values = expression[genes]
    z = (values - values.mean()) / values.std(ddof=1)
    return z.mean(axis=1)


def score_genes(adata, genes, *, ctrl_size, n_bins, random_state):
    """scanpy.tl.score_genes: mean of the genes minus the mean of expression-matched control genes."""
    import scanpy as sc

    scored = sc.tl.score_genes(
        adata,
        genes,
        ctrl_size=ctrl_size,
        n_bins=n_bins,
        random_state=random_state,
        score_name="_score",
        copy=True,
    )
    return scored.obs["_score"].astype(float)


def ssgsea(expression, gene_sets, *, weight):
    """gseapy single-sample GSEA enrichment scores (ES), samples x gene sets.

    Genes are ranked within each sample (sample_norm_method='rank') and the raw ES is used, not
    gseapy's NES, which is rescaled by the range over all samples: so a sample's score does not depend
    on the other samples. min_size=1 lets 2-gene sets through (min_genes is enforced before).
    """
    import gseapy

    result = gseapy.ssgsea(
        data=expression.T,
        gene_sets=gene_sets,
        sample_norm_method="rank",
        correl_norm_type="rank",
        weight=weight,
        min_size=1,
        max_size=max(len(g) for g in gene_sets.values()),
        permutation_num=0,
        outdir=None,
        no_plot=True,
        threads=1,
        seed=0,
        verbose=False,
    )
    table = result.res2d.pivot(index="Name", columns="Term", values="ES").astype(float)
    return table.reindex(index=expression.index, columns=list(gene_sets))


def score_cohort(adata, signatures, *, methods, min_genes, ctrl_size, n_bins, random_state, weight):
    """Return (scores long DataFrame[sample_id, signature, method, score], coverage, status)."""
    expression = adata.to_df()
    constant = expression.columns[expression.std(ddof=1).fillna(0).to_numpy() == 0]
    coverage = gene_coverage(signature_genes(signatures), adata.var_names, constant)
    status = signature_status(coverage, min_genes)
    scored = status.loc[status["scored"], "signature"]
    present = {
        name: coverage.loc[(coverage["signature"] == name) & coverage["present"], "symbol"].tolist()
        for name in scored
    }
    columns = {}
    for name, genes in present.items():
        if "zmean" in methods:
            columns[(name, "zmean")] = zmean(expression, genes)
        if "score_genes" in methods:
            columns[(name, "score_genes")] = score_genes(
                adata, genes, ctrl_size=ctrl_size, n_bins=n_bins, random_state=random_state
            )
    if "ssgsea" in methods and present:
        enrichment = ssgsea(expression, present, weight=weight)
        for name in present:
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
    """samples x 'signature:method' columns from the long scores table."""
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot(index="sample_id", columns=["signature", "method"], values="score")
    wide.columns = [f"{s}:{m}" for s, m in wide.columns]
    return wide.astype(np.float64)
