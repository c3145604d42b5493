"""Cold run of the default analysis on this machine: wall time, CPU time and peak memory, and the
wall time as a multiple of one import of the analysis stack measured in the same run.

Copies Snakefile, workflow/, config/ and profiles/ into a fresh temporary directory (no results, no
.snakemake) and runs `snakemake --cores N` there, as a user would (profiles/default applies). Peak memory
is the largest resident set of any single process (the jobs run as child processes). Per rule: the wall
time of each job from the rules' `benchmark:` files; per cohort job, the seconds of its stages (its log).
Machines differ about 2x in speed, so each run also times `import scanpy, gseapy, statsmodels.api,
anndata` in a fresh interpreter (the median of 3 before the run and 3 after it) and prints wall /
import. Run it with the Python of
the environment to measure (e.g. `.venv/bin/python`; `make install` makes the runtime-only one).
Usage: python benchmarks/default_run.py [--cores 2] [--repeat 1]
"""

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STACK = "import scanpy, gseapy, statsmodels.api, anndata"


def import_times(repeat=3):
    """Wall times of importing the analysis stack in `repeat` fresh interpreters."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", STACK], check=True)
        times.append(time.perf_counter() - start)
    return times


def stack_import_seconds(repeat=3):
    """Median wall time of importing the analysis stack in a fresh interpreter."""
    return statistics.median(import_times(repeat))


def bracketed(measure):
    """(what `measure()` returns, the median stack import of 3 fresh interpreters before it and 3
    after it): the machine's speed drifts within minutes, and both sides of the ratio see it."""
    before = import_times()
    result = measure()
    return result, statistics.median(before + import_times())


def cold_run(cores):
    with tempfile.TemporaryDirectory(prefix="selfseed-bench-") as tmp:
        for item in ("Snakefile", "workflow", "config", "profiles"):
            source = REPO / item
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(tmp) / item)
        snakemake = Path(sys.executable).with_name("snakemake")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [snakemake, "--cores", str(cores), "all"],
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        per_rule = {}
        for path in sorted((Path(tmp) / "results" / "benchmarks").rglob("*.tsv")):
            rule = path.parent.name if path.parent.name != "benchmarks" else path.stem
            seconds = float(path.read_text().splitlines()[-1].split("\t")[0])
            per_rule.setdefault(rule, []).append(seconds)
        jobs = sum(len(times) for times in per_rule.values())
        stages = [
            match.group(1)
            for log in sorted((Path(tmp) / "logs" / "cohort").glob("*.log"))
            if (match := re.search(r"seconds per stage: (.*)", log.read_text()))
        ]
        return wall, cpu, after.ru_maxrss / 1024, jobs, per_rule, stages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for attempt in range(1, args.repeat + 1):
        (wall, cpu, peak_mb, jobs, per_rule, stages), stack = bracketed(
            lambda: cold_run(args.cores)
        )
        print(
            f"default run {attempt}: wall {wall:.1f} s = {wall / stack:.1f} x the stack import "
            f"({stack:.2f} s: {STACK}), CPU {cpu:.1f} s, peak RSS {peak_mb:.0f} MB (largest "
            f"process), {jobs} jobs, {args.cores} cores"
        )
        print(
            "  job wall s: "
            + "; ".join(
                f"{rule} {', '.join(f'{t:.1f}' for t in times)}" for rule, times in per_rule.items()
            )
        )
        for line in stages:
            print(f"  cohort job stages (s): {line}")


if __name__ == "__main__":
    main()
