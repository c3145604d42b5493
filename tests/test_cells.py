"""Single-cell references in the config (selfseed.cells, config.check_singlecell): bad references
stop before any job with a message naming the key; the reference job's tables and figures; the
"Which cells" page keeps every text as text."""

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scanpy as sc

from selfseed.cells import analyse_reference, reference_path
from selfseed.composition import not_run_table
from selfseed.config import check_singlecell
from selfseed.contracts import REFERENCE_PLOTS, REFERENCE_TABLES, svg_copies
from selfseed.errors import ConfigError, InputDataError
from selfseed.genes import GENE_TABLE

WU = Path(reference_path({"path": "shipped"}))
SIGNATURES = {
    "attractor": ["IL6", "IL8"],  # an alias: the job maps it to CXCL8
    "invasion": ["MMP1", "FSCN1", "CXCL1"],
    "self_seeding": ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"],
    "absent": ["NOT_A_GENE1", "NOT_A_GENE2"],
}


def entry(**changes):
    """The default config's reference entry (the schema's defaults filled), changed as asked."""
    base = {
        "path": "shipped",
        "description": "",
        "cell_type_columns": ["celltype_major", "celltype_minor"],
        "marker_level": "celltype_major",
        "counts": "X",
        "gene_column": None,
        "malignant": "Cancer Epithelial",
        "stromal": ["CAFs", "PVL", "Endothelial"],
        "immune": ["Myeloid", "T-cells", "B-cells", "Plasmablasts"],
    }
    return {**base, **changes}


def config(reference=None, adjust_with="ref"):
    return {"singlecell": {"references": {"ref": reference or entry()}, "adjust_with": adjust_with}}


# the first 300 Wu cells are CAFs and endothelial cells
FIRST_CELLS = {"malignant": None, "stromal": ["CAFs", "Endothelial"], "immune": []}


def small(tmp_path, change=None):
    """The first 300 Wu cells, changed by `change(adata)`, written to tmp_path."""
    adata = ad.read_h5ad(WU)[:300].copy()
    if change:
        change(adata)
    path = tmp_path / "mine.h5ad"
    adata.write_h5ad(path)
    return str(path)


def test_the_default_reference_passes():
    check_singlecell(config())


def test_the_shipped_reference_is_checked_against_its_build_record(monkeypatch, tmp_path):
    """The default entry is checked against the labels its build recorded, without opening the
    file; they are the file's own. Another reading of it, or another file, is opened."""
    from selfseed import cells
    from selfseed.singlecell import open_reference

    recorded = cells.shipped_labels(entry())
    read = open_reference(WU, list(recorded)).labels
    assert recorded == {column: list(read[column].cat.categories) for column in read}
    assert cells.shipped_labels(entry(counts="raw")) is None
    assert cells.shipped_labels(entry(gene_column="symbol")) is None
    assert cells.shipped_labels(entry(path=str(WU))) is None
    changed = tmp_path / "changed.h5ad"
    changed.write_bytes(WU.read_bytes() + b"\0")
    with monkeypatch.context() as patch:
        patch.setattr(cells, "reference_path", lambda _: str(changed))
        assert cells.shipped_labels(entry()) is None
    monkeypatch.setattr(cells, "open_configured", lambda *_: pytest.fail("the file was opened"))
    check_singlecell(config())


@pytest.mark.parametrize(
    ("changes", "problem", "key"),
    [
        ({"path": "nowhere.h5ad"}, "single-cell reference file not found", "path"),
        (
            {"cell_type_columns": ["cell_type"], "marker_level": None},
            "the cell-type column is not in the reference's obs",
            "cell_type_columns",
        ),
        ({"marker_level": "celltype_subset"}, "the marker level is not one of", "marker_level"),
        ({"counts": "raw"}, "the counts 'raw' are not in the reference", "counts"),
        ({"gene_column": "symbol"}, "the gene column is not in the reference's var", "gene_column"),
        ({"malignant": "Tumour"}, "the malignant cell type is not a label", "malignant"),
        ({"immune": ["Myeloid", "CAFs"]}, "a cell type is named in two compartments", "immune"),
    ],
)
def test_bad_reference_entries_name_the_key(changes, problem, key):
    with pytest.raises((ConfigError, InputDataError), match=problem) as error:
        check_singlecell(config(entry(**changes)))
    assert f"config key 'singlecell.references.ref.{key}'" in str(error.value)


def test_adjust_with_names_a_reference():
    with pytest.raises(ConfigError, match="not configured") as error:
        check_singlecell(config(adjust_with="other"))
    assert "singlecell.adjust_with" in str(error.value)
    assert "one of singlecell.references (ref)" in (str(error.value))
    check_singlecell(config(adjust_with=None))


def test_logged_values_where_raw_counts_are_expected(tmp_path):
    def logged(adata):
        adata.X = adata.X.astype(np.float32)
        adata.layers["raw"] = adata.X.copy()
        sc.pp.normalize_total(adata, target_sum=1e4)
        sc.pp.log1p(adata)

    path = small(tmp_path, logged)
    with pytest.raises(InputDataError, match="they look log-transformed") as error:
        check_singlecell(config(entry(path=path, **FIRST_CELLS)))
    text = str(error.value)
    assert "config key 'singlecell.references.ref.counts'" in text
    assert "set counts to the layer with raw counts (layers: raw)" in text
    check_singlecell(config(entry(path=path, counts="raw", **FIRST_CELLS)))


