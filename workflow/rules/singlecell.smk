# One job per single-cell reference (config `singlecell.references`): where the signature genes are
# expressed by cell type, the per-cell scores and the reference's marker sets. It reads no cohort, so
# it runs beside the cohort jobs; the summarise job merges its tables, adjusts the
# bulk models for composition (selfseed.whichcells) and writes the "Which cells" page.
# the reference's figures (PNG; the SVG beside each where the config asks: svg_outputs)
REFERENCE_PLOT_PATHS = {
    kind: f"results/plots/singlecell/{{reference}}/{kind}.png"
    for kind in REFERENCE_PLOTS
}


rule singlecell:
    input:
        h5ad=reference_file,
    output:
        **{
            name: f"results/singlecell/{{reference}}/{name}.tsv"
            for name in REFERENCE_TABLES
        },
        **svg_outputs(REFERENCE_PLOT_PATHS),
        dotplot=report(
            REFERENCE_PLOT_PATHS["dotplot"],
            caption="../report/cells_dotplot.rst",
            category="Which cells",
            subcategory="{reference}",
            labels={
                "reference": "{reference}",
                "figure": "signature genes by cell type",
            },
        ),
        violins=report(
            REFERENCE_PLOT_PATHS["violins"],
            caption="../report/cells_violins.rst",
            category="Which cells",
            subcategory="{reference}",
            labels={"reference": "{reference}", "figure": "scores by cell type"},
        ),
    log:
        "logs/singlecell/{reference}.log",
    benchmark:
        "results/benchmarks/singlecell/{reference}.tsv"
    threads: 1
    resources:
        attempt=job_attempt,
        # read in chunks: 1,000,000 cells x 20,000 genes (5 GiB) took 0.9 GiB and 40 s
        # (benchmarks/single_cell.py)
        mem_mb=scaled_by_input(1000, 0.2),
        runtime=scaled_by_input(10, 0.01),
    # no config text as params (the job reads the config itself)
    params:
        config_digest=reference_digest,
    script:
        "../scripts/singlecell.py"
