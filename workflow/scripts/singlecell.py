from selfseed.cells import analyse_reference
from selfseed.contracts import svg_copies
from selfseed.logs import job_log

with job_log(snakemake), svg_copies(snakemake.config["figures"]["svg"]):
    analyse_reference(
        snakemake.config,
        snakemake.wildcards.reference,
        outputs=dict(snakemake.output.items()),
    )
