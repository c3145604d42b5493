"""The config schema: unknown keys named per source (unevaluatedProperties), defaults applied by
snakemake's validate, and config/README.md generated from it."""

import copy
import importlib.util
import inspect
import pkgutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

import selfseed
import selfseed.presets
from selfseed.analysis import cutpoint_row
from selfseed.config import check_schema
from selfseed.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")

RFS = {
    "name": "RFS",
    "label": "relapse-free survival",
    "time_column": "time",
    "time_unit": "days",
    "event_column": "status",
    "event_values": [1],
    "censored_values": [0],
}
# the least each source needs, and one key of its own
SOURCES = {
    "tcga_firehose": ({"cancer_type": "UCS", "endpoint": {"preset": "tcga_cdr"}}, "cancer_type"),
    "survset": ({"dataset": "gse1992", "gene_prefix": "num_HS_", "endpoint": RFS}, "gene_prefix"),
    "geo": ({"accession": "GSE1992", "platform": "GPL96", "endpoint": RFS}, "collapse"),
    "cbioportal": ({"study": "brca.tar.gz", "endpoint": RFS}, "expression_profile"),
    "xena": ({"expression": "HiSeqV2.gz", "phenotype": "pheno.tsv", "endpoint": RFS}, "values"),
    "h5ad": ({"path": "cohort.h5ad", "endpoint": RFS}, "path"),
    "table": ({"expression": "expr.tsv", "clinical": "clin.tsv", "endpoint": RFS}, "orientation"),
}
COMMON_DEFAULTS = {
    "description": "",
    "covariates": [],
    "missing_values": [],
    "sample_column": "sample_id",
}
SOURCE_DEFAULTS = {
    "geo": {"multi_platform": False, "multi_gene": "drop", "collapse": "max_mean"},
    "xena": {"values": "log2", "primary_tumour_only": True},
    "table": {"orientation": "genes_by_samples"},
}


def cohort(source, **extra):
    entry, _ = SOURCES[source]
    return {"cohorts": {"mine": {"source": source, **copy.deepcopy(entry), **extra}}}


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_passes_both_schema_checks_and_gets_its_defaults(source):
    config = cohort(source)
    check_schema(config, SCHEMA)
    validate(config, SCHEMA)
    entry = config["cohorts"]["mine"]
    for key, value in {**COMMON_DEFAULTS, **SOURCE_DEFAULTS.get(source, {})}.items():
        assert entry[key] == value, key
    others = {k for s, d in SOURCE_DEFAULTS.items() if s != source for k in d}
    assert not others & set(entry)  # no other source's defaults
    assert config["statistics"]["cutpoint_correction"] == "permutation"


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", ["made-up", "another-source-s"])
def test_unknown_key_of_a_source_is_named_with_that_source_s_keys(source, kind):
    """unevaluatedProperties: a key of another source is as unknown as a made-up one."""
    stray = "colour" if kind == "made-up" else "dataset" if source != "survset" else "orientation"
    config = cohort(source, **{stray: "x"})
    with pytest.raises(ConfigError, match="unknown keys in the config") as raised:
        check_schema(config, SCHEMA)
    message = str(raised.value)
    assert "cohorts.mine" in message
    assert f"found:    unknown keys: {stray}\n" in message
    expected = message.split("expected: ")[1].splitlines()[0]
    assert expected.startswith(f"keys of a {source} cohort: ")
    allowed = set(expected.split(": ")[1].split(", "))
    assert {"source", "endpoint", "covariates", "treatment", SOURCES[source][1]} <= allowed
    assert stray not in allowed
    with pytest.raises(WorkflowError):
        validate(config, SCHEMA)  # snakemake's own check refuses it too


def test_misspelt_required_key_is_reported_as_the_unknown_key():
    config = cohort("geo")
    entry = config["cohorts"]["mine"]
    entry["acession"] = entry.pop("accession")
    with pytest.raises(ConfigError, match="unknown keys: acession") as raised:
        check_schema(config, SCHEMA)
    assert "accession" in str(raised.value).split("expected: ")[1]


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (lambda e: e.pop("source"), "'source' is a required property"),
        (lambda e: e.update(source="gdc"), "'gdc' is not one of"),
        (lambda e: e.pop("platform"), "'platform' is a required property"),
    ],
    ids=["no-source", "unknown-source", "required-key-missing"],
)
def test_missing_source_or_key_is_not_called_an_unknown_key(change, found):
    """Without its source branch a cohort's own keys are unevaluated: the real error is named."""
    config = cohort("geo")
    change(config["cohorts"]["mine"])
    with pytest.raises(ConfigError, match="does not match the schema") as raised:
        check_schema(config, SCHEMA)
    assert found in str(raised.value)


