rule summarise:
    input:
        cox=expand("results/models/{cohort}.cox.tsv", cohort=COHORTS),
        km=expand("results/models/{cohort}.km.tsv", cohort=COHORTS),
        scores=expand("results/scores/{cohort}.h5ad", cohort=COHORTS),
    output:
        cox=report(
            TABLES["cox"],
            caption="../report/cox.rst",
            category="Tables",
            labels={"table": "Cox models"},
        ),
        km=report(
            TABLES["km"],
            caption="../report/km_table.rst",
            category="Tables",
            labels={"table": "Kaplan-Meier log-rank tests"},
        ),
        coverage=report(
            TABLES["coverage"],
            caption="../report/coverage.rst",
            category="Tables",
            labels={"table": "Gene coverage"},
        ),
        cohorts=report(
            TABLES["cohorts"],
            caption="../report/cohorts.rst",
            category="Tables",
            labels={"table": "Cohorts"},
        ),
        skipped=report(
            TABLES["skipped"],
            caption="../report/skipped.rst",
            category="Tables",
            labels={"table": "Skipped analyses"},
        ),
        versions=report(
            TABLES["versions"],
            caption="../report/versions.rst",
            category="Tables",
            labels={"table": "Software versions"},
        ),
        forest=report(
            "results/plots/forest.png",
            caption="../report/forest.rst",
            category="Forest plot",
            labels={"figure": "Forest plot"},
        ),
    log:
        "logs/summarise.log",
    benchmark:
        "results/benchmarks/summarise.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        sources=cohort_sources(),
    script:
        "../scripts/summarise.py"
