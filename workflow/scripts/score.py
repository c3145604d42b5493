from selfseed.logs import job_log
from selfseed.pipeline import score

with job_log(snakemake):
    score(
        snakemake.input[0],
        snakemake.params.signatures,
        snakemake.params.scoring,
        min_genes=snakemake.params.min_genes,
        scores_h5ad=snakemake.output.h5ad,
        scores_tsv=snakemake.output.tsv,
    )
