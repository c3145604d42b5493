"""The scaling study (README "Scale", issue 17): named rows, each run on its own, each quoted as wall
time and as a multiple of the stack import (`import scanpy, gseapy, statsmodels.api, anndata`, the
median of 3 fresh interpreters before the row and 3 after it) measured in the same run.

Rows (`--list` prints them with their goals):

- `model-2000`, `model-8000`: the model job of one synthetic parquet cohort of 2,000 / 8,000
  patients x 20,000 genes: a fresh process imports the stack, reads the scored cohort and runs
  `selfseed.pipeline.model` and `draw_cohort_figures` (every model table and the cohort's four
  figures), as the cohort job does after scoring. The cohort is ingested and scored once
  beforehand (not timed), which also records its settings: the timed process, like the cohort
  job's model stage, validates no config. Goals: <= 2x and <= 6x the import.
- `ingest-parquet-8000`: `selfseed.pipeline.ingest` of 1 x 8,000 x 20,000 from parquet in a fresh
  process (writes the cohort h5ad); its peak RSS (VmHWM, which the child reports). Goal: <= 2 GB.
- `e2e-20x2000`, `e2e-50x2000`: `benchmarks/scale.py` end to end (snakemake, 2 cores) on 20 / 50
  parquet cohorts of 2,000 x 20,000; rows also in results/scale.tsv (`scale.py --plot` draws one
  code's runs there). Goal: 20 cohorts <= 60x the import; 50 cohorts measured and plotted. They
  keep both cores
  busy for many minutes: run them on a quiet machine.
- `grid`: the earlier grid of scale.py runs (1 x 500 ... 20 x 2000, TSV.gz and parquet).

Synthetic data (benchmarks/synthetic.py, seed 1) are generated once per size under --data-root and
reused. Each row appends to results/scaling_study.tsv (labelled with the git commit) and prints it;
`--plot` draws results/scaling_study.png from the newest runs of each row, against the goals.

Usage: python benchmarks/scaling_study.py ROW [ROW ...] [--data-root /tmp/selfseed-scale-data] [--plot]
       python benchmarks/scaling_study.py --list
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from default_run import bracketed  # noqa: E402

RESULTS = HERE / "results" / "scaling_study.tsv"
PLOT = HERE / "results" / "scaling_study.png"
GRID = [
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
GENES = 20000
# row -> (what it runs, its goal as text, the goal as (measure, limit))
ROWS = {
    "model-2000": ("model job, 1 x 2000 x 20000 parquet", "<= 2x import", ("multiple", 2)),
    "model-8000": ("model job, 1 x 8000 x 20000 parquet", "<= 6x import", ("multiple", 6)),
    "ingest-parquet-8000": (
        "ingest job, 1 x 8000 x 20000 parquet",
        "<= 2 GB peak RSS",
        ("peak_mb", 2000),
    ),
    "e2e-20x2000": ("end to end, 20 x 2000 x 20000 parquet", "<= 60x import", ("multiple", 60)),
    "e2e-50x2000": ("end to end, 50 x 2000 x 20000 parquet", "measured and plotted", None),
    "grid": ("scale.py over the earlier grid (TSV.gz and parquet)", "rows in scale.tsv", None),
}


def synthetic_data(root, cohorts, samples, fmt="parquet"):
    """The synthetic cohorts of this size (generated on first use)."""
    import synthetic

    data = root / f"{cohorts}x{samples}x{GENES}.{fmt}"
    if not (data / "config.yaml").is_file():
        synthetic.generate(
            data, cohorts=cohorts, samples=samples, genes=GENES, fmt=fmt, seed=1, verbose=True
        )
    return data


def peak_rss_mb():
    """This process's peak resident set since it started, from /proc (VmHWM). Not from rusage: a
    child's ru_maxrss starts at its parent's peak at fork, which the synthetic data can raise."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmHWM in /proc/self/status: peak memory is measured on Linux only")


def child(*arguments):
    """Run this script's --child mode in a fresh interpreter: (wall s, peak RSS MB, its JSON)."""
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, arguments)],
        stdout=subprocess.PIPE,
        check=True,
    ).stdout
    wall = time.perf_counter() - start
    record = json.loads(output.decode().splitlines()[-1])
    return wall, record.pop("peak_mb"), record


def cohort_job_inputs(data):
    """(entry, cohort, settings) of the first cohort of a synthetic config, defaults filled in."""
    import yaml
    from snakemake.utils import validate

    from selfseed.config import check_config, cohort_settings

    config = yaml.safe_load((data / "config.yaml").read_text())
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    check_config(config)
    cohort = next(iter(config["cohorts"]))
    return config["cohorts"][cohort], cohort, cohort_settings(config, cohort)


