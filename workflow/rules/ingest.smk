rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        h5ad="results/cohorts/{cohort}.h5ad",
        dropped="results/qc/{cohort}.dropped.tsv",
    conda:
        "../../environment.yml"
    log:
        "logs/ingest/{cohort}.log",
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        entry=cohort_entry,
        max_missing_fraction=config["max_missing_fraction"],
    script:
        "../scripts/ingest.py"
