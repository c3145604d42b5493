"""The formats that pass between the stages, defined once and imported by the rules, the scripts and
the library: event codes, endpoint and score columns, the AnnData `uns` keys, table names and
columns, the cohort job's summary files, the figure kinds and their file formats."""

from contextlib import contextmanager
from contextvars import ContextVar

# Event codes of `event` (and of every other endpoint coding's event column).
CENSORED, EVENT, COMPETING = 0, 1, 2

# obs columns of the primary endpoint; the other codings of a preset endpoint add
# `time_months:{name}` and `event:{name}` (`coding_columns`).
TIME, EVENT_COLUMN = "time_months", "event"

SCORE_PREFIX = "score:"


def score_column(signature, method):
    """The obs column of a signature's score by a method: score:{signature}:{method}."""
    return f"{SCORE_PREFIX}{signature}:{method}"


def parse_score_column(column):
    """(signature, method) of a score column."""
    signature, method = column.removeprefix(SCORE_PREFIX).rsplit(":", 1)
    return signature, method


def score_columns(columns):
    """The score columns among `columns`, in order."""
    return [c for c in columns if str(c).startswith(SCORE_PREFIX)]


def coding_columns(name):
    """The obs columns (time, event) of an endpoint coding; None is the primary one."""
    return (TIME, EVENT_COLUMN) if name is None else (f"{TIME}:{name}", f"{EVENT_COLUMN}:{name}")


# AnnData uns keys of a cohort (results/cohorts) and its scores (results/scores).
UNS_COHORT, UNS_ENDPOINT, UNS_COUNTS, UNS_PROVENANCE = "cohort", "endpoint", "counts", "provenance"
UNS_CODINGS = "endpoint_variants"  # the other codings: name, label, role, counts
UNS_COVERAGE, UNS_SIGNATURES = "coverage", "signatures"  # per gene; per signature x method

# Per-cohort model tables (results/models/{cohort}/{name}.tsv), merged into results/tables/.
MODEL_TABLES = (
    "cox",
    "groups",
    "competing",
    "nonlinearity",
    "discrimination",
    "cutpoints",
    "interaction",
    "sensitivity",
    "locality",
)
# Run-wide tables (results/tables/{name}.tsv).
RUN_TABLES = (*MODEL_TABLES, "meta", "primary", "coverage", "cohorts", "skipped", "versions")
# Run-wide gene-level tables written by the summary: the per-gene decomposition per cohort and
# pooled, and the study planning (selfseed.drivers).
GENE_TABLES = ("genes", "power")
RUN_TABLES += GENE_TABLES
# What the summary reads of each cohort job (results/models/{cohort}/{file}).
COHORT_SUMMARY = {"coverage": "coverage.tsv", "patients": "patients.tsv", "record": "cohort.json"}
COHORT_SUMMARY["genes"] = "genes.tsv"  # the cohort's per-gene decomposition (selfseed.drivers)
# The cohort job's genome-wide ranking (results/models/{cohort}/ranking.tsv), read by the summary
# job's pathway context.
COHORT_RANKING = "ranking.tsv"
# Run-wide tables of the pathway context (results/tables/{name}.tsv): the combined ranking, prerank
# per gene set, and where each signature's genes stand in the ranking.
PATHWAY_TABLES = ("ranking", "pathways", "standing")
# Run-wide gene-level figures (results/plots/genes/{name}.png, .svg beside as below) and the report
# page that answers which genes, which pathways and how many patients (results/report/genes.html).
GENE_PLOTS = {"gene_forest": "forest", "enrichment": "enrichment"}
GENE_PAGE = "genes"
# Per-cohort figures (results/plots/{kind}/{cohort}.png, .svg beside as below), drawn by the cohort
# job at its end from the curves, Kaplan-Meier summary, median split and scores its models gave.
COHORT_PLOTS = ("km", "cif", "spline", "scores")

# Every figure is a PNG, with an SVG of it beside only where SVG_COPIES is on: the config's
# `figures: {svg: true}`, set by the rule scripts with `svg_copies` (the rules then declare the SVGs
# as outputs). Off by default: an SVG costs about half as much again as its PNG.
SVG_COPIES = ContextVar("svg_copies", default=False)


@contextmanager
def svg_copies(enabled):
    """Within the block, figures are also written as SVG when `enabled`."""
    token = SVG_COPIES.set(bool(enabled))
    try:
        yield
    finally:
        SVG_COPIES.reset(token)


# cox.tsv's first columns, which other tools read.
CONTRACT_COLUMNS = [
    "cohort",
    "endpoint",
    "signature",
    "method",
    "model",
    "n",
    "events",
    "hr",
    "ci_low",
    "ci_high",
    "p",
    "fdr",
]
COX_COLUMNS = (
    CONTRACT_COLUMNS[:2]
    + ["endpoint_label"]
    + [c for c in CONTRACT_COLUMNS[2:] if c != "fdr"]
    + ["coef", "se", "ph_p", "ph_global_p", "ph_flag", "covariates", "note"]
)
# results/qc/{cohort}.dropped.tsv
DROPPED_COLUMNS = ["kind", "id", "reason", "detail"]

# Run-wide "which cells" tables (results/tables/{name}.tsv, also in RUN_TABLES): the single-cell
# references' summaries and the bulk models adjusted for composition, written in the summarise job
# (selfseed.whichcells).
CELL_TABLES = ("cell_expression", "cell_scores", "cell_dominance", "cell_markers", "composition")
RUN_TABLES += CELL_TABLES
# The single-cell reference job (one per reference): its tables
# (results/singlecell/{reference}/{name}.tsv) and figures (results/plots/singlecell/{reference}/
# {kind}.png, .svg beside where SVG_COPIES is on).
REFERENCE_TABLES = ("expression", "scores", "dominance", "markers", "dropped")
REFERENCE_PLOTS = ("dotplot", "violins")
# results/tables/composition.tsv: the signature's HR per SD before and after adjustment for the
# reference's marker scores, per cohort and pooled (cohort = "pooled").
COMPOSITION_COLUMNS = [
    "cohort",
    "endpoint",
    "signature",
    "method",
    "hazard",
    "model",
    "covariates",
    "n",
    "events",
    "hr",
    "ci_low",
    "ci_high",
    "p",
    "coef",
    "se",
    "hr_unadjusted",
    "share_explained",
    "k",
    "cohorts",
    "tau2",
    "i2",
    "marker_genes",
    "reference",
    "note",
]
