from selfseed.logs import job_log
from selfseed.pipeline import ingest

with job_log(snakemake):
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
