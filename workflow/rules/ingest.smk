# Priorities (ingest 2, score 1, model 0): every cohort is read and scored before models start, so
# the long model jobs of the last cohorts do not run alone on an otherwise idle machine.
rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad="results/cohorts/{cohort}.h5ad",
        dropped="results/qc/{cohort}.dropped.tsv",
    log:
        "logs/ingest/{cohort}.log",
    benchmark:
        "results/benchmarks/ingest/{cohort}.tsv"
    priority: 2
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        attempt=job_attempt,
        mem_mb=scaled_by_input(500, 10),
        runtime=scaled_by_input(10, 0.05),
    params:
        entry=cohort_entry,
        max_missing_fraction=config["max_missing_fraction"],
        downloads=cohort_download_urls,
        limits=INFLATE_LIMITS,
    script:
        "../scripts/ingest.py"
