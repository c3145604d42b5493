"""The workflow end to end with snakemake in a temporary directory, and config errors before any job."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, load_tool, starting_snakemake
from selfseed.survival import cox_per_sd

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# the shipped TCGA cohorts: LR events, competing events, censored (as tests/test_tcga_data.py)
DEFAULT_COHORTS = {
    "tcga_acc": {"n": 79, "events": 9, "competing": 33, "censored": 37},
    "tcga_chol": {"n": 36, "events": 12, "competing": 7, "censored": 17},
    "tcga_ucs": {"n": 50, "events": 14, "competing": 21, "censored": 15},
}
SURVSET_COHORTS = {"gse1992": "RFS", "gse3143": "OS", "vdv": "DMFS"}
SURVSET_CONFIG = REPO / "config" / "examples" / "survset_breast.yaml"

pytestmark = pytest.mark.workflow


def workdir(tmp_path, config):
    for item in ("Snakefile", "workflow"):
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, tmp_path / item)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return tmp_path


def snakemake(path, *args):
    starting_snakemake()
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args], cwd=path, capture_output=True, text=True, timeout=600
    )


def default_config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def survset_config():
    return yaml.safe_load(SURVSET_CONFIG.read_text())


def config_with(cohorts):
    """The default settings with other cohorts; the primary analysis pools all of them."""
    return {**default_config(), "cohorts": cohorts, "primary": {"pool": "all"}}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    path = workdir(tmp_path_factory.mktemp("default"), default_config())
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def survset_run(tmp_path_factory):
    """The SurvSet example, with every figure also as SVG (`figures: {svg: true}`)."""
    config = {**survset_config(), "figures": {"svg": True}}
    path = workdir(tmp_path_factory.mktemp("survset"), config)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def test_default_run_is_local_recurrence_in_the_shipped_tcga_cohorts(default_run):
    tables = default_run / "results" / "tables"
    cohorts = pd.read_csv(tables / "cohorts.tsv", sep="\t").set_index("cohort")
    counts = cohorts[["n", "events", "competing", "censored"]].to_dict("index")
    assert counts == DEFAULT_COHORTS
    assert (cohorts["endpoint"] == "LR").all()
    assert (cohorts["source"] == "tcga_firehose").all()
    cox = pd.read_csv(tables / "cox.tsv", sep="\t")
    assert list(cox.columns[:12]) == [
        "cohort",
        "endpoint",
        "signature",
        "method",
        "model",
        "n",
        "events",
        "hr",
        "ci_low",
        "ci_high",
        "p",
        "fdr",
    ]
    assert len(cox) == 3 * 3 * 3 * 2
    assert (cox["endpoint"] == "LR").all()
    assert cox[["hr", "ci_low", "ci_high", "p", "fdr"]].notna().all().all()
    univariable = cox[cox["model"] == "univariable"].set_index("cohort")
    assert univariable["events"].groupby(level=0).first().to_dict() == {
        cohort: c["events"] for cohort, c in DEFAULT_COHORTS.items()
    }
    coverage = pd.read_csv(tables / "coverage.tsv", sep="\t")
    assert coverage["present"].all()
    assert len(coverage) == 3 * (2 + 3 + 5)


def test_primary_and_the_rows_beside_it(default_run):
    tables = default_run / "results" / "tables"
    primary = pd.read_csv(tables / "primary.tsv", sep="\t")
    assert list(primary["role"]) == [
        "primary",
        "sensitivity",
        "sensitivity",
        "sensitivity",
        "sensitivity",
        "competing cause",
        "locality",
    ]
    assert list(primary["pool"][:6]) == [
        "LR",
        "LR",
        "LR_unknown_as_LR",
        "LR_unknown_as_competing",
        "LR_any",
        "DM_first",
    ]
    assert list(primary["hazard"][:2]) == ["cause_specific", "subdistribution"]
    assert (primary["k"] == 3).all()
    assert primary[["hr", "ci_low", "ci_high", "p"]].notna().all().all()
    first = primary.iloc[0]
    assert first["n"] == 165
    assert first["events"] == 35
    assert first["pi_low"] <= first["ci_low"] < first["hr"] < first["ci_high"] <= first["pi_high"]
    meta = pd.read_csv(tables / "meta.tsv", sep="\t")
    declared = meta[
        (meta["analysis"] == "random_effects")
        & (meta["pool"] == "LR")
        & (meta["hazard"] == "cause_specific")
        & (meta["model"] == "univariable")
        & (meta["signature"] == "self_seeding")
        & (meta["method"] == "zmean")
    ]
    assert first["hr"] == declared["hr"].item()
    assert first["statement"].startswith("primary: declared in the config: self_seeding signature")
    assert f"pooled cause-specific HR per SD {first['hr']:.2f}" in first["statement"]
    assert "small: 35 events in 3 cohorts" in first["statement"]
    # the bounds bracket unknown-site first events (6 in TCGA-UCS): 6 more patients in each
    bounds = primary.set_index("pool").loc[["LR_unknown_as_LR", "LR_unknown_as_competing"]]
    assert (bounds["n"] == 171).all()
    assert list(bounds["events"]) == [41, 35]
    locality = primary.iloc[-1]
    assert locality["statement"].startswith("Is it local?")
    assert (
        "data do not favour" in locality["statement"]
        or "favour an LR-specific" in (locality["statement"])
    )


def test_sensitivity_and_locality_tables(default_run):
    tables = default_run / "results" / "tables"
    sensitivity = pd.read_csv(tables / "sensitivity.tsv", sep="\t")
    assert set(sensitivity["endpoint"]) == {
        "LR_unknown_as_LR",
        "LR_unknown_as_competing",
        "LR_any",
        "DM_first",
    }
    assert len(sensitivity) == 3 * 4 * 9
    assert sensitivity["hr"].notna().all()
    assert sensitivity["shr"].notna().all()
    locality = pd.read_csv(tables / "locality.tsv", sep="\t")
    pooled = locality[locality["cohort"] == "pooled"]
    assert len(locality) == 3 * 9 + 9
    assert len(pooled) == 9
    assert pooled["statement"].str.startswith("Is it local?").all()
    per_cohort = locality[locality["cohort"] != "pooled"].set_index(
        ["cohort", "signature", "method"]
    )
    # the stacked model's LR effect is the cause-specific Cox of the primary endpoint
    cox = pd.read_csv(tables / "cox.tsv", sep="\t")
    cox = cox[cox["model"] == "univariable"].set_index(["cohort", "signature", "method"])
    assert np.allclose(per_cohort["hr_lr"], cox.loc[per_cohort.index, "hr"], rtol=1e-8)


def test_default_run_tables_are_the_committed_snapshot(default_run):
    """Every table of the default run is byte for byte the one in tests/snapshot/default_run.tsv. A
    change that moves a number updates that file in the same commit (`make run` then
    `python tools/snapshot.py`) and says why."""
    tool = load_tool("snapshot")
    found = tool.snapshot(default_run)
    # 21 run-wide tables of the summary (versions.tsv is not a result; 5 of them "which cells")
    # and 3 of `pathways`,
    # 3 dropped-sample/gene lists, 11 model tables, the genes and ranking tables and 1 score table
    # per cohort
    assert len(found) == 21 + 3 + 3 + 3 * (11 + 2 + 1)
    differences = tool.differences(tool.read(), found)
    assert not differences, "the default run's tables are not the snapshot:\n" + "\n".join(
        differences
    )


def test_the_run_wide_job_writes_the_same_tables_with_one_thread(default_run, tmp_path):
    """With 2 threads (the default run) the pathway context and "Which cells" run in forked
    processes beside the summary; with 1 (--cores 1) the same steps run in turn, to the same
    tables."""
    path = tmp_path / "run"
    shutil.copytree(default_run, path, symlinks=True)
    starting_snakemake()
    result = subprocess.run(
        [SNAKEMAKE, "--cores", "1", "--forcerun", "summarise"],
        cwd=path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "summarise" in result.stderr  # the job ran again
    tool = load_tool("snapshot")
    assert tool.snapshot(path) == tool.snapshot(default_run)


def test_default_run_figures(default_run):
    results = default_run / "results"
    for plot in ("km", "cif", "spline", "scores"):
        for cohort in DEFAULT_COHORTS:
            assert (results / "plots" / plot / f"{cohort}.png").is_file()
    assert not list(results.rglob("*.svg"))  # figures.svg is off by default
    for name in ("forest", "coverage", "score_correlation"):
        assert (results / "plots" / f"{name}.png").is_file()
    versions = pd.read_csv(results / "tables" / "versions.tsv", sep="\t")
    assert {"snakemake", "scanpy", "gseapy", "statsmodels"} <= set(versions["software"])


def read(path):
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["NA"])


def test_default_run_answers_which_genes_which_pathways_how_many_patients(default_run):
    """Issue 16 in the default run: the per-gene decomposition (per-gene Cox equal to R coxph,
    tests/reference/genes_r.tsv), the combined ranking and prerank, and the power table from the
    primary analysis's pooled HR (Schoenfeld's closed form)."""
    from scipy.stats import norm

    results = default_run / "results"
    tables = results / "tables"
    genes = read(tables / "genes.tsv")
    assert len(genes) == (3 + 1) * 5 * 2  # cohorts and pooled x self-seeding genes x methods
    assert genes["hr"].notna().all()
    assert genes["loo_hr"].notna().all()
    assert (genes.loc[genes["cohort"] == "pooled", "k"] == 3).all()
    r = read(REPO / "tests" / "reference" / "genes_r.tsv").set_index(["cohort", "gene", "name"])
    for row in genes[genes["cohort"] != "pooled"].itertuples():
        assert row.coef == pytest.approx(r.loc[(row.cohort, row.symbol, "coef"), "value"], rel=1e-6)
    ranking = read(tables / "ranking.tsv")
    assert len(ranking) > 15000
    assert ranking["z"].is_monotonic_decreasing
    assert ranking["cohorts"].str.count(",").max() == 2
    sets = read(tables / "pathways.tsv").set_index("set")
    assert (sets["collection"] == "Hallmark v2022.1.Hs").sum() == 50
    assert (sets["permutations"] == 250).all()
    assert (sets["seed"] == 0).all()
    assert np.isfinite(sets.loc["self_seeding", "nes"])
    assert "percentiles IL6" in sets.loc["self_seeding", "statement"]
    assert sets.loc["attractor", "note"].startswith("not tested: 2 genes in the ranking")
    standing = read(tables / "standing.tsv")
    top = standing.set_index(["signature", "gene"]).loc[("self_seeding", "FSCN1")]
    assert top["rank"] == ranking.index[ranking["gene"] == "FSCN1"][0] + 1
    power = read(tables / "power.tsv")
    primary = read(tables / "primary.tsv").iloc[0]
    first = power.iloc[0]
    assert (first["hazard"], first["assumed"], first["power"]) == (
        "cause_specific",
        "pooled estimate",
        0.8,
    )
    assert first["hr_per_sd"] == pytest.approx(primary["hr"], rel=1e-9)  # both 10 digits
    events = (norm.ppf(0.975) + norm.ppf(0.8)) ** 2 / np.log(primary["hr"]) ** 2
    assert first["events_exact"] == pytest.approx(events, rel=1e-7)
    assert 0 < first["cif_event"] < 1
    assert first["patients"] > first["events"]
    detectable = power[power["question"] == "minimum detectable HR per SD"]
    assert sorted(detectable["cohort"].unique()) == sorted(DEFAULT_COHORTS)
    page = (results / "report" / "genes.html").read_text()
    for heading in ("1. Which genes", "2. Specific to self-seeding", "3. How many patients"):
        assert heading in page
    for name in ("forest", "enrichment"):
        assert (results / "plots" / "genes" / f"{name}.png").stat().st_size > 0


def test_default_run_which_cells(default_run):
    """The reference job's tables and figures, the models adjusted for composition beside the
    unadjusted ones (whose HRs are cox.tsv's and meta.tsv's: same patients), the page."""
    results = default_run / "results"
    tables = results / "tables"
    expression = pd.read_csv(tables / "cell_expression.tsv", sep="\t")
    assert set(expression["gene"]) == {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"}
    assert len(expression) == 5 * (9 + 25)  # major and minor cell types
    markers = pd.read_csv(tables / "cell_markers.tsv", sep="\t")
    assert set(markers["compartment"]) == {"malignant", "stromal", "immune", "other"}
    composition = pd.read_csv(
        tables / "composition.tsv", sep="\t", keep_default_na=False, na_values=["NA"]
    )
    assert len(composition) == (3 + 1) * 9 * 2 * 3  # (cohorts + pooled) x scores x hazards x models
    fitted = composition[composition["cohort"] != "pooled"]
    assert fitted["hr"].notna().all()
    assert (fitted.loc[fitted["model"] == "stroma_immune", "covariates"] == "stromal,immune").all()
    cox = pd.read_csv(tables / "cox.tsv", sep="\t")
    keys = ["cohort", "signature", "method"]
    unadjusted = fitted[(fitted["model"] == "unadjusted") & (fitted["hazard"] == "cause_specific")]
    merged = unadjusted.merge(cox[cox["model"] == "univariable"], on=keys, suffixes=("", "_cox"))
    assert len(merged) == 27
    np.testing.assert_allclose(merged["hr"], merged["hr_cox"], rtol=1e-9)
    assert (merged["n"] == merged["n_cox"]).all()
    meta = pd.read_csv(tables / "meta.tsv", sep="\t")
    meta = meta[
        (meta["analysis"] == "random_effects")
        & (meta["pool"] == "all")
        & (meta["model"] == "univariable")
        & (meta["hazard"] == "cause_specific")
    ]
    pooled = composition[
        (composition["cohort"] == "pooled") & (composition["model"] == "unadjusted")
    ]
    pooled = pooled[pooled["hazard"] == "cause_specific"].merge(
        meta, on=keys[1:], suffixes=("", "_m")
    )
    np.testing.assert_allclose(pooled["hr"], pooled["hr_m"], rtol=1e-9)
    for path in (
        results / "plots" / "singlecell" / "wu2021_CID4465" / "dotplot.png",
        results / "plots" / "singlecell" / "wu2021_CID4465" / "violins.png",
        results / "plots" / "composition_forest.png",
    ):
        assert path.is_file()
    page = (results / "report" / "cells.html").read_text()
    assert "Which cells make the signal?" in page
    assert "dominated by CAFs" in page


def test_survset_example_fits_every_cohort_signature_and_method(survset_run):
    import anndata as ad

    results = survset_run / "results"
    cox = pd.read_csv(results / "tables" / "cox.tsv", sep="\t")
    univariable = cox[cox["model"] == "univariable"]
    assert len(univariable) == 3 * 3 * 3
    assert univariable.groupby("cohort")["endpoint"].first().to_dict() == SURVSET_COHORTS
    assert cox[["hr", "ci_low", "ci_high", "p", "fdr"]].notna().all().all()
    adjusted = cox[cox["model"] == "adjusted"]
    assert set(adjusted["cohort"]) == {"gse1992", "gse3143"}
    assert len(adjusted) == 18
    assert set(univariable["n"]) == {124, 158, 78}
    assert set(univariable["events"]) == {35, 50, 34}
    assert not (cox["endpoint"] == "LR").any()  # none of these cohorts measures local recurrence
    adata = ad.read_h5ad(results / "cohorts" / "vdv.h5ad")
    assert {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"} <= set(adata.var_names)  # from RefSeq ids
    assert adata.obs["time_months"].max() == pytest.approx(13.42 * 12, rel=1e-9)  # years -> months
    meta = pd.read_csv(results / "tables" / "meta.tsv", sep="\t")
    pooled = meta[
        (meta["analysis"] == "random_effects")
        & (meta["pool"] == "all")
        & (meta["hazard"] == "cause_specific")
    ]
    pooled = pooled[pooled["model"] == "univariable"]
    assert len(pooled) == 9
    assert set(pooled["endpoints"]) == {"DMFS,OS,RFS"}
    one_stage = meta[meta["analysis"] == "one_stage_stratified_cox"]
    assert len(one_stage) == 9
    assert (one_stage["n"] == 124 + 158 + 78).all()
    primary = pd.read_csv(results / "tables" / "primary.tsv", sep="\t")
    assert list(primary["role"]) == ["primary"]  # no competing events, no LR preset: no other rows
    assert "none of the pooled endpoints is local recurrence" in primary.loc[0, "statement"]
    sensitivity = pd.read_csv(results / "tables" / "sensitivity.tsv", sep="\t")
    assert sensitivity["note"].str.startswith("not run: the endpoint has no other codings").all()


def test_figures_svg_writes_an_svg_beside_every_png(survset_run):
    pngs = sorted((survset_run / "results" / "plots").rglob("*.png"))
    assert len(pngs) == 4 * len(SURVSET_COHORTS) + 2 + 7  # cohorts, reference, run-wide
    for png in pngs:
        svg = png.with_suffix(".svg")
        assert svg.read_text().startswith("<?xml"), svg
    assert len(list((survset_run / "results" / "plots").rglob("*.svg"))) == len(pngs)


def test_report_is_self_contained_and_needs_only_requirements_txt(default_run):
    """`make run && make report` from a fresh clone: the report is built with only what
    requirements.txt installs (tests/runtime_only.py refuses the test tools' modules, such as
    pygments, which only they used to bring)."""
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "tests" / "runtime_only.py"),
            "snakemake",
            "--cores",
            "1",
            "--report",
            "report.html",
        ],
        cwd=default_run,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    html = (default_run / "report.html").read_text()
    # self-contained: no script, style sheet or image is loaded from elsewhere
    assert not re.search(r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*[\"']?https?:", html)
    for label in (
        "Primary analysis",
        "Cox models (cause-specific)",
        "Software versions",
        "Models adjusted for composition (stroma, immune, purity)",
    ):
        assert label in html  # table pages, under their labels in workflow/rules/report.smk
    for cohort in DEFAULT_COHORTS:
        assert f"{cohort}.png" in html  # the figures of every cohort


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
            "name": "RFS",
            "label": "relapse-free survival",
            "time_column": "rfs_days",
            "time_unit": "days",
            "event_column": "status",
            "event_values": ["relapse"],
            "competing_values": ["distant"],
            "censored_values": ["censored"],
        },
        "covariates": [{"name": "er_positive", "column": "er", "type": "categorical"}],
    }


def test_own_cohort_in_one_config_entry(tmp_path, gse1992):
    config = config_with({"mine": own_table_cohort(tmp_path, gse1992)})
    path = workdir(tmp_path, config)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    cox = pd.read_csv(path / "results" / "tables" / "cox.tsv", sep="\t")
    assert set(cox["model"]) == {"univariable", "adjusted"}
    assert (cox["n"] <= 100).all()
    competing = pd.read_csv(path / "results" / "tables" / "competing.tsv", sep="\t")
    assert competing["shr"].notna().all()
    assert (competing["competing"] > 0).all()
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
        (lambda c: c["cohorts"]["tcga_ucs"].update(colour="red"), ["colour", "tcga_ucs"]),
        (lambda c: c.update(scoring={"methods": ["zmean"], "bins": 3}), ["bins"]),
        (
            lambda c: c["cohorts"]["tcga_ucs"]["endpoint"].update(cancer_type="ACC"),
            ["cohorts.tcga_ucs.endpoint.cancer_type", "ACC", "UCS"],
        ),
        (lambda c: c["cohorts"]["tcga_ucs"].update(cancer_type="BRCA"), ["cancer_type", "BRCA"]),
        (
            lambda c: c["cohorts"]["gse1992"]["endpoint"].update(time_column="rfs_time"),
            ["cohorts.gse1992.endpoint.time_column", "rfs_time", "SurvSet dataset gse1992"],
        ),
        (
            lambda c: c["cohorts"]["vdv"]["endpoint"].update(event_values=["relapse"]),
            ["cohorts.vdv.endpoint.event_values", "relapse", "event"],
        ),
        (
            lambda c: c["cohorts"].update(
                mine={
                    **c["cohorts"]["vdv"],
                    "source": "table",
                    "expression": "nowhere/expr.tsv",
                    "clinical": "nowhere/clin.tsv",
                }
            ),
            ["unknown keys"],
        ),
        (
            lambda c: c["cohorts"]["gse1992"]["endpoint"].update(time_unit="years"),
            [
                "follow-up longer than 100 years",
                "cohorts.gse1992.endpoint.time_unit",
                "time_unit years",
            ],
        ),
        (
            lambda c: c["cohorts"]["gse1992"]["endpoint"].update(
                censored_values=["0"], competing_values=[0.0]
            ),
            ["cohorts.gse1992.endpoint.censored_values", "listed in both competing_values"],
        ),
    ],
    ids=[
        "unknown-cohort-key",
        "unknown-scoring-key",
        "preset-cancer-type-differs",
        "cancer-type-not-shipped",
        "missing-endpoint-column",
        "event-codes-match-nothing",
        "survset-keys-on-table-source",
        "follow-up-over-a-century",
        "code-in-two-lists",
    ],
)
def test_config_errors_stop_before_any_job(tmp_path, mutate, expected):
    config = {
        **default_config(),
        "cohorts": {**default_config()["cohorts"], **survset_config()["cohorts"]},
    }
    mutate(config)
    result = snakemake(workdir(tmp_path, config), "--dry-run")
    assert result.returncode != 0
    message = result.stderr + result.stdout
    for text in expected:
        assert text in message, message[-2000:]
    assert not (tmp_path / "results").exists()


def test_missing_file_names_cohort_key_and_path(tmp_path):
    vdv = survset_config()["cohorts"]["vdv"]
    entry = {k: v for k, v in vdv.items() if k not in ("dataset", "gene_prefix")}
    config = config_with(
        {
            "mine": {
                **entry,
                "source": "table",
                "expression": "nowhere/expr.tsv",
                "clinical": "nowhere/clin.tsv",
            }
        }
    )
    result = snakemake(workdir(tmp_path, config), "--dry-run")
    assert result.returncode != 0
    message = result.stderr + result.stdout
    for text in ("cohort 'mine'", "nowhere/expr.tsv", "cohorts.mine.expression"):
        assert text in message, message[-2000:]


def test_readme_first_screen_is_the_default_run(default_run):
    """README.md's results block is what tools/readme_results.py writes from this run."""
    tool = load_tool("readme_results")
    assert tool.readme_block(REPO / "README.md") == tool.results_block(default_run / "results")
    for source, name in tool.FIGURES.items():  # the run's figures, copied by --write
        assert (REPO / "docs" / name).read_bytes() == (
            default_run / "results" / "plots" / source
        ).read_bytes(), name


