"""Chunked, backed score_genes equals scanpy.tl.score_genes on the whole matrix; the summaries of a
single-cell reference (shipped Wu et al. 2021 sample) equal R and scanpy in memory; bad references
give clear errors.

Same control genes, so the same scores: to 1e-12 on float64 matrices; on float32 sparse matrices
scanpy's per-cell sums (scipy's sparse sum) accumulate in float32, so there the tolerance is 1e-6
(float32 precision of the data itself).
"""

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc
import scipy.sparse as sp

from selfseed import singlecell
from selfseed.errors import ConfigError, InputDataError
from selfseed.genes import GENE_TABLE
from selfseed.singlecell import (
    MARKERS,
    cell_type_summary,
    compartment_shares,
    dominance_sentences,
    expression_dotplot,
    marker_genes,
    marker_rule,
    open_reference,
    score_genes_chunked,
    score_violins,
)

REFERENCE = Path(__file__).resolve().parent / "reference"

SELF_SEEDING = {
    "attractor": ["IL6", "CXCL8"],
    "invasion": ["MMP1", "FSCN1", "CXCL1"],
    "self_seeding": ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"],
}
SCORING = {"ctrl_size": 50, "n_bins": 25, "random_state": 0}  # the config defaults


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
    genes = pd.read_parquet(GENE_TABLE, columns=["symbol"])["symbol"].drop_duplicates()
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


# --- single-cell references: the shipped Wu et al. 2021 sample and bad references ---------------

WU = Path(__file__).resolve().parents[1] / "src/selfseed/data/singlecell/wu2021_CID4465.h5ad"
LEVELS = ["celltype_major", "celltype_minor"]
MALIGNANT = "Cancer Epithelial"


@pytest.fixture(scope="module")
def wu():
    return open_reference(WU, LEVELS, name="wu2021_CID4465")


@pytest.fixture(scope="module")
def wu_summary(wu):
    return cell_type_summary(wu, SELF_SEEDING, chunk_cells=500, **SCORING)


@pytest.fixture(scope="module")
def in_memory(wu):
    """The reference normalised in memory by scanpy (normalize_total 1e4, log1p, float64), on the
    genes the reference uses, named by their symbols."""
    adata = ad.read_h5ad(WU)
    counts = adata.X.astype(np.float64)
    adata.X = counts.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    columns = wu.genes["column"].to_numpy()
    normalised = ad.AnnData(
        adata.X[:, columns], obs=adata.obs, var=pd.DataFrame(index=wu.genes["name"].to_numpy())
    )
    normalised.layers["counts"] = counts[:, columns]
    return normalised


def test_wu_summary_equals_r(wu_summary):
    """Means of log1p(CP10k), fractions expressing, cells, UMIs and median UMIs per cell type
    equal R's (tests/reference/singlecell_summary.R, reading the RData itself) to 1e-9."""
    expected = pd.read_csv(REFERENCE / "singlecell_summary.tsv", sep="\t")
    got = wu_summary.expression.merge(
        wu_summary.cell_types[["level", "cell_type", "median_umis"]], on=["level", "cell_type"]
    )
    merged = expected.merge(got, on=["level", "cell_type", "gene"], suffixes=("_r", ""))
    assert len(merged) == len(expected) == len(got) == 5 * (9 + 25)
    for column in ("n_cells", "mean_log1p_cp10k", "fraction_expressing", "umis", "median_umis"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_r"], rtol=0, atol=1e-9)
    assert (merged["mean_log1p_cp10k"] > 0).sum() > 50


def test_wu_highest_cell_types(wu_summary):
    major = wu_summary.highest[wu_summary.highest["level"] == "celltype_major"].set_index("gene")
    assert major["cell_type"].to_dict() == {
        "IL6": "Endothelial",
        "CXCL8": "Myeloid",
        "MMP1": "CAFs",
        "FSCN1": "Endothelial",
        "CXCL1": "Normal Epithelial",
    }
    assert major.loc["CXCL1", "n_cells"] == 10  # the few cells behind it are reported


@pytest.mark.parametrize("chunk", [97, 5000])
def test_chunked_equals_in_memory(wu, in_memory, chunk):
    summary = cell_type_summary(wu, SELF_SEEDING, chunk_cells=chunk, **SCORING)
    # per cell type, from the in-memory matrix
    for level in LEVELS:
        for gene in ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]:
            frame = pd.DataFrame(
                {
                    "type": in_memory.obs[level],
                    "value": in_memory[:, gene].X.toarray().ravel(),
                    "expressed": in_memory[:, gene].layers["counts"].toarray().ravel() > 0,
                }
            )
            expected = frame.groupby("type", observed=True).mean()
            rows = summary.expression.query("level == @level and gene == @gene")
            rows = rows.set_index("cell_type").loc[expected.index]
            for ours, theirs in (
                ("mean_log1p_cp10k", "value"),
                ("fraction_expressing", "expressed"),
            ):
                np.testing.assert_allclose(rows[ours], expected[theirs], rtol=0, atol=1e-12)
    # scores: scanpy's score_genes on the in-memory normalised matrix
    expected = library_scores(in_memory, SELF_SEEDING, ctrl_size=50, n_bins=25, random_state=0)
    np.testing.assert_allclose(summary.scores[list(SELF_SEEDING)], expected, rtol=0, atol=1e-12)
    assert summary.scores[list(SELF_SEEDING)].std().min() > 0.05
    # and their distribution by cell type
    stats = expected.groupby(in_memory.obs["celltype_major"], observed=True).describe()
    rows = summary.distribution.query("level == 'celltype_major' and signature == 'invasion'")
    rows = rows.set_index("cell_type")
    for ours, theirs in (("n", "count"), ("q25", "25%"), ("median", "50%"), ("q75", "75%")):
        np.testing.assert_allclose(rows[ours], stats[("invasion", theirs)][rows.index], atol=1e-12)


