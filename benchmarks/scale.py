"""Scale benchmark: the whole workflow on synthetic cohorts (cohorts x samples x genes, tsv.gz or parquet).

Generates the cohorts with benchmarks/synthetic.py (or reuses --data), copies Snakefile and workflow/
into a fresh temporary directory, runs `snakemake --cores N` there and prints, per rule
and in total: jobs, wall time, CPU time and peak resident memory. One row per run is appended to
--results (default benchmarks/results/scale.tsv); --plot draws time and memory against
cohorts x samples x genes from that file.

Sources: total wall time by the clock; total CPU time and peak RSS (largest single process) from
getrusage(RUSAGE_CHILDREN). Per job wall time from the rules' Snakemake `benchmark:` files when present
(`results/benchmarks/{rule}/{cohort}.tsv`, `results/benchmarks/{rule}.tsv`), otherwise from the
timestamps of the snakemake log (1 s resolution). Per job CPU time and peak RSS are lower bounds: the
larger of the benchmark file's values (Snakemake samples every 0.5 s for ~15 s, then every 30 s) and of
this script's own psutil sampler (every 0.25 s, processes grouped by the rule script they run).

Usage: python benchmarks/scale.py --cohorts 5 --samples 2000 --genes 20000 --format parquet [--plot]
       python benchmarks/scale.py --plot-only
"""

import argparse
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "scale.tsv"
STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
RULE = re.compile(r"^(?:local)?rule (\w+):$")
JOBID = re.compile(r"^\s+jobid: (\d+)$")
FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")
SCRIPT = re.compile(r"\.snakemake/scripts/tmp\w+\.(\w+)\.py")


class Sampler(threading.Thread):
    """Peak RSS and CPU time of every descendant process, grouped by the rule script it runs."""

    def __init__(self, pid, interval=0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.procs = {}  # pid -> {"script", "rss", "cpu"}
        self.done = threading.Event()

    def run(self):
        import psutil

        root = psutil.Process(self.pid)
        while not self.done.is_set():
            try:
                children = root.children(recursive=True)
            except psutil.Error:
                break
            for proc in children:
                try:
                    with proc.oneshot():
                        entry = self.procs.setdefault(
                            proc.pid, {"script": None, "rss": 0, "cpu": 0}
                        )
                        if entry["script"] is None:
                            match = SCRIPT.search(" ".join(proc.cmdline()))
                            entry["script"] = match.group(1) if match else ""
                        entry["rss"] = max(entry["rss"], proc.memory_info().rss / 2**20)
                        times = proc.cpu_times()
                        entry["cpu"] = max(entry["cpu"], times.user + times.system)
                except psutil.Error:
                    continue
            self.done.wait(self.interval)

    def by_script(self):
        """DataFrame[rule, processes, sampled_cpu_s (sum), sampled_rss_mib (max)]."""
        frame = pd.DataFrame(self.procs.values(), columns=["script", "rss", "cpu"])
        frame = frame[frame["script"].fillna("") != ""]
        return (
            frame.groupby("script")
            .agg(
                processes=("rss", "size"),
                sampled_cpu_s=("cpu", "sum"),
                sampled_rss_mib=("rss", "max"),
            )
            .rename_axis("rule")
        )


def prepare(workdir, data, args):
    """Synthetic data (generated unless --data holds a config.yaml) and a fresh copy of the workflow."""
    generate_s = 0.0
    if not (data / "config.yaml").is_file():
        start = time.perf_counter()
        synthetic.generate(
            data,
            cohorts=args.cohorts,
            samples=args.samples,
            genes=args.genes,
            fmt=args.format,
            seed=args.seed,
            verbose=True,
        )
        generate_s = time.perf_counter() - start
    config = yaml.safe_load((data / "config.yaml").read_text())
    for item in ("Snakefile", "workflow"):
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, workdir / item)
    (workdir / "config").mkdir()
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    files = [Path(e[k]) for e in config["cohorts"].values() for k in ("expression", "clinical")]
    return config, generate_s, sum(f.stat().st_size for f in files) / 2**20


