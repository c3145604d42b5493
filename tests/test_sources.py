"""Sources are plug-ins: a module of selfseed.sources named as its `source:` value, with a SOURCE,
and one branch of the config schema; nothing else names a source."""

import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from selfseed.config import check_config, check_schema
from selfseed.sources import source
from selfseed.sources.common import LoadedCohort, Source

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def schema():
    return yaml.safe_load(SCHEMA.read_text())


def source_branches(tree):
    """source value -> its `if/then` branch of the cohort schema."""
    cohort = tree["$defs"]["cohort"]
    return {
        branch["if"]["properties"]["source"]["const"]: branch["then"]
        for branch in cohort["allOf"]
        if "source" in branch.get("if", {}).get("properties", {})
    }


def test_every_source_value_has_a_module_and_a_schema_branch():
    tree = schema()
    values = tree["$defs"]["cohort"]["properties"]["source"]["enum"]
    modules = {
        p.stem
        for p in (REPO / "src" / "selfseed" / "sources").glob("*.py")
        if "\nSOURCE = " in p.read_text()
    }
    assert set(values) == modules
    assert set(source_branches(tree)) == set(values)
    for name in values:
        assert isinstance(source(name), Source)


def test_nothing_outside_the_sources_branches_on_a_source_name():
    """A test on the source's name (entry["source"] == "geo") outside selfseed/sources would be a
    second place to change when a source is added."""
    pattern = re.compile(r"""\[["']source["']\]\s*(==|!=|in\b|not in\b)""")
    places = [
        *[p for p in (REPO / "src" / "selfseed").rglob("*.py") if "sources" not in p.parts],
        *(REPO / "workflow").rglob("*.smk"),
        *(REPO / "workflow" / "scripts").glob("*.py"),
    ]
    found = [f"{p.relative_to(REPO)}" for p in places if pattern.search(p.read_text())]
    assert not found


class PairedTsv(Source):
    """A new source, as a user would add it: two tab-separated files, expression genes x samples
    and clinical by sample."""

    file_keys = ("expression", "clinical")
    logs_unlogged = False

    def clinical(self, entry, cohort):
        return pd.read_csv(entry["clinical"], sep="\t"), entry["clinical"]

    def load(self, entry, files, *, cohort):
        expression = pd.read_csv(entry["expression"], sep="\t", index_col=0)
        clinical = pd.read_csv(entry["clinical"], sep="\t", dtype={"sample": str})
        provenance = {"source": "paired_tsv", "clinical_file": entry["clinical"]}
        return LoadedCohort(expression, clinical.set_index("sample", drop=False), provenance)


@pytest.fixture
def paired_tsv(tmp_path, monkeypatch):
    """The new source's module and its schema branch, and a cohort in its files."""
    module = types.ModuleType("selfseed.sources.paired_tsv")
    module.SOURCE = PairedTsv()
    monkeypatch.setitem(sys.modules, "selfseed.sources.paired_tsv", module)
    tree = schema()
    cohort = tree["$defs"]["cohort"]
    cohort["properties"]["source"]["enum"].append("paired_tsv")
    cohort["allOf"].append(
        {
            "if": {"properties": {"source": {"const": "paired_tsv"}}, "required": ["source"]},
            "then": {
                "required": ["expression", "clinical"],
                "properties": {"expression": {"type": "string"}, "clinical": {"type": "string"}},
            },
        }
    )
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(tree))
    rng = np.random.default_rng(7)
    samples = [f"P{i:03d}" for i in range(80)]
    genes = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"] + [f"GENE{i}" for i in range(300)]
    expression = pd.DataFrame(rng.normal(6, 1, (len(genes), 80)), genes, samples)
    expression.index.name = "gene"
    expression.to_csv(tmp_path / "expression.tsv", sep="\t")
    clinical = pd.DataFrame(
        {
            "sample": samples,
            "months": rng.exponential(40, 80).round(2) + 0.5,
            "status": rng.choice(["censored", "local", "distant"], 80),
        }
    )
    clinical.to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    return path, tmp_path


def test_a_new_source_is_one_module_and_one_schema_branch(paired_tsv, monkeypatch):
    from selfseed.cohort import build_cohort

    schema_path, folder = paired_tsv
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["cohorts"] = {
        "demo": {
            "source": "paired_tsv",
            "expression": str(folder / "expression.tsv"),
            "clinical": str(folder / "clinical.tsv"),
            "sample_column": "sample",
            "endpoint": {
                "name": "LR",
                "label": "local recurrence as first event",
                "time_column": "months",
                "time_unit": "months",
                "event_column": "status",
                "event_values": ["local"],
                "censored_values": ["censored"],
                "competing_values": ["distant"],
            },
        }
    }
    config["primary"]["pool"] = "all"  # one cohort: no endpoint pool
    monkeypatch.chdir(REPO)
    check_schema(config, schema_path)
    validate(config, str(schema_path))
    check_config(config)
    adata, dropped = build_cohort(
        config["cohorts"]["demo"], "demo", max_missing_fraction=config["max_missing_fraction"]
    )
    assert adata.n_obs == 80
    assert {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"} <= set(adata.var_names)
    assert adata.uns["counts"]["events"] == int((adata.obs["event"] == 1).sum()) > 0


def pandas_parquet_expression(path):
    """The expression table as read_expression read every parquet file before issue 17: the
    whole file through pandas, then the checked numeric block."""
    from selfseed.sources import table

    frame = table.read_parquet(path, cohort="c", key="k")
    names = list(frame.columns)
    frame.columns = range(len(names))
    ids = frame.pop(0).astype(str).str.strip()
    values = table.numeric_block(frame, ids, names, cohort="c", file=path, key="k", lines=False)
    values.index = pd.Index(ids, name=names[0] or "id")
    values.columns = pd.Index([str(n).strip() for n in names[1:]])
    return values


def test_parquet_expression_read_by_column_batches_equals_pandas(tmp_path):
    """Real expression (the shipped TCGA cohorts' self-seeding genes, genes x samples) with
    missing cells and an integer column: read a few columns at a time into one float64 block
    (no Arrow -> pandas copy of the table), the same frame as through pandas; files the batch
    reader does not take (stored index, text cells) still go through pandas."""
    from selfseed.sources import table

    genes = pd.read_csv(REPO / "tests" / "reference" / "genes_cohorts.tsv", sep="\t")
    matrix = genes.set_index("sample_id")[["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]].T
    matrix = matrix.iloc[:, :40].copy()
    matrix.iloc[1, 3] = np.nan
    matrix[matrix.columns[5]] = np.arange(len(matrix))  # integer counts
    frame = matrix.rename_axis(" gene ").reset_index()
    frame.columns = [f" {c}" if i == 2 else c for i, c in enumerate(frame.columns)]
    path = tmp_path / "expr.parquet"
    frame.to_parquet(path, index=False)
    fast = table.parquet_numeric_table(path, batch=7)
    pd.testing.assert_frame_equal(fast, pandas_parquet_expression(path), check_exact=True)
    assert fast._mgr.nblocks == 1
    assert np.shares_memory(fast.to_numpy(), fast._mgr.blocks[0].values)
    pd.testing.assert_frame_equal(table.read_expression(path, cohort="c", key="k"), fast)
    frame.set_index(" gene ").to_parquet(path)  # a stored pandas index: pandas' reading
    assert table.parquet_numeric_table(path) is None
    frame.assign(**{frame.columns[3]: "high"}).to_parquet(path, index=False)
    assert table.parquet_numeric_table(path) is None
