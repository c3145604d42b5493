from selfseed.logs import job_log
from selfseed.pipeline import analyse_cohort

with job_log(snakemake):
    analyse_cohort(
        snakemake.params.entry,
        snakemake.wildcards.cohort,
        dict(snakemake.input.items()),
        snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
    )