def run_workflow(workdir, cores):
    """Run snakemake; return (wall s, CPU s, peak RSS MiB of the largest process, sampler, log text)."""
    snakemake = Path(sys.executable).with_name("snakemake")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        process = subprocess.Popen(
            [snakemake, "--cores", str(cores)], cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )
        sampler = Sampler(process.pid)
        sampler.start()
        code = process.wait()
    wall = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = (workdir / "snakemake.log").read_text()
    if code != 0:
        sys.exit(f"snakemake failed (exit {code}) in {workdir}:\n{text[-3000:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, sampler, text


def jobs_from_log(text):
    """DataFrame[rule, jobid, wall_s] from the snakemake log's timestamps (1 s resolution)."""
    stamp, rule, started, rows = None, None, {}, []
    for line in text.splitlines():
        if match := STAMP.match(line):
            stamp = datetime.strptime(match.group(1), "%a %b %d %H:%M:%S %Y")
        elif match := RULE.match(line):
            rule = match.group(1)
        elif (match := JOBID.match(line)) and rule:
            started[match.group(1)] = (rule, stamp)
            rule = None
        elif match := FINISHED.match(line):
            name, begin = started.get(match.group(1), (match.group(2), None))
            wall = (stamp - begin).total_seconds() if begin and stamp else float("nan")
            rows.append({"rule": name, "jobid": match.group(1), "wall_s": wall})
    jobs = pd.DataFrame(rows, columns=["rule", "jobid", "wall_s"])
    return jobs[jobs["rule"] != "all"]


def jobs_from_benchmarks(workdir):
    """DataFrame[rule, job, wall_s, cpu_s, rss_mib] from the rules' benchmark files (empty if none)."""
    rows = []
    root = workdir / "results" / "benchmarks"
    for path in sorted(root.rglob("*.tsv")) if root.is_dir() else []:
        record = pd.read_csv(path, sep="\t", na_values=["NA", "-"]).iloc[-1]
        rule = path.stem if path.parent == root else path.parent.name
        rows.append(
            {
                "rule": rule,
                "job": path.stem,
                "wall_s": record["s"],
                "cpu_s": record.get("cpu_time"),
                "rss_mib": record.get("max_rss"),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "cpu_s", "rss_mib"])


def per_rule(workdir, text, sampler):
    """Per rule: jobs, summed and largest job wall time, CPU time (sum), peak RSS (largest job)."""
    bench = jobs_from_benchmarks(workdir)
    logged = jobs_from_log(text)
    jobs = logged.groupby("rule").size().rename("jobs")
    source = bench if len(bench) else logged.assign(cpu_s=float("nan"), rss_mib=float("nan"))
    table = source.groupby("rule").agg(
        wall_s=("wall_s", "sum"),
        wall_max_s=("wall_s", "max"),
        bench_cpu_s=("cpu_s", "sum"),
        bench_rss_mib=("rss_mib", "max"),
    )
    # rules without benchmark files: wall time from the log
    missing = logged[~logged["rule"].isin(table.index)].groupby("rule")["wall_s"]
    fallback = pd.DataFrame({"wall_s": missing.sum(), "wall_max_s": missing.max()})
    table = (
        pd.concat([table, fallback]).join(jobs, how="outer").join(sampler.by_script(), how="left")
    )
    table["cpu_s"] = table[["bench_cpu_s", "sampled_cpu_s"]].max(axis=1)
    table["rss_mib"] = table[["bench_rss_mib", "sampled_rss_mib"]].max(axis=1)
    return table, "benchmark" if len(bench) else "log"


def commit():
    """Short commit of the workflow copied, '+dirty' when its Snakefile, workflow/ or src/ differ."""
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return ""
    paths = ["Snakefile", "workflow", "src"]
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", *paths]).returncode != 0
    return head.stdout.strip() + ("+dirty" if dirty else "")


def append_row(path, row):
    """Append one run to the results TSV (union of columns with earlier runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([row])
    if path.is_file():
        frame = pd.concat([pd.read_csv(path, sep="\t"), frame], ignore_index=True)
    frame.to_csv(path, sep="\t", index=False, float_format="%.6g")


def plot(results, png):
    """For the runs of the code version of the last row (its label): wall time against all values
    (cohorts x samples x genes), CPU time per cohort and the largest job's memory against one cohort's
    values (samples x genes), per input format."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = pd.read_csv(results, sep="\t")
    runs = runs[runs["label"] == runs["label"].iloc[-1]].sort_values("cells")
    runs = runs.assign(
        cohort_cells=runs["samples"] * runs["genes"], cpu_per_cohort=runs["cpu_s"] / runs["cohorts"]
    )
    fig, (wall_ax, cpu_ax, memory_ax) = plt.subplots(1, 3, figsize=(14, 4.2))
    colours = {"tsv.gz": "C1", "parquet": "C0"}
    for fmt, group in runs.groupby("format"):
        wall_ax.plot(group["cells"], group["wall_s"], "o", color=colours[fmt], label=fmt)
        for run in group.itertuples():
            wall_ax.annotate(
                f"{run.cohorts}x{run.samples}",
                (run.cells, run.wall_s),
                fontsize=6,
                xytext=(4, -3),
                textcoords="offset points",
            )
        for cohorts, line in group.groupby("cohorts"):
            line = line.sort_values("cohort_cells")
            cpu_ax.plot(
                line["cohort_cells"],
                line["cpu_per_cohort"],
                "o-",
                color=colours[fmt],
                alpha=0.4 + 0.6 * cohorts / runs["cohorts"].max(),
                label=f"{cohorts} cohort(s), {fmt}",
            )
        by_size = group.groupby("cohort_cells")["peak_rss_mib"].max()
        memory_ax.plot(
            by_size.index, by_size.to_numpy(), "o-", color=colours[fmt], label=f"largest job, {fmt}"
        )
    smallest = runs.sort_values("cohort_cells").iloc[0]
    span = runs["cohort_cells"].agg(["min", "max"]).to_numpy()
    cpu_ax.plot(
        span,
        smallest["cpu_per_cohort"] * span / smallest["cohort_cells"],
        "--",
        color="grey",
        label="linear from the smallest cohort",
    )
    wall_ax.axhline(300, color="C3", lw=0.8, label="goal for 20 x 2000 x 20000: 5 min")
    memory_ax.axhline(2048, color="C3", lw=0.8, label="goal at 2000 x 20000: 2 GiB")
    wall_ax.set(
        xscale="log", yscale="log", xlabel="cohorts x samples x genes", ylabel="wall time (s)"
    )
    cpu_ax.set(
        xscale="log",
        yscale="log",
        xlabel="samples x genes of one cohort",
        ylabel="CPU time per cohort (s)",
    )
    memory_ax.set(
        xscale="log",
        xlabel="samples x genes of one cohort",
        ylabel="peak RSS of the largest job (MiB)",
    )
    for ax in (wall_ax, cpu_ax, memory_ax):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6.5)
    fig.suptitle(
        f"selfseed workflow at scale, {runs['cores'].iloc[-1]} cores, code {runs['label'].iloc[-1]}"
    )
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    print(f"plot: {png}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohorts", type=int, default=1)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--genes", type=int, default=20000)
    parser.add_argument("--format", choices=synthetic.FORMATS, default="tsv.gz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--data", type=Path, help="reuse (or create) the synthetic data here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--label", default=None, help="free text for the row (default: git commit)")
    parser.add_argument("--plot", action="store_true", help="then draw the results as a PNG")
    parser.add_argument("--plot-only", action="store_true", help="only draw the PNG")
    args = parser.parse_args()
    png = args.results.with_suffix(".png")
    if args.plot_only:
        return plot(args.results, png)
    workdir = Path(tempfile.mkdtemp(prefix="selfseed-scale-"))
    try:
        data = (args.data or workdir / "data").resolve()
        config, generate_s, data_mib = prepare(workdir, data, args)
        first = next(iter(config["cohorts"].values()))
        size = pd.read_csv(first["clinical"], sep="\t", usecols=[0]).shape[0]
        truth = pd.read_csv(data / "truth.tsv", sep="\t")
        cohorts, samples, genes = len(config["cohorts"]), size, int(truth["genes"].iloc[0])
        fmt = str(truth["format"].iloc[0])
        load = os.getloadavg()[0]
        print(f"running {cohorts} x {samples} x {genes} {fmt} on {args.cores} cores in {workdir}")
        wall, cpu, peak, sampler, text = run_workflow(workdir, args.cores)
        rules, source = per_rule(workdir, text, sampler)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    show = rules[
        ["jobs", "wall_s", "wall_max_s", "cpu_s", "rss_mib", "bench_rss_mib", "sampled_rss_mib"]
    ]
    print(f"\nper rule (job wall times from {source}; CPU and RSS: max of benchmark and sampler)")
    print(show.to_string(float_format=lambda v: f"{v:.1f}"))
    print(
        f"\ntotal: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {peak:.0f} MiB (largest "
        f"process), {int(rules['jobs'].sum())} jobs, load average at start {load:.2f}"
    )
    row = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "label": args.label or commit(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "cores": args.cores,
        "load1_start": round(load, 2),
        "cohorts": cohorts,
        "samples": samples,
        "genes": genes,
        "format": fmt,
        "cells": cohorts * samples * genes,
        "data_mib": round(data_mib, 1),
        "generate_s": round(generate_s, 1),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(peak),
        "jobs": int(rules["jobs"].sum()),
        "rule_source": source,
    }
    for rule, values in rules.iterrows():
        for column in ("wall_s", "wall_max_s", "cpu_s", "rss_mib"):
            row[f"{rule}_{column}"] = round(float(values[column]), 1)
    append_row(args.results, row)
    print(f"appended to {args.results}")
    if args.plot:
        plot(args.results, png)


if __name__ == "__main__":
    main()
