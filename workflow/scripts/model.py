from selfseed.logs import logged
from selfseed.pipeline import MODEL_TABLES, model

with logged(snakemake.log[0], job=snakemake.rule, cohort=snakemake.wildcards.get("cohort")):
    model(
        snakemake.input[0],
        snakemake.params.covariates,
        snakemake.params.treatment,
        snakemake.params.methods,
        snakemake.params.statistics,
        tables={name: snakemake.output[name] for name in MODEL_TABLES},
        plots={name: snakemake.output[name] for name in ("km", "cif", "spline")},
    )