def test_an_input_rewritten_with_its_old_mtime_reruns_its_cohort_and_the_summary_says_so(
    tmp_path, gse1992
):
    """`cp -p` and `rsync -a` keep a file's modification time, which Snakemake's default trigger
    reads; the cohort job's parameter digest holds its local inputs' sizes and change times, and
    the summary compares each input's sha256 with the one recorded at ingest."""
    import json
    import os
    import time

    from selfseed.files import sha256

    path = workdir(tmp_path, config_with({"mine": own_table_cohort(tmp_path, gse1992)}))
    assert snakemake(path).returncode == 0
    clinical = path / "clinical.tsv"
    at_ingest, before = sha256(clinical), clinical.stat()
    table = pd.read_csv(clinical, sep="\t")
    first = (table["status"] == "censored").idxmax()  # a patient with expression (first 100)
    assert first < 100
    time.sleep(0.05)  # later than the kernel's coarse clock step: the change time moves on
    table.assign(status=table["status"].mask(table.index == first, "relapse")).to_csv(
        clinical, sep="\t", index=False
    )
    os.utime(clinical, ns=(before.st_atime_ns, before.st_mtime_ns))
    dry = snakemake(path, "--dry-run")
    assert "rule cohort:" in dry.stdout, dry.stdout[-2000:]
    assert "Params have changed" in dry.stdout, dry.stdout[-2000:]
    # with the params trigger off, only the summary runs again: it finds the change and says so
    result = snakemake(path, "--rerun-triggers", "mtime", "--forcerun", "summarise")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "rule cohort:" not in result.stdout, result.stderr[-2000:]
    log = (path / "logs" / "summarise.log").read_text()
    assert "WARNING mine: input file clinical.tsv: content changed since the cohort's" in log
    provenance = json.loads((path / "results" / "provenance.json").read_text())
    (record,) = [f for f in provenance["inputs"][0]["files"] if f["path"] == "clinical.tsv"]
    assert record["sha256_at_ingest"] == at_ingest
    assert record["sha256"] == sha256(clinical)
    assert record["changed_since_ingest"] is True
    assert 'id="changed-inputs"' in (path / "results" / "report" / "summary.html").read_text()
    # a normal run reads the new content: one more event, and nothing left to report
    assert snakemake(path).returncode == 0
    cohorts = pd.read_csv(path / "results" / "tables" / "cohorts.tsv", sep="\t")
    assert cohorts["events"].item() == (gse1992["event"].iloc[:100] == 1).sum() + 1
    provenance = json.loads((path / "results" / "provenance.json").read_text())
    assert not any(f.get("changed_since_ingest") for f in provenance["inputs"][0]["files"])
    assert snakemake(path, "--dry-run").stdout.count("rule cohort:") == 0
    # the digest holds the config the job reads: editing it reruns the cohort
    assert "rule cohort:" in snakemake(path, "--dry-run", "--config", "min_genes=3").stdout


