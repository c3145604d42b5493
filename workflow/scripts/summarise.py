from urllib.parse import unquote

from selfseed.config import cohort_sources
from selfseed.contracts import (
    COHORT_SUMMARY,
    GENE_PLOTS,
    GENE_TABLES,
    MODEL_TABLES,
    PATHWAY_TABLES,
    svg_copies,
)
from selfseed.drivers import pathway_context, write_genes_page
from selfseed.logs import job_log
from selfseed.pipeline import aside, summarise
from selfseed.report import build
from selfseed.signatures import load_signatures
from selfseed.whichcells import which_cells

config = snakemake.config
outputs = dict(snakemake.output.items())
tables = {name: outputs[name] for name in snakemake.params.descriptions}
threads = snakemake.threads


def by_prefix(prefix):
    return {
        key.removeprefix(prefix): path for key, path in outputs.items() if key.startswith(prefix)
    }


with job_log(snakemake), svg_copies(config["figures"]["svg"]):
    # steps that need none of the summary's tables run in forked processes beside it, as many as the
    # threads allow: the pathway context first (the longest), then "Which cells", then two figures
    pathways_done = aside(
        threads > 1,
        lambda: pathway_context(
            list(snakemake.input.rankings),
            load_signatures(config["signatures"], config["signatures_gmt"]),
            config["pathways"],
            tables={name: outputs[name] for name in PATHWAY_TABLES},
            plot=outputs["enrichment"],
        ),
    )
    cells_done = which_cells(
        dict(snakemake.input.items()),
        config,
        tables=tables,
        outputs={"forest": outputs["composition_forest"], "page": outputs["cells_page"]},
        parallel=threads > 2,
    )
    cohort_provenance, figures_drawn = summarise(
        {name: snakemake.input[name] for name in MODEL_TABLES},
        {name: snakemake.input[name] for name in COHORT_SUMMARY},
        cohort_sources(config),
        config["statistics"],
        config["primary"],
        tables=tables,
        plots={
            "forest": outputs["forest"],
            "coverage": outputs["coverage_plot"],
            "correlation": outputs["correlation_plot"],
            "gene_forest": outputs["gene_forest"],
        },
        planning=config["planning"],
        threads=threads - 2 if threads > 2 else 1,
    )
    cells_done()
    build(
        tables,
        cohort_provenance,
        config=config,
        configfiles=[unquote(path) for path in snakemake.params.configfiles],
        descriptions=snakemake.params.descriptions,
        outputs={
            **{key: outputs[key] for key in ("summary", "provenance", "provenance_html")},
            "tables": by_prefix("table_"),
            "forest": by_prefix("signature_forest_"),
        },
    )
    figures_drawn()
    pathways_done()
    write_genes_page(
        {name: outputs[name] for name in (*GENE_TABLES, "pathways", "standing")},
        {name: outputs[name] for name in GENE_PLOTS},
        outputs["genes_page"],
    )
