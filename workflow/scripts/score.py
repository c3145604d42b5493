from selfseed.logs import logged
from selfseed.pipeline import score

with logged(snakemake.log[0], job=snakemake.rule, cohort=snakemake.wildcards.get("cohort")):
    score(
        snakemake.input[0],
        snakemake.params.signatures,
        snakemake.params.scoring,
        min_genes=snakemake.params.min_genes,
        scores_h5ad=snakemake.output.h5ad,
        scores_tsv=snakemake.output.tsv,
    )