def test_ensembl_ids_are_mapped_and_unknown_ids_are_an_error(tmp_path):
    table = pd.read_parquet(GENE_TABLE)
    ensembl = table[table["kind"] == "ensembl"].drop_duplicates("symbol").set_index("symbol")

    def to_ensembl(adata):
        known = adata.var_names.isin(ensembl.index)
        adata._inplace_subset_var(known)
        adata.var["symbol"] = adata.var_names.to_numpy()
        adata.var_names = ensembl.loc[adata.var_names, "identifier"].to_numpy()

    check_singlecell(config(entry(path=small(tmp_path, to_ensembl), **FIRST_CELLS)))

    def unknown(adata):
        adata.var_names = [f"gene{i}" for i in range(adata.n_vars)]

    with pytest.raises(InputDataError, match="not known human gene identifiers") as error:
        check_singlecell(config(entry(path=small(tmp_path, unknown), **FIRST_CELLS)))
    assert "config key 'singlecell.references.ref.gene_column'" in str(error.value)


# --- the reference job and the page -------------------------------------------------------------


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The reference job on the shipped reference, with a script payload in its description."""
    out = tmp_path_factory.mktemp("reference")
    outputs = {name: out / f"{name}.tsv" for name in REFERENCE_TABLES}
    outputs |= {kind: out / f"{kind}.png" for kind in REFERENCE_PLOTS}
    described = entry(description="<script>alert(1)</script>")
    run_config = {
        "singlecell": {"references": {"wu": described}, "adjust_with": "wu"},
        "signatures": SIGNATURES,
        "signatures_gmt": None,
        "scoring": {"ctrl_size": 50, "n_bins": 25, "random_state": 0},
    }
    with svg_copies(True):
        analyse_reference(run_config, "wu", outputs=outputs)
    return (
        {
            name: pd.read_csv(path, sep="\t")
            for name, path in outputs.items()
            if ".tsv" in str(path)
        },
        outputs,
        run_config,
    )


def test_reference_job_tables(job):
    tables, outputs, _ = job
    expression = tables["expression"]
    assert set(expression["gene"]) == {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"}
    highest = expression[expression["highest"] & (expression["level"] == "celltype_major")]
    assert dict(zip(highest["gene"], highest["n_cells"], strict=True))["CXCL1"] == 10
    dominance = tables["dominance"]
    statements = dominance.loc[dominance["rank"] == 1, "statement"]
    assert len(statements) == 3
    assert statements.str.contains("Cancer Epithelial").all()
    absent = dominance[dominance["signature"] == "absent"]
    assert absent["note"].iloc[0].startswith("not summarised: none of NOT_A_GENE1")
    markers = tables["markers"]
    assert not markers["gene"].isin(SIGNATURES["self_seeding"]).any()
    assert "is not a signature gene" in markers["rule"].iloc[0]
    assert set(markers["compartment"]) == {"malignant", "stromal", "immune", "other"}
    for kind in REFERENCE_PLOTS:
        assert outputs[kind].stat().st_size > 10_000
        assert outputs[kind].with_suffix(".svg").is_file()


def test_which_cells_page_keeps_text_as_text(job, tmp_path):
    from selfseed.plots import composition_forest
    from selfseed.whichcells import cells_page, merged_reference_tables

    _, outputs, run_config = job
    files = {k: str(v) for k, v in outputs.items()}
    frames = merged_reference_tables({"wu": files})
    frames["composition"] = not_run_table("not run: <b>no</b> reference")
    composition_forest(frames["composition"], tmp_path / "f.png", signature="s", method="zmean")
    primary = {"signature": "self_seeding", "method": "zmean"}
    html = cells_page(frames, {"wu": files}, run_config["singlecell"], primary, tmp_path / "f.png")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "dominated by CAFs" in html
    assert "data:image/png;base64," in html


def test_no_reference_gives_empty_tables_and_a_reason(tmp_path):
    from selfseed.contracts import CELL_TABLES
    from selfseed.files import read_table, write_tsv
    from selfseed.whichcells import which_cells

    tables = {name: tmp_path / f"{name}.tsv" for name in (*CELL_TABLES, "skipped")}
    write_tsv(
        pd.DataFrame(columns=["cohort", "signature", "method", "reason", "analysis"]),
        tables["skipped"],
    )
    run_config = {
        "singlecell": {"references": {}, "adjust_with": None},
        "min_genes": 2,
        "statistics": {"meta_method": "REML", "hartung_knapp": False},
        "primary": {"signature": "self_seeding", "method": "zmean"},
    }
    outputs = {"forest": tmp_path / "forest.png", "page": tmp_path / "cells.html"}
    inputs = {"cohort_h5ad": [], "patients": [], "record": []}
    which_cells(inputs, run_config, tables=tables, outputs=outputs, parallel=True)()
    composition = read_table(tables["composition"])
    assert composition["note"].tolist() == ["not run: singlecell.adjust_with names no reference"]
    skipped = read_table(tables["skipped"])
    assert skipped["reason"].tolist() == composition["note"].tolist()
    assert skipped["analysis"].tolist() == ["composition"]
    assert read_table(tables["cell_expression"]).empty
    assert "No single-cell reference is configured." in outputs["page"].read_text()
