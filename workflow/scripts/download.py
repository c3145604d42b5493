from selfseed.logs import logged
from selfseed.pipeline import download

with logged(snakemake.log[0], job=snakemake.rule, cohort=snakemake.wildcards.get("cohort")):
    download(snakemake.params.url, snakemake.output[0], snakemake.params.limits)
