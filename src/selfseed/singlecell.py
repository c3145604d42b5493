"""Signature scores of single-cell data too large for memory: scanpy's score_genes, read in chunks.

`scanpy.tl.score_genes` needs the whole matrix in memory (it refuses backed AnnData) and copies it
while averaging. Its estimator has two steps: (1) control genes drawn, per expression bin of the
signature genes, from genes binned by their mean over all cells; (2) per cell, the mean of the
signature genes minus the mean of the control genes. Here step (1) runs scanpy's own bin-and-draw
code on the gene means accumulated over row chunks of a backed h5ad, with the random state reset
as score_genes resets it, and step (2) is one sparse product per chunk. Memory is one chunk plus
a few gene-length vectors. tests/test_singlecell.py checks the scores equal
`scanpy.tl.score_genes` on the whole matrix; benchmarks/single_cell.py measures 1,000,000 cells.
"""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from selfseed.errors import InputDataError


def gene_means(matrix, n_cells, chunk_cells):
    """Mean of every gene over all cells, summed chunk by chunk in float64 (as scanpy does)."""
    total = np.zeros(matrix.shape[1])
    for start in range(0, n_cells, chunk_cells):
        chunk = matrix[start : start + chunk_cells]
        values = chunk.data if sp.issparse(chunk) else chunk
        if not np.isfinite(values).all():
            raise ValueError("missing or infinite values: score_genes_chunked needs finite data")
        total += np.asarray(chunk.sum(axis=0, dtype=np.float64)).ravel()
    return total / n_cells


def control_genes(means, var_names, genes, *, ctrl_size, n_bins, random_state):
    """scanpy's control genes for `genes`: its own binning and draw (`_score_genes_bins`), fed the
    gene means of the whole matrix."""
    from scanpy.tools._score_genes import _score_genes_bins

    row = means[None, :]
    np.random.seed(random_state)  # as score_genes does before drawing
    pool = pd.Index(var_names, dtype="string")
    chosen = pd.Index([], dtype="string")
    for drawn in _score_genes_bins(
        pd.Index(genes),
        pool,
        ctrl_as_ref=True,
        ctrl_size=ctrl_size,
        n_bins=n_bins,
        get_subset=lambda subset: row[:, pool.get_indexer(subset)],
    ):
        chosen = chosen.union(drawn)
    return list(chosen)


def score_genes_chunked(
    path, signatures, *, ctrl_size=50, n_bins=25, random_state=0, chunk_cells=100_000
):
    """score_genes of each signature for every cell of the h5ad at `path`, read backed.

    signatures: {name: [gene symbols]} (genes absent from var_names are left out, as score_genes
    does). Returns a DataFrame cells x signatures (float64) indexed by obs_names.
    """
    import anndata as ad

    adata = ad.read_h5ad(path, backed="r")
    try:
        var_names = pd.Index(adata.var_names)
        n_cells = adata.n_obs
        means = gene_means(adata.X, n_cells, chunk_cells)
        columns, weights, names = [], [], []
        for k, (name, genes) in enumerate(signatures.items()):
            present = [g for g in dict.fromkeys(genes) if g in var_names]
            if not present:
                raise InputDataError(
                    "no gene of the signature is in the data", file=path, column=name,
                    found=f"{list(genes)[:5]}", expected="gene symbols present in var_names",
                )  # fmt: skip
            control = control_genes(
                means, var_names, present, ctrl_size=ctrl_size, n_bins=n_bins,
                random_state=random_state,
            )  # fmt: skip
            for sign, members in ((1.0, present), (-1.0, control)):
                idx = var_names.get_indexer(members)
                columns.append(idx)
                weights.append(np.full(len(idx), sign / len(idx)))
                names.append(np.full(len(idx), k))
        # signature k = (sum over its genes)/k_genes - (sum over controls)/n_controls
        design = sp.csr_matrix(
            (np.concatenate(weights), (np.concatenate(columns), np.concatenate(names))),
            shape=(len(var_names), len(signatures)),
        )
        scores = np.empty((n_cells, len(signatures)))
        for start in range(0, n_cells, chunk_cells):
            chunk = adata.X[start : start + chunk_cells]
            product = chunk @ design
            product = product.toarray() if sp.issparse(product) else product
            scores[start : start + chunk.shape[0]] = product
        return pd.DataFrame(scores, index=pd.Index(adata.obs_names), columns=list(signatures))
    finally:
        adata.file.close()
