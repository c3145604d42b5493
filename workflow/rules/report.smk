# Run-wide outputs and what the Snakemake report shows (`snakemake --report report.html`), in one job
# (`summarise`): the run-wide tables, the forest plots, the report's summary page, browsable table
# pages, provenance and the run-wide figures.

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
    "cohorts": ("Cohorts", "cohorts and data"),
    "coverage": ("Gene coverage", "cohorts and data"),
    "skipped": ("Skipped analyses", "cohorts and data"),
    "versions": ("Software versions", "software"),
}
REPORT_PAGES = {
    "summary": "results/report/summary.html",
    "provenance": "results/provenance.json",
    "provenance_html": "results/report/provenance.html",
}
TABLE_PAGES = {name: f"results/report/tables/{name}.html" for name in TABLES}
FOREST_PLOTS = {sig: f"results/plots/forest/{sig}.png" for sig in SIGNATURES}
SCORE_PLOTS = {cohort: f"results/plots/scores/{cohort}.png" for cohort in COHORTS}
SCORE_SVGS = {cohort: f"results/plots/scores/{cohort}.svg" for cohort in COHORTS}
FOREST_SVGS = {sig: f"results/plots/forest/{sig}.svg" for sig in SIGNATURES}


rule summarise:
    input:
        unpack(model_tables),
        scores=expand("results/scores/{cohort}.h5ad", cohort=COHORTS),
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
                subcategory="by signature",
                labels={"signature": signature},
            )
            for signature, path in FOREST_PLOTS.items()
        },
        forest=report(
            "results/plots/forest.png",
            caption="../report/forest.rst",
            category="Forest plot",
            subcategory="all signatures",
            labels={"signature": "all"},
        ),
        forest_svg="results/plots/forest.svg",
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
        forest_svg_by_signature=list(FOREST_SVGS.values()),
    log:
        "logs/summarise.log",
    benchmark:
        "results/benchmarks/summarise.tsv"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(1000, 2),
        runtime=scaled_by_input(10, 0.1),
    params:
        sources=cohort_sources(),
        statistics=config["statistics"],
        primary=config["primary"],
        config=config,
        configfiles=[str(path) for path in workflow.configfiles],
        descriptions={name: label for name, (label, _) in TABLE_INFO.items()},
    script:
        "../scripts/summarise.py"


# Needs only the scores: runs while the model jobs run (priority below the models), so a core left
# idle by the last model jobs draws these.
rule score_figures:
    input:
        scores=expand("results/scores/{cohort}.h5ad", cohort=COHORTS),
    output:
        **{
            f"scores_{cohort}": report(
                path,
                caption="../report/scores.rst",
                category="Scores",
                subcategory="distributions",
                labels={"cohort": cohort, "figure": "score distributions"},
            )
            for cohort, path in SCORE_PLOTS.items()
        },
        score_svgs=list(SCORE_SVGS.values()),
        coverage=report(
            "results/plots/coverage.png",
            caption="../report/coverage_plot.rst",
            category="Scores",
            subcategory="gene coverage",
            labels={"figure": "gene coverage"},
        ),
        correlation=report(
            "results/plots/score_correlation.png",
            caption="../report/correlation.rst",
            category="Scores",
            subcategory="agreement between methods",
            labels={"figure": "score correlation"},
        ),
        coverage_svg="results/plots/coverage.svg",
        correlation_svg="results/plots/score_correlation.svg",
    log:
        "logs/score_figures.log",
    benchmark:
        "results/benchmarks/score_figures.tsv"
    priority: -1
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(1000, 2),
        runtime=scaled_by_input(10, 0.1),
    script:
        "../scripts/score_figures.py"
