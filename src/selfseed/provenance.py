"""How a run was made: the selfseed version and git commit, the date, the config and its files, the
software versions, and every input file with its size and sha256 (compared with the sha256 recorded
when its cohort was read). The record is results/provenance.json; report.py shows it as a page."""

import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from selfseed.files import plain, sha256
from selfseed.logs import log

STACK = [
    "snakemake",
    "pandas",
    "numpy",
    "scipy",
    "anndata",
    "scanpy",
    "gseapy",
    "statsmodels",
    "matplotlib",
    "pyarrow",
    "SurvSet",
    "selfseed",
]
CHANGED_SINCE_INGEST = (
    "content changed since the cohort's ingest, with a modification time that did not make "
    "Snakemake rerun it (as cp -p and rsync -a leave it): the cohort's results come from the old "
    "content; touch the file and run again"
)


def software_versions():
    """Versions of Python and the analysis stack as installed."""
    rows = [{"software": "python", "version": platform.python_version()}]
    for name in STACK:
        try:
            rows.append({"software": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"software": name, "version": "not installed"})
    return pd.DataFrame(rows)


def file_stat(path):
    """[size in bytes, inode change time in ns] of a file: every write changes the change time,
    also one that keeps the modification time (cp -p, rsync -a)."""
    stat = Path(path).stat()
    return [stat.st_size, stat.st_ctime_ns]


def input_files(files):
    """(path, sha256 or None) of each file of a provenance record's `files` ("path sha256:hex")."""
    files = [] if files is None else [files] if isinstance(files, str) else list(files)
    return [
        (path, digest or None)
        for path, _, digest in (str(item).partition(" sha256:") for item in files)
    ]


def file_record(path, recorded_sha256=None, recorded_stat=None):
    """Path, size in bytes and sha256 of a file now. The sha256 recorded at ingest is compared
    with the file's (hashed again unless its size and change time are those recorded,
    `recorded_stat`); a file whose content changed keeps both and says so. A file that is gone
    has size None and says so."""
    path = Path(path)
    if not path.is_file():
        return {
            "path": str(path),
            "size_bytes": None,
            "sha256": recorded_sha256,
            "note": "file not found when the report was built",
        }
    same_file = recorded_stat is not None and [int(v) for v in recorded_stat] == file_stat(path)
    digest = recorded_sha256 if recorded_sha256 and same_file else sha256(path)
    record = {"path": str(path), "size_bytes": path.stat().st_size, "sha256": digest}
    if recorded_sha256 and digest != recorded_sha256:
        record.update(
            sha256_at_ingest=recorded_sha256, changed_since_ingest=True, note=CHANGED_SINCE_INGEST
        )
    return record


def git_state(directory):
    """(commit, dirty) of the git work tree holding `directory`; ("unknown", None) without one."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, dirty


def pipeline_version():
    """selfseed's version and the git commit of its source tree ("unknown" if not a git checkout)."""
    import selfseed

    source = Path(selfseed.__file__).resolve().parent
    commit, dirty = git_state(source)
    try:
        installed = version("selfseed")
    except PackageNotFoundError:
        installed = "unknown"
    return {"name": "selfseed", "version": installed, "git_commit": commit, "git_dirty": dirty}


def cohort_inputs(cohort, recorded):
    """A cohort's input record from its h5ad `uns["provenance"]`: files with size and sha256 (a
    file changed since the ingest is a warning in the log), or the package and dataset for data
    that ship in a package (SurvSet)."""
    entry = {"cohort": cohort, "source": recorded.get("source", "unknown")}
    files = input_files(recorded.get("files"))
    stats = list(recorded.get("file_stats", [None] * len(files)))
    entry["files"] = [
        file_record(path, digest, stat) for (path, digest), stat in zip(files, stats, strict=True)
    ]
    for item in entry["files"]:
        if item.get("changed_since_ingest"):
            log.warning(
                "%s: input file %s: %s (sha256 at ingest %s, now %s)",
                cohort,
                item["path"],
                CHANGED_SINCE_INGEST,
                item["sha256_at_ingest"],
                item["sha256"],
            )
    for key in ("package", "dataset", "series", "platform", "reference", "gene_table"):
        if key in recorded:
            entry[key] = plain(recorded[key])
    return entry


def run_record(config, versions, cohort_provenance, configfiles=(), now=None):
    """Everything needed to say how a run was made: pipeline version, date, config (as used and the
    files it came from), software versions and every input with its size and sha256."""
    now = now or datetime.now(UTC)
    return {
        "pipeline": pipeline_version(),
        "date": now.isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "config_files": [file_record(path) for path in configfiles],
        "config": plain(config),
        "software": dict(zip(versions["software"], versions["version"].astype(str), strict=True)),
        "inputs": [cohort_inputs(c, p) for c, p in cohort_provenance.items()],
    }


def input_rows(record):
    """One row per input file of a run record (cohort, source, file, size, sha256, note); a cohort
    from a package (SurvSet) has one row naming the package and dataset."""
    rows = []
    for entry in record["inputs"]:
        cohort = {"cohort": entry["cohort"], "source": entry["source"]}
        for item in entry["files"]:
            rows.append(
                {
                    **cohort,
                    "file": item["path"],
                    "size (bytes)": item["size_bytes"],
                    "sha256": item["sha256"],
                    "note": item.get("note", ""),
                }
            )
        if not entry["files"]:
            rows.append(
                {
                    **cohort,
                    "file": f"{entry.get('package', 'package')}: dataset "
                    f"{entry.get('dataset', '?')} (no file)",
                    "size (bytes)": None,
                    "sha256": None,
                    "note": "",
                }
            )
    return pd.DataFrame(rows)


def changed_inputs(record):
    """The input files of a run record whose content changed since their cohort's ingest."""
    return pd.DataFrame(
        [
            {
                "cohort": entry["cohort"],
                "file": item["path"],
                "sha256 at ingest": item["sha256_at_ingest"],
                "sha256 now": item["sha256"],
            }
            for entry in record["inputs"]
            for item in entry["files"]
            if item.get("changed_since_ingest")
        ],
        columns=["cohort", "file", "sha256 at ingest", "sha256 now"],
    )