def test_many_signature_genes_and_cell_types(wu, in_memory):
    """25 minor cell types x 12 genes: the flat (cell type, gene) index passes the int8 range of
    the cell-type codes (it overflowed, and the reference job failed, with a 3-gene signature
    added to the five)."""
    genes = list(in_memory.var_names[in_memory.X.getnnz(axis=0) > 100][:12])
    summary = cell_type_summary(wu, {**SELF_SEEDING, "many": genes}, chunk_cells=500, **SCORING)
    frame = pd.DataFrame(in_memory[:, genes].X.toarray(), columns=genes)
    expected = frame.groupby(in_memory.obs["celltype_minor"].to_numpy(), observed=True).mean()
    rows = summary.expression.query("level == 'celltype_minor'")
    got = rows.pivot(index="cell_type", columns="gene", values="mean_log1p_cp10k")
    assert len(expected) == 25
    np.testing.assert_allclose(got.loc[expected.index, genes], expected, rtol=0, atol=1e-12)


def test_summary_reads_a_counts_layer_and_ensembl_ids(wu, wu_summary, tmp_path):
    """The same counts in a layer (X holding log-normalised values), genes as Ensembl ids: the same
    summary after lookup_symbols maps the ids back."""
    import pyarrow.parquet as pq

    table = pq.read_table(GENE_TABLE, columns=["identifier", "kind", "symbol"]).to_pandas()
    ensembl = table[table["kind"] == "ensembl"].drop_duplicates("symbol", keep=False)
    ensembl = ensembl.set_index("symbol")["identifier"]
    adata = ad.read_h5ad(WU)
    adata.var_names = [ensembl.get(g, g) for g in adata.var_names]
    assert adata.var_names.str.startswith("ENSG").mean() > 0.5
    adata.layers["counts"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    adata.write_h5ad(tmp_path / "ensembl.h5ad")
    reference = open_reference(tmp_path / "ensembl.h5ad", LEVELS, counts="counts")
    summary = cell_type_summary(reference, SELF_SEEDING, **SCORING)
    pd.testing.assert_frame_equal(summary.expression, wu_summary.expression, atol=1e-12)
    assert set(reference.genes["name"]) >= {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"}


def test_shares_and_sentences(wu_summary):
    """A cell type's share of a signature is the mean over its genes of the type's share of the
    gene's UMIs (R's UMIs); the sentence names the leader and the malignant cells' share."""
    shares = compartment_shares(wu_summary, SELF_SEEDING)
    np.testing.assert_allclose(shares.groupby("signature")["share"].sum(), 1, atol=1e-12)
    r = pd.read_csv(REFERENCE / "singlecell_summary.tsv", sep="\t").query(
        "level == 'celltype_major'"
    )
    umis = r.pivot(index="cell_type", columns="gene", values="umis")
    expected = (umis[["MMP1", "FSCN1", "CXCL1"]] / umis[["MMP1", "FSCN1", "CXCL1"]].sum()).mean(
        axis=1
    )
    invasion = shares[shares["signature"] == "invasion"].set_index("cell_type")["share"]
    np.testing.assert_allclose(invasion[expected.index], expected, atol=1e-12)
    sentences = dominance_sentences(shares, reference="wu", malignant=MALIGNANT)
    assert sentences["invasion"].startswith(
        "In wu, the invasion signature (MMP1, FSCN1, CXCL1) is dominated by CAFs: 52% "
    )
    assert "no dominant compartment; most comes from Endothelial" in sentences["self_seeding"]
    assert (
        "The malignant cells (Cancer Epithelial) are 124 of 1,564 cells (7.9%)"
        in sentences["invasion"]
    )
    with pytest.raises(ConfigError, match="malignant cell type is not a label"):
        dominance_sentences(shares, reference="wu", malignant="Tumour")


def test_markers_follow_the_rule_and_equal_scanpy(wu, in_memory):
    exclude = sum(SELF_SEEDING.values(), [])
    markers, left_out = marker_genes(wu, exclude=exclude)
    assert left_out == []
    assert set(markers["cell_type"]) == set(wu.labels["celltype_major"].cat.categories)
    assert markers.groupby("cell_type").size().max() == MARKERS["set_size"]
    assert not markers["gene"].isin(exclude).any()
    assert not markers["gene"].str.match(r"MT-|RP[LS]\d").any()
    assert (markers["pval_adj"] < 0.05).all()
    assert (markers["logfoldchange"] >= 1).all()
    assert (markers["pct_in"] >= 0.25).all()
    assert (markers["pct_out"] <= 0.5).all()
    assert {"LUM", "DCN", "COL1A1"} <= set(markers.query("cell_type == 'CAFs'")["gene"])
    assert {"CD3D", "TRAC"} <= set(markers.query("cell_type == 'T-cells'")["gene"])
    # every type is under cells_per_type, so all cells are tested: scanpy on the whole matrix
    sc.tl.rank_genes_groups(in_memory, "celltype_major", method="t-test", pts=True, use_raw=False)
    full = sc.get.rank_genes_groups_df(in_memory, None).set_index(["group", "names"])
    expected = full.loc[list(zip(markers["cell_type"], markers["gene"], strict=True))]
    np.testing.assert_allclose(markers["score"], expected["scores"], rtol=1e-9)
    np.testing.assert_allclose(markers["pval_adj"], expected["pvals_adj"], rtol=1e-9)
    assert (
        markers["n_cells"] == markers["cell_type"].map(wu.labels["celltype_major"].value_counts())
    ).all()


def test_marker_rule_names_the_exclusions():
    text = marker_rule(["IL6", "CXCL8", "IL6"], set_size=10)
    assert "is not a signature gene (IL6, CXCL8); each set is the 10 such genes" in text
    assert "at most 1,000 cells per type (drawn with seed 0)" in text


def test_markers_on_a_seeded_sample(wu):
    """Cell types larger than cells_per_type are sampled (seeded); smaller than min_cells left out."""
    markers, left_out = marker_genes(wu, cells_per_type=100, min_cells=50)
    again, _ = marker_genes(wu, cells_per_type=100, min_cells=50)
    pd.testing.assert_frame_equal(markers, again)
    assert left_out == ["B-cells", "Normal Epithelial"]
    tested = markers.drop_duplicates("cell_type").set_index("cell_type")["n_cells"]
    assert tested.to_dict() == {t: 100 for t in tested.index}
    other, _ = marker_genes(wu, cells_per_type=100, min_cells=50, seed=1)
    assert not np.allclose(other["score"].head(5), markers["score"].head(5))


@pytest.mark.usefixtures("svg_copies_on")
def test_figures(wu_summary, tmp_path):
    for run in ("a", "b"):
        expression_dotplot(
            wu_summary, SELF_SEEDING, tmp_path / run / "dotplot.png", malignant=MALIGNANT
        )
        score_violins(wu_summary, tmp_path / run / "violins.png", malignant=MALIGNANT)
    for name in ("dotplot.png", "dotplot.svg", "violins.png", "violins.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    svg = (tmp_path / "a" / "dotplot.svg").read_text()
    # cells and depth stay visible; the malignant row is named
    assert "Cancer Epithelial  n=124, 1,846 UMIs/cell  [malignant]" in svg
    assert "Normal Epithelial  n=10, 2,164 UMIs/cell, few cells" in svg
    assert "Cancer Epithelial  n=124" in (tmp_path / "a" / "violins.svg").read_text()


@pytest.mark.usefixtures("svg_copies_on")
def test_figure_text_is_not_mathtext(wu, tmp_path):
    adata = ad.read_h5ad(WU)
    adata.obs["dollars"] = adata.obs["celltype_major"].cat.rename_categories(lambda c: f"$x_{c}$")
    adata.write_h5ad(tmp_path / "dollars.h5ad")
    reference = open_reference(tmp_path / "dollars.h5ad", "dollars", name="$ref$")
    summary = cell_type_summary(reference, {"attractor": ["IL6", "CXCL8"]}, **SCORING)
    expression_dotplot(summary, {"attractor": ["IL6", "CXCL8"]}, tmp_path / "d.png")
    score_violins(summary, tmp_path / "v.png")
    assert "$x_CAFs$  n=379" in (tmp_path / "d.svg").read_text()
    assert "$ref$: score_genes" in (tmp_path / "v.svg").read_text()


# bad references: each gives an InputDataError that says what was found and what to do


def small_reference(tmp_path, x=None, **changes):
    """The first 300 Wu cells (all 29,733 genes), with X / obs / var changed as asked."""
    adata = ad.read_h5ad(WU)[:300].copy()
    if x is not None:
        adata.X = x(adata.X)
    for key, value in changes.items():
        setattr(adata, key, value)
    path = tmp_path / "bad.h5ad"
    adata.write_h5ad(path)
    return path, adata


def test_missing_cell_type_column_names_the_columns(tmp_path):
    path, _ = small_reference(tmp_path)
    with pytest.raises(InputDataError, match="cell-type column is not in the reference") as error:
        open_reference(path, ["celltype_major", "cell_type"])
    assert "obs columns: celltype_major, celltype_minor, celltype_subset" in str(error.value)
    assert "column 'cell_type'" in str(error.value)


def test_logged_values_where_counts_are_expected(tmp_path):
    path, adata = small_reference(tmp_path, x=lambda x: x.astype(np.float32))
    adata.layers["raw"] = adata.X.copy()
    sc.pp.normalize_total(adata, target_sum=1e4)
    sc.pp.log1p(adata)
    adata.write_h5ad(path)
    with pytest.raises(
        InputDataError, match="not whole numbers: they look log-transformed"
    ) as error:
        open_reference(path, "celltype_major")
    assert "set counts to the layer with raw counts (layers: raw)" in str(error.value)
    assert open_reference(path, "celltype_major", counts="raw").counts == "raw"
    with pytest.raises(InputDataError, match="counts 'counts' are not in the reference") as error:
        open_reference(path, "celltype_major", counts="counts")
    assert "layers: raw" in str(error.value)


def test_normalised_whole_numbers_and_scaled_values(tmp_path):
    def cp10k_rounded(x):
        x = sp.csr_matrix(x, dtype=np.float64)
        x = sp.csr_matrix(sp.diags(1e4 / x.sum(axis=1).A1) @ x)
        x.data = np.round(x.data)
        return x

    path, _ = small_reference(tmp_path, x=cp10k_rounded)
    with pytest.raises(
        InputDataError, match="every cell has about the same total count and few cells"
    ) as error:
        open_reference(path, "celltype_major")
    assert "cell totals 95" in str(error.value)

    # raw counts downsampled to equal depth still have genes counted once: accepted
    adata = ad.read_h5ad(WU)
    adata = adata[adata.X.sum(axis=1).A1 >= 500].copy()
    sc.pp.downsample_counts(adata, counts_per_cell=500, random_state=0)
    assert np.ptp(adata.X.sum(axis=1).A1) == 0
    adata.write_h5ad(tmp_path / "downsampled.h5ad")
    assert len(open_reference(tmp_path / "downsampled.h5ad", "celltype_major").labels) == len(adata)

    def scaled(x):
        dense = x.toarray().astype(np.float64)
        return dense - dense.mean(axis=0)

    path, _ = small_reference(tmp_path, x=scaled)
    with pytest.raises(InputDataError, match="negative values: they look scaled"):
        open_reference(path, "celltype_major")


def test_unmappable_gene_ids(tmp_path):
    adata = ad.read_h5ad(WU)[:300].copy()
    adata.var["symbol"] = adata.var_names
    adata.var_names = [f"gene{i}" for i in range(adata.n_vars)]
    adata.write_h5ad(tmp_path / "ids.h5ad")
    with pytest.raises(InputDataError, match="not known human gene identifiers") as error:
        open_reference(tmp_path / "ids.h5ad", "celltype_major")
    assert "1 of 29733 map to a current symbol; unmapped e.g. gene0, gene1" in str(error.value)
    assert "set gene_column to the var column with gene symbols (var columns: symbol)" in str(
        error.value
    )
    reference = open_reference(tmp_path / "ids.h5ad", "celltype_major", gene_column="symbol")
    assert "CXCL8" in set(reference.genes["name"])
    with pytest.raises(InputDataError, match="gene column is not in the reference's var"):
        open_reference(tmp_path / "ids.h5ad", "celltype_major", gene_column="gene_symbols")


def test_too_few_cells_or_cell_types(tmp_path):
    adata = ad.read_h5ad(WU)[:15].copy()
    adata.write_h5ad(tmp_path / "few.h5ad")
    with pytest.raises(InputDataError, match="too few labelled cells") as error:
        open_reference(tmp_path / "few.h5ad", "celltype_major")
    assert "15 labelled cells" in str(error.value)
    adata = ad.read_h5ad(WU)[:300].copy()
    adata.obs["one"] = "tumour"
    adata.write_h5ad(tmp_path / "one.h5ad")
    with pytest.raises(InputDataError, match="in 1 cell types"):
        open_reference(tmp_path / "one.h5ad", "one")


def test_unlabelled_cells_and_empty_cell_types_are_listed(tmp_path):
    adata = ad.read_h5ad(WU)
    labels = adata.obs["celltype_major"].cat.add_categories(["Adipocytes", "  "])
    labels[:40] = np.nan
    labels[40:45] = "  "
    adata.obs["celltype_major"] = labels
    adata.write_h5ad(tmp_path / "gaps.h5ad")
    reference = open_reference(tmp_path / "gaps.h5ad", "celltype_major")
    assert reference.dropped.query("what != 'gene'").to_dict("records") == [
        {
            "what": "cell type",
            "id": "celltype_major: Adipocytes",
            "reason": "a category without cells",
        },
        {
            "what": "cells",
            "id": "45 cells",
            "reason": "no label in celltype_major (missing or blank)",
        },
    ]
    assert (reference.dropped["what"] == "gene").sum() == 42  # ids sharing a current symbol
    summary = cell_type_summary(reference, SELF_SEEDING, **SCORING)
    assert summary.cell_types["n_cells"].sum() == 1564 - 45
    assert summary.scores["celltype_major"].isna().sum() == 45  # scored, in no cell type


def test_dense_counts_give_the_same_summary(tmp_path):
    path, adata = small_reference(tmp_path)
    sparse = cell_type_summary(
        open_reference(path, "celltype_major"), SELF_SEEDING, chunk_cells=64, **SCORING
    )
    adata.X = adata.X.toarray()
    adata.write_h5ad(tmp_path / "dense.h5ad")
    dense = open_reference(tmp_path / "dense.h5ad", "celltype_major")
    dense = cell_type_summary(dense, SELF_SEEDING, chunk_cells=64, **SCORING)
    pd.testing.assert_frame_equal(dense.expression, sparse.expression)
    pd.testing.assert_frame_equal(dense.scores, sparse.scores)


def test_counts_stored_by_column_or_not_h5ad(tmp_path):
    path, _ = small_reference(tmp_path, x=lambda x: sp.csc_matrix(x))
    with pytest.raises(InputDataError, match="not stored row by row") as error:
        open_reference(path, "celltype_major")
    assert "found:    csc_matrix" in str(error.value)
    (tmp_path / "table.h5ad").write_text("gene\tcell1\nIL6\t1\n")
    with pytest.raises(InputDataError, match="not a readable h5ad file"):
        open_reference(tmp_path / "table.h5ad", "celltype_major")


def test_non_counts_after_the_checked_cells_stop_the_summary(tmp_path, monkeypatch):
    def late_fraction(x):
        x = sp.csr_matrix(x, dtype=np.float32)
        x.data[x.indptr[250] :] *= 0.5
        return x

    path, _ = small_reference(tmp_path, x=late_fraction)
    monkeypatch.setattr(singlecell, "CHECK_CELLS", 100)
    reference = open_reference(path, "celltype_major")
    with pytest.raises(InputDataError, match="not whole numbers") as error:
        cell_type_summary(reference, SELF_SEEDING, chunk_cells=100, **SCORING)
    assert "column 'cells 201-300'" in str(error.value)
