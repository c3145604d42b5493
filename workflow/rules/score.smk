rule score:
    input:
        "results/cohorts/{cohort}.h5ad",
    output:
        h5ad="results/scores/{cohort}.h5ad",
        tsv="results/scores/{cohort}.tsv",
    log:
        "logs/score/{cohort}.log",
    benchmark:
        "results/benchmarks/score/{cohort}.tsv"
    priority: 1
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(500, 2.5),
        runtime=scaled_by_input(10, 0.1),
    params:
        signatures=SIGNATURES,
        scoring=config["scoring"],
        min_genes=config["min_genes"],
    script:
        "../scripts/score.py"
