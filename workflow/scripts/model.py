from selfseed.logs import logged
from selfseed.pipeline import model

with logged(snakemake.log[0]):
    model(
        snakemake.input[0],
        snakemake.params.covariates,
        snakemake.params.methods,
        cox=snakemake.output.cox,
        km=snakemake.output.km,
        km_plot=snakemake.output.km_plot,
    )
