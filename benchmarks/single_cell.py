"""Single-cell scale: the whole reference summary of 1,000,000 cells x 20,000 genes.

Writes a seeded sparse AnnData straight to h5ad in row blocks, without holding it in memory: raw
counts in X (CSR, float32 whole numbers, as scanpy reads 10x files); genes are real official
symbols including IL6, CXCL8, MMP1, FSCN1 and CXCL1, gene popularity log-normal,
`--genes-per-cell` counts per cell on average (cell depth log-normal); obs `cell_type` with nine cell types in
fixed proportions (malignant 5%), each drawing a tenth of its counts from 50 genes of its own.
Then, in a fresh process, measures what `selfseed.singlecell` computes for a reference:
`open_reference`, `cell_type_summary` (per-type means and fractions of log1p(CP10k), per-cell
score_genes scores and their distributions; `--chunk` cells at a time), `compartment_shares` and
the sentences, `marker_genes` (rank_genes_groups on the seeded sample of at most 1,000 cells per
type) and both figures; prints each step's wall time, and the process's wall time, CPU time and
peak RSS. `--library` also computes the per-type means and score_genes with scanpy on the whole
matrix in memory (normalize_total, log1p; only sensible for a smaller `--cells`), in its own
process, and reports the largest differences.

Usage: python benchmarks/single_cell.py --cells 1000000 --genes 20000 --out DIR [--library] [--keep]
(the 1,000,000-cell file is about 5 GiB; it is deleted afterwards unless --keep)
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import SIGNATURE_GENES, SIGNATURES, symbol_pool  # noqa: E402

CELL_TYPES = {
    "Cancer Epithelial": 0.05,
    "CAFs": 0.2,
    "PVL": 0.15,
    "Endothelial": 0.15,
    "Myeloid": 0.12,
    "T-cells": 0.15,
    "B-cells": 0.08,
    "Plasmablasts": 0.07,
    "Normal Epithelial": 0.03,
}
OWN_GENES, OWN_SHARE = 50, 0.1


def write_h5ad(path, *, cells, genes, genes_per_cell, seed, block=50_000):
    """A CSR h5ad of counts and cell types, written block by block with h5py in anndata's layout."""
    import anndata as ad
    import h5py
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = list(dict.fromkeys([*SIGNATURE_GENES, *symbol_pool()]))[:genes]
    popularity = rng.lognormal(0, 1.5, size=genes)
    cumulative = np.cumsum(popularity / popularity.sum())
    own = rng.choice(np.arange(len(SIGNATURE_GENES), genes), (len(CELL_TYPES), OWN_GENES))
    types = rng.choice(len(CELL_TYPES), size=cells, p=list(CELL_TYPES.values()))
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical.from_codes(types, categories=list(CELL_TYPES))},
        index=[f"cell{i:07d}" for i in range(cells)],
    )
    tmp = path.with_name(f".{path.name}.part")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        ad.io.write_elem(f, "obs", obs)
        ad.io.write_elem(f, "var", pd.DataFrame(index=names))
        for key in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            ad.io.write_elem(f, key, {})
        x = f.create_group("X")
        x.attrs.update(
            {"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": (cells, genes)}
        )
        data = x.create_dataset("data", (0,), np.float32, maxshape=(None,), chunks=(1 << 20,))
        indices = x.create_dataset("indices", (0,), np.int32, maxshape=(None,), chunks=(1 << 20,))
        indptr = [np.zeros(1, np.int64)]
        for start in range(0, cells, block):
            n = min(block, cells - start)
            depth = rng.lognormal(-0.08, 0.4, size=n)  # cells differ in depth (mean 1)
            draws = rng.poisson(genes_per_cell * depth)
            rows = np.repeat(np.arange(n, dtype=np.int64), draws)
            gene = np.minimum(np.searchsorted(cumulative, rng.random(rows.size)), genes - 1)
            mine = rng.random(rows.size) < OWN_SHARE  # a tenth from the cell type's own genes
            gene[mine] = own[types[start + rows[mine]], rng.integers(0, OWN_GENES, mine.sum())]
            keys, counts = np.unique(rows * genes + gene, return_counts=True)
            row, col = np.divmod(keys, genes)
            values = (counts + rng.geometric(0.5, size=counts.size) - 1).astype(np.float32)
            offset = data.shape[0]
            data.resize((offset + values.size,))
            indices.resize((offset + values.size,))
            data[offset:] = values
            indices[offset:] = col.astype(np.int32)
            indptr.append(offset + np.cumsum(np.bincount(row, minlength=n)))
        x.create_dataset("indptr", data=np.concatenate(indptr))
    tmp.replace(path)


