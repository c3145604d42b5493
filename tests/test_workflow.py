"""The workflow end to end with snakemake in a temporary directory, and config errors before any job."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from selfseed.survival import cox_per_sd

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
DEFAULT_COHORTS = {"gse1992": "RFS", "gse3143": "OS", "vdv": "DMFS"}


def workdir(tmp_path, config):
    for item in ("Snakefile", "workflow", "environment.yml"):
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, tmp_path / item)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp_path


def snakemake(path, *args):
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args], cwd=path, capture_output=True, text=True, timeout=600
    )


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    path = workdir(tmp_path_factory.mktemp("default"), default_config())
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def test_default_run_fits_every_cohort_signature_and_method(default_run):
    cox = pd.read_csv(default_run / "results" / "tables" / "cox.tsv", sep="\t")
    assert list(cox.columns[:12]) == [
        "cohort", "endpoint", "signature", "method", "model", "n", "events",
        "hr", "ci_low", "ci_high", "p", "fdr",
    ]  # fmt: skip
    univariable = cox[cox["model"] == "univariable"]
    assert len(univariable) == 3 * 3 * 3
    assert univariable.groupby("cohort")["endpoint"].first().to_dict() == DEFAULT_COHORTS
    assert cox[["hr", "ci_low", "ci_high", "p", "fdr"]].notna().all().all()
    assert (cox["ci_low"] < cox["hr"]).all() and (cox["hr"] < cox["ci_high"]).all()
    adjusted = cox[cox["model"] == "adjusted"]
    assert set(adjusted["cohort"]) == {"gse1992", "gse3143"} and len(adjusted) == 18
    assert set(univariable["n"]) == {124, 158, 78} and set(univariable["events"]) == {35, 50, 34}
    assert not (cox["endpoint"] == "LR").any()  # none of these cohorts measures local recurrence


def test_default_run_writes_cohort_data_coverage_and_plots(default_run):
    import anndata as ad

    results = default_run / "results"
    adata = ad.read_h5ad(results / "cohorts" / "vdv.h5ad")
    assert {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"} <= set(adata.var_names)  # from RefSeq ids
    assert adata.uns["endpoint"]["name"] == "DMFS"
    assert adata.obs["time_months"].max() == pytest.approx(13.42 * 12, rel=1e-9)  # years -> months
    scores = ad.read_h5ad(results / "scores" / "gse1992.h5ad")
    assert "score:self_seeding:ssgsea" in scores.obs
    coverage = pd.read_csv(results / "tables" / "coverage.tsv", sep="\t")
    assert coverage["present"].all() and len(coverage) == 3 * (2 + 3 + 5)
    assert coverage.loc[coverage["gene"] == "CXCL8", "symbol"].eq("CXCL8").all()
    cohorts = pd.read_csv(results / "tables" / "cohorts.tsv", sep="\t").set_index("cohort")
    assert cohorts["events"].to_dict() == {"gse1992": 35, "gse3143": 50, "vdv": 34}
    for plot in ("km", "cif", "spline"):
        for cohort in DEFAULT_COHORTS:
            assert (results / "plots" / plot / f"{cohort}.png").stat().st_size > 10_000
    assert (results / "plots" / "forest.png").stat().st_size > 10_000
    versions = pd.read_csv(results / "tables" / "versions.tsv", sep="\t")
    assert {"snakemake", "scanpy", "gseapy", "statsmodels"} <= set(versions["software"])


def test_default_run_meta_analysis_and_primary_line(default_run):
    tables = default_run / "results" / "tables"
    meta = pd.read_csv(tables / "meta.tsv", sep="\t")
    pooled = meta[(meta["analysis"] == "random_effects") & (meta["pool"] == "all")]
    assert len(pooled[pooled["model"] == "univariable"]) == 9
    assert set(pooled["endpoints"]) >= {"DMFS,OS,RFS"}
    assert pooled[["hr", "tau2", "i2", "q"]].notna().all().all() and (pooled["i2"] >= 0).all()
    one_stage = meta[meta["analysis"] == "one_stage_stratified_cox"]
    assert len(one_stage) == 9 and (one_stage["n"] == 124 + 158 + 78).all()
    primary = pd.read_csv(tables / "primary.tsv", sep="\t")
    assert len(primary) == 1
    assert primary.loc[0, "statement"].startswith("self_seeding signature, zmean score")
    assert "none of the pooled endpoints is local recurrence" in primary.loc[0, "statement"]
    groups = pd.read_csv(tables / "groups.tsv", sep="\t")
    assert set(groups["grouping"]) == {"median", "tertile"} and groups["p"].notna().all()
    cox = pd.read_csv(tables / "cox.tsv", sep="\t")
    assert cox["ph_p"].between(0, 1).all()


def test_report_is_self_contained_and_needs_only_requirements_txt(default_run):
    """`make run && make report` from a fresh clone: the report is built with only what
    requirements.txt installs (tests/runtime_only.py refuses the test tools' modules, such as
    pygments, which only they used to bring)."""
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "runtime_only.py"), "snakemake", "--cores", "1",
         "--report", "report.html"],
        cwd=default_run, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert (default_run / "report.html").stat().st_size > 100_000


def own_table_cohort(tmp_path, gse1992):
    """The gse1992 cohort written as a user's own files: samples x genes CSV.gz, days, text codes."""
    genes = [c for c in gse1992.columns if c.startswith("num_HS_")]
    expression = gse1992.set_index("pid")[genes].rename(columns=lambda c: c[7:])
    expression.index.name = "sample"
    expression.iloc[:100].to_csv(tmp_path / "expr.csv.gz")  # 24 samples lack expression
    clinical = pd.DataFrame(
        {
            "patient": gse1992["pid"],
            "rfs_days": gse1992["time"] * 365.25 / 12,
            # test-made competing events: censored patients before 20 months become "distant"
            "status": np.where(
                gse1992["event"] == 1,
                "relapse",
                np.where(gse1992["time"] < 20, "distant", "censored"),
            ),
            "er": gse1992["fac_er_positive"],
        }
    )
    clinical.to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    return {
        "source": "table",
        "expression": "expr.csv.gz",
        "orientation": "samples_by_genes",
        "clinical": "clinical.tsv",
        "sample_column": "patient",
        "missing_values": ["missing"],
        "endpoint": {
            "name": "RFS", "label": "relapse-free survival", "time_column": "rfs_days",
            "time_unit": "days", "event_column": "status", "event_values": ["relapse"],
            "competing_values": ["distant"], "censored_values": ["censored"],
        },
        "covariates": [{"name": "er_positive", "column": "er", "type": "categorical"}],
    }  # fmt: skip


