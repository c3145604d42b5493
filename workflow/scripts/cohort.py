from selfseed.config import cohort_settings
from selfseed.contracts import svg_copies
from selfseed.logs import job_log
from selfseed.pipeline import analyse_cohort

cohort = snakemake.wildcards.cohort
with job_log(snakemake), svg_copies(snakemake.config["figures"]["svg"]):
    analyse_cohort(
        snakemake.config["cohorts"][cohort],
        cohort,
        dict(snakemake.input.items()),
        cohort_settings(snakemake.config, cohort),
        outputs=dict(snakemake.output.items()),
    )
