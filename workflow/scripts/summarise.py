from urllib.parse import unquote

from selfseed.contracts import svg_copies
from selfseed.logs import job_log
from selfseed.pipeline import run_wide

with job_log(snakemake), svg_copies(snakemake.config["figures"]["svg"]):
    run_wide(
        dict(snakemake.input.items()),
        dict(snakemake.output.items()),
        snakemake.config,
        descriptions=snakemake.params.descriptions,
        configfiles=[unquote(path) for path in snakemake.params.configfiles],
        threads=snakemake.threads,
    )
