from urllib.parse import unquote

from selfseed.config import cohort_sources
from selfseed.contracts import COHORT_SUMMARY, MODEL_TABLES, svg_copies
from selfseed.logs import job_log
from selfseed.pipeline import summarise
from selfseed.report import build
from selfseed.whichcells import which_cells

outputs = dict(snakemake.output.items())
tables = {name: outputs[name] for name in snakemake.params.descriptions}


def by_prefix(prefix):
    return {
        key.removeprefix(prefix): path for key, path in outputs.items() if key.startswith(prefix)
    }


with job_log(snakemake), svg_copies(snakemake.config["figures"]["svg"]):
    # the "Which cells" tables, figure and page, beside the summary (it needs none of its tables)
    cells_done = which_cells(
        dict(snakemake.input.items()),
        snakemake.config,
        tables=tables,
        outputs={"forest": outputs["composition_forest"], "page": outputs["cells_page"]},
        parallel=snakemake.threads > 1,
    )
    cohort_provenance, figures_drawn = summarise(
        {name: snakemake.input[name] for name in MODEL_TABLES},
        {name: snakemake.input[name] for name in COHORT_SUMMARY},
        cohort_sources(snakemake.config),
        snakemake.config["statistics"],
        snakemake.config["primary"],
        tables=tables,
        plots={
            "forest": outputs["forest"],
            "coverage": outputs["coverage_plot"],
            "correlation": outputs["correlation_plot"],
            "gene_forest": outputs["gene_forest"],
        },
        planning=snakemake.config["planning"],
        threads=snakemake.threads,
    )
    cells_done()
    build(
        tables,
        cohort_provenance,
        config=snakemake.config,
        configfiles=[unquote(path) for path in snakemake.params.configfiles],
        descriptions=snakemake.params.descriptions,
        outputs={
            **{key: outputs[key] for key in ("summary", "provenance", "provenance_html")},
            "tables": by_prefix("table_"),
            "forest": by_prefix("signature_forest_"),
        },
    )
    figures_drawn()