def test_panels_and_mixed_case_codes_run_with_the_default_methods(tmp_path, gse1992):
    """A genes x samples table of only the genes of interest used to stop the score job
    (scanpy: "No control genes found in any cut", logged as a bug, retried, the cohort lost) and,
    with ssGSEA, the model job (all-NaN scores, IndexError); event codes in mixed case dropped
    events while keeping the censored patients."""
    from selfseed.sources.tcga_firehose import data_files, read_rsem

    panel = own_table_cohort(tmp_path, gse1992)
    expression = pd.read_csv(tmp_path / "expr.csv.gz", index_col=0)
    expression[["IL6", "IL8", "MMP1"]].to_csv(tmp_path / "panel.csv.gz")
    panel.update(expression="panel.csv.gz")
    panel["endpoint"].update(label=r"relapse-free survival ($\frac{ $)")
    mixed = own_table_cohort(tmp_path, gse1992)
    clinical = pd.read_csv(tmp_path / "clinical.tsv", sep="\t")
    relapse = clinical["status"] == "relapse"
    clinical.loc[relapse & (clinical.index % 2 == 0), "status"] = "RELAPSE"
    clinical.loc[relapse & (clinical.index % 3 == 0), "status"] = "Relapse"
    clinical.to_csv(tmp_path / "mixed.tsv", sep="\t", index=False)
    mixed.update(clinical="mixed.tsv")
    files = data_files("UCS")
    ucs = read_rsem(files["expression"]).loc[
        ["IL6|3569", "IL8|3576", "MMP1|4312", "FSCN1|6624", "CXCL1|2919"]
    ]
    ucs.rename_axis("gene").to_csv(tmp_path / "ucs_panel.tsv", sep="\t")
    pd.DataFrame({"sample": ucs.columns, "patient_id": ucs.columns.str[:12]}).to_csv(
        tmp_path / "ucs_clinical.tsv", sep="\t", index=False
    )
    tcga = {
        "source": "table",
        "expression": "ucs_panel.tsv",
        "clinical": "ucs_clinical.tsv",
        "sample_column": "sample",
        "endpoint": {
            "preset": "tcga_cdr",
            "cancer_type": "UCS",
            "table": files["endpoint_table"],
            "events": files["events"],
        },
    }
    path = workdir(tmp_path, config_with({"panel": panel, "mixed": mixed, "ucs_panel": tcga}))
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Trying to restart" not in result.stderr  # no job failed, none was retried
    logs = {p.stem: p.read_text() for p in (path / "logs" / "cohort").glob("*.log")}
    assert len(logs) == 3
    for text in [*logs.values(), (path / "logs" / "summarise.log").read_text()]:
        assert "unexpected failure" not in text
        assert "Traceback" not in text
    tables = path / "results" / "tables"
    cox = pd.read_csv(tables / "cox.tsv", sep="\t", keep_default_na=False, na_values=["NA"])
    for cohort in ("panel", "ucs_panel"):
        rows = cox[(cox["cohort"] == cohort) & (cox["model"] == "univariable")]
        zmean = rows[rows["method"] == "zmean"]
        assert zmean["hr"].notna().any()
        others = rows[rows["method"] != "zmean"]
        assert others["hr"].isna().all()
        assert (others["note"] != "").all()  # invasion: too few genes in the 3-gene panel
        assert others["note"].str.contains("needs genome-wide data").sum() >= 4
    skipped = pd.read_csv(tables / "skipped.tsv", sep="\t")
    assert skipped["reason"].str.contains("ssgsea needs genome-wide data").any()
    cohorts = pd.read_csv(tables / "cohorts.tsv", sep="\t").set_index("cohort")
    assert cohorts.loc["mixed", "events"] == (gse1992["event"].iloc[:100] == 1).sum()
    assert "regardless of case" in logs["mixed"]
    assert (
        "relapse-free survival ($\\frac{ $)"
        in cox.loc[cox["cohort"] == "panel", "endpoint_label"].iloc[0]
    )
