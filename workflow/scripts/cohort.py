from selfseed.config import cohort_settings
from selfseed.logs import logged
from selfseed.pipeline import analyse_cohort

cohort = snakemake.wildcards.cohort
with logged(snakemake.log[0]):
    analyse_cohort(
        snakemake.config["cohorts"][cohort],
        cohort,
        dict(snakemake.input.items()),
        cohort_settings(snakemake.config, cohort),
        outputs=dict(snakemake.output.items()),
    )