def measure(code):
    """Run `code` in a fresh Python; its wall time, CPU time, peak RSS (MiB) and printed JSON."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", code + PEAK], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result = json.loads(out.stdout.splitlines()[-2])
    peak = json.loads(out.stdout.splitlines()[-1])["peak_rss_mib"]
    return time.perf_counter() - start, cpu, peak, result


PEAK = """
import resource
print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SUMMARY = """
import json, time
from selfseed import singlecell as s
steps, start = {{}}, time.perf_counter()
def step(name):
    global start
    steps[name] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
reference = s.open_reference({path!r}, "cell_type", name="synthetic")
step("open_reference")
summary = s.cell_type_summary(reference, {signatures!r}, chunk_cells={chunk}, ctrl_size=50,
                              n_bins=25, random_state=0)
step("cell_type_summary")
shares = s.compartment_shares(summary, {signatures!r})
sentences = s.dominance_sentences(shares, reference="synthetic", malignant="Cancer Epithelial")
step("compartment_shares")
markers, left_out = s.marker_genes(reference, exclude={genes!r})
step("marker_genes")
s.expression_dotplot(summary, {signatures!r}, {figures!r} + "/dotplot.png", malignant="Cancer Epithelial")
s.score_violins(summary, {figures!r} + "/violins.png", malignant="Cancer Epithelial")
step("figures")
summary.scores.to_parquet({scores!r})
summary.expression.to_parquet({expression!r})
print(json.dumps({{"steps": steps, "cells": len(summary.scores), "markers": len(markers)}}))
"""
LIBRARY = """
import json, anndata as ad, numpy as np, pandas as pd, scanpy as sc
a = ad.read_h5ad({path!r})
a.X = a.X.astype(np.float64)
sc.pp.normalize_total(a, target_sum=1e4)
sc.pp.log1p(a)
chunked = pd.read_parquet({scores!r})
diff = 0.0
for name, genes in {signatures!r}.items():
    sc.tl.score_genes(a, genes, score_name=name)
    diff = max(diff, float(np.abs(a.obs[name].to_numpy() - chunked[name].to_numpy()).max()))
expression = pd.read_parquet({expression!r}).set_index(["cell_type", "gene"])
means = sc.get.aggregate(a[:, {genes!r}], "cell_type", "mean").to_df(layer="mean")
mean_diff = max(abs(means.loc[t, g] - expression.loc[(t, g), "mean_log1p_cp10k"])
                for t in means.index for g in means.columns)
print(json.dumps({{"score_difference": diff, "mean_difference": float(mean_diff)}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--genes-per-cell", type=int, default=800)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--library", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the h5ad for another run")
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"counts_{args.cells}x{args.genes}.h5ad"
    if args.write_only:
        return write_h5ad(
            path,
            cells=args.cells,
            genes=args.genes,
            genes_per_cell=args.genes_per_cell,
            seed=args.seed,
        )
    if not path.exists():
        # in a child process: Linux children inherit the parent's peak RSS (ru_maxrss) at fork,
        # so a parent that wrote the file itself would inflate the measured peaks below
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--write-only"], check=True)
        print(
            f"wrote {path} ({path.stat().st_size / 2**30:.2f} GiB) in "
            f"{time.perf_counter() - start:.0f} s"
        )
    fields = {
        "path": str(path),
        "signatures": SIGNATURES,
        "genes": SIGNATURE_GENES,
        "chunk": args.chunk,
        "figures": str(args.out),
        "scores": str(args.out / f"scores_{args.cells}.parquet"),
        "expression": str(args.out / f"expression_{args.cells}.parquet"),
    }
    try:
        wall, cpu, rss, result = measure(SUMMARY.format(**fields))
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["steps"].items())
        print(
            f"reference summary  {args.cells} cells x {args.genes} genes, chunks of {args.chunk}: "
            f"wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB\n  {steps}; "
            f"{result['markers']} marker genes"
        )
        if args.library:
            wall, cpu, rss, result = measure(LIBRARY.format(**fields))
            print(
                f"scanpy in memory: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB; "
                f"max |difference| scores {result['score_difference']:.2e}, per-type means "
                f"{result['mean_difference']:.2e}"
            )
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
