from selfseed.drivers import write_genes_page
from selfseed.logs import job_log

inputs = dict(snakemake.input.items())
with job_log(snakemake):
    write_genes_page(
        {name: inputs[name] for name in ("genes", "power", "pathways", "standing")},
        {name: inputs[name] for name in ("gene_forest", "enrichment")},
        snakemake.output.page,
    )
