from selfseed.contracts import GENE_PLOTS, GENE_TABLES
from selfseed.drivers import write_genes_page
from selfseed.logs import job_log

inputs = dict(snakemake.input.items())
with job_log(snakemake):
    write_genes_page(
        {name: inputs[name] for name in (*GENE_TABLES, "pathways", "standing")},
        {name: inputs[name] for name in GENE_PLOTS},
        snakemake.output.page,
    )