def test_own_cohort_in_one_config_entry(tmp_path, gse1992, default_run):
    config = default_config()
    config["cohorts"] = {"mine": own_table_cohort(tmp_path, gse1992)}
    path = workdir(tmp_path, config)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    cox = pd.read_csv(path / "results" / "tables" / "cox.tsv", sep="\t")
    assert set(cox["model"]) == {"univariable", "adjusted"} and (cox["n"] <= 100).all()
    competing = pd.read_csv(path / "results" / "tables" / "competing.tsv", sep="\t")
    assert competing["shr"].notna().all() and (competing["competing"] > 0).all()
    groups = pd.read_csv(path / "results" / "tables" / "groups.tsv", sep="\t")
    assert groups["gray_p"].between(0, 1).all()
    dropped = pd.read_csv(path / "results" / "qc" / "mine.dropped.tsv", sep="\t")
    assert (dropped["reason"] == "not in the expression matrix").sum() == 24
    assert cox["hr"].notna().all()
    # days -> months and text codes give back the model of the SurvSet cohort's first 100 patients
    # (competing events are censored in the cause-specific Cox model)
    first = gse1992.iloc[:100]
    genes = first[["num_HS_IL6", "num_HS_IL8"]]
    expected = cox_per_sd(
        pd.DataFrame(
            {
                "time_months": first["time"].astype(float),
                "event": first["event"].astype(int),
                "score": ((genes - genes.mean()) / genes.std()).mean(axis=1),
            }
        )
    )
    ours = cox.set_index(["signature", "method", "model"]).loc[
        ("attractor", "zmean", "univariable")
    ]
    assert ours["n"] == expected["n"] == 100
    assert ours["hr"] == pytest.approx(expected["hr"], rel=1e-6)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["cohorts"]["gse1992"].update(colour="red"), ["colour", "gse1992"]),
        (lambda c: c.update(scoring={"methods": ["zmean"], "bins": 3}), ["bins"]),
        (lambda c: c["cohorts"]["gse1992"]["endpoint"].update(time_column="rfs_time"),
         ["cohorts.gse1992.endpoint.time_column", "rfs_time", "SurvSet dataset gse1992"]),
        (lambda c: c["cohorts"]["vdv"]["endpoint"].update(event_values=["relapse"]),
         ["cohorts.vdv.endpoint.event_values", "relapse", "event"]),
        (lambda c: c["cohorts"].update(mine={**c["cohorts"]["vdv"], "source": "table",
         "expression": "nowhere/expr.tsv", "clinical": "nowhere/clin.tsv"}),
         ["unknown keys"]),
    ],
    ids=["unknown-cohort-key", "unknown-scoring-key", "missing-endpoint-column",
         "event-codes-match-nothing", "survset-keys-on-table-source"],
)  # fmt: skip
def test_config_errors_stop_before_any_job(tmp_path, mutate, expected):
    config = default_config()
    mutate(config)
    result = snakemake(workdir(tmp_path, config), "--dry-run")
    assert result.returncode != 0
    message = result.stderr + result.stdout
    for text in expected:
        assert text in message, message[-2000:]
    assert not (tmp_path / "results").exists()


def test_missing_file_names_cohort_key_and_path(tmp_path):
    config = default_config()
    entry = {
        k: v for k, v in config["cohorts"]["vdv"].items() if k not in ("dataset", "gene_prefix")
    }
    config["cohorts"] = {"mine": {**entry, "source": "table", "expression": "nowhere/expr.tsv",
                                  "clinical": "nowhere/clin.tsv"}}  # fmt: skip
    result = snakemake(workdir(tmp_path, config), "--dry-run")
    assert result.returncode != 0
    message = result.stderr + result.stdout
    for text in ("cohort 'mine'", "nowhere/expr.tsv", "cohorts.mine.expression"):
        assert text in message, message[-2000:]
