import sys
import re

from snakemake.utils import validate

from selfseed.config import (
    check_config,
    check_schema,
    cohort_settings,
    digest,
    inflate_limits,
    input_stats,
    public_downloads,
)
from selfseed.contracts import (
    COHORT_PLOTS,
    COHORT_RANKING,
    COHORT_SUMMARY,
    GENE_PAGE,
    GENE_PLOTS,
    MODEL_TABLES,
    PATHWAY_TABLES,
    RUN_TABLES,
)
from selfseed.sources import source
from selfseed.signatures import load_signatures

check_schema(config, f"{workflow.current_basedir}/../schemas/config.schema.yaml")
validate(config, schema="../schemas/config.schema.yaml")
check_config(config)

COHORTS = sorted(config["cohorts"])
SIGNATURES = load_signatures(config["signatures"], config["signatures_gmt"])
TABLES = {name: f"results/tables/{name}.tsv" for name in RUN_TABLES}
CACHE = config["download"]["cache_dir"]
DOWNLOADS = public_downloads(config)
# how far compressed files may inflate (selfseed.inflate), for the download jobs
INFLATE_LIMITS = inflate_limits(config)


wildcard_constraints:
    cohort="|".join(COHORTS),


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


def cohort_digest(wildcards):
    """A digest of all the cohort job reads of the config (its entry, the run-wide settings and
    the signatures, also those of signatures_gmt) and of its local input files' sizes and change
    times: the job reruns when any of it changes (also a file written with its old modification
    time), and no config text becomes a rule parameter (the job reads the config itself).
    """
    entry = config["cohorts"][wildcards.cohort]
    inputs = ingest_inputs(wildcards).values()
    local = [path for path in inputs if not str(path).startswith(f"{CACHE}/")]
    return digest(
        {
            "entry": entry,
            "settings": cohort_settings(config, wildcards.cohort, SIGNATURES),
            "inputs": input_stats(local),
        }
    )


def model_tables(wildcards):
    """Per-cohort model tables, by table name, for the run-wide summary."""
    return {
        name: expand("results/models/{cohort}/{name}.tsv", cohort=COHORTS, name=name)
        for name in MODEL_TABLES
    }


def final_outputs():
    """Every per-cohort figure and every run-wide output (tables, report pages, figures): the
    cohort figures' paths and the run-wide rule are defined after this file is included, so they
    are looked up when called.
    """
    return [
        *expand(list(COHORT_PLOT_PATHS.values()), cohort=COHORTS),
        *rules.summarise.output,
    ]


def svg_outputs(pngs):
    """The SVG beside each of the figures `pngs` ({name: PNG path}) as outputs named {name}_svg, when
    the config's `figures.svg` asks for them (the scripts then write them: selfseed.contracts).
    """
    if not config["figures"]["svg"]:
        return {}
    return {
        f"{name}_svg": path.removesuffix(".png") + ".svg" for name, path in pngs.items()
    }


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


# the run is over: its exit need not wait for the scheduler's last wake-up timer, nor walk its heap
# (selfseed.logs.end_of_run)
onsuccess:
    from selfseed.logs import end_of_run

    end_of_run()


onerror:
    from selfseed.logs import end_of_run, failed_job_messages

    print(failed_job_messages(log), file=sys.stderr)
    end_of_run()
