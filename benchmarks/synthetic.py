"""Seeded synthetic cohorts in the formats the `table` source reads, with a known self-seeding effect.

Per cohort: an expression matrix (genes x samples, log2 scale, first column `gene`) as TSV.gz (gzip level
1) or parquet, a clinical TSV, and one `table` entry in `config.yaml`. Genes are real official symbols
from `selfseed/data/gene_ids.parquet`, sorted, in correlation blocks of `block_size` genes sharing a
latent factor. The five signature genes IL6, CXCL8, MMP1, FSCN1 and CXCL1 share the latent self-seeding
score s ~ N(0, 1) (loading `loading`); every second cohort writes CXCL8 under its old alias IL8.

Survival, in years, then written in days: local recurrence (event of interest) has cause-specific hazard
`lr_rate * exp(log_hr * s)`; distant metastasis and death (competing) have a constant hazard
`competing_rate`; censoring is administrative (follow-up uniform in 2-12 years) or random (loss to
follow-up, rate `dropout_rate`). The latent exponential times are independent, so `log_hr` is exactly
the cause-specific log hazard ratio per SD of s. The pipeline's scores measure s with noise
(zmean of the 5 genes correlates ~0.95 with s at loading 0.8), so their HR per SD is slightly lower.
The covariates (age, stage; stage 'unknown' = missing) have no effect. `truth.tsv` records the
parameters and event counts; the clinical table also holds `latent_score`.

Usage: python benchmarks/synthetic.py --cohorts 20 --samples 2000 --genes 20000 --format tsv.gz --seed 1 --out DIR
"""

import argparse
import gzip
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

SIGNATURE_GENES = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]
SIGNATURES = {
    "attractor": ["IL6", "CXCL8"],
    "invasion": ["MMP1", "FSCN1", "CXCL1"],
    "self_seeding": SIGNATURE_GENES,
}
# Texts pandas reads as missing, and alias targets: never used as background gene names.
EXCLUDED = {"NA", "NAN", "NULL", "NONE", "N/A", "IL8", *SIGNATURE_GENES}
FORMATS = ("tsv.gz", "parquet")


def symbol_pool():
    """Sorted official symbols of the packaged gene table (plain letters/digits/dashes)."""
    table = pq.read_table(
        files("selfseed") / "data" / "gene_ids.parquet", columns=["identifier", "kind"]
    )
    frame = table.to_pandas()
    symbols = frame.loc[frame["kind"] == "symbol", "identifier"]
    symbols = symbols[symbols.str.fullmatch(r"[A-Z][A-Z0-9-]*") & ~symbols.isin(EXCLUDED)]
    return np.sort(symbols.to_numpy(dtype=str))


