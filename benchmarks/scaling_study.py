"""The scaling study of README's Scale section: benchmarks/scale.py over cohorts x samples, then the plot.

Runs (cohorts x samples, 20,000 genes): 1 x 500, 1 x 2000, 1 x 8000, 5 x 500, 5 x 2000, 20 x 500 and
20 x 2000 from TSV.gz, and 1 x 8000 and 20 x 2000 from parquet; each appends a row to
benchmarks/results/scale.tsv (labelled with the git commit) and the last draws
benchmarks/results/scale.png. Synthetic data are generated once per size under --data-root and reused.

Usage: python benchmarks/scaling_study.py [--data-root /tmp/selfseed-scale-data]
"""

import argparse
import subprocess
import sys
from pathlib import Path

RUNS = [
    (1, 500, "tsv.gz"),
    (1, 2000, "tsv.gz"),
    (1, 8000, "tsv.gz"),
    (5, 500, "tsv.gz"),
    (5, 2000, "tsv.gz"),
    (20, 500, "tsv.gz"),
    (20, 2000, "tsv.gz"),
    (1, 8000, "parquet"),
    (20, 2000, "parquet"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/selfseed-scale-data"))
    parser.add_argument("--genes", type=int, default=20000)
    args = parser.parse_args()
    scale = Path(__file__).resolve().with_name("scale.py")
    for index, (cohorts, samples, fmt) in enumerate(RUNS):
        data = args.data_root / f"{cohorts}x{samples}x{args.genes}.{fmt}"
        command = [
            sys.executable,
            str(scale),
            "--cohorts",
            str(cohorts),
            "--samples",
            str(samples),
            "--genes",
            str(args.genes),
            "--format",
            fmt,
            "--data",
            str(data),
        ]
        if index == len(RUNS) - 1:
            command.append("--plot")
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
