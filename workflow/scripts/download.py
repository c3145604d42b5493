from selfseed.logs import job_log
from selfseed.pipeline import download

with job_log(snakemake):
    download(snakemake.params.url, snakemake.output[0], snakemake.params.limits)
