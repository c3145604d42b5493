rule model:
    input:
        "results/scores/{cohort}.h5ad",
    output:
        cox="results/models/{cohort}/cox.tsv",
        groups="results/models/{cohort}/groups.tsv",
        competing="results/models/{cohort}/competing.tsv",
        nonlinearity="results/models/{cohort}/nonlinearity.tsv",
        discrimination="results/models/{cohort}/discrimination.tsv",
        cutpoints="results/models/{cohort}/cutpoints.tsv",
        interaction="results/models/{cohort}/interaction.tsv",
        km=report(
            "results/plots/km/{cohort}.png",
            caption="../report/km.rst",
            category="Kaplan-Meier",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "Kaplan-Meier, median split"},
        ),
        cif=report(
            "results/plots/cif/{cohort}.png",
            caption="../report/cif.rst",
            category="Cumulative incidence",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "cumulative incidence"},
        ),
        spline=report(
            "results/plots/spline/{cohort}.png",
            caption="../report/spline.rst",
            category="Non-linearity",
            subcategory="{cohort}",
            labels={"cohort": "{cohort}", "figure": "spline hazard ratio"},
        ),
        km_svg="results/plots/km/{cohort}.svg",
        cif_svg="results/plots/cif/{cohort}.svg",
        spline_svg="results/plots/spline/{cohort}.svg",
    log:
        "logs/model/{cohort}.log",
    benchmark:
        "results/benchmarks/model/{cohort}.tsv"
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        attempt=job_attempt,
        # the scores file is ~0.2 MB per 1,000 patients; the job's memory grows with patients
        mem_mb=scaled_by_input(600, 400),
        runtime=scaled_by_input(10, 0.1),
    params:
        covariates=cohort_covariates,
        treatment=cohort_treatment,
        methods=config["scoring"]["methods"],
        statistics=config["statistics"],
    script:
        "../scripts/model.py"
