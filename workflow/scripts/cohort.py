from selfseed.logs import logged
from selfseed.pipeline import analyse_cohort

with logged(snakemake.log[0]):
    analyse_cohort(
        snakemake.params.entry,
        snakemake.wildcards.cohort,
        dict(snakemake.input.items()),
        snakemake.params.settings,
        outputs=dict(snakemake.output.items()),
    )
