from selfseed.logs import job_log
from selfseed.pipeline import MODEL_TABLES, model

with job_log(snakemake):
    model(
        snakemake.input[0],
        snakemake.params.covariates,
        snakemake.params.treatment,
        snakemake.params.methods,
        snakemake.params.statistics,
        tables={name: snakemake.output[name] for name in MODEL_TABLES},
        plots={name: snakemake.output[name] for name in ("km", "cif", "spline")},
    )