def gene_model(n_genes, *, seed, block_size, loading):
    """Genes shared by all cohorts, in sorted name order: symbol, mean, SD, latent block, loading.

    Background genes load on one of the block factors; the signature genes load on the last factor,
    the latent self-seeding score.
    """
    rng = np.random.default_rng([seed, 0])
    pool = symbol_pool()
    n_background = n_genes - len(SIGNATURE_GENES)
    if n_background < 0 or n_background > len(pool):
        raise ValueError(f"--genes must be between {len(SIGNATURE_GENES)} and {len(pool)}")
    names = np.sort(
        np.concatenate([SIGNATURE_GENES, rng.choice(pool, n_background, replace=False)])
    )
    signature = np.isin(names, SIGNATURE_GENES)
    n_blocks = -(-n_background // block_size)
    block = np.full(n_genes, n_blocks)
    block[~signature] = rng.permutation(n_background) // block_size
    weight = np.full(n_genes, loading)
    weight[~signature] = rng.uniform(0.3, 0.8, n_background)
    mean = np.clip(rng.gamma(2.0, 2.0, n_genes), 0.5, 15.0)  # log2(TPM + 1)-like, right-skewed
    mean[signature] = rng.uniform(5.0, 8.0, len(SIGNATURE_GENES))
    sd = 0.3 + rng.gamma(2.0, 0.25, n_genes)
    return {"names": names, "mean": mean, "sd": sd, "block": block, "loading": weight}


def expression_matrix(genes, latent, rng):
    """samples x genes log2 values, rounded to 3 decimals: mean + sd * (loading * factor + noise)."""
    n, n_genes = len(latent), len(genes["names"])
    shift = rng.normal(0.0, 0.5) + rng.normal(0.0, 0.2, n_genes)  # batch effect of the cohort
    factors = rng.standard_normal((n, genes["block"].max() + 1), dtype=np.float32)
    factors[:, -1] = latent
    values = rng.standard_normal((n, n_genes), dtype=np.float32)
    values *= np.sqrt(1 - genes["loading"] ** 2).astype(np.float32)
    values += factors[:, genes["block"]] * genes["loading"].astype(np.float32)
    matrix = values.astype(np.float64)
    del values
    matrix *= genes["sd"]
    matrix += genes["mean"] + shift
    np.maximum(matrix, 0.0, out=matrix)  # expression floor, as in log2(TPM + 1)
    return np.round(matrix, 3, out=matrix)


def survival(latent, rng, *, log_hr, lr_rate, competing_rate, dropout_rate):
    """Clinical columns: time in days, first event (local / distant / death / none)."""
    n = len(latent)
    local = rng.exponential(1.0, n) / (lr_rate * np.exp(log_hr * latent))
    competing = rng.exponential(1.0 / competing_rate, n)
    censor = np.minimum(rng.uniform(2.0, 12.0, n), rng.exponential(1.0 / dropout_rate, n))
    years = np.minimum(np.minimum(local, competing), censor)
    event = np.where(local == years, "local", "none").astype(object)
    is_competing = competing == years
    event[is_competing] = np.where(rng.random(is_competing.sum()) < 2 / 3, "distant", "death")
    return np.maximum(np.ceil(years * 365.25), 1).astype(int), event


def write_expression(path, names, samples, matrix, fmt):
    """Genes x samples with a first `gene` column; matrix is samples x genes (one row per column)."""
    table = pa.Table.from_arrays(
        [pa.array(names)] + [pa.array(row) for row in matrix], names=["gene", *samples]
    )
    if fmt == "parquet":
        pq.write_table(table, path)
        return
    options = pacsv.WriteOptions(delimiter="\t", quoting_style="none", quoting_header="none")
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", 1, raw, mtime=0) as handle:
        pacsv.write_csv(
            table, handle, options
        )  # no name or time in the header: same seed, same bytes


def cohort_entry(name, expression, clinical, fmt):
    return {
        "source": "table",
        "description": f"synthetic cohort {name} (benchmarks/synthetic.py), log2 expression, {fmt}",
        "expression": str(expression),
        "orientation": "genes_by_samples",
        "clinical": str(clinical),
        "sample_column": "sample_id",
        "missing_values": ["unknown"],
        "endpoint": {
            "name": "LR",
            "label": "local recurrence (synthetic)",
            "time_column": "lr_time_days",
            "time_unit": "days",
            "event_column": "first_event",
            "event_values": ["local"],
            "competing_values": ["distant", "death"],
            "censored_values": ["none"],
        },
        "covariates": [
            {"name": "age", "column": "age_years", "type": "numeric"},
            {"name": "stage", "column": "stage", "type": "categorical"},
        ],
    }


def generate(
    out,
    *,
    cohorts,
    samples,
    genes,
    fmt="tsv.gz",
    seed=1,
    log_hr=0.5,
    loading=0.8,
    block_size=50,
    lr_rate=0.04,
    competing_rate=0.06,
    dropout_rate=0.03,
    verbose=False,
):
    """Write the cohorts, `config.yaml` and `truth.tsv` under `out`; return the config dict."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}")
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    model = gene_model(genes, seed=seed, block_size=block_size, loading=loading)
    cxcl8 = int(np.flatnonzero(model["names"] == "CXCL8")[0])
    entries, truth = {}, []
    for number in range(1, cohorts + 1):
        start = time.perf_counter()
        name = f"synth{number:03d}"
        rng = np.random.default_rng([seed, number])
        latent = rng.standard_normal(samples)
        matrix = expression_matrix(model, latent, rng)
        days, event = survival(
            latent,
            rng,
            log_hr=log_hr,
            lr_rate=lr_rate,
            competing_rate=competing_rate,
            dropout_rate=dropout_rate,
        )
        ids = [f"{name}_{i:05d}" for i in range(samples)]
        stage = rng.choice(["I", "II", "III"], samples, p=[0.35, 0.45, 0.2]).astype(object)
        stage[rng.random(samples) < 0.03] = "unknown"
        clinical = pd.DataFrame(
            {
                "sample_id": ids,
                "lr_time_days": days,
                "first_event": event,
                "age_years": np.round(rng.normal(60, 10, samples)).astype(int),
                "stage": stage,
                "latent_score": np.round(latent, 6),
            }
        )
        names = model["names"].copy()
        if number % 2 == 0:
            names[cxcl8] = "IL8"  # the old alias, mapped back to CXCL8 at ingest
        expression = out / f"{name}.expression.{fmt}"
        write_expression(expression, names, ids, matrix, fmt)
        del matrix
        clinical_path = out / f"{name}.clinical.tsv"
        clinical.to_csv(clinical_path, sep="\t", index=False)
        entries[name] = cohort_entry(name, expression, clinical_path, fmt)
        counts = clinical["first_event"].value_counts()
        truth.append(
            {
                "cohort": name,
                "samples": samples,
                "genes": genes,
                "format": fmt,
                "seed": seed,
                "log_hr": log_hr,
                "loading": loading,
                "cxcl8_written_as": names[cxcl8],
                "local": int(counts.get("local", 0)),
                "competing": int(counts.get("distant", 0) + counts.get("death", 0)),
                "censored": int(counts.get("none", 0)),
                "expression_mb": round(expression.stat().st_size / 2**20, 1),
            }
        )
        if verbose:
            print(
                f"{name}: {samples} x {genes} {fmt}, {truth[-1]['expression_mb']} MiB, "
                f"{time.perf_counter() - start:.1f} s",
                flush=True,
            )
    config = {
        "signatures": SIGNATURES,
        "min_genes": 2,
        "max_missing_fraction": 0.2,
        "scoring": {
            "methods": ["zmean", "score_genes", "ssgsea"],
            "ctrl_size": 50,
            "n_bins": 25,
            "random_state": 0,
            "ssgsea_weight": 0.25,
        },
        "cohorts": entries,
    }
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    pd.DataFrame(truth).to_csv(out / "truth.tsv", sep="\t", index=False)
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=2)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--format", choices=FORMATS, default="tsv.gz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--log-hr", type=float, default=0.5, help="true cause-specific log-HR per SD"
    )
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args()
    start = time.perf_counter()
    generate(
        args.out,
        cohorts=args.cohorts,
        samples=args.samples,
        genes=args.genes,
        fmt=args.format,
        seed=args.seed,
        log_hr=args.log_hr,
        verbose=True,
    )
    print(
        f"wrote {args.cohorts} cohorts and config.yaml to {args.out} in "
        f"{time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
