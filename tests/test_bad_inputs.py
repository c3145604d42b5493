"""Bad inputs never lose data and never hide behind a traceback.

A corpus of bad inputs, each made from good files (the SurvSet gse1992 cohort written as a user's own
table cohort, and real GEO files): every one stops with a project error (SelfseedError) that names
the cohort, the file and the config key or column, either before any job (config checks) or at
ingest, and leaves no result file behind. Values that can be dropped are dropped and listed with
their reason; harmless variants of the files (BOM, CRLF, latin-1, quoting, ...) give the same
cohort. A few cases run through snakemake end to end.
"""

import gzip
import shutil
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import validate
from test_workflow import config_with, snakemake, survset_config, workdir

from conftest import REPO
from selfseed.cohort import build_cohort
from selfseed.config import check_config
from selfseed.errors import ConfigError, InputDataError, SelfseedError
from selfseed.genes import lookup_symbols
from selfseed.pipeline import ingest

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
SIGNATURE_GENES = ["IL6", "IL8", "MMP1", "FSCN1", "CXCL1"]
HTML = b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head></html>\n"


@pytest.fixture(scope="module")
def base(gse1992):
    """gse1992 as genes x samples expression (5 signature genes + 300 others) and clinical table."""
    genes = [c for c in gse1992.columns if c.startswith("num_HS_")]
    chosen = [g for g in genes if g[7:] in SIGNATURE_GENES]
    chosen += [g for g in genes if g[7:] not in SIGNATURE_GENES][:300]
    expression = gse1992.set_index("pid")[chosen].rename(columns=lambda c: c[7:]).T
    expression.index.name = "gene"
    expression.columns = expression.columns.astype(str)
    clinical = pd.DataFrame(
        {
            "sample": gse1992["pid"].astype(str),
            "rfs_days": (gse1992["time"] * 365.25 / 12).round(1),
            "status": np.where(gse1992["event"] == 1, "relapse", "censored"),
            "er": gse1992["fac_er_positive"],
            "grade": gse1992["fac_grade"],
        }
    )
    return expression.round(4), clinical


def table_entry(path):
    return {
        "source": "table",
        "expression": str(path / "expr.tsv"),
        "clinical": str(path / "clinical.tsv"),
        "orientation": "genes_by_samples",
        "sample_column": "sample",
        "missing_values": ["missing"],
        "endpoint": {
            "name": "RFS",
            "label": "relapse-free survival",
            "time_column": "rfs_days",
            "time_unit": "days",
            "event_column": "status",
            "event_values": ["relapse"],
            "censored_values": ["censored"],
        },
        "covariates": [
            {"name": "er_positive", "column": "er", "type": "categorical"},
            {"name": "grade", "column": "grade", "type": "numeric"},
        ],
    }


def write_frame(frame, path, *, index):
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=index)
    else:
        sep = "," if ".csv" in path.suffixes else "\t"
        frame.to_csv(path, sep=sep, index=index)


def tsv(frame, *, index, sep="\t"):
    return frame.to_csv(sep=sep, index=index)


@dataclass
class Case:
    id: str
    make: object  # make(ctx): changes ctx.expression / clinical / entry / config, or sets ctx.raw
    error: type
    expected: list = field(default_factory=list)  # texts the message must contain
    stage: str = "config"  # "config": check_config stops; "ingest": the config passes, ingest stops
    cohort: bool = True  # the message names cohort 'bad'


def prepare(tmp_path, base, make, request=None):
    """The case's files and config; `request` lets a case ask for a fixture (shared_data)."""
    expression, clinical = base
    ctx = SimpleNamespace(
        path=tmp_path,
        expression=expression.copy(),
        clinical=clinical.copy(),
        entry=table_entry(tmp_path),
        config={},
        raw={},
        files={},
        request=request,
    )
    make(ctx)
    if ctx.entry["source"] == "table":
        for frame, key, index in (
            (ctx.expression, "expression", True),
            (ctx.clinical, "clinical", False),
        ):
            if (tmp_path / ctx.entry[key]).parent.is_dir():  # not for a path that must not exist
                write_frame(frame, tmp_path / ctx.entry[key], index=index)
    for name, content in ctx.raw.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    config = {**ctx.config, "cohorts": {"bad": ctx.entry, **ctx.config.get("cohorts", {})}}
    validate(config, SCHEMA)  # the schema accepts it and fills in the defaults
    return ctx, config


def entry(**changes):
    return lambda ctx: ctx.entry.update(changes)


def endpoint(**changes):
    return lambda ctx: ctx.entry["endpoint"].update(changes)


def raw(name, content, **changes):
    def make(ctx):
        ctx.entry.update(changes)
        ctx.raw[name] = content(ctx) if callable(content) else content

    return make


def clinical(change):
    def make(ctx):
        ctx.clinical = change(ctx.clinical.copy())

    return make


def expression(change):
    def make(ctx):
        ctx.expression = change(ctx.expression.copy())

    return make


def assign(frame, column, rows, value):
    frame = frame.astype({column: object}) if column in frame else frame
    frame.loc[frame.index[rows], column] = value
    return frame


def clinical_lines(change):
    """The clinical TSV text with its lines changed."""
    return lambda ctx: "\n".join(change(tsv(ctx.clinical, index=False).split("\n")))


def expression_lines(change):
    return lambda ctx: "\n".join(change(tsv(ctx.expression, index=True).split("\n")))


def excel(frame):
    """The table as an Excel workbook (.xlsx bytes), as a user might pass it."""
    import io

    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    return buffer.getvalue()


def swap_orientation(ctx):
    ctx.expression = ctx.expression.T
    ctx.expression.index.name = "sample"


def unlog(frame, columns=slice(None)):
    frame = frame.copy()
    frame.iloc[:, columns] = 2.0 ** (frame.iloc[:, columns] + 10)
    return frame


def probe_ids(frame):
    frame.index = [f"probe_{i:04d}" for i in range(len(frame))]
    return frame


def geo_cohort(matrix, annotation, *, annotation_raw=None):
    """A GEO cohort reading `matrix` and `annotation` (real GEO files or hand-made text)."""

    def make(ctx):
        real = [name for name in (matrix, annotation) if not name.startswith("hand")]
        geo = ctx.request.getfixturevalue("shared_data") / "geo" if real else None
        files = {}
        for kind, name in (("matrix", matrix), ("annotation", annotation)):
            if name == "hand_made_series_matrix.txt":
                ctx.raw[name] = HAND_MADE_MATRIX
            elif name == "hand_made.annot":
                ctx.raw[name] = annotation_raw
            files[kind] = str(ctx.path / name) if name.startswith("hand") else str(geo / name)
        ctx.files = files
        ctx.entry = {
            "source": "geo",
            "accession": "GSE1",
            "platform": "GPL97",
            "missing_values": [],
            "endpoint": {
                "name": "RFS",
                "label": "relapse-free survival",
                "time_column": "rfs:ch1",
                "time_unit": "months",
                "event_column": "relapse:ch1",
                "event_values": ["yes"],
                "censored_values": ["no"],
            },
        }

    return make


HAND_MADE_MATRIX = "\n".join(
    [
        '!Series_geo_accession\t"GSE1"',
        '!Sample_geo_accession\t"GSM1"\t"GSM2"\t"GSM3"',
        '!Sample_platform_id\t"GPL97"\t"GPL97"\t"GPL97"',
        '!Sample_characteristics_ch1\t"rfs: 10"\t"rfs: 20"\t"rfs: 30"',
        '!Sample_characteristics_ch1\t"relapse: yes"\t"relapse: no"\t"relapse: no"',
        "!series_matrix_table_begin",
        '"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"',
        '"not_a_probe_1"\t7.1\t6.2\t5.3',
        '"not_a_probe_2"\t4.1\t8.2\t6.3',
        "!series_matrix_table_end",
        "",
    ]
)


