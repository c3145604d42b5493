"""How long a job's interpreter takes to exit once its script is done, with and without `gc.freeze`
(selfseed.logs.job_log freezes the heap when a rule script's work is done).

A fresh interpreter imports the analysis stack (scanpy, gseapy, statsmodels.api, anndata,
matplotlib.pyplot), prints the time and ends; the parent takes the time its process exits. Printed:
the median over --repeat runs of each, and the stack import of the same runs.
Usage: python benchmarks/job_exit.py [--repeat 5]
"""

import argparse
import statistics
import subprocess
import sys
import time

IMPORTS = "import scanpy, gseapy, statsmodels.api, anndata, matplotlib.pyplot"
SCRIPT = (
    "import time; t0 = time.time()\n"
    f"{IMPORTS}\n"
    "import gc, sys\n"
    "FREEZE\n"
    "sys.stdout.write(f'{t0!r} {time.time()!r}'); sys.stdout.flush()\n"
)


def exit_seconds(freeze):
    code = SCRIPT.replace("FREEZE", "gc.freeze()" if freeze else "pass")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    ended = time.time()
    started, done = map(float, result.stdout.split())
    return ended - done, done - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = {False: [], True: []}
    for _ in range(args.repeat):
        for freeze in runs:  # interleaved: the machine's speed drifts
            runs[freeze].append(exit_seconds(freeze))
    imports = statistics.median(seconds for pairs in runs.values() for _, seconds in pairs)
    for freeze, pairs in runs.items():
        exit_s = statistics.median(seconds for seconds, _ in pairs)
        label = "with gc.freeze()" if freeze else "without        "
        print(
            f"exit {label} {exit_s:.3f} s = {exit_s / imports:.2f} x the imports ({imports:.2f} s)"
        )


if __name__ == "__main__":
    main()
