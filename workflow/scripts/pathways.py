from selfseed.contracts import PATHWAY_TABLES, svg_copies
from selfseed.drivers import pathway_context
from selfseed.logs import job_log
from selfseed.signatures import load_signatures

config = snakemake.config
outputs = dict(snakemake.output.items())
with job_log(snakemake), svg_copies(config["figures"]["svg"]):
    pathway_context(
        list(snakemake.input.rankings),
        load_signatures(config["signatures"], config["signatures_gmt"]),
        config["pathways"],
        tables={name: outputs[name] for name in PATHWAY_TABLES},
        plot=outputs["enrichment"],
    )
