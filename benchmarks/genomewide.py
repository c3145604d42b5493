"""Genome-wide score test (selfseed.stats.genomewide.score_test) on one seeded synthetic cohort of
2,000 patients x 20,000 genes (benchmarks/synthetic.py's expression and survival model), on one core,
with its wall time as a multiple of one import of the analysis stack measured in the same run.

BLAS and OpenMP are held to one thread (set before numpy is imported). The score test is timed
`--repeat` times in this process (median and minimum); the stack import is the median of 3 fresh
interpreters, as in benchmarks/default_run.py.
Usage: python benchmarks/genomewide.py [--samples 2000] [--genes 20000] [--repeat 3]
"""

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from default_run import stack_import_seconds  # noqa: E402
from synthetic import expression_matrix, gene_model, survival  # noqa: E402


def synthetic_cohort(samples, genes, seed=1):
    """Expression (samples x genes), follow-up in months and event 0/1/2 of one synthetic cohort."""
    model = gene_model(genes, seed=seed, block_size=50, loading=0.8)
    rng = np.random.default_rng([seed, 1])
    latent = rng.standard_normal(samples)
    values = expression_matrix(model, latent, rng)
    days, first = survival(
        latent, rng, log_hr=0.5, lr_rate=0.04, competing_rate=0.06, dropout_rate=0.03
    )
    event = np.select([first == "local", first == "none"], [1, 0], 2)
    return values, days * 12 / 365.25, event


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from selfseed.stats.genomewide import score_test

    values, months, event = synthetic_cohort(args.samples, args.genes)
    seconds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        table = score_test(months, event, values)
        seconds.append(time.perf_counter() - start)
    stack = stack_import_seconds()
    wall = statistics.median(seconds)
    print(
        f"{args.samples} patients x {args.genes} genes, {(event == 1).sum()} events of interest "
        f"at {len(np.unique(months[event == 1]))} distinct times, {table['z'].notna().sum()} z"
    )
    print(
        f"score test wall s: median {wall:.2f}, min {min(seconds):.2f} (of {args.repeat}); "
        f"stack import s {stack:.2f}; score test / import {wall / stack:.2f}x; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
