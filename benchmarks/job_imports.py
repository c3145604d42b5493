"""How long a cohort job's imports take, as SciPy has them and with SciPy keeping its docstrings
(selfseed.imports.keep_scipy_docstrings, which selfseed.logs.job_log calls at each job's start).

A fresh interpreter imports what a cohort job imports (scanpy, anndata, statsmodels' Cox model,
the Fine-Gray model, matplotlib) and prints the time; the two kinds run interleaved, because the
machine's speed drifts. Printed: the median over --repeat runs of each, and of the stack import
(scanpy, gseapy, statsmodels.api, anndata) in fresh interpreters between them.
Usage: python benchmarks/job_imports.py [--repeat 7]
"""

import argparse
import statistics
import subprocess
import sys
import time

JOB = "import scanpy, anndata, selfseed.stats.cox, selfseed.stats.competing, selfseed.plots"
KEEP = "from selfseed.imports import keep_scipy_docstrings; keep_scipy_docstrings()\n"
STACK = "import scanpy, gseapy, statsmodels.api, anndata"


def seconds(code):
    """Wall seconds of `code` in a fresh interpreter, interpreter start and exit included."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    runs = {"as SciPy has them": [], "SciPy keeps docstrings": [], "stack import": []}
    for _ in range(args.repeat):
        for label, code in zip(runs, (JOB, KEEP + JOB, STACK), strict=True):
            runs[label].append(seconds(code))
    stack = statistics.median(runs.pop("stack import"))
    for label, times in runs.items():
        median = statistics.median(times)
        print(
            f"cohort job imports, {label}: {median:.2f} s (range {min(times):.2f}-"
            f"{max(times):.2f}) = {median / stack:.2f} x the stack import ({stack:.2f} s)"
        )


if __name__ == "__main__":
    main()
