# Run-wide outputs and what the Snakemake report shows (`snakemake --report report.html`), in one job
# (`summarise`): the run-wide tables, the forest plots, the report's summary page, browsable table
# pages, provenance and the run-wide figures (gene coverage, agreement of scores), the "Which cells"
# step, the pathway context (the only step that imports gseapy) and the page on genes, pathways and
# power. With 2 threads, the shared imports are done once, then forked processes run the pathway
# context and the "Which cells" step beside the summary (with 4, two figures too): one job, one
# interpreter start (selfseed.pipeline.run_wide).

from urllib.parse import quote

# table name: (label in the report, subcategory)
TABLE_INFO = {
    "primary": ("Primary analysis", "primary and meta-analysis"),
    "meta": ("Meta-analysis across cohorts", "primary and meta-analysis"),
    "cox": ("Cox models (cause-specific)", "per-cohort models"),
    "groups": ("Score groups: log-rank and Gray tests", "per-cohort models"),
    "competing": ("Fine-Gray subdistribution hazards", "per-cohort models"),
    "nonlinearity": ("Non-linearity (spline LR test)", "per-cohort models"),
    "discrimination": ("Discrimination (C, time-dependent AUC)", "per-cohort models"),
    "cutpoints": ("Data-driven cutpoints (corrected p)", "per-cohort models"),
    "interaction": ("Score x treatment interaction", "per-cohort models"),
    "sensitivity": (
        "Other codings of the endpoint (sensitivity, distant metastasis)",
        "per-cohort models",
    ),
    "locality": (
        "Is it local? LR vs distant metastasis (Lunn-McNeil)",
        "primary and meta-analysis",
    ),
    "cohorts": ("Cohorts", "cohorts and data"),
    "coverage": ("Gene coverage", "cohorts and data"),
    "skipped": ("Skipped analyses", "cohorts and data"),
    "versions": ("Software versions", "software"),
    "genes": ("Per-gene effects and leave-one-gene-out", "genes, pathways, power"),
    "power": ("Study planning: events and patients needed", "genes, pathways, power"),
}
REPORT_PAGES = {
    "summary": "results/report/summary.html",
    "provenance": "results/provenance.json",
    "provenance_html": "results/report/provenance.html",
}
TABLE_PAGES = {name: f"results/report/tables/{name}.html" for name in TABLES}
# the primary signature's forest plot, for the report's front page (forest.png has every signature)
PRIMARY_SIGNATURE = config["primary"]["signature"]
FOREST_PLOTS = {PRIMARY_SIGNATURE: f"results/plots/forest/{PRIMARY_SIGNATURE}.png"}
# the pathway context (issue 16): its tables and figures, and the page on genes, pathways and power
PATHWAY_OUTPUTS = {name: f"results/tables/{name}.tsv" for name in PATHWAY_TABLES}
PATHWAY_INFO = {
    "ranking": "Genome-wide ranking: weighted Stouffer z per gene",
    "pathways": "Prerank (gseapy): NES, p, FDR and leading edge per gene set",
    "standing": "Where the signature genes stand in the ranking",
}
GENE_PLOT_PATHS = {
    name: f"results/plots/genes/{file}.png" for name, file in GENE_PLOTS.items()
}
# the run-wide figures of the summary itself, and every run-wide figure's SVG where the config asks
SUMMARY_PLOT_PATHS = {
    "forest": "results/plots/forest.png",
    "coverage_plot": "results/plots/coverage.png",
    "correlation_plot": "results/plots/score_correlation.png",
}
SUMMARY_SVGS = svg_outputs(
    {
        **SUMMARY_PLOT_PATHS,
        **{f"forest_{name}": path for name, path in FOREST_PLOTS.items()},
        "composition_forest": COMPOSITION_FOREST,
        **GENE_PLOT_PATHS,
    }
)
TABLE_INFO |= CELL_TABLE_INFO  # the "Which cells" tables (cells_common.smk)


