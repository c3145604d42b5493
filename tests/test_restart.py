"""Restart safety and determinism of the default run (the three shipped TCGA cohorts).

Run 1 and run 2 are uninterrupted runs in fresh directories; run 3 is killed with SIGKILL (the whole
snakemake process group, jobs included) once the first cohort is ingested and other jobs are running,
then started again. All three must give byte-identical tables (results/tables, qc, models and
scores: what tests/snapshot/default_run.tsv records, and the software versions). Each run costs about 40 s of both cores, so there are three and no more.
"""

import os
import shutil
import signal
import subprocess
import time

import pytest
from test_workflow import SNAKEMAKE, default_config, snakemake, workdir

from conftest import REPO, load_tool, starting_snakemake

pytestmark = pytest.mark.workflow


def fresh_workdir(path):
    path = workdir(path, default_config())
    shutil.copytree(REPO / "profiles", path / "profiles")  # rerun-incomplete, as users run it
    return path


def tables(path):
    """Relative path -> bytes of every table a run writes (those of tools/snapshot.py, and the
    software versions)."""
    return {name: (path / name).read_bytes() for name in load_tool("snapshot").table_files(path)}


def kill_when_ingested(path, timeout=300):
    """Start snakemake in its own process group; SIGKILL the group once a cohort is ingested
    while a job runs (Snakemake marks a running job's outputs in .snakemake/incomplete)."""
    starting_snakemake()
    process = subprocess.Popen(
        [SNAKEMAKE, "--cores", "2"],
        cwd=path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    running = path / ".snakemake" / "incomplete"
    while not (
        [p for p in (path / "results" / "cohorts").glob("*.h5ad") if not p.name.startswith(".")]
        and running.is_dir()
        and any(running.iterdir())
    ):
        assert process.poll() is None, "snakemake ended before the first ingest finished"
        assert time.monotonic() < deadline, "no cohort ingested in time"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return process.returncode


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    path = fresh_workdir(tmp_path_factory.mktemp("run1"))
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    return tables(path)


def test_two_runs_give_byte_identical_tables(tmp_path, uninterrupted):
    path = fresh_workdir(tmp_path)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    # 22 run-wide tables of the summary (5 "which cells") and 3 of `pathways`, 3 dropped lists, 11 model
    # tables, the genes and ranking tables and 1 score table per cohort
    assert len(uninterrupted) == 22 + 3 + 3 + 3 * (11 + 2 + 1)
    second = tables(path)
    assert second.keys() == uninterrupted.keys()
    differ = [name for name in second if second[name] != uninterrupted[name]]
    assert not differ, differ


def test_run_killed_mid_way_restarts_to_identical_tables(tmp_path, uninterrupted):
    path = fresh_workdir(tmp_path)
    assert kill_when_ingested(path) == -signal.SIGKILL
    assert not (path / "results" / "tables" / "cox.tsv").exists()  # killed before the end
    # a killed snakemake cannot remove its lock on the directory: --unlock, as the message says
    unlock = snakemake(path, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-2000:]
    rerun = snakemake(path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    restarted = tables(path)
    assert restarted.keys() == uninterrupted.keys()
    differ = [name for name in restarted if restarted[name] != uninterrupted[name]]
    assert not differ, differ
    assert not list((path / "results").rglob("*.part"))  # no half-written file left behind