def test_unknown_key_outside_the_cohorts_lists_the_section_s_keys():
    config = {**cohort("table"), "scoring": {"bins": 3}}
    with pytest.raises(ConfigError, match="unknown keys: bins") as raised:
        check_schema(config, SCHEMA)
    assert "keys among: ctrl_size, methods, n_bins, random_state, ssgsea_weight" in str(
        raised.value
    )


# --- config/README.md: the key tables and preset rules are written from their sources ---------


def config_docs():
    spec = importlib.util.spec_from_file_location("config_docs", REPO / "tools" / "config_docs.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def schema_keys(schema, node, prefix=""):
    """Every key the schema defines below `node`, as the README names it (`scoring.methods`,
    `covariates[].name`), with its schema node."""
    keys = []
    for name, sub in node.get("properties", {}).items():
        sub = schema["$defs"][sub["$ref"].split("/")[-1]] if "$ref" in sub else sub
        items = sub.get("items", {})
        items = schema["$defs"][items["$ref"].split("/")[-1]] if "$ref" in items else items
        keys.append((f"{prefix}{name}", sub))
        keys += schema_keys(schema, sub, f"{prefix}{name}.")
        keys += schema_keys(schema, items, f"{prefix}{name}[].")
    return keys


def test_config_readme_is_what_the_tool_writes():
    """Run `python tools/config_docs.py --write` after changing the schema or the preset rules."""
    tool = config_docs()
    readme = (REPO / "config" / "README.md").read_text()
    assert tool.rendered(readme, tool.blocks()) == readme
    assert tool.main([]) == 0


def test_every_schema_key_has_a_row_with_its_default():
    """Read back independently of the tool: each key has a row whose default, read as YAML, is
    the schema's."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    readme = (REPO / "config" / "README.md").read_text()
    rows = {}
    for line in readme.splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            rows.setdefault(cells[0].strip("`"), []).append(cells)
    cohort = schema["$defs"]["cohort"]
    keys = schema_keys(schema, schema) + schema_keys(schema, cohort)
    for branch in cohort["allOf"]:
        keys += schema_keys(schema, branch["then"])
    for name in ("generic_endpoint", "preset_endpoint"):
        keys += schema_keys(schema, schema["$defs"][name])
    assert len(keys) > 70
    for key, node in keys:
        assert key in rows, key
        if "default" in node and "properties" not in node:
            defaults = [yaml.safe_load(cells[-2].strip("`")) for cells in rows[key]]
            assert node["default"] in defaults, key
    assert rows["statistics.cutpoint_correction"][0][1] == "`permutation`"


def test_preset_rules_in_the_readme_are_the_presets_module_docstring():
    readme = (REPO / "config" / "README.md").read_text()
    rules = selfseed.presets.__doc__.split("TCGA Pan-Cancer Clinical Data Resource")[1]
    assert rules.replace("``", "`").strip() in readme
    assert "17. A relapse at 0 days" in readme
    assert "20. `DM_first`" in readme


def test_a_description_must_name_its_allowed_values(tmp_path):
    tool = config_docs()
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    schema["properties"]["statistics"]["properties"]["meta_method"]["description"] = "estimator"
    (tmp_path / "schema.yaml").write_text(yaml.safe_dump(schema))
    with pytest.raises(ValueError, match=r"statistics.meta_method does not name \['REML', 'DL'"):
        tool.blocks(tmp_path / "schema.yaml")


# --- defaults restated in the library are the schema's --------------------------------------

# parameters named after a setting (or as the library names it) that keep a default because a
# caller outside the pipeline leaves them out; the pipeline passes the config's value
RESTATED = {
    ("selfseed.singlecell.score_genes_chunked", "ctrl_size"): "scoring.ctrl_size",
    ("selfseed.singlecell.score_genes_chunked", "n_bins"): "scoring.n_bins",
    ("selfseed.singlecell.score_genes_chunked", "random_state"): "scoring.random_state",
    ("selfseed.inflate.Limits", "max_inflated_mb"): "download.max_inflated_mb",
    ("selfseed.inflate.Limits", "max_inflation_ratio"): "download.max_inflation_ratio",
    ("selfseed.download.geo_series_matrix_url", "base_url"): "download.geo_base_url",
    ("selfseed.download.geo_platform_annot_url", "base_url"): "download.geo_base_url",
    ("selfseed.download.geo_platform_full_url", "base_url"): "download.geo_base_url",
    ("selfseed.stats.genomewide.cohort_ranking", "min_expressing"): "genes.min_expressing",
    ("selfseed.pathways.prerank", "permutations"): "pathways.permutations",
    ("selfseed.pathways.prerank", "min_size"): "pathways.min_size",
    ("selfseed.pathways.prerank", "max_size"): "pathways.max_size",
}
NOT_SETTINGS = {
    ("selfseed.report.table_page", "description"),  # a page's text, not a cohort's
    ("selfseed.survival.cox_per_sd", "covariates"),  # one model's terms: none, the univariable
}
SYNONYMS = {
    "knots": "spline_knots",
    "n_knots": "spline_knots",
    "weight": "ssgsea_weight",
    "groups": "groupings",
    "minprop": "cutpoint_minprop",
    "correction": "cutpoint_correction",
    "horizons": "horizons_months",
    "base_url": "geo_base_url",
    "method": "method",
}


def schema_defaults():
    """Setting name -> (dotted key, default) for every key with a default ('method' is one)."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    cohort = schema["$defs"]["cohort"]
    keys = schema_keys(schema, schema) + schema_keys(schema, cohort)
    for branch in cohort["allOf"]:
        keys += schema_keys(schema, branch["then"])
    return {key.split(".")[-1]: (key, node["default"]) for key, node in keys if "default" in node}


def library_defaults():
    """(module.function, parameter) -> default, for every function and class of selfseed."""
    found = {}
    for info in pkgutil.walk_packages(selfseed.__path__, "selfseed."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != info.name or not callable(obj):
                continue
            try:
                parameters = inspect.signature(obj).parameters.values()
            except (TypeError, ValueError):
                continue
            for p in parameters:
                if p.default is not inspect.Parameter.empty and p.default is not None:
                    found[(f"{info.name}.{name}", p.name)] = p.default
    return found


def test_library_defaults_of_settings_are_the_schema_s():
    """A setting's default lives in the schema; the library restates it only where listed in
    RESTATED, and then with the schema's value."""
    settings = schema_defaults()
    defaults = library_defaults()
    named = {
        (where, p): d
        for (where, p), d in defaults.items()
        if SYNONYMS.get(p, p) in settings and (where, p) not in NOT_SETTINGS
    }
    assert set(named) == set(RESTATED), "remove the default, or list it in RESTATED"
    for (where, parameter), default in named.items():
        key = RESTATED[(where, parameter)]
        assert default == settings[key.split(".")[-1]][1], (where, parameter, key)
    assert len(defaults) > 50  # the scan sees the package


def test_cutpoint_permutations_are_those_the_schema_describes():
    """The permutation count and seed are not settings: the schema's description states them."""
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    text = schema["properties"]["statistics"]["properties"]["cutpoint_correction"]["description"]
    data = pd.read_csv(REPO / "tests" / "reference" / "coxdiag_gse1992.tsv", sep="\t")
    frame = data.rename(columns={"time": "time_months"})[["time_months", "event", "score"]]
    row = cutpoint_row(frame, 0.1, "permutation")
    assert "(10000 permutations, seed 0)" in row["label"]
    assert "`permutation` (10,000 permutations of the log-rank scores, seed 0;" in text


def test_a_horizon_given_twice_is_refused():
    """36 and 36.0 would both write the column auc_36m."""
    config = {**cohort("table"), "statistics": {"horizons_months": [36, 60, 36.0]}}
    with pytest.raises(ConfigError, match="non-unique elements") as raised:
        check_schema(config, SCHEMA)
    assert "statistics.horizons_months" in str(raised.value)
