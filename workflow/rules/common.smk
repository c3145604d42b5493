import sys
import re

from snakemake.utils import validate

from selfseed.config import check_config, check_schema, public_downloads
from selfseed.pipeline import MODEL_TABLES
from selfseed.sources import source
from selfseed.signatures import load_signatures

check_schema(config, f"{workflow.current_basedir}/../schemas/config.schema.yaml")
validate(config, schema="../schemas/config.schema.yaml")
check_config(config)

COHORTS = sorted(config["cohorts"])
SIGNATURES = load_signatures(config["signatures"], config["signatures_gmt"])
TABLES = {
    name: f"results/tables/{name}.tsv"
    for name in (
        *MODEL_TABLES,
        "meta",
        "primary",
        "coverage",
        "cohorts",
        "skipped",
        "versions",
    )
}
COHORT_PLOTS = ("km", "cif", "spline", "scores")
CACHE = config["download"]["cache_dir"]
DOWNLOADS = public_downloads(config)
# how far compressed files may inflate (selfseed.inflate), for the download and ingest jobs
INFLATE_LIMITS = {
    key: config["download"][key] for key in ("max_inflated_mb", "max_inflation_ratio")
}


wildcard_constraints:
    cohort="|".join(COHORTS),


def cohort_entry(wildcards):
    """The config entry of the cohort being processed."""
    return config["cohorts"][wildcards.cohort]


def ingest_inputs(wildcards):
    """Input files of a cohort: local files, downloads in the cache, files shipped with selfseed
    (tcga_firehose; none for survset, whose data ship in the SurvSet package)."""
    entry = config["cohorts"][wildcards.cohort]
    origin = source(entry["source"])
    endpoint = {**origin.endpoint_defaults(entry), **entry["endpoint"]}
    inputs = origin.inputs(entry)
    downloaded = DOWNLOADS.cohort_files(wildcards.cohort)
    inputs.update({kind: f"{CACHE}/{name}" for kind, name in downloaded.items()})
    for key, name in (("table", "endpoint_table"), ("events", "events")):
        if key in endpoint:
            inputs[name] = endpoint[key]
    return inputs


def download_url(wildcards):
    """URL of a cached public file."""
    return DOWNLOADS[wildcards.file]


def cohort_settings(wildcards):
    """What a cohort job needs besides its entry: the run-wide scoring and statistics settings, the
    cohort's covariates and treatment (None without one) for the models, and for ingest the URLs of
    its downloaded files (kind -> URL: only that URL's cached file is read) and the inflation limits.
    """
    entry = config["cohorts"][wildcards.cohort]
    return {
        "max_missing_fraction": config["max_missing_fraction"],
        "signatures": SIGNATURES,
        "min_genes": config["min_genes"],
        "scoring": config["scoring"],
        "statistics": config["statistics"],
        "covariates": entry["covariates"],
        "treatment": entry.get("treatment"),
        "downloads": DOWNLOADS.cohort_urls(wildcards.cohort),
        "limits": INFLATE_LIMITS,
    }


def model_tables(wildcards):
    """Per-cohort model tables, by table name, for the run-wide summary."""
    return {
        name: expand("results/models/{cohort}/{name}.tsv", cohort=COHORTS, name=name)
        for name in MODEL_TABLES
    }


def cohort_sources():
    """Per cohort: source and description, for the cohorts table."""
    return {
        name: {"source": entry["source"], "description": entry["description"]}
        for name, entry in config["cohorts"].items()
    }


def final_outputs():
    """Every per-cohort figure and every run-wide output (tables, report pages, figures): the
    run-wide rule is defined after this file is included, so it is looked up when called.
    """
    return [
        *expand("results/plots/{plot}/{cohort}.png", plot=COHORT_PLOTS, cohort=COHORTS),
        *rules.summarise.output,
    ]


def scaled_by_input(base, per_input_mb=0):
    """A resource callable: (base + per_input_mb x input size in MB) x attempt.

    Used for mem_mb and runtime (minutes), so a job retried after an out-of-memory kill or a time-out
    (`retries` in the profile) asks for more. The mem_mb constants come from the peaks measured in
    benchmarks/README.md ("Memory declared for SLURM").
    """

    def resource(wildcards, input, attempt):
        return int((base + per_input_mb * input.size_mb) * attempt)

    return resource


def job_attempt(wildcards, attempt):
    """The attempt number, as a resource for the rule's script: on a retry (profiles/slurm) a job
    whose first attempt failed on its input ends at once with that message (selfseed.logs).
    """
    return attempt


onerror:
    from selfseed.logs import failed_job_messages

    print(failed_job_messages(log), file=sys.stderr)
