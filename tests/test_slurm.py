"""The pipeline on a real one-node SLURM cluster through profiles/slurm (issue 7).

Needs SLURM installed and running: `bash .ci/slurm.sh` does both (install, tests/slurm/start_slurm.sh, this
file, tests/slurm/stop_slurm.sh). Skipped otherwise.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import REPO, starting_snakemake

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
SLURM_DIR = Path(os.environ.get("SELFSEED_SLURM_DIR", "/tmp/selfseed-slurm"))
PARTITION = (
    "selfseed"  # not the cluster's default partition: jobs only run if the profile passes it on
)
# First status check after 5 s (default 40 s); the plugin keeps squeue while MinJobAge (300 s) >= 3 x 5 s.
FAST = ("--slurm-init-seconds-before-status-checks", "5")
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]


@pytest.fixture(scope="module")
def slurm_env():
    """Environment for snakemake and the SLURM client tools; skips unless the test cluster is up."""
    missing = [
        tool for tool in ("sinfo", "sbatch", "slurmctld", "slurmd") if not shutil.which(tool)
    ]
    if missing:
        pytest.skip(
            f"SLURM not installed ({', '.join(missing)} not found); run `bash .ci/slurm.sh`"
        )
    env = {
        **os.environ,
        "SLURM_CONF": os.environ.get("SLURM_CONF", str(SLURM_DIR / "slurm.conf")),
        "SELFSEED_SLURM_PARTITION": PARTITION,
    }
    try:
        state = subprocess.run(
            ["sinfo", "--noheader", "--partition", PARTITION, "--format", "%T"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("SLURM test cluster not answering; start it with tests/slurm/start_slurm.sh")
    if state.returncode != 0 or not {"idle", "mixed", "allocated"} & set(state.stdout.split()):
        pytest.skip(
            f"SLURM test cluster not up (sinfo: {(state.stdout + state.stderr).strip()!r}); "
            "start it with tests/slurm/start_slurm.sh"
        )
    return env


def workdir(path, config):
    path.mkdir(exist_ok=True)
    for item in ("Snakefile", "workflow", "profiles"):
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, path / item)
    (path / "config").mkdir()
    (path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(path, env, *args):
    starting_snakemake()
    result = subprocess.run(
        [SNAKEMAKE, *args], cwd=path, env=env, capture_output=True, text=True, timeout=1200
    )
    (path / "snakemake.out").write_text(result.stdout + result.stderr)  # kept for a failing test
    return result


def on_slurm(path, env, *args):
    return snakemake(path, env, "--profile", "profiles/slurm", *FAST, *args)


def submissions(output):
    """SLURM job ids by Snakemake job id, from the plugin's log lines."""
    jobs = {}
    for job, slurm_job in SUBMITTED.findall(output):
        jobs.setdefault(job, []).append(slurm_job)
    return jobs


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_run_on_slurm_equals_local_run(tmp_path, slurm_env):
    config = default_config()
    local = workdir(tmp_path / "local", config)
    result = snakemake(local, slurm_env, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    cluster = workdir(tmp_path / "slurm", config)
    result = on_slurm(cluster, slurm_env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]

    # every job went through sbatch, once: 1 per cohort, 1 per single-cell reference, and summarise
    jobs = submissions(output)
    references = len(config["singlecell"]["references"])
    assert len(jobs) == len(config["cohorts"]) + references + 1, output[-5000:]
    assert all(len(ids) == 1 for ids in jobs.values())
    assert "Trying to restart" not in output
    # the rules' resources reached sbatch: --mem is a mem_mb, --time a runtime that snakemake printed
    shown = subprocess.run(
        ["scontrol", "show", "job", jobs[min(jobs)][0]],
        env=slurm_env,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert f"Partition={PARTITION} " in shown, shown
    memory = re.search(r"MinMemoryNode=(\d+)M", shown).group(1)
    assert f"mem_mb={memory}," in output, shown
    minutes = re.search(r"TimeLimit=00:(\d\d):00", shown).group(1)
    assert f"runtime={int(minutes)}" in output, shown

    tables = sorted(p.name for p in (local / "results" / "tables").glob("*.tsv"))
    assert {"cox.tsv", "coverage.tsv", "cohorts.tsv"} <= set(tables)
    assert sorted(p.name for p in (cluster / "results" / "tables").glob("*.tsv")) == tables
    for name in tables:
        ours, theirs = (path / "results" / "tables" / name for path in (cluster, local))
        assert ours.read_bytes() == theirs.read_bytes(), name


def broken_cohort(path):
    """A table cohort that passes the config checks (which read headers only) but fails in ingest:
    a non-numeric expression cell."""
    genes = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1", "GAPDH", "ACTB"]
    samples = [f"S{i}" for i in range(20)]
    expression = pd.DataFrame(
        [[float(i + j) for j in range(len(samples))] for i in range(len(genes))],
        index=pd.Index(genes, name="gene"),
        columns=samples,
    )
    expression = expression.astype(object)
    expression.loc["IL6", "S5"] = "n.d."
    expression.to_csv(path / "expr.tsv", sep="\t")
    clinical = pd.DataFrame(
        {
            "patient": samples,
            "months": [float(10 + i) for i in range(20)],
            "status": [i % 2 for i in range(20)],
        }
    )
    clinical.to_csv(path / "clinical.tsv", sep="\t", index=False)
    return {
        "source": "table",
        "description": "a non-numeric expression value",
        "expression": "expr.tsv",
        "orientation": "genes_by_samples",
        "clinical": "clinical.tsv",
        "sample_column": "patient",
        "endpoint": {
            "name": "RFS",
            "label": "relapse-free survival",
            "time_column": "months",
            "time_unit": "months",
            "event_column": "status",
            "event_values": [1],
            "censored_values": [0],
        },
        "covariates": [],
    }


def test_input_error_on_slurm_is_not_rerun_and_ends_the_run_with_its_log(tmp_path, slurm_env):
    config = {
        **default_config(),
        "cohorts": {"broken": broken_cohort(tmp_path)},
        "primary": {"pool": "all"},
        "singlecell": {"references": {}, "adjust_with": None},  # the cohort's job is the only one
    }
    path = workdir(tmp_path, config)
    assert snakemake(path, slurm_env, "--dry-run").returncode == 0  # the config checks pass

    result = on_slurm(path, slurm_env)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # profiles/slurm: retries 1 (for memory and time kills), so Snakemake submits the failed ingest
    # job once more, with twice the memory; that attempt ends at once with attempt 1's message
    jobs = submissions(output)
    assert len(jobs) == 1, output[-5000:]
    assert len(next(iter(jobs.values()))) == 2, output[-5000:]
    assert output.count("Trying to restart job") == 1
    memory = [int(m) for m in re.findall(r"mem_mb=(\d+)", output)]
    assert memory, output[-5000:]
    assert max(memory) == 2 * min(memory), output[-5000:]
    # --show-failed-logs: the job's own log, with the reason, is in the output
    assert "non-numeric expression values" in output
    assert "attempt 2 not run: attempt 1 failed on its input" in output
    assert "logs/cohort/broken.log" in output
    assert not (path / "results" / "cohorts" / "broken.h5ad").exists()
    assert not (path / "results" / "scores").exists()