def only_unusable_samples_measured(ctx):
    """Expression only for the samples whose follow-up time is missing."""
    ctx.clinical = assign(ctx.clinical, "rfs_days", slice(0, 10), None)
    ctx.expression = ctx.expression[ctx.clinical["sample"].iloc[:10]]


CASES = [
    # --- config checks, before any job -----------------------------------------------------
    Case(
        "expression-file-missing",
        entry(expression="nowhere/expr.tsv"),
        ConfigError,
        ["nowhere/expr.tsv", "cohorts.bad.expression", "not found"],
    ),
    Case(
        "clinical-file-missing",
        entry(clinical="nowhere/clinical.tsv"),
        ConfigError,
        ["nowhere/clinical.tsv", "cohorts.bad.clinical"],
    ),
    Case(
        "clinical-empty",
        raw("clinical.tsv", b""),
        InputDataError,
        ["clinical.tsv", "empty", "cohorts.bad.clinical"],
    ),
    Case(
        "clinical-blank-lines-only",
        raw("clinical.tsv", b"\n \n\t\n"),
        InputDataError,
        ["clinical.tsv", "empty"],
    ),
    Case(
        "clinical-html-page",
        raw("clinical.tsv", HTML),
        InputDataError,
        ["clinical.tsv", "web page", "503 Service"],
    ),
    Case(
        "clinical-gzipped-html-page",
        raw("clinical.tsv.gz", gzip.compress(HTML), clinical="clinical.tsv.gz"),
        InputDataError,
        ["clinical.tsv.gz", "web page"],
    ),
    Case(
        "clinical-tsv-is-comma-separated",
        raw("clinical.tsv", lambda ctx: tsv(ctx.clinical, index=False, sep=",")),
        InputDataError,
        ["clinical.tsv", "not tab-separated", "comma-separated first line", "line 1", "rename"],
    ),
    Case(
        "clinical-csv-is-semicolon-separated",
        raw(
            "clinical.csv",
            lambda ctx: tsv(ctx.clinical, index=False, sep=";"),
            clinical="clinical.csv",
        ),
        InputDataError,
        ["clinical.csv", "not comma-separated", "semicolon"],
    ),
    Case(
        "clinical-one-column",
        raw("clinical.tsv", "sample\nA\nB\n"),
        InputDataError,
        ["clinical.tsv", "one column only"],
    ),
    Case(
        "clinical-header-only",
        raw("clinical.tsv", "sample\trfs_days\tstatus\ter\tgrade\n"),
        InputDataError,
        ["clinical.tsv", "no data rows"],
    ),
    Case(
        "clinical-one-data-row",
        raw("clinical.tsv", clinical_lines(lambda lines: lines[:2])),
        InputDataError,
        ["clinical.tsv", "one data row", "cohorts.bad.clinical", "one row per sample"],
    ),
    Case(
        "clinical-excel-workbook",
        raw("clinical.xlsx", lambda ctx: excel(ctx.clinical), clinical="clinical.xlsx"),
        InputDataError,
        [
            "clinical.xlsx",
            "is an Excel .xlsx workbook",
            "cohorts.bad.clinical",
            "save the sheet as 'Text (tab delimited)' or CSV",
        ],
    ),
    Case(
        "expression-excel-workbook-named-tsv",
        raw("expr.tsv", lambda ctx: excel(ctx.expression)),
        InputDataError,
        ["expr.tsv", "is an Excel .xlsx workbook", "cohorts.bad.expression", "SEPT1"],
    ),
    Case(
        "clinical-repeated-column",
        raw(
            "clinical.tsv",
            clinical_lines(lambda lines: [lines[0].replace("\ter", "\tstatus")] + lines[1:]),
        ),
        InputDataError,
        ["clinical.tsv", "repeated column names", "status"],
    ),
    Case(
        "clinical-line-with-extra-cell",
        raw(
            "clinical.tsv",
            clinical_lines(lambda lines: lines[:6] + [lines[6] + "\textra"] + lines[7:]),
        ),
        InputDataError,
        ["clinical.tsv", "line 7", "6 cells on line 7, 5 in the header"],
    ),
    Case(
        "sample-column-missing",
        entry(sample_column="patient_id"),
        ConfigError,
        ["cohorts.bad.sample_column", "patient_id", "clinical.tsv"],
    ),
    Case(
        "time-column-missing",
        endpoint(time_column="rfs_time"),
        ConfigError,
        ["cohorts.bad.endpoint.time_column", "rfs_time", "clinical.tsv"],
    ),
    Case(
        "event-column-missing",
        endpoint(event_column="relapse"),
        ConfigError,
        ["cohorts.bad.endpoint.event_column", "relapse"],
    ),
    Case(
        "covariate-column-missing",
        entry(covariates=[{"name": "stage", "column": "ajcc_stage"}]),
        ConfigError,
        ["cohorts.bad.covariates[0].column", "ajcc_stage"],
    ),
    Case(
        "treatment-column-missing",
        entry(treatment={"name": "rt", "column": "radiotherapy"}),
        ConfigError,
        ["cohorts.bad.treatment.column", "radiotherapy"],
    ),
    Case(
        "event-values-occur-nowhere",
        endpoint(event_values=["relapsed"]),
        ConfigError,
        ["cohorts.bad.endpoint.event_values", "relapsed", "'status'"],
    ),
    Case(
        "censored-values-occur-nowhere",
        endpoint(censored_values=[0]),
        ConfigError,
        ["cohorts.bad.endpoint.censored_values", "censored"],
    ),
    Case(
        "event-code-in-two-lists",
        endpoint(competing_values=["censored"]),
        ConfigError,
        ["cohorts.bad.endpoint.censored_values", "both", "censored"],
    ),
    Case(
        "covariate-name-twice",
        entry(covariates=[{"name": "g", "column": "er"}, {"name": "g", "column": "grade"}]),
        ConfigError,
        ["cohorts.bad.covariates[1].name", "used twice"],
    ),
    Case(
        "covariate-name-reserved",
        entry(covariates=[{"name": "event", "column": "er"}]),
        ConfigError,
        ["cohorts.bad.covariates[0].name", "reserved"],
    ),
    Case(
        "duplicated-sample-in-clinical",
        clinical(lambda c: pd.concat([c, c.iloc[[3]]], ignore_index=True)),
        InputDataError,
        ["duplicated sample ids in the clinical table", "clinical.tsv"],
    ),
    Case(
        "row-without-sample-id",
        clinical(lambda c: assign(c, "sample", [4], None)),
        InputDataError,
        ["without a sample id", "clinical.tsv", "line 6", "'sample'"],
    ),
    Case(
        "follow-up-times-are-dates",
        clinical(lambda c: c.assign(rfs_days="2001-05-03")),
        ConfigError,
        [
            "no sample has a usable endpoint",
            "missing or non-numeric follow-up time",
            "cohorts.bad.endpoint",
        ],
    ),
    Case(
        "follow-up-times-not-positive",
        clinical(lambda c: c.assign(rfs_days=-c["rfs_days"])),
        ConfigError,
        ["no sample has a usable endpoint", "follow-up time <= 0"],
    ),
    Case(
        "numeric-covariate-with-text",
        clinical(lambda c: assign(c, "grade", [2, 9], "high")),
        InputDataError,
        ["non-numeric values in a numeric covariate", "'grade'", "high"],
    ),
    Case(
        "expression-empty",
        raw("expr.tsv", b""),
        InputDataError,
        ["expr.tsv", "empty", "cohorts.bad.expression"],
    ),
    Case("expression-html-page", raw("expr.tsv", HTML), InputDataError, ["expr.tsv", "web page"]),
    Case(
        "expression-csv-is-tab-separated",
        raw("expr.csv", lambda ctx: tsv(ctx.expression, index=True), expression="expr.csv"),
        InputDataError,
        ["expr.csv", "not comma-separated", "tab-separated first line"],
    ),
    Case(
        "expression-one-column",
        raw("expr.tsv", "gene\nIL6\nMMP1\n"),
        InputDataError,
        ["expr.tsv", "one column only"],
    ),
    Case(
        "orientation-says-genes-by-samples",
        swap_orientation,
        ConfigError,
        ["cohorts.bad.orientation", "samples_by_genes", "expr.tsv", "line 1"],
    ),
    Case(
        "orientation-says-samples-by-genes",
        entry(orientation="samples_by_genes"),
        ConfigError,
        ["cohorts.bad.orientation", "set orientation: genes_by_samples"],
    ),
    Case(
        "sample-ids-match-nothing",
        clinical(lambda c: c.assign(sample="X-" + c["sample"])),
        ConfigError,
        ["cohorts.bad.sample_column", "names no sample", "X-"],
    ),
    Case(
        "expression-gzip-cut-short",
        raw(
            "expr.tsv.gz",
            lambda ctx: gzip.compress(tsv(ctx.expression, index=True).encode())[:5000],
            expression="expr.tsv.gz",
        ),
        InputDataError,
        ["expr.tsv.gz", "cannot read the file", "cut short"],
    ),
    Case(
        "expression-parquet-damaged",
        raw("expr.parquet", b"PAR1 not really parquet", expression="expr.parquet"),
        InputDataError,
        ["expr.parquet", "cannot read the parquet file"],
    ),
    Case(
        "h5ad-not-anndata",
        lambda ctx: (
            ctx.entry.update(source="h5ad", path=str(ctx.path / "mine.h5ad")),
            [ctx.entry.pop(k) for k in ("expression", "clinical", "orientation")],
            ctx.raw.update({"mine.h5ad": b"sample\tIL6\nA\t1\n"}),
        ),
        InputDataError,
        ["mine.h5ad", "cannot read the AnnData file", "cohorts.bad.path"],
    ),
    Case(
        "signature-with-blank-genes",
        lambda ctx: ctx.config.update(signatures={"empty": ["  "]}),
        ConfigError,
        ["signatures.empty", "signature without genes"],
        cohort=False,
    ),
    Case(
        "primary-signature-unknown",
        lambda ctx: ctx.config.update(primary={"signature": "self_seeding_v2"}),
        ConfigError,
        ["primary.signature", "self_seeding_v2"],
        cohort=False,
    ),
    Case(
        "primary-pools-an-absent-endpoint",
        lambda ctx: ctx.config.update(primary={"pool": "LR"}),
        ConfigError,
        ["primary.pool", "LR", "RFS"],
        cohort=False,
    ),
    Case(
        "primary-pools-an-endpoint-of-one-cohort",
        lambda ctx: ctx.config.update(primary={"pool": "RFS"}),
        ConfigError,
        ["primary.pool", "endpoint of one cohort only", "RFS: cohort bad", "primary.pool: all"],
        cohort=False,
    ),
    Case(
        "primary-method-not-scored",
        lambda ctx: ctx.config.update(scoring={"methods": ["ssgsea", "score_genes"]}),
        ConfigError,
        ["primary.method", "zmean", "['ssgsea', 'score_genes']"],
        cohort=False,
    ),
    Case(
        "primary-signature-below-min-genes",
        lambda ctx: ctx.config.update(
            signatures={"pair": ["IL8", "CXCL8", "IL6"]}, min_genes=3, primary={"signature": "pair"}
        ),
        ConfigError,
        ["primary.signature", "2 gene(s) ['CXCL8', 'IL6']; min_genes 3"],
        cohort=False,
    ),
    Case(
        "primary-adjusted-without-covariates",
        lambda ctx: (
            ctx.entry.update(covariates=[]),
            ctx.config.update(primary={"model": "adjusted"}),
        ),
        ConfigError,
        ["primary.model", "no cohort it pools has covariates", "cohorts pooled: bad"],
        cohort=False,
    ),
    Case(
        "cohort-names-differ-in-case",
        lambda ctx: ctx.config.update(cohorts={"BAD": dict(ctx.entry)}),
        ConfigError,
        ["cohorts.BAD", "bad and BAD"],
        cohort=False,
    ),
    Case(
        "gmt-file-missing",
        lambda ctx: ctx.config.update(signatures_gmt="sets/mine.gmt"),
        ConfigError,
        ["signatures_gmt", "sets/mine.gmt"],
        cohort=False,
    ),
    # --- the config is fine, the data are not: ingest stops ----------------------------------
    Case(
        "expression-non-numeric-cell",
        expression(lambda e: assign(e, e.columns[2], [3], "n.d.")),
        InputDataError,
        ["non-numeric expression values", "expr.tsv", "line 5", "'n.d.'", "cohorts.bad.expression"],
        stage="ingest",
    ),
    Case(
        "expression-excel-error-values",
        expression(lambda e: assign(e, e.columns[7], [0, 1, 2], "#VALUE!")),
        InputDataError,
        ["non-numeric expression values", "#VALUE!", "3 non-numeric cell(s)"],
        stage="ingest",
    ),
    Case(
        # pandas reads a column of only TRUE/FALSE as booleans: not 1 and 0 (found by hypothesis)
        "expression-boolean-column",
        expression(
            lambda e: e.assign(
                **{e.columns[4]: ["TRUE", "FALSE"] * (len(e) // 2) + ["TRUE"] * (len(e) % 2)}
            )
        ),
        InputDataError,
        ["non-numeric expression values", "'True'", "cohorts.bad.expression"],
        stage="ingest",
    ),
    Case(
        "parquet-expression-text-column",
        lambda ctx: (
            ctx.entry.update(expression="expr.parquet"),
            setattr(
                ctx,
                "expression",
                assign(ctx.expression.astype(str), ctx.expression.columns[0], [1], "high"),
            ),
        ),
        InputDataError,
        ["expr.parquet", "non-numeric expression values", "high"],
        stage="ingest",
    ),
    Case(
        "duplicated-sample-in-expression",
        expression(lambda e: pd.concat([e, e.iloc[:, [5]]], axis=1)),
        InputDataError,
        ["duplicated sample ids in the expression matrix", "expr.tsv"],
        stage="ingest",
    ),
    Case(
        "duplicated-sample-row-samples-by-genes",
        lambda ctx: (
            swap_orientation(ctx),
            ctx.entry.update(orientation="samples_by_genes"),
            setattr(ctx, "expression", pd.concat([ctx.expression, ctx.expression.iloc[[0]]])),
        ),
        InputDataError,
        ["duplicated sample ids in the expression matrix"],
        stage="ingest",
    ),
    Case(
        "expression-header-only",
        raw("expr.tsv", expression_lines(lambda lines: lines[:1])),
        InputDataError,
        ["expr.tsv", "no data rows"],
        stage="ingest",
    ),
    Case(
        "expression-line-with-extra-cells",
        raw(
            "expr.tsv",
            expression_lines(lambda lines: lines[:9] + [lines[9] + "\t1\t2"] + lines[10:]),
        ),
        InputDataError,
        ["expr.tsv", "cannot parse", "line 10"],
        stage="ingest",
    ),
    Case(
        "expression-rows-longer-than-header",
        raw(
            "expr.tsv",
            expression_lines(
                lambda lines: lines[:1] + [line + "\t1\t2" for line in lines[1:] if line]
            ),
        ),
        InputDataError,
        ["expr.tsv", "more cells than the header"],
        stage="ingest",
    ),
    Case(
        "expression-unlogged",
        expression(unlog),
        InputDataError,
        ["look unlogged", "expr.tsv", "log2-transform"],
        stage="ingest",
    ),
    Case(
        "expression-partly-unlogged",
        expression(lambda e: unlog(e, slice(0, 10))),
        InputDataError,
        ["some samples look unlogged", "10 of 124 samples"],
        stage="ingest",
    ),
    Case(
        "expression-ids-are-probes",
        expression(probe_ids),
        InputDataError,
        ["no expression row maps to a gene symbol", "probe_0000"],
        stage="ingest",
    ),
    Case(
        "expression-all-missing",
        expression(lambda e: e.astype(float) * np.nan),
        InputDataError,
        ["no gene or no sample is left", "expr.tsv"],
        stage="ingest",
    ),
    Case(
        "only-samples-without-endpoint-measured",
        only_unusable_samples_measured,
        InputDataError,
        ["no sample has a usable endpoint", "missing or non-numeric follow-up time"],
        stage="ingest",
    ),
    Case(
        "geo-series-matrix-with-zero-rows",
        geo_cohort("phantasus/GSE99709_series_matrix.txt.gz", "GPL97.annot.gz"),
        InputDataError,
        [
            "GSE99709_series_matrix.txt.gz",
            "no expression rows",
            "data_row_count 0",
            "GSE99709_Stat3RNA-Seq-counts.csv.gz",
        ],
        stage="ingest",
    ),
    Case(
        "geo-annotation-maps-no-probe",
        geo_cohort("hand_made_series_matrix.txt", "GPL97.annot.gz"),
        InputDataError,
        ["maps no probe", "GPL97.annot.gz", "GPL97"],
        stage="ingest",
    ),
    Case(
        "geo-annotation-is-a-web-page",
        geo_cohort("hand_made_series_matrix.txt", "hand_made.annot", annotation_raw=HTML),
        InputDataError,
        ["hand_made.annot", "web page"],
        stage="ingest",
    ),
]


def test_corpus_is_large_and_distinct():
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_stops_with_a_named_project_error(tmp_path, base, case, monkeypatch, request):
    monkeypatch.chdir(tmp_path)  # relative paths in the config are relative to the run directory
    ctx, config = prepare(tmp_path, base, case.make, request)
    results = tmp_path / "results"
    if case.stage == "config":
        with pytest.raises(SelfseedError) as caught:
            check_config(config)
    else:
        check_config(config)  # the config itself is fine
        cohort_entry = config["cohorts"]["bad"]
        files = ctx.files or {
            k: cohort_entry[k] for k in ("expression", "clinical") if k in cohort_entry
        }
        with pytest.raises(SelfseedError) as caught:
            ingest(
                cohort_entry,
                "bad",
                files,
                max_missing_fraction=0.2,
                h5ad=results / "cohorts" / "bad.h5ad",
                dropped=results / "qc" / "bad.dropped.tsv",
            )
    assert type(caught.value) is case.error, caught.value
    message = str(caught.value)
    for text in (["cohort 'bad'"] if case.cohort else []) + case.expected:
        assert text in message, message
    assert not [p for p in results.rglob("*") if p.is_file()]  # no output, no .part file


# --- harmless variants give the same cohort ---------------------------------------------------


def latin1_names(ctx):
    """A sample id with an accent, both files written in latin-1 (not UTF-8)."""
    old = ctx.clinical["sample"].iloc[0]
    ctx.clinical.loc[0, "sample"] = "Patient-\u00e9\u00e8"
    ctx.expression = ctx.expression.rename(columns={old: "Patient-\u00e9\u00e8"})
    ctx.raw["expr.tsv"] = tsv(ctx.expression, index=True).encode("latin-1")
    ctx.raw["clinical.tsv"] = tsv(ctx.clinical, index=False).encode("latin-1")


def padded_and_quoted(ctx):
    """Cells padded with spaces, text quoted, numbers quoted, comma-separated."""
    ctx.entry.update(expression="expr.csv", clinical="clinical.csv")
    lines = tsv(ctx.expression, index=True).strip().split("\n")
    ctx.raw["expr.csv"] = "\n".join(
        ",".join(
            f' "{cell}" ' if n % 2 else f"  {cell} " for n, cell in enumerate(line.split("\t"))
        )
        for line in lines
    )
    clinical_text = tsv(ctx.clinical, index=False).strip().split("\n")
    ctx.raw["clinical.csv"] = "\n".join(
        ",".join(f' "{cell}"  ' for cell in line.split("\t")) for line in clinical_text
    )


def r_row_names(ctx):
    """R's write.table(x, sep='\\t'): no header cell above the row names."""
    text = tsv(ctx.expression, index=True)
    ctx.raw["expr.tsv"] = text.split("\t", 1)[1]


def trailing_delimiter(ctx):
    lines = tsv(ctx.expression, index=True).strip().split("\n")
    ctx.raw["expr.tsv"] = "\n".join(line + "\t" for line in lines) + "\n"


def samples_by_genes_csv_gz(ctx):
    swap_orientation(ctx)
    ctx.entry.update(orientation="samples_by_genes", expression="expr.csv.gz")


def reordered(ctx):
    ctx.expression = ctx.expression.iloc[::-1, ::-1]
    ctx.clinical = ctx.clinical.iloc[::-1][list(ctx.clinical.columns[::-1])]


VARIANTS = {
    "utf8-bom": lambda ctx: ctx.raw.update(
        {
            "expr.tsv": b"\xef\xbb\xbf" + tsv(ctx.expression, index=True).encode(),
            "clinical.tsv": b"\xef\xbb\xbf" + tsv(ctx.clinical, index=False).encode(),
        }
    ),
    "crlf": lambda ctx: ctx.raw.update(
        {
            "expr.tsv": tsv(ctx.expression, index=True).replace("\n", "\r\n"),
            "clinical.tsv": tsv(ctx.clinical, index=False).replace("\n", "\r\n"),
        }
    ),
    "cr-only": lambda ctx: ctx.raw.update(
        {
            "expr.tsv": tsv(ctx.expression, index=True).replace("\n", "\r"),
            "clinical.tsv": tsv(ctx.clinical, index=False).replace("\n", "\r"),
        }
    ),
    "latin-1": latin1_names,
    "padded-and-quoted-csv": padded_and_quoted,
    "r-row-names": r_row_names,
    "trailing-delimiter": trailing_delimiter,
    "samples-by-genes-csv-gz": samples_by_genes_csv_gz,
    "parquet": entry(expression="expr.parquet", clinical="clinical.parquet"),
    "rows-and-columns-reordered": reordered,
}


@pytest.fixture(scope="module")
def reference(base, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference")
    ctx, config = prepare(path, base, lambda ctx: None)
    return build_cohort(config["cohorts"]["bad"], "bad", max_missing_fraction=0.2)


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=VARIANTS.keys())
def test_harmless_variants_give_the_same_cohort(tmp_path, base, reference, variant, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ctx, config = prepare(tmp_path, base, variant)
    check_config(config)
    adata, dropped = build_cohort(config["cohorts"]["bad"], "bad", max_missing_fraction=0.2)
    expected, expected_dropped = reference
    renamed = {expected.obs_names[0]: "Patient-\u00e9\u00e8"} if variant is latin1_names else {}
    expected_obs = expected.obs.rename(index=renamed)
    assert sorted(adata.obs_names) == sorted(expected_obs.index)
    assert sorted(adata.var_names) == sorted(expected.var_names)
    got = adata.to_df().loc[expected_obs.index, expected.var_names].to_numpy()
    np.testing.assert_array_equal(got, expected.to_df().to_numpy())
    pd.testing.assert_frame_equal(adata.obs.loc[expected_obs.index], expected_obs)
    assert sorted(dropped["id"]) == sorted(expected_dropped["id"])


# --- drop and log: every dropped sample or gene is listed with its reason ------------------


def test_bad_values_are_dropped_listed_and_counted(tmp_path, base, monkeypatch):
    monkeypatch.chdir(tmp_path)

    def make(ctx):
        e, c = ctx.expression.astype(float), ctx.clinical.astype(object)
        samples = list(c["sample"])
        e.iloc[10, :3] = np.inf  # infinite values: treated as missing, gene kept (3 of 124)
        e.iloc[11, :] = -np.inf  # a gene with no finite value
        e.iloc[12, :] = np.nan  # a gene with no value
        e.iloc[13, :40] = np.nan  # a gene missing in 32% of samples
        e.loc[:, samples[20]] = np.nan  # a sample without values
        e.iloc[50:150, e.columns.get_loc(samples[21])] = np.nan  # a sample missing 33% of genes
        e.loc["CXCL8"] = e.loc["IL8"] - 1  # IL8 is CXCL8's old symbol: two rows, one gene
        e = e.drop(columns=samples[22])  # a sample only in the clinical table
        e["extra_sample"] = e.iloc[:, 0]  # a sample only in the expression matrix
        c.loc[23, "status"] = None  # missing event code
        c.loc[24, "status"] = "lost"  # a code in none of the lists
        c.loc[25, "rfs_days"] = 0
        c.loc[26, "rfs_days"] = None
        c.loc[27, "rfs_days"] = "inf"
        ctx.expression, ctx.clinical = e, c

    ctx, config = prepare(tmp_path, base, make)
    check_config(config)
    out = tmp_path / "results"
    ingest(
        config["cohorts"]["bad"],
        "bad",
        {},
        max_missing_fraction=0.2,
        h5ad=out / "bad.h5ad",
        dropped=out / "bad.dropped.tsv",
    )
    import anndata as ad

    adata = ad.read_h5ad(out / "bad.h5ad")
    dropped = pd.read_csv(out / "bad.dropped.tsv", sep="\t", keep_default_na=False)
    reasons = dict(zip(dropped["id"], dropped["reason"], strict=True))
    samples = list(ctx.clinical["sample"])
    genes = lookup_symbols(ctx.expression.index[10:14])[
        "symbol"
    ].tolist()  # genes are listed by symbol
    expected = {
        samples[20]: "expression missing for more than 20% of genes",
        samples[21]: "expression missing for more than 20% of genes",
        samples[22]: "not in the expression matrix",
        "extra_sample": "not in the clinical table",
        samples[23]: "missing event code",
        samples[24]: "event code lost is not a configured value",
        samples[25]: "follow-up time <= 0",
        samples[26]: "missing or non-numeric follow-up time",
        samples[27]: "follow-up time is infinite",
        genes[1]: "no expression value in any sample",
        genes[2]: "no expression value in any sample",
        genes[3]: "missing or non-numeric in more than 20% of samples",
        "CXCL8": "duplicate symbol after mapping (another row has the higher mean)",
    }
    for name, reason in expected.items():
        assert reasons.get(name) == reason, (name, reasons.get(name))
    assert genes[0] in adata.var_names  # 3 infinite values imputed, gene kept
    assert not set(expected) & set(adata.obs_names)
    assert adata.n_obs == 124 - 8
    assert np.isfinite(adata.X).all()
    provenance = adata.uns["provenance"]
    assert provenance["dropped_samples"] == (dropped["kind"] == "sample").sum() == 9
    assert provenance["dropped_genes"] == (dropped["kind"] == "gene").sum()
    assert provenance["imputed_values"] >= 3


# --- end to end: exit status, the message in the log and at the end, nothing half-written --


@pytest.mark.workflow
def test_failed_cohort_stops_alone_and_a_fixed_rerun_completes(tmp_path, base):
    """Three table cohorts: `good`; `no_events`, whose relapsed patients have no expression (an
    endpoint with zero events: models skipped with the reason); `bad`, with a non-numeric cell."""
    data = tmp_path / "data"
    data.mkdir()
    expression, clinical = base
    expression.to_csv(data / "expr.tsv", sep="\t")
    clinical.to_csv(data / "clinical.tsv", sep="\t", index=False)
    censored = clinical.loc[clinical["status"] == "censored", "sample"]
    expression[list(censored)].to_csv(data / "expr_no_events.tsv", sep="\t")
    broken = expression.astype(object)
    broken.iloc[3, 2] = "n.d."
    broken.to_csv(data / "expr_bad.tsv", sep="\t")
    good = table_entry(tmp_path) | {"expression": "data/expr.tsv", "clinical": "data/clinical.tsv"}
    config = config_with(
        {
            "good": good,
            "no_events": good | {"expression": "data/expr_no_events.tsv"},
            "bad": good | {"expression": "data/expr_bad.tsv"},
        }
    )
    config["scoring"]["methods"] = ["zmean"]
    path = workdir(tmp_path, config)
    shutil.copytree(REPO / "profiles", path / "profiles")  # keep-going, show-failed-logs
    result = snakemake(path)
    assert result.returncode == 1, result.stderr[-3000:]
    message = "non-numeric expression values"
    log = (path / "logs" / "cohort" / "bad.log").read_text()
    assert log.startswith(f"ERROR {message}")
    assert "line 5" in log
    assert "Traceback" not in log
    assert "cohort 'bad', file data/expr_bad.tsv" in log
    assert f"Logfile logs/cohort/bad.log:\n{'=' * 80}\nERROR {message}" in result.stderr
    results = path / "results"
    assert not list(results.rglob("*bad*"))  # no output of the failed cohort, no .part file
    assert not (results / "tables").exists()  # the run-wide summary needs every cohort
    cox = pd.read_csv(results / "models" / "no_events" / "cox.tsv", sep="\t")
    assert cox["hr"].isna().all()
    assert (cox["note"] == "not fitted: no events of interest").all()
    assert "no event of interest (RFS)" in (path / "logs" / "cohort" / "no_events.log").read_text()

    (path / "data" / "expr_bad.tsv").write_text((data / "expr.tsv").read_text())
    rerun = snakemake(path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for rule in ("cohort", "summarise"):  # only the failed cohort, then the summary
        assert rerun.stderr.count(f"localrule {rule}:") == 1, rerun.stderr[-3000:]
    cohorts = pd.read_csv(results / "tables" / "cohorts.tsv", sep="\t").set_index("cohort")
    assert cohorts.loc["no_events", "events"] == 0
    assert cohorts.loc["no_events", "dropped_samples"] == (clinical["status"] == "relapse").sum()
    skipped = pd.read_csv(results / "tables" / "skipped.tsv", sep="\t")
    skipped = skipped[(skipped["cohort"] == "no_events") & (skipped["analysis"] == "cox")]
    assert len(skipped) == 3 * 2
    assert skipped["reason"].str.contains("no events").all()


@pytest.mark.workflow
def test_config_error_stops_the_real_run_before_any_job(tmp_path, base):
    expression, clinical = base
    (tmp_path / "data").mkdir()
    expression.to_csv(tmp_path / "data" / "expr.tsv", sep="\t")
    clinical.to_csv(tmp_path / "data" / "clinical.tsv", sep=",", index=False)  # not a TSV
    entry_ = table_entry(tmp_path) | {
        "expression": "data/expr.tsv",
        "clinical": "data/clinical.tsv",
    }
    config = config_with({"mine": entry_})
    path = workdir(tmp_path, config)
    result = snakemake(path)
    assert result.returncode == 1
    for text in (
        "InputDataError",
        "the file is not tab-separated as its name says",
        "cohort 'mine', file data/clinical.tsv, line 1, config key 'cohorts.mine.clinical'",
        "fix:      rename the file",
    ):
        assert text in result.stderr, result.stderr[-3000:]
    assert not (path / "results").exists()
    assert not (path / "logs").exists()
    assert yaml.safe_load((path / "config" / "config.yaml").read_text()) == config


# --- rule logs ---------------------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def test_rule_log_holds_the_message_without_a_traceback(tmp_path, capsys, restore_logging):
    from selfseed.logs import failed_job_messages, logged

    log = tmp_path / "logs" / "ingest" / "bad.log"
    log.parent.mkdir(parents=True)
    with pytest.raises(SystemExit) as stop, logged(log):
        raise InputDataError(
            "the file is empty", cohort="bad", file="data/expr.tsv", fix="export it"
        )
    assert stop.value.code == 1
    text = log.read_text()
    assert text.startswith("ERROR the file is empty\n  where:    cohort 'bad', file data/expr.tsv")
    assert "Traceback" not in text
    assert "export it" in capsys.readouterr().err
    other = tmp_path / "logs" / "score" / "bug.log"
    other.parent.mkdir(parents=True)
    with pytest.raises(KeyError), logged(other):
        {}["missing"]
    text = other.read_text()
    assert text.startswith("ERROR unexpected failure (KeyError: 'missing')")
    assert "Traceback" in text
    main = tmp_path / "snakemake.log"
    main.write_text(
        f"Error in rule ingest:\n    log: {log} (check log file(s) for error details)\n"
    )
    summary = failed_job_messages([str(main)])
    assert summary.startswith("selfseed: 1 job(s) failed:")
    assert "the file is empty" in summary
    assert "fix:      export it" in summary
    assert failed_job_messages([]) == ""


# --- decompression bombs placed locally: refused at once, in bounded memory -------------------

READ_IN_CHILD = """
import json, sys
from selfseed.config import check_config
from selfseed.errors import SelfseedError
from selfseed.pipeline import ingest
config = json.loads({config!r})
try:
    if {stage!r} == "config":
        check_config(config)
    else:
        ingest(config["cohorts"]["bad"], "bad", {{}}, max_missing_fraction=0.2,
               h5ad="results/bad.h5ad", dropped="results/bad.dropped.tsv",
               limits=config["download"])
except SelfseedError as error:
    print(type(error).__name__, error, file=sys.stderr)
    sys.exit(1)
"""


@pytest.mark.parametrize(("stage", "key"), [("config", "clinical"), ("ingest", "expression")])
def test_gzip_bomb_table_is_refused_in_bounded_memory(tmp_path, base, stage, key):
    """A clinical table (read before any job) or an expression matrix (read at ingest) that is a
    gzip bomb: 1 GB of rows in 4 MB. Read whole it would take over 2 GB (the expression matrix, as
    floats, over 4 GB); with `download.max_inflation_ratio: 10` it is refused once it has inflated
    100 MB (10 times its size, but at least 100 MB), and nothing is written."""
    import json

    from conftest import gzip_bomb, run_measured

    def make(ctx):
        ctx.entry[key] = f"{key}.tsv.gz"
        if key == "clinical":
            head, line = tsv(ctx.clinical, index=False), "S0\t100.0\tcensored\t1\t2\n"
        else:
            head = tsv(ctx.expression.iloc[:3], index=True)
            line = "IL6" + "\t0" * ctx.expression.shape[1] + "\n"
        ctx.raw[f"{key}.tsv.gz"] = gzip_bomb(line.encode(), head=head.encode())
        ctx.config["download"] = {"max_inflation_ratio": 10}

    ctx, config = prepare(tmp_path, base, make)
    code = READ_IN_CHILD.format(config=json.dumps(config), stage=stage)
    child = run_measured(code, cwd=tmp_path)
    assert child["returncode"] == 1, child["stderr"]
    message = child["stderr"]
    assert message.startswith("InflationError the compressed file inflates to more than")
    for text in ("cohort 'bad'", f"{key}.tsv.gz", f"cohorts.bad.{key}", "max_inflation_ratio"):
        assert text in message, message
    assert child["peak_mb"] < 1000, child["peak_mb"]
    assert not (tmp_path / "results").exists()


# --- environment failures: the normal message, the job and the file named, nothing half-written

WRITE_IN_CHILD = """
import json, os, sys
from pathlib import Path
import numpy as np, pandas as pd
out = Path(sys.argv[1] if len(sys.argv) > 1 else {out!r})
from selfseed.logs import logged
try:
    with logged({log!r}, job="summarise", cohort="gse1992"):
{write}
finally:
    print(json.dumps(sorted(os.listdir(out))))
"""
WRITES = {
    "table": (
        "cox.tsv",
        "from selfseed.files import write_tsv\n"
        "write_tsv(pd.DataFrame(np.arange(400_000).reshape(-1, 4)), out / 'cox.tsv')",
    ),
    "h5ad": (
        "gse1992.h5ad",
        "import anndata as ad\nfrom selfseed.files import write_h5ad\n"
        "write_h5ad(ad.AnnData(np.ones((300, 300))), out / 'gse1992.h5ad')",
    ),
    "report page": (
        "summary.html",
        "from selfseed.files import write_text\n"
        "write_text('<p>x</p>' * 50_000, out / 'summary.html')",
    ),
    "figure": (
        "km.png",
        "import matplotlib.pyplot as plt\nfrom selfseed.plots import save\n"
        "fig = plt.figure(figsize=(6, 6))\n"
        "fig.gca().imshow(np.random.default_rng(0).random((300, 300)))\n"
        "save(fig, out / 'km.png')",
    ),
}


@pytest.mark.parametrize("kind", WRITES)
@pytest.mark.parametrize(
    ("disk", "problem"),
    [("full", "the disk is full"), ("read-only", "the file system is read-only")],
)
def test_full_or_read_only_disk_is_named_and_leaves_no_part_file(tmp_path, kind, disk, problem):
    """Each atomic writer on a real full (64 kB tmpfs) or read-only file system: the job stops with
    one message naming the job, the cohort and the file, no traceback, and no .part file."""
    from conftest import run_on_small_disk, small_disk_available

    if not small_disk_available():
        pytest.skip("cannot mount a private tmpfs here (unshare -rm)")
    out, log = tmp_path / "results", tmp_path / "summarise.log"
    out.mkdir()
    name, write = WRITES[kind]
    code = WRITE_IN_CHILD.format(
        out=str(out), log=str(log), write="\n".join("        " + line for line in write.split("\n"))
    )
    child = run_on_small_disk(code, out, options="ro" if disk == "read-only" else "")
    assert child.returncode == 1, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "[]"  # nothing left, no .part file
    text = log.read_text()
    assert text.startswith(f"ERROR {problem}\n"), text
    assert f"job summarise, cohort 'gse1992', file {out / name}" in text
    assert "Traceback" not in text
    assert "unexpected failure" not in text + child.stderr
    assert problem in child.stderr
    assert "fix:" in text


def test_out_of_memory_is_an_environment_failure_not_a_bug(tmp_path, restore_logging, capsys):
    from selfseed.logs import logged

    log = tmp_path / "score.log"
    with pytest.raises(SystemExit) as stop, logged(log, job="score", cohort="gse1992"):
        bytearray(1 << 62)  # a real MemoryError: more than any machine can give
    assert stop.value.code == 1
    text = log.read_text()
    assert text.startswith(
        "ERROR out of memory (MemoryError)\n  where:    job score, cohort 'gse1992'"
    )
    assert "mem_mb" in text
    assert "Traceback" not in text
    assert "unexpected failure" not in text
    assert "out of memory" in capsys.readouterr().err


@pytest.mark.workflow
@pytest.mark.parametrize("ending", ["/", "/.."])
def test_url_without_a_file_name_stops_before_any_job(tmp_path, ending):
    """A Xena URL ending in '/' (a folder) or '/..': a ConfigError naming the cohort and key when
    snakemake reads the config, not MissingInputException or an 'unexpected failure' later."""
    (tmp_path / "cdr.xlsx").write_bytes(b"")  # the preset table must exist; it is not read here
    url = "https://tcga-xena-hub.s3.us-east-1.amazonaws.com/download/TCGA.HNSC.sampleMap"
    config = config_with(
        {
            "hnsc": {
                "source": "xena",
                "expression": url + ending,
                "phenotype": url + "/HNSC_clinicalMatrix",
                "endpoint": {"preset": "tcga_cdr", "table": "cdr.xlsx", "cancer_type": "HNSC"},
            }
        }
    )
    result = snakemake(workdir(tmp_path, config), "--dry-run")
    output = result.stdout + result.stderr  # a dry run prints to stdout
    assert result.returncode == 1
    for text in (
        "ConfigError",
        "cannot name a cache file for this URL",
        "cohort 'hnsc', config key 'cohorts.hnsc.expression'",
        repr(url + ending),
    ):
        assert text in output, output[-3000:]
    assert "MissingInputException" not in output
    assert "unexpected" not in output


# --- wide files: a header line longer than 1 MiB is read whole ------------------------------


def wide_cohort(path, orientation):
    """genes_by_samples: 100,000 samples (TCGA-like ids) x 8 genes; samples_by_genes: 62,700
    Ensembl columns (versioned ids) x 30 samples. Either header line is over 1 MiB."""
    rng = np.random.default_rng(15)
    if orientation == "genes_by_samples":
        samples = [f"TCGA-{i // 10_000:02d}-{i % 10_000:04d}-01" for i in range(100_000)]
        genes = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1", "GAPDH", "ACTB", "TP53"]
    else:
        samples = [f"S{i}" for i in range(30)]
        genes = [f"ENSG{i:011d}.{i % 20 + 1}" for i in range(62_700)]
        genes[:5] = [
            "ENSG00000136244.12",
            "ENSG00000169429.11",
            "ENSG00000196611.5",
            "ENSG00000075618.18",
            "ENSG00000163739.5",
        ]  # IL6 CXCL8 MMP1 FSCN1 CXCL1
    values = pd.DataFrame(
        rng.normal(8, 2, (len(genes), len(samples))).round(3), index=genes, columns=samples
    )
    values.index.name = "gene"
    frame = values if orientation == "genes_by_samples" else values.T.rename_axis("sample")
    lines = ["\t".join([frame.index.name, *frame.columns])] + [
        "\t".join([name, *map(repr, row.tolist())])
        for name, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]  # as to_csv writes it, without its per-column cost
    with gzip.open(path / "expr.tsv.gz", "wt", compresslevel=1) as handle:
        handle.write("\n".join(lines) + "\n")
    clinical = pd.DataFrame(
        {
            "sample": samples,
            "rfs_days": rng.integers(30, 3000, len(samples)),
            "status": rng.choice(["relapse", "censored"], len(samples)),
        }
    )
    clinical.to_csv(path / "clinical.tsv", sep="\t", index=False)
    entry = table_entry(path) | {
        "expression": str(path / "expr.tsv.gz"),
        "orientation": orientation,
        "covariates": [],
    }
    return entry, values


@pytest.mark.parametrize("orientation", ["genes_by_samples", "samples_by_genes"])
def test_header_longer_than_1_mib_is_read_whole(tmp_path, orientation):
    """Such a file was rejected ('the data rows have more cells than the header'): the header
    was cut at 1 MiB."""
    from selfseed.sources.table import read_expression, read_header

    entry, values = wide_cohort(tmp_path, orientation)
    header = read_header(entry["expression"], cohort="wide", key="cohorts.wide.expression")
    assert len("\t".join(header).encode()) > 1 << 20
    config = {"cohorts": {"wide": entry}}
    validate(config, SCHEMA)
    check_config(config)  # reads the whole header: orientation and sample ids agree
    expression = read_expression(entry["expression"], cohort="wide", key="k")
    if orientation == "samples_by_genes":
        expression = expression.T
    assert expression.shape == values.shape
    assert list(expression.columns) == list(values.columns)
    np.testing.assert_array_equal(expression.to_numpy(), values.to_numpy())


def test_header_without_a_line_end_within_64_mib_is_an_error(tmp_path):
    from selfseed.sources.table import read_header

    path = tmp_path / "expr.tsv"
    path.write_text("gene" + "\tS" * (33 << 20))  # one 66 MiB line, never ending
    with pytest.raises(InputDataError, match="first line is longer than the longest header"):
        read_header(path, cohort="wide", key="cohorts.wide.expression")


# --- config values YAML or the schema read differently from what the user meant -------------


def rename_cohort(config, name):
    config["cohorts"] = {name: config["cohorts"]["gse1992"]}


NAMES = {
    "cohort": lambda c, name: rename_cohort(c, name),
    "signature": lambda c, name: c["signatures"].update({name: ["IL6", "CXCL8"]}),
    "endpoint": lambda c, name: c["cohorts"]["gse1992"]["endpoint"].update(name=name),
    "covariate": lambda c, name: c["cohorts"]["gse1992"]["covariates"][0].update(name=name),
    "treatment": lambda c, name: c["cohorts"]["gse1992"].update(
        treatment={"name": name, "column": "fac_er_positive"}
    ),
}


@pytest.mark.parametrize("kind", NAMES)
def test_name_ending_in_a_line_break_is_refused(kind):
    """'RFS\\n' (as a YAML block scalar writes it) passed '^...$': Python's $ matches before a
    final line break. The patterns end in \\Z; both schema checks use them."""
    from snakemake.exceptions import WorkflowError

    from selfseed.config import check_schema

    name = yaml.safe_load(f"name: |\n  {kind}_x\n")["name"]
    assert name == f"{kind}_x\n"
    config = survset_config()
    NAMES[kind](config, name)
    with pytest.raises(ConfigError, match="ends with a line break") as raised:
        check_schema(config, SCHEMA)
    assert repr(name) in str(raised.value)
    with pytest.raises(WorkflowError, match="does not match"):
        validate(config, SCHEMA)  # snakemake's own check of the same schema file
    config = survset_config()
    NAMES[kind](config, name.strip())
    check_schema(config, SCHEMA)


@pytest.mark.parametrize("written", ["TRUE", "yes", "off"])
def test_unquoted_yaml_boolean_event_code_says_quote_it(written):
    from selfseed.config import check_schema

    config = survset_config()
    endpoint = config["cohorts"]["gse1992"]["endpoint"]
    endpoint["event_values"] = yaml.safe_load(f"[{written}]")  # what YAML makes of it
    with pytest.raises(ConfigError, match="YAML read an unquoted word as true/false") as raised:
        check_schema(config, SCHEMA)
    message = str(raised.value)
    assert "cohorts.gse1992.endpoint.event_values.0" in message
    assert "quote it" in message
    assert "is not of type" not in message


# --- .gmt gene set names become file names: made safe --------------------------------------

GMT = (
    "../../../../elsewhere/x\ttraversal\tIL6\tCXCL8\n"
    "Cell Cycle, Mitotic\tR-HSA-69278 (Reactome)\tMMP1\tFSCN1\n"
    "Apoptosis%WikiPathways_20210110%WP254%Homo sapiens\thttp://www.wikipathways.org/WP254\t"
    "CXCL1\tIL6\n"
)
SAFE_NAMES = [
    "elsewhere_x",
    "Cell_Cycle_Mitotic",
    "Apoptosis_WikiPathways_20210110_WP254_Homo_sapiens",
]


@pytest.mark.workflow
def test_gmt_names_become_safe_signature_names_and_files_stay_in_results(tmp_path):
    """A traversal name and honest Reactome/WikiPathways names (spaces, '/', ',', '%') become
    names of letters, digits and _: the forest plots are results/plots/forest/<name>.png."""
    from selfseed.signatures import load_signatures

    (tmp_path / "sets.gmt").write_text(GMT)
    signatures = load_signatures({"attractor": ["IL6", "CXCL8"]}, tmp_path / "sets.gmt")
    assert list(signatures) == ["attractor", *SAFE_NAMES]
    assert signatures["Cell_Cycle_Mitotic"] == ["MMP1", "FSCN1"]
    config = survset_config()
    config["signatures_gmt"] = "sets.gmt"
    config["primary"] = {"signature": "elsewhere_x"}  # its forest plot is a file of its own
    path = workdir(tmp_path, config)
    result = snakemake(path, "--summary")
    assert result.returncode == 0, result.stderr[-3000:]
    outputs = [line.split("\t")[0] for line in result.stdout.splitlines()[1:] if line.strip()]
    assert "results/plots/forest/elsewhere_x.png" in outputs
    results = (path / "results").resolve()
    assert all((path / out).resolve().is_relative_to(results) for out in outputs), outputs


@pytest.mark.parametrize(
    ("lines", "problem", "found"),
    [
        (
            "A B\tx\tIL6\nA-B\tx\tMMP1\n",
            "two .gmt gene sets get the same signature name",
            "'A B' (line 1) and 'A-B' (line 2) -> 'A_B'",
        ),
        (
            "mine\tx\tIL6\nMINE\tx\tMMP1\n",
            "two .gmt gene sets get the same signature name",
            "'mine' (line 1) and 'MINE' (line 2)",
        ),
        ("//\tx\tIL6\n", "gives no usable signature name", "'//'"),
        ("Attractor\tx\tIL6\n", "signature defined twice", "'Attractor' in the .gmt file"),
    ],
)
def test_gmt_name_clash_or_without_letters_is_an_error_naming_the_lines(
    tmp_path, lines, problem, found
):
    from selfseed.signatures import load_signatures

    (tmp_path / "sets.gmt").write_text(lines)
    with pytest.raises(ConfigError, match=problem) as raised:
        load_signatures({"attractor": ["IL6", "CXCL8"]}, tmp_path / "sets.gmt")
    assert found in str(raised.value)
    assert "sets.gmt" in str(raised.value)


@pytest.mark.workflow
@pytest.mark.parametrize(
    ("text", "problem", "line", "fix"),
    [
        (
            'cohorts:\n  x:\n    description: !!python/object/apply:os.system ["touch pwned"]\n',
            "the config uses a YAML tag that would build a Python object",
            3,
            "remove the tag",
        ),
        (
            "min_genes: 2\ncohorts:\n\tx: {}\n",
            "the config file is not valid YAML",
            3,
            "indent with spaces, not tabs",
        ),
    ],
    ids=["python-tag", "tab"],
)
def test_yaml_error_in_the_config_names_the_line_and_the_problem(
    tmp_path, text, problem, line, fix
):
    """Snakemake says 'not valid JSON or YAML ... do not mix whitespace and tab indentation' for
    any YAML error; the config is read first and the message says what is wrong."""
    path = workdir(tmp_path, {})
    (path / "config" / "config.yaml").write_text(text)
    result = snakemake(path, "--dry-run")
    output = result.stdout + result.stderr
    assert result.returncode == 1
    for expected in ("ConfigError", problem, f"file config/config.yaml, line {line}", fix):
        assert expected in output, output[-3000:]
    assert "tab indentation" not in output
    assert not (path / "pwned").exists()


@pytest.mark.workflow
def test_retry_of_a_job_that_failed_on_its_input_ends_at_once(tmp_path):
    """With retries (profiles/slurm sets `retries: 1` for memory and time kills), a job that failed
    on its input is started again by Snakemake, but its second attempt stops at once with the first
    attempt's message instead of reading the same input again. Fixed and rerun, it runs."""
    (tmp_path / "data").mkdir()
    genes = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1", "GAPDH"]
    samples = [f"S{i}" for i in range(12)]
    expression = pd.DataFrame(
        7.0 + np.arange(72).reshape(6, 12) / 10, index=genes, columns=samples
    ).astype(object)
    expression.index.name = "gene"
    expression.loc["IL6", "S3"] = "n.d."
    expression.to_csv(tmp_path / "data" / "expr.tsv", sep="\t")
    pd.DataFrame({"sample": samples, "months": range(10, 22), "status": [1, 0] * 6}).to_csv(
        tmp_path / "data" / "clinical.tsv", sep="\t", index=False
    )
    config = config_with(
        {
            "broken": table_entry(tmp_path)
            | {
                "expression": "data/expr.tsv",
                "clinical": "data/clinical.tsv",
                "covariates": [],
                "endpoint": {
                    "name": "RFS",
                    "label": "relapse-free survival",
                    "time_column": "months",
                    "time_unit": "months",
                    "event_column": "status",
                    "event_values": [1],
                    "censored_values": [0],
                },
            }
        }
    )
    path = workdir(tmp_path, config)
    result = snakemake(path, "--retries", "1")
    assert result.returncode == 1
    assert result.stderr.count("Trying to restart job") == 1
    log = (path / "logs" / "cohort" / "broken.log").read_text()
    assert log.startswith("ERROR non-numeric expression values")
    assert log.count("ERROR") == 1
    assert "retry:    attempt 2 not run: attempt 1 failed on its input" in log
    assert "Traceback" not in log
    expression.loc["IL6", "S3"] = 7.5
    expression.to_csv(path / "data" / "expr.tsv", sep="\t")
    rerun = snakemake(path, "--retries", "1", "--until", "cohort")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert not (path / "logs" / "cohort" / "broken.log.input_error").exists()


def test_logged_second_attempt_repeats_the_input_error_and_not_a_memory_error(
    tmp_path, restore_logging
):
    from selfseed.logs import logged

    log = tmp_path / "ingest.log"
    with pytest.raises(SystemExit), logged(log, job="ingest", cohort="x"):
        raise InputDataError("the file is empty", file="data/x.tsv")
    with pytest.raises(SystemExit), logged(log, job="ingest", cohort="x", attempt=2):
        raise AssertionError("attempt 2 must not run")
    assert log.read_text().startswith("ERROR the file is empty\n  where:    job ingest, cohort 'x'")
    with pytest.raises(SystemExit), logged(log, job="ingest", cohort="x"):
        bytearray(1 << 62)  # out of memory: more memory may help, so attempt 2 runs
    ran = []
    with logged(log, job="ingest", cohort="x", attempt=2):
        ran.append(True)
    assert ran == [True]
