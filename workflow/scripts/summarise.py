from selfseed.logs import job_log
from selfseed.pipeline import MODEL_TABLES, summarise
from selfseed.report import build

outputs = dict(snakemake.output.items())
tables = {name: outputs[name] for name in snakemake.params.descriptions}


def by_prefix(prefix):
    return {
        key.removeprefix(prefix): path for key, path in outputs.items() if key.startswith(prefix)
    }


with job_log(snakemake):
    cohort_provenance, figures_drawn = summarise(
        {name: snakemake.input[name] for name in MODEL_TABLES},
        {name: snakemake.input[name] for name in ("coverage", "patients", "record")},
        snakemake.params.sources,
        snakemake.params.statistics,
        snakemake.params.primary,
        tables=tables,
        plots={
            "forest": outputs["forest"],
            "coverage": outputs["coverage_plot"],
            "correlation": outputs["correlation_plot"],
        },
        threads=snakemake.threads,
    )
    build(
        tables,
        cohort_provenance,
        config=snakemake.params.config,
        configfiles=snakemake.params.configfiles,
        descriptions=snakemake.params.descriptions,
        outputs={
            **{key: outputs[key] for key in ("summary", "provenance", "provenance_html")},
            "tables": by_prefix("table_"),
            "forest": by_prefix("signature_forest_"),
        },
    )
    figures_drawn()
