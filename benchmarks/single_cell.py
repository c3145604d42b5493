"""Single-cell scale: score_genes of the self-seeding signatures on 1,000,000 cells x 20,000 genes.

Writes a seeded sparse AnnData (CSR, float32 log1p counts; genes are real official symbols including
IL6, CXCL8, MMP1, FSCN1 and CXCL1; gene popularity log-normal, `--genes-per-cell` detected genes per
cell on average) straight to h5ad in row blocks, without holding it in memory; then, in a fresh
process, scores it with `selfseed.singlecell.score_genes_chunked` (scanpy's score_genes estimator,
backed reading, `--chunk` cells at a time) and prints wall time, CPU time and peak RSS of that
process. `--library` also runs `scanpy.tl.score_genes` on the whole matrix loaded in memory (only
sensible for a smaller `--cells`), in its own process, and reports the largest score difference.

Usage: python benchmarks/single_cell.py --cells 1000000 --genes 20000 --out DIR [--library]
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


def write_h5ad(path, *, cells, genes, genes_per_cell, seed, block=50_000):
    """A CSR h5ad written block by block with h5py in anndata's on-disk layout."""
    import anndata as ad
    import h5py
    import pandas as pd

    rng = np.random.default_rng(seed)
    names = list(dict.fromkeys([*SIGNATURE_GENES, *symbol_pool()]))[:genes]
    popularity = rng.lognormal(0, 1.5, size=genes)
    popularity /= popularity.sum()
    cumulative = np.cumsum(popularity)
    tmp = path.with_name(f".{path.name}.part")
    with h5py.File(tmp, "w") as f:
        f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
        ad.io.write_elem(f, "obs", pd.DataFrame(index=[f"cell{i:07d}" for i in range(cells)]))
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
            draws = rng.poisson(genes_per_cell, size=n)
            rows = np.repeat(np.arange(n, dtype=np.int64), draws)
            gene = np.searchsorted(cumulative, rng.random(rows.size) * cumulative[-1])
            keys, counts = np.unique(rows * genes + np.minimum(gene, genes - 1), return_counts=True)
            row, col = np.divmod(keys, genes)
            values = np.log1p(counts + rng.geometric(0.5, size=counts.size) - 1).astype(np.float32)
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
    out = subprocess.run(
        [sys.executable, "-c", code + PEAK], check=True, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    result = json.loads(out.stdout.splitlines()[-2])
    peak = json.loads(out.stdout.splitlines()[-1])["peak_rss_mib"]
    return time.perf_counter() - start, cpu, peak, result


PEAK = """
import resource
print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


CHUNKED = """
import json, pandas as pd
from selfseed.singlecell import score_genes_chunked
s = score_genes_chunked({path!r}, {signatures!r}, chunk_cells={chunk})
s.to_parquet({scores!r})
print(json.dumps({{"cells": len(s)}}))
"""
LIBRARY = """
import json, anndata as ad, numpy as np, pandas as pd, scanpy as sc
a = ad.read_h5ad({path!r})
chunked = pd.read_parquet({scores!r})
diff = 0.0
for name, genes in {signatures!r}.items():
    sc.tl.score_genes(a, genes, score_name=name)
    diff = max(diff, float(np.abs(a.obs[name].to_numpy() - chunked[name].to_numpy()).max()))
print(json.dumps({{"cells": a.n_obs, "max_abs_difference": diff}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1_000_000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--genes-per-cell", type=int, default=800)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--library", action="store_true")
    parser.add_argument("--write-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"cells_{args.cells}x{args.genes}.h5ad"
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
    scores = args.out / f"scores_{args.cells}.parquet"
    fields = {
        "path": str(path),
        "signatures": SIGNATURES,
        "chunk": args.chunk,
        "scores": str(scores),
    }
    wall, cpu, rss, _ = measure(CHUNKED.format(**fields))
    print(
        f"score_genes_chunked  {args.cells} cells x {args.genes} genes, chunks of {args.chunk}: "
        f"wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB"
    )
    if args.library:
        wall, cpu, rss, result = measure(LIBRARY.format(**fields))
        print(
            f"scanpy.tl.score_genes in memory: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS "
            f"{rss:.0f} MiB; max |difference| {result['max_abs_difference']:.2e}"
        )


if __name__ == "__main__":
    main()
