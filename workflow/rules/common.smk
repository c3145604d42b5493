from snakemake.utils import validate

from selfseed.config import check_config, check_schema
from selfseed.signatures import load_signatures

check_schema(config, f"{workflow.current_basedir}/../schemas/config.schema.yaml")
validate(config, schema="../schemas/config.schema.yaml")
check_config(config)

COHORTS = sorted(config["cohorts"])
SIGNATURES = load_signatures(config["signatures"], config["signatures_gmt"])
TABLES = {
    name: f"results/tables/{name}.tsv"
    for name in ("cox", "km", "coverage", "cohorts", "skipped", "versions")
}


wildcard_constraints:
    cohort="|".join(COHORTS),


def cohort_entry(wildcards):
    """The config entry of the cohort being processed."""
    return config["cohorts"][wildcards.cohort]


def ingest_inputs(wildcards):
    """Input files of a cohort's source (none for survset: its data ship in the package)."""
    entry = config["cohorts"][wildcards.cohort]
    if entry["source"] == "table":
        return {"expression": entry["expression"], "clinical": entry["clinical"]}
    return {}


def cohort_covariates(wildcards):
    return config["cohorts"][wildcards.cohort]["covariates"]


def cohort_sources():
    """Per cohort: source and description, for the cohorts table."""
    return {
        name: {"source": entry["source"], "description": entry["description"]}
        for name, entry in config["cohorts"].items()
    }


def final_outputs():
    return [
        *TABLES.values(),
        "results/plots/forest.png",
        *expand("results/plots/km/{cohort}.png", cohort=COHORTS),
    ]