def run_ingest(data, work):
    """Child: the ingest of the first cohort (cohort h5ad and dropped rows under `work`)."""
    from selfseed import pipeline
    from selfseed.sources import source

    entry, cohort, settings = cohort_job_inputs(data)
    start = time.perf_counter()
    adata = pipeline.ingest(
        entry,
        cohort,
        source(entry["source"]).inputs(entry),
        max_missing_fraction=settings["max_missing_fraction"],
        h5ad=work / "cohort.h5ad",
        dropped=work / "dropped.tsv",
        downloads=settings["downloads"],
        limits=settings["limits"],
    )
    return adata, settings, {"ingest_s": time.perf_counter() - start}


def run_prepare(data, work):
    """Child: ingest and score the first cohort: the scored AnnData and the cohort's settings (as
    the cohort job derives them from the config) in `work`."""
    from selfseed import pipeline

    adata, settings, record = run_ingest(data, work)
    pipeline.score(
        adata,
        settings["signatures"],
        settings["scoring"],
        min_genes=settings["min_genes"],
        scores_h5ad=work / "scores.h5ad",
        scores_tsv=work / "scores.tsv",
    )
    (work / "settings.json").write_text(json.dumps(settings))
    return record


def run_model(data, work):
    """Child: the model job of the scored cohort in `work`: every table and the four figures."""
    import anndata as ad

    from selfseed import pipeline
    from selfseed.contracts import COHORT_PLOTS, MODEL_TABLES

    # the settings the prepare step derived: the model stage of a cohort job validates no config
    settings = json.loads((work / "settings.json").read_text())
    scored = ad.read_h5ad(work / "scores.h5ad")
    out = work / "model"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    drawn = pipeline.model(
        scored,
        settings["covariates"],
        settings["treatment"],
        settings["scoring"]["methods"],
        settings["statistics"],
        tables={name: out / f"{name}.tsv" for name in MODEL_TABLES},
    )
    plots = {kind: out / f"{kind}.png" for kind in COHORT_PLOTS}
    pipeline.draw_cohort_figures(drawn, scored.uns, plots=plots)
    return {"model_s": time.perf_counter() - start, "patients": scored.n_obs}


CHILDREN = {"ingest": lambda d, w: run_ingest(d, w)[2], "prepare": run_prepare, "model": run_model}


def model_row(samples, root):
    data = synthetic_data(root, 1, samples)
    work = root / f"work-model-{samples}"
    work.mkdir(exist_ok=True)
    if not (work / "settings.json").is_file():
        child("prepare", data, work)
    wall, peak, record = child("model", data, work)
    return {"wall_s": wall, "peak_mb": peak, **record}


def ingest_row(root):
    data = synthetic_data(root, 1, 8000)
    work = root / "work-ingest-8000"
    work.mkdir(exist_ok=True)
    wall, peak, record = child("ingest", data, work)
    return {"wall_s": wall, "peak_mb": peak, **record}


def scale_run(cohorts, samples, fmt, root, plot=False):
    """benchmarks/scale.py on these data: the snakemake run's wall time, CPU time and largest
    process (MB), as scale.py measured them (the row it appended to results/scale.tsv)."""
    import pandas as pd

    data = synthetic_data(root, cohorts, samples, fmt)
    command = [sys.executable, str(HERE / "scale.py"), "--cohorts", str(cohorts)]
    command += ["--samples", str(samples), "--genes", str(GENES), "--format", fmt]
    command += ["--data", str(data)] + (["--plot"] if plot else [])
    subprocess.run(command, check=True)
    run = pd.read_csv(HERE / "results" / "scale.tsv", sep="\t").iloc[-1]
    return {
        "wall_s": float(run["wall_s"]),
        "cpu_s": float(run["cpu_s"]),
        "peak_mb": float(run["peak_rss_mib"]) * 2**20 / 1e6,
    }


def measure(row, root):
    if row.startswith("model-"):
        return model_row(int(row.split("-")[1]), root)
    if row == "ingest-parquet-8000":
        return ingest_row(root)
    if row.startswith("e2e-"):
        cohorts = int(row.split("-")[1].split("x")[0])
        return scale_run(cohorts, 2000, "parquet", root)
    for index, (cohorts, samples, fmt) in enumerate(GRID):
        scale_run(cohorts, samples, fmt, root, plot=index == len(GRID) - 1)
    return {}


def commit():
    git = ["git", "-C", str(REPO)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "src", "workflow"]).returncode
    return head.stdout.strip() + ("+dirty" if dirty else "")


def record(row, result, stack, label=None):
    """The row's result with the import time, the multiple and whether the goal is met."""
    what, goal, check = ROWS[row]
    line = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "label": label or commit(),
        "host": platform.node(),
        "load1_start": round(os.getloadavg()[0], 2),
        "row": row,
        "what": what,
        "stack_import_s": round(stack, 2),
        **{k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()},
        "multiple": round(result["wall_s"] / stack, 2) if "wall_s" in result else None,
        "goal": goal,
    }
    if check:
        measure_name, limit = check
        line["goal_met"] = bool(line[measure_name] <= limit)
    return line


