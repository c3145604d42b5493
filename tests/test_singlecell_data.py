"""The shipped single-cell reference (src/selfseed/data/singlecell): rebuilt byte for byte from
../shared/data, and the source's counts, genes, cells and cell-type labels unchanged."""

import json
import subprocess
import sys
import warnings

import anndata as ad
import numpy as np
import pytest
import rdata
import scipy.sparse as sp

from conftest import REPO

SHIPPED = REPO / "src" / "selfseed" / "data" / "singlecell"
H5AD = SHIPPED / "wu2021_CID4465.h5ad"
LABELS = ["celltype_major", "celltype_minor", "celltype_subset"]


@pytest.fixture(scope="module")
def source(shared_data):
    """The SingleCellExperiment as rdata reads it: counts genes x cells, genes, cells, colData."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        (sce,) = rdata.read_rda(shared_data / "singlecell" / "wu2021_CID4465.RData").values()
    counts = sce.assays.data.listData["counts"]
    matrix = sp.csc_matrix((counts.x, counts.i, counts.p), shape=tuple(counts.Dim))
    genes = sce.rowRanges.partitioning.NAMES.astype(str)
    return matrix, genes, sce.colData.rownames.astype(str), sce.colData.listData


@pytest.fixture(scope="module")
def shipped():
    return ad.read_h5ad(H5AD)


def test_rebuild_gives_the_shipped_bytes(shared_data, tmp_path):
    build = REPO / "tools" / "build_singlecell_data.py"
    subprocess.run(
        [sys.executable, build, "--shared", shared_data, "--out", tmp_path],
        check=True,
        capture_output=True,
    )
    shipped = sorted(p.name for p in SHIPPED.iterdir())
    assert shipped == ["README.md", "manifest.json", "wu2021_CID4465.h5ad"]
    assert sorted(p.name for p in tmp_path.iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), name


def test_manifest_records_input_and_output(shared_data):
    import hashlib

    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    digest = hashlib.sha256
    source = (shared_data / manifest["input"]["path"]).read_bytes()
    assert manifest["input"]["sha256"] == digest(source).hexdigest()
    assert manifest["output"]["sha256"] == digest(H5AD.read_bytes()).hexdigest()
    assert manifest["output"]["shape"] == [1564, 29733]
    assert manifest["input"]["source"]["repository"] == "omnideconv/spacedeconv"


def test_shipped_data_stays_small():
    assert sum(p.stat().st_size for p in SHIPPED.iterdir()) < 3e6


def test_counts_are_the_sources(source, shipped):
    matrix, genes, cells, _ = source
    assert list(shipped.var_names) == list(genes)
    assert list(shipped.obs_names) == list(cells)
    assert sp.isspmatrix_csr(shipped.X)
    assert shipped.X.dtype == np.int32
    rng = np.random.default_rng(0)
    picked_genes = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1", *rng.choice(genes, 20)]
    columns = [list(genes).index(g) for g in picked_genes]
    picked_cells = rng.choice(len(cells), 200, replace=False)
    expected = matrix[columns][:, picked_cells].T.toarray()
    got = shipped[picked_cells, picked_genes].X.toarray()
    np.testing.assert_array_equal(got, expected)
    assert got.sum() > 0
    # and the whole matrix, with every cell's total equal to the authors' nCount_RNA
    assert (shipped.X != matrix.T.tocsr()).nnz == 0
    np.testing.assert_array_equal(shipped.X.sum(axis=1).A1, source[3]["nCount_RNA"])


def test_cell_types_are_the_authors(source, shipped):
    _, _, _, columns = source
    for label in LABELS:
        assert list(shipped.obs[label].astype(str)) == list(columns[label].astype(str)), label
    counts = shipped.obs["celltype_major"].value_counts()
    assert counts["Cancer Epithelial"] == 124
    assert counts["CAFs"] == 379
    assert len(counts) == 9
