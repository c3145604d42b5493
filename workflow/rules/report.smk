rule summarise:
    input:
        unpack(model_tables),
        scores=expand("results/scores/{cohort}.h5ad", cohort=COHORTS),
    output:
        cox=report(
            TABLES["cox"],
            caption="../report/cox.rst",
            category="Tables",
            labels={"table": "Cox models (cause-specific)"},
        ),
        groups=report(
            TABLES["groups"],
            caption="../report/groups.rst",
            category="Tables",
            labels={"table": "Score groups: log-rank and Gray tests"},
        ),
        competing=report(
            TABLES["competing"],
            caption="../report/competing.rst",
            category="Tables",
            labels={"table": "Fine-Gray subdistribution hazards"},
        ),
        nonlinearity=report(
            TABLES["nonlinearity"],
            caption="../report/nonlinearity.rst",
            category="Tables",
            labels={"table": "Non-linearity (spline LR test)"},
        ),
        discrimination=report(
            TABLES["discrimination"],
            caption="../report/discrimination.rst",
            category="Tables",
            labels={"table": "Discrimination (C, time-dependent AUC)"},
        ),
        cutpoints=report(
            TABLES["cutpoints"],
            caption="../report/cutpoints.rst",
            category="Tables",
            labels={"table": "Data-driven cutpoints (corrected p)"},
        ),
        interaction=report(
            TABLES["interaction"],
            caption="../report/interaction.rst",
            category="Tables",
            labels={"table": "Score x treatment interaction"},
        ),
        meta=report(
            TABLES["meta"],
            caption="../report/meta.rst",
            category="Tables",
            labels={"table": "Meta-analysis across cohorts"},
        ),
        primary=report(
            TABLES["primary"],
            caption="../report/primary.rst",
            category="Tables",
            labels={"table": "Primary analysis"},
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
    threads: 1
    resources:
        mem_mb=scaled_by_input(1000, 2),
        runtime=scaled_by_input(10, 0.1),
    params:
        sources=cohort_sources(),
        statistics=config["statistics"],
        primary=config["primary"],
    script:
        "../scripts/summarise.py"