def newest_rows(runs):
    """Per row: its "before" runs (label with "before") and every run of the newest other label."""
    import pandas as pd

    runs = runs.assign(before=runs["label"].str.contains("before"))
    chosen = []
    for _, part in runs.groupby("row", sort=False):
        after = part[~part["before"]]
        newest = after["label"].iloc[-1] if len(after) else None
        chosen += [part[part["before"]], after[after["label"] == newest]]
    return pd.concat(chosen, ignore_index=True)


def plot(results=RESULTS, png=PLOT):
    """The rows against their goals: the model job's multiple of the import by patients, the
    parquet ingest's peak and the end-to-end wall time by cohorts (newest_rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import pandas as pd

    runs = newest_rows(pd.read_csv(results, sep="\t"))
    fig, (model_ax, ingest_ax, e2e_ax) = plt.subplots(1, 3, figsize=(14, 4.2))
    style = {True: ("x", "grey", "before"), False: ("o", "C0", "after")}
    for before, part in runs.groupby("before"):
        marker, colour, name = style[before]
        model = part[part["row"].str.startswith("model-")]
        model_ax.plot(model["patients"], model["multiple"], marker, color=colour, ls="", label=name)
        ingest = part[part["row"] == "ingest-parquet-8000"]
        ingest_ax.plot([name] * len(ingest), ingest["peak_mb"], marker, color=colour, ls="")
    for patients, limit in ((2000, 2), (8000, 6)):
        model_ax.plot([patients * 0.8, patients * 1.25], [limit] * 2, color="C3", lw=1)
    model_ax.set(yscale="log", xticks=[2000, 8000], xlabel="patients (one cohort x 20,000 genes)")
    for axis in (model_ax.yaxis.set_major_formatter, model_ax.yaxis.set_minor_formatter):
        axis(matplotlib.ticker.FormatStrFormatter("%g"))
    model_ax.set(ylabel="model job wall / stack import", title="model job (goal: red)")
    model_ax.legend(fontsize=7)
    ingest_ax.axhline(2000, color="C3", lw=1)
    ingest_ax.set(ylabel="peak RSS (MB)", title="parquet ingest, 1 x 8,000 x 20,000 (goal: red)")
    e2e = runs[runs["row"].str.startswith("e2e-") & ~runs["before"]]
    cohorts = e2e["row"].str.extract(r"e2e-(\d+)x")[0].astype(int)
    e2e_ax.plot(cohorts, e2e["wall_s"], "o-", color="C0")
    for n, run in zip(cohorts, e2e.itertuples(), strict=True):
        e2e_ax.annotate(
            f"{run.multiple:.0f}x import ({run.label})",
            (n, run.wall_s),
            fontsize=7,
            xytext=(4, -10),
            textcoords="offset points",
        )
    goal = e2e[cohorts == 20]
    e2e_ax.plot([20] * len(goal), 60 * goal["stack_import_s"], "_", color="C3", ms=20)
    e2e_ax.set(xlabel="cohorts of 2,000 x 20,000", ylabel="wall time (s)")
    e2e_ax.set(title="end to end, 2 cores (goal at 20: 60x import)", xlim=(0, 60), ylim=(0, None))
    after, before = (
        ", ".join(dict.fromkeys(runs.loc[runs["before"] == b, "label"])) for b in (False, True)
    )
    fig.suptitle(f"scaling_study.py: the newest runs of each row ({after}); before: {before}")
    fig.tight_layout()
    fig.savefig(png, dpi=120, metadata={"Software": None})


def append(line, path=RESULTS):
    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([line])
    if path.is_file():
        frame = pd.concat([pd.read_csv(path, sep="\t"), frame], ignore_index=True)
    frame.to_csv(path, sep="\t", index=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", nargs="*", metavar="ROW", help="rows to run (see --list)")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/selfseed-scale-data"))
    parser.add_argument("--list", action="store_true", help="print the rows and their goals")
    parser.add_argument("--label", help="free text for the rows (default: the git commit)")
    parser.add_argument(
        "--plot", action="store_true", help=f"draw {PLOT.name} from the rows (also after rows)"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = [row for row in args.rows if row not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; rows: {', '.join(ROWS)}")
    if args.child:
        kind, data, work = args.child
        measured = CHILDREN[kind](Path(data), Path(work))
        print(json.dumps({**measured, "peak_mb": peak_rss_mb()}))
        return
    if args.list or not (args.rows or args.plot):
        for name, (what, goal, _) in ROWS.items():
            print(f"{name:22} {what}; goal {goal}")
        return
    args.data_root.mkdir(parents=True, exist_ok=True)
    for row in args.rows:
        result, stack = bracketed(lambda row=row: measure(row, args.data_root))
        line = record(row, result, stack, args.label)
        append(line)
        print("\t".join(f"{k}={v}" for k, v in line.items()), flush=True)
    if args.plot:
        plot()
        print(f"drew {PLOT}")


if __name__ == "__main__":
    main()
