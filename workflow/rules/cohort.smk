# One job per cohort: ingest, scores, models and the cohort's figures in one process, so the analysis
# stack is imported once per cohort (benchmarks/README.md, "Default run").

# the cohort's figures (PNG; the SVG beside each where the config asks: svg_outputs)
COHORT_PLOT_PATHS = {
    kind: f"results/plots/{kind}/{{cohort}}.png" for kind in COHORT_PLOTS
}


rule cohort:
    input:
        unpack(ingest_inputs),
    output:
        **{name: f"results/models/{{cohort}}/{name}.tsv" for name in MODEL_TABLES},
        **{
            name: f"results/models/{{cohort}}/{file}"
            for name, file in COHORT_SUMMARY.items()
        },
        **svg_outputs(COHORT_PLOT_PATHS),
        ranking=f"results/models/{{cohort}}/{COHORT_RANKING}",
        h5ad="results/cohorts/{cohort}.h5ad",
        dropped="results/qc/{cohort}.dropped.tsv",
        scores_h5ad="results/scores/{cohort}.h5ad",
        scores_tsv="results/scores/{cohort}.tsv",
        km=report(
            COHORT_PLOT_PATHS["km"],
            caption="../report/km.rst",
            category="Kaplan-Meier",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "Kaplan-Meier, median split"},
        ),
        cif=report(
            COHORT_PLOT_PATHS["cif"],
            caption="../report/cif.rst",
            category="Cumulative incidence",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "cumulative incidence"},
        ),
        spline=report(
            COHORT_PLOT_PATHS["spline"],
            caption="../report/spline.rst",
            category="Non-linearity",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "spline hazard ratio"},
        ),
        scores=report(
            COHORT_PLOT_PATHS["scores"],
            caption="../report/scores.rst",
            category="Scores",
            subcategory="distributions",
            labels={"cohort": "{cohort}", "figure": "score distributions"},
        ),
    log:
        "logs/cohort/{cohort}.log",
    benchmark:
        "results/benchmarks/cohort/{cohort}.tsv"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(600, 10),
        runtime=scaled_by_input(10, 0.2),
    # no config text as params: Snakemake's report embeds them unescaped (the job reads the config)
    params:
        config_digest=cohort_digest,
    script:
        "../scripts/cohort.py"