rule summarise:
    input:
        unpack(model_tables),
        unpack(cell_inputs),
        **{
            name: expand(f"results/models/{{cohort}}/{file}", cohort=COHORTS)
            for name, file in COHORT_SUMMARY.items()
        },
        rankings=expand(
            "results/models/{cohort}/{file}", cohort=COHORTS, file=COHORT_RANKING
        ),
        # a user's gene-set collection: a change to it reruns the job
        collection=config["pathways"]["collection"] or [],
    output:
        **{
            name: report(
                path,
                caption=f"../report/{name}.rst",
                category="Downloads (TSV)",
                subcategory=TABLE_INFO[name][1],
                labels={"table": TABLE_INFO[name][0], "format": "TSV"},
            )
            for name, path in TABLES.items()
        },
        **{
            f"table_{name}": report(
                path,
                caption=f"../report/{name}.rst",
                category="Tables",
                subcategory=TABLE_INFO[name][1],
                labels={"table": TABLE_INFO[name][0]},
            )
            for name, path in TABLE_PAGES.items()
        },
        **{
            f"signature_forest_{signature}": report(
                path,
                caption="../report/forest.rst",
                category="Forest plot",
                subcategory="primary signature",
                labels={"signature": signature},
            )
            for signature, path in FOREST_PLOTS.items()
        },
        **CELL_OUTPUTS,
        **SUMMARY_SVGS,
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
        forest=report(
            SUMMARY_PLOT_PATHS["forest"],
            caption="../report/forest.rst",
            category="Forest plot",
            subcategory="all signatures",
            labels={"signature": "all"},
        ),
        summary=report(
            REPORT_PAGES["summary"],
            caption="../report/summary.rst",
            category="0 Summary",
            labels={"page": "question, primary result, cohorts, skipped analyses"},
        ),
        provenance=report(
            REPORT_PAGES["provenance"],
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"page": "provenance record (JSON)"},
        ),
        provenance_html=report(
            REPORT_PAGES["provenance_html"],
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"page": "provenance"},
        ),
        coverage_plot=report(
            SUMMARY_PLOT_PATHS["coverage_plot"],
            caption="../report/coverage_plot.rst",
            category="Scores",
            subcategory="gene coverage",
            labels={"figure": "gene coverage"},
        ),
        correlation_plot=report(
            SUMMARY_PLOT_PATHS["correlation_plot"],
            caption="../report/correlation.rst",
            category="Scores",
            subcategory="agreement between methods",
            labels={"figure": "score correlation"},
        ),
        gene_forest=report(
            GENE_PLOT_PATHS["gene_forest"],
            caption="../report/gene_forest.rst",
            category="Genes, pathways, power",
            subcategory="figures",
            labels={"figure": "per-gene forest plot"},
        ),
        enrichment=report(
            GENE_PLOT_PATHS["enrichment"],
            caption="../report/enrichment.rst",
            category="Genes, pathways, power",
            subcategory="figures",
            labels={"figure": "enrichment plot"},
        ),
        genes_page=report(
            f"results/report/{GENE_PAGE}.html",
            caption="../report/genes_page.rst",
            category="Genes, pathways, power",
            labels={"page": "which genes, which pathways, how many patients"},
        ),
    log:
        "logs/summarise.log",
    benchmark:
        "results/benchmarks/summarise.tsv"
    # the pathway context and "Which cells" run in forked processes beside the summary (with 4
    # threads two figures too); with one thread (--cores 1) each step runs in turn
    threads: 2
    resources:
        attempt=job_attempt,
        # the former summarise and pathways jobs' memory together (the forks share the imports)
        mem_mb=scaled_by_input(1800, 5),
        runtime=scaled_by_input(20, 0.2),
    # no config text as params: Snakemake's report embeds them unescaped in a <script> element;
    # the script reads the config itself, the config files' paths are URL-quoted
    params:
        config_digest=digest(config),
        configfiles=[quote(str(path)) for path in workflow.configfiles],
        descriptions={name: label for name, (label, _) in TABLE_INFO.items()},
    script:
        "../scripts/summarise.py"
