"""benchmarks/synthetic.py: seeded cohorts that the pipeline's `table` source reads."""

import hashlib
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO
from selfseed.cohort import build_cohort

sys.path.insert(0, str(REPO / "benchmarks"))
import synthetic  # noqa: E402

SIZE = {"cohorts": 2, "samples": 60, "genes": 300}


def read_expression(path):
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path, sep="\t")


def digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module", params=synthetic.FORMATS)
def generated(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"synthetic-{request.param}")
    config = synthetic.generate(out, fmt=request.param, seed=7, **SIZE)
    return out, config


def test_config_names_one_table_cohort_per_cohort_with_LR(generated):
    out, config = generated
    assert yaml.safe_load((out / "config.yaml").read_text()) == config
    assert list(config["cohorts"]) == ["synth001", "synth002"]
    for entry in config["cohorts"].values():
        assert entry["source"] == "table"
        assert entry["endpoint"]["name"] == "LR"
        assert entry["endpoint"]["competing_values"] == ["distant", "death"]


def test_pipeline_reads_cohorts_with_planted_genes_and_both_event_kinds(generated):
    out, config = generated
    truth = pd.read_csv(out / "truth.tsv", sep="\t").set_index("cohort")
    for name, entry in config["cohorts"].items():
        adata, dropped = build_cohort(entry, name, max_missing_fraction=0.2)
        assert adata.shape == (SIZE["samples"], SIZE["genes"])
        assert set(synthetic.SIGNATURE_GENES) <= set(adata.var_names)
        assert "IL8" not in adata.var_names
        assert (dropped["kind"] == "sample").sum() == 0
        counts = adata.obs["event"].value_counts()
        assert counts.get(1, 0) > 0
        assert counts.get(2, 0) > 0
        assert counts.get(0, 0) > 0
        assert counts.get(1, 0) == truth.loc[name, "local"]
        assert (
            adata.obs["stage"].isna().sum()
            == (pd.read_csv(entry["clinical"], sep="\t")["stage"] == "unknown").sum()
        )
    assert list(truth["cxcl8_written_as"]) == ["CXCL8", "IL8"]
    il8 = (
        synthetic.pd.read_parquet
        if config["cohorts"]["synth002"]["expression"].endswith("parquet")
        else lambda p: pd.read_csv(p, sep="\t")
    )
    genes = set(il8(config["cohorts"]["synth002"]["expression"])["gene"])
    assert "IL8" in genes
    assert "CXCL8" not in genes


def test_signature_genes_follow_the_latent_score(generated):
    out, config = generated
    entry = config["cohorts"]["synth001"]
    adata, _ = build_cohort(entry, "synth001", max_missing_fraction=0.2)
    latent = pd.read_csv(entry["clinical"], sep="\t").set_index("sample_id")["latent_score"]
    expression = adata.to_df()
    for gene in synthetic.SIGNATURE_GENES:
        assert expression[gene].corr(latent.loc[expression.index]) > 0.5


def test_same_seed_same_files_other_seed_other_files(generated, tmp_path):
    out, config = generated
    fmt = "parquet" if config["cohorts"]["synth001"]["expression"].endswith("parquet") else "tsv.gz"
    synthetic.generate(tmp_path / "again", fmt=fmt, seed=7, **SIZE)
    synthetic.generate(tmp_path / "other", fmt=fmt, seed=8, **SIZE)
    expected = {k: v for k, v in digests(out).items() if k != "config.yaml"}
    again = {k: v for k, v in digests(tmp_path / "again").items() if k != "config.yaml"}
    other = digests(tmp_path / "other")
    assert again == expected
    assert other[f"synth001.expression.{fmt}"] != expected[f"synth001.expression.{fmt}"]


@pytest.mark.parametrize("log_hr", [0.0, 0.7])
def test_local_recurrence_has_the_planted_cause_specific_log_hr(log_hr):
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(11)
    latent = rng.standard_normal(4000)
    days, event = synthetic.survival(
        latent, rng, log_hr=log_hr, lr_rate=0.04, competing_rate=0.06, dropout_rate=0.03
    )
    assert set(event) == {"local", "distant", "death", "none"}
    fit = PHReg(days, latent[:, None], status=(event == "local").astype(int), ties="efron").fit()
    assert abs(fit.params[0] - log_hr) < 4 * fit.bse[0]  # competing events censored: cause-specific


def test_scale_runner_reads_job_wall_times_from_the_snakemake_log():
    import scale

    log = """[Fri Nov 27 21:07:03 2026]
localrule ingest:
    output: results/cohorts/a.h5ad
    jobid: 7
    wildcards: cohort=a
[Fri Nov 27 21:07:04 2026]
rule score:
    jobid: 9
[Fri Nov 27 21:07:09 2026]
Finished jobid: 7 (Rule: ingest)
[Fri Nov 27 21:07:14 2026]
Finished jobid: 9 (Rule: score)
[Fri Nov 27 21:07:14 2026]
localrule all:
    jobid: 0
[Fri Nov 27 21:07:14 2026]
Finished jobid: 0 (Rule: all)
"""
    jobs = scale.jobs_from_log(log)
    assert jobs.set_index("rule")["wall_s"].to_dict() == {"ingest": 6.0, "score": 10.0}
