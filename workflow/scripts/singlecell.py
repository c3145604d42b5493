from selfseed.cells import analyse_reference
from selfseed.logs import job_log

with job_log(snakemake):
    analyse_reference(
        snakemake.config,
        snakemake.wildcards.reference,
        outputs=dict(snakemake.output.items()),
    )
