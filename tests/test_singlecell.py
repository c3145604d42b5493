"""Chunked, backed score_genes equals scanpy.tl.score_genes on the whole matrix.

Same control genes, so the same scores: to 1e-12 on float64 matrices; on float32 sparse matrices
scanpy's per-cell sums (scipy's sparse sum) accumulate in float32, so there the tolerance is 1e-6
(float32 precision of the data itself).
"""

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from selfseed.singlecell import score_genes_chunked

SELF_SEEDING = {
    "attractor": ["IL6", "CXCL8"],
    "invasion": ["MMP1", "FSCN1", "CXCL1"],
    "self_seeding": ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"],
}


def library_scores(adata, signatures, **kwargs):
    scores = {}
    for name, genes in signatures.items():
        scored = sc.tl.score_genes(adata, genes, copy=True, score_name="s", **kwargs)
        scores[name] = scored.obs["s"]
    return pd.DataFrame(scores)


def test_equals_score_genes_on_real_pbmc(tmp_path):
    """scanpy's bundled PBMC data (68k subset, 700 cells, log-normalised raw counts)."""
    raw = sc.datasets.pbmc68k_reduced().raw.to_adata()
    raw.X = sp.csr_matrix(raw.X, dtype=np.float64)
    rng = np.random.default_rng(0)
    signatures = {
        "markers": ["CD3D", "CD79A", "LYZ", "NKG7"],
        **{f"random_{k}": list(rng.choice(raw.var_names, k, replace=False)) for k in (2, 10, 40)},
    }
    path = tmp_path / "pbmc.h5ad"
    raw.write_h5ad(path)
    expected = library_scores(raw, signatures, ctrl_size=50, n_bins=25, random_state=0)
    for chunk in (64, 700):
        got = score_genes_chunked(path, signatures, chunk_cells=chunk)
        np.testing.assert_allclose(got, expected.loc[got.index], rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    """Sparse log1p counts, 5,000 cells x 3,000 genes (real symbols), with the signature genes."""
    rng = np.random.default_rng(1)
    genes = pd.read_parquet(
        __import__("selfseed.genes", fromlist=["GENE_TABLE"]).GENE_TABLE, columns=["symbol"]
    )["symbol"].drop_duplicates()
    names = list(dict.fromkeys([*sum(SELF_SEEDING.values(), []), *genes.iloc[:3000]]))[:3000]
    rates = rng.lognormal(-1.5, 1.5, size=len(names))
    x = sp.random(5000, len(names), density=0.08, random_state=2, format="csr", dtype=np.float32)
    x.data = np.log1p(rng.poisson(rates[x.indices] * 5) + 1).astype(np.float32)
    adata = ad.AnnData(
        x, obs=pd.DataFrame(index=[f"c{i}" for i in range(5000)]), var=pd.DataFrame(index=names)
    )
    path = tmp_path_factory.mktemp("counts") / "counts.h5ad"
    adata.write_h5ad(path)
    return adata, path


@pytest.mark.parametrize("chunk", [333, 5000])
@pytest.mark.parametrize("random_state", [0, 7])
def test_equals_score_genes_on_sparse_counts(counts, chunk, random_state, tmp_path):
    adata, path = counts
    kwargs = {"ctrl_size": 30, "n_bins": 20, "random_state": random_state}
    got = score_genes_chunked(path, SELF_SEEDING, chunk_cells=chunk, **kwargs)
    expected = library_scores(adata, SELF_SEEDING, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    exact = adata.copy()
    exact.X = exact.X.astype(np.float64)
    exact.write_h5ad(tmp_path / "float64.h5ad")
    got = score_genes_chunked(tmp_path / "float64.h5ad", SELF_SEEDING, chunk_cells=chunk, **kwargs)
    np.testing.assert_allclose(got, library_scores(exact, SELF_SEEDING, **kwargs), atol=1e-12)


def test_absent_signature_is_an_error(counts):
    _, path = counts
    with pytest.raises(Exception, match="no gene of the signature"):
        score_genes_chunked(path, {"none": ["NOT_A_GENE"]})
