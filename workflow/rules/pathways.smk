# Pathway context and the page on genes, pathways and power (issue 16). `pathways` is the only job
# that imports gseapy: it needs only the cohorts' genome-wide rankings, so it runs beside
# `summarise` (one core each); `genes_page` reads both and writes the report page.

PATHWAY_OUTPUTS = {name: f"results/tables/{name}.tsv" for name in PATHWAY_TABLES}
PATHWAY_INFO = {
    "ranking": "Genome-wide ranking: weighted Stouffer z per gene",
    "pathways": "Prerank (gseapy): NES, p, FDR and leading edge per gene set",
    "standing": "Where the signature genes stand in the ranking",
}
GENE_PLOT_PATHS = {
    name: f"results/plots/genes/{file}.png" for name, file in GENE_PLOTS.items()
}


rule pathways:
    input:
        rankings=expand(
            "results/models/{cohort}/{file}", cohort=COHORTS, file=COHORT_RANKING
        ),
        # a user's collection: a change to it reruns the job
        collection=config["pathways"]["collection"] or [],
    output:
        **{
            name: report(
                path,
                caption=f"../report/{name}.rst",
                category="Genes, pathways, power",
                subcategory="tables (TSV)",
                labels={"table": PATHWAY_INFO[name], "format": "TSV"},
            )
            for name, path in PATHWAY_OUTPUTS.items()
        },
        **svg_outputs({"enrichment": GENE_PLOT_PATHS["enrichment"]}),
        enrichment=report(
            GENE_PLOT_PATHS["enrichment"],
            caption="../report/enrichment.rst",
            category="Genes, pathways, power",
            subcategory="figures",
            labels={"figure": "enrichment plot"},
        ),
    log:
        "logs/pathways.log",
    benchmark:
        "results/benchmarks/pathways.tsv"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(800, 3),
        runtime=scaled_by_input(10, 0.1),
    # no config text as params (the script reads the config itself)
    params:
        config_digest=digest({"pathways": config["pathways"], "signatures": SIGNATURES}),
    script:
        "../scripts/pathways.py"


rule genes_page:
    input:
        genes=TABLES["genes"],
        power=TABLES["power"],
        pathways=PATHWAY_OUTPUTS["pathways"],
        standing=PATHWAY_OUTPUTS["standing"],
        gene_forest=GENE_PLOT_PATHS["gene_forest"],
        enrichment=GENE_PLOT_PATHS["enrichment"],
    output:
        page=report(
            f"results/report/{GENE_PAGE}.html",
            caption="../report/genes_page.rst",
            category="Genes, pathways, power",
            labels={"page": "which genes, which pathways, how many patients"},
        ),
    log:
        "logs/genes_page.log",
    benchmark:
        "results/benchmarks/genes_page.tsv"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=500,
        runtime=5,
    script:
        "../scripts/genes_page.py"
