# Compute nodes often have no internet: downloads run on the submitting host.
localrules:
    download,


rule download:
    output:
        f"{CACHE}/{{file}}",
    log:
        "logs/download/{file}.log",
    wildcard_constraints:
        file="|".join(re.escape(name) for name in DOWNLOADS),
    resources:
        attempt=job_attempt,
        mem_mb=500,
        runtime=60,
    params:
        url=download_url,
        limits=INFLATE_LIMITS,
    script:
        "../scripts/download.py"
