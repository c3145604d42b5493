rule model:
    input:
        "results/scores/{cohort}.h5ad",
    output:
        cox="results/models/{cohort}.cox.tsv",
        km="results/models/{cohort}.km.tsv",
        km_plot=report(
            "results/plots/km/{cohort}.png",
            caption="../report/km.rst",
            category="Kaplan-Meier by cohort",
            labels={"cohort": "{cohort}", "figure": "Kaplan-Meier"},
        ),
    log:
        "logs/model/{cohort}.log",
    benchmark:
        "results/benchmarks/model/{cohort}.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        covariates=cohort_covariates,
        methods=config["scoring"]["methods"],
    script:
        "../scripts/model.py"
