"""Prerank on the default run's data at several permutation counts: the pooled genome-wide ranking of
the three shipped TCGA cohorts (cause-specific score-test z per cohort, weighted Stouffer z) against the
shipped Hallmark collection plus the self-seeding set, one thread; seconds per call and as a multiple of
one import of the analysis stack measured in the same run, and the self-seeding set's NES and nominal p
over `--seeds` seeds (their spread is the Monte-Carlo error of the permutation count).
Also timed: building the pooled ranking and the gene-level decomposition of the three cohorts.
Usage: python benchmarks/prerank.py [--permutations 100 250 500 1000] [--seeds 3]
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from default_run import stack_import_seconds  # noqa: E402

COHORTS = ("tcga_ucs", "tcga_acc", "tcga_chol")


def shipped_cohorts():
    from selfseed.cohort import build_cohort

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    defaults = {"covariates": [], "missing_values": [], "sample_column": "sample_id"}
    return config["signatures"]["self_seeding"], [
        build_cohort({**defaults, **config["cohorts"][name]}, name, max_missing_fraction=0.2)[0]
        for name in COHORTS
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permutations", type=int, nargs="+", default=[100, 250, 500, 1000])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    from selfseed.pathways import collection, prerank
    from selfseed.stats.gene_effects import gene_decomposition
    from selfseed.stats.genomewide import cohort_ranking, stouffer

    genes, cohorts = shipped_cohorts()
    start = time.perf_counter()
    ranking = stouffer(pd.concat([cohort_ranking(adata) for adata in cohorts]))
    ranking_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for adata in cohorts:
        gene_decomposition(
            adata,
            "self_seeding",
            genes,
            methods=("zmean", "ssgsea"),
            min_genes=2,
            ssgsea_weight=0.25,
        )
    decomposition_seconds = time.perf_counter() - start
    sets, sources = collection({"self_seeding": genes})
    z = ranking.set_index("gene")["z"]
    stack = stack_import_seconds()
    print(
        f"pooled ranking of {len(z)} genes: {ranking_seconds:.2f} s; gene decomposition of "
        f"{len(cohorts)} cohorts: {decomposition_seconds:.2f} s; stack import {stack:.2f} s; "
        f"{len(sets)} sets"
    )
    print("permutations  seconds (median)  x import  self_seeding NES  nominal p (per seed)")
    for permutations in args.permutations:
        seconds, nes, p = [], [], []
        for seed in range(args.seeds):
            start = time.perf_counter()
            table, _ = prerank(z, sets, sources, permutations=permutations, seed=seed)
            seconds.append(time.perf_counter() - start)
            row = table.set_index("set").loc["self_seeding"]
            nes.append(row["nes"])
            p.append(row["nominal_p"])
        wall = statistics.median(seconds)
        print(
            f"{permutations:12d}  {wall:16.2f}  {wall / stack:8.2f}  "
            f"{min(nes):.3f}-{max(nes):.3f}      {', '.join(f'{v:.3f}' for v in p)}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
