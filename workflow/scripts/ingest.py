from selfseed.logs import logged
from selfseed.pipeline import ingest

with logged(snakemake.log[0], job=snakemake.rule, cohort=snakemake.wildcards.get("cohort")):
    ingest(
        snakemake.params.entry,
        snakemake.wildcards.cohort,
        dict(snakemake.input.items()),
        max_missing_fraction=snakemake.params.max_missing_fraction,
        h5ad=snakemake.output.h5ad,
        dropped=snakemake.output.dropped,
        downloads=snakemake.params.downloads,
        limits=snakemake.params.limits,
    )
