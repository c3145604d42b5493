"""The sha256 of every table a default run writes, kept in tests/snapshot/default_run.tsv.

    python tools/snapshot.py [--run .] [--check]

reads the tables under RUN/results (`make run` first) and writes the snapshot file; with --check it
only compares and lists the tables that differ (exit status 1). tests/test_workflow.py checks a fresh
default run against the committed file. A change that moves a number updates the file in the same
commit, and its message says why the numbers moved.
"""

import argparse
import hashlib
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAPSHOT = REPO / "tests" / "snapshot" / "default_run.tsv"
# every table of a run, under results/
TABLES = ("tables/*.tsv", "qc/*.tsv", "models/*/*.tsv", "scores/*.tsv")
# not results: the installed software's versions (Python's patch release differs between machines)
NOT_SNAPSHOT = {"results/tables/versions.tsv"}


def table_files(run):
    """Every table under `run`/results, sorted, as paths relative to `run`."""
    run = Path(run)
    files = [f for pattern in TABLES for f in (run / "results").glob(pattern)]
    return sorted(f.relative_to(run).as_posix() for f in files)


def snapshot(run):
    """Table path (relative to the run folder) -> sha256 of its bytes."""
    return {
        name: hashlib.sha256((Path(run) / name).read_bytes()).hexdigest()
        for name in table_files(run)
        if name not in NOT_SNAPSHOT
    }


def read(path=SNAPSHOT):
    lines = Path(path).read_text().splitlines()
    assert lines[0] == "table\tsha256", f"{path}: not a snapshot file"
    return dict(line.split("\t") for line in lines[1:])


def write(tables, path=SNAPSHOT):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    rows = ["table\tsha256", *(f"{name}\t{digest}" for name, digest in sorted(tables.items()))]
    Path(path).write_text("\n".join(rows) + "\n")


def differences(expected, found):
    """One line per table that is new, missing or changed."""
    lines = [
        f"changed: {n}" for n in sorted(expected.keys() & found.keys()) if expected[n] != found[n]
    ]
    lines += [f"new (not in the snapshot): {n}" for n in sorted(found.keys() - expected.keys())]
    lines += [
        f"missing (in the snapshot, not written): {n}"
        for n in sorted(expected.keys() - found.keys())
    ]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=REPO, help="the folder holding results/")
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args()
    found = snapshot(args.run)
    if not found:
        sys.exit(f"no tables under {args.run / 'results'}: run the workflow first (make run)")
    if args.check:
        lines = differences(read(), found)
        print("\n".join(lines) or f"{len(found)} tables equal to {SNAPSHOT.relative_to(REPO)}")
        sys.exit(1 if lines else 0)
    write(found)
    print(f"{SNAPSHOT.relative_to(REPO)}: {len(found)} tables")


if __name__ == "__main__":
    main()
