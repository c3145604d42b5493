"""Real-shaped inputs: the shipped TCGA cohorts and the SurvSet cohort gse1992 cut and bent the ways
real exports come (panels of 3, 5 and 50 genes, probe-wise standardised values, a constant signature
gene, one sample, tied scores, event codes in mixed case, days declared as months, duplicated gene
rows that disagree). Each case runs as a cohort job does (`pipeline.analyse_cohort`: ingest, scores,
models, figures) under the job's log; then the run-wide summary runs over every cohort that
finished. Every case ends with rows and reasons or stops with a clear error, and none is an
"unexpected failure". A hypothesis test does the same for random subsets of genes and samples.
"""

import re

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from selfseed.config import cohort_settings
from selfseed.contracts import (
    COHORT_PLOTS,
    COHORT_RANKING,
    COHORT_SUMMARY,
    RUN_TABLES,
    svg_copies,
)
from selfseed.logs import logged
from selfseed.pipeline import MODEL_TABLES, analyse_cohort, summarise
from selfseed.sources.tcga_firehose import data_files, read_rsem

SIGNATURE_ROWS = ["IL6|3569", "IL8|3576", "MMP1|4312", "FSCN1|6624", "CXCL1|2919"]
# the label and a signature's genes as a user may write them: text, never mathtext
LABEL = r"relapse-free survival, $\frac{ x^$ (in $)"
COHORT_FILES = tuple(COHORT_SUMMARY)


def base_config():
    """The default config with two signatures (the figures' panels are most of the time), one of
    them with a gene name as a user may write it."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["signatures"] = {
        "attractor": ["IL6", "CXCL8", r"$\alpha$"],
        "self_seeding": ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"],
    }
    return config


def validated(config):
    """The config with the schema's defaults, as the workflow sees it."""
    from snakemake.utils import validate

    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


@pytest.fixture(scope="module")
def ucs():
    """TCGA-UCS log2(RSEM + 1), genes (Firehose SYMBOL|Entrez ids) x primary tumours."""
    return read_rsem(data_files("UCS")["expression"])


@pytest.fixture(scope="module")
def gse1992_frames(gse1992):
    """gse1992 (Agilent log ratios, RFS in months) as genes x samples and a clinical table."""
    genes = [c for c in gse1992.columns if c.startswith("num_HS_")]
    expression = gse1992.set_index("pid")[genes].rename(columns=lambda c: c[7:]).T
    clinical = pd.DataFrame(
        {
            "sample": gse1992["pid"],
            "rfs_months": gse1992["time"],
            "status": np.where(gse1992["event"] == 1, "relapse", "censored"),
        }
    )
    return expression, clinical


def write_cohort(folder, name, expression, clinical, endpoint):
    """A `table` cohort entry of these frames, written as TSV."""
    folder.mkdir(parents=True, exist_ok=True)
    expression.rename_axis("gene").to_csv(folder / f"{name}.expr.tsv", sep="\t")
    clinical.to_csv(folder / f"{name}.clinical.tsv", sep="\t", index=False)
    return {
        "source": "table",
        "expression": str(folder / f"{name}.expr.tsv"),
        "clinical": str(folder / f"{name}.clinical.tsv"),
        "sample_column": "sample",
        "endpoint": endpoint,
    }


def tcga_cohort(folder, name, expression):
    """TCGA-UCS values as a user's table, with its local-recurrence endpoint (tcga_cdr preset)."""
    files = data_files("UCS")
    clinical = pd.DataFrame(
        {"sample": expression.columns, "patient_id": expression.columns.str[:12]}
    )
    endpoint = {
        "preset": "tcga_cdr",
        "cancer_type": "UCS",
        "table": files["endpoint_table"],
        "events": files["events"],
    }
    return write_cohort(folder, name, expression, clinical, endpoint)


def gse_endpoint(**changes):
    return {
        "name": "RFS",
        "label": LABEL,
        "time_column": "rfs_months",
        "time_unit": "months",
        "event_column": "status",
        "event_values": ["relapse"],
        "censored_values": ["censored"],
        **changes,
    }


def corpus(folder, ucs, gse1992_frames):
    """name -> cohort entry, one per real-shaped case."""
    expression, clinical = gse1992_frames
    rng = np.random.default_rng(13)
    others = [g for g in ucs.index if g not in SIGNATURE_ROWS and ucs.loc[g].std() > 0]
    panel50 = SIGNATURE_ROWS + list(rng.choice(others, 45, replace=False))
    standardised = ucs.sub(ucs.mean(axis=1), axis=0).div(ucs.std(axis=1), axis=0)
    constant = expression.copy()
    constant.loc["MMP1"] = 0.25  # a signature gene without variation
    tied = expression.copy()
    tied.loc["IL8"] = 3.0 - tied.loc["IL6"]  # attractor's zmean is 0 up to rounding
    two_values = expression.copy()
    high = (expression.loc["IL6"] > expression.loc["IL6"].median()).astype(float)
    two_values.loc["IL6"], two_values.loc["IL8"] = high, high  # attractor's scores: two values
    mixed = clinical.assign(
        status=clinical["status"]
        .mask((clinical["status"] == "relapse") & (np.arange(len(clinical)) % 3 == 1), "Relapse")
        .mask((clinical["status"] == "relapse") & (np.arange(len(clinical)) % 3 == 2), "RELAPSE")
    )
    days = clinical.assign(rfs_months=clinical["rfs_months"] * 365.25 / 12)
    duplicated = pd.concat(
        [expression, (expression.loc[["IL8"]] * 0.5 + 1).rename({"IL8": "CXCL8"})]
    )
    return {
        "panel3": write_cohort(
            folder, "panel3", expression.loc[["IL6", "IL8", "MMP1"]], clinical, gse_endpoint()
        ),
        "panel5_tcga": tcga_cohort(folder, "panel5_tcga", ucs.loc[SIGNATURE_ROWS]),
        "panel50_tcga": tcga_cohort(folder, "panel50_tcga", ucs.loc[panel50]),
        "standardised_tcga": tcga_cohort(folder, "standardised_tcga", standardised),
        "constant_gene": write_cohort(folder, "constant_gene", constant, clinical, gse_endpoint()),
        "one_sample": write_cohort(
            folder, "one_sample", expression.iloc[:, :1], clinical, gse_endpoint()
        ),
        "tied_scores": write_cohort(folder, "tied_scores", tied, clinical, gse_endpoint()),
        "two_score_values": write_cohort(
            folder, "two_score_values", two_values, clinical, gse_endpoint()
        ),
        "mixed_case": write_cohort(folder, "mixed_case", expression, mixed, gse_endpoint()),
        "days_as_months": write_cohort(folder, "days_as_months", expression, days, gse_endpoint()),
        "duplicate_rows": write_cohort(
            folder, "duplicate_rows", duplicated, clinical, gse_endpoint()
        ),
    }


def cohort_outputs(results, cohort):
    models = results / "models" / cohort
    outputs = {name: models / f"{name}.tsv" for name in MODEL_TABLES}
    outputs.update(
        coverage=models / "coverage.tsv",
        patients=models / "patients.tsv",
        record=models / "cohort.json",
        genes=models / "genes.tsv",
        ranking=models / COHORT_RANKING,
        h5ad=results / "cohorts" / f"{cohort}.h5ad",
        dropped=results / "qc" / f"{cohort}.dropped.tsv",
        scores_h5ad=results / "scores" / f"{cohort}.h5ad",
        scores_tsv=results / "scores" / f"{cohort}.tsv",
    )
    outputs.update(cohort_plots(results, cohort))
    return outputs


def cohort_plots(results, cohort):
    return {plot: results / "plots" / plot / f"{cohort}.png" for plot in COHORT_PLOTS}


def run_cohort(config, cohort, results, log):
    """The cohort job's work under its log: (log text, the job's exit: None when it finished)."""
    exit_code, outputs = None, cohort_outputs(results, cohort)
    try:
        with logged(log):
            analyse_cohort(
                config["cohorts"][cohort],
                cohort,
                {},
                cohort_settings(config, cohort),
                outputs=outputs,
            )
    except SystemExit as stop:
        exit_code = stop.code
    return log.read_text(), exit_code


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, ucs, gse1992_frames):
    folder = tmp_path_factory.mktemp("real_inputs")
    config = validated({**base_config(), "cohorts": corpus(folder / "data", ucs, gse1992_frames)})
    results = folder / "results"
    runs = {}
    with svg_copies(True):  # the tests read the figures' text in their SVGs
        for cohort in config["cohorts"]:
            runs[cohort] = run_cohort(config, cohort, results, folder / f"{cohort}.log")
    finished = [cohort for cohort, (_, code) in runs.items() if code is None]
    tables = {name: results / "tables" / f"{name}.tsv" for name in RUN_TABLES}
    plots = {
        name: results / "plots" / f"{name}.png"
        for name in ("forest", "coverage", "correlation", "gene_forest")
    }
    summary_log = folder / "summarise.log"
    with logged(summary_log), svg_copies(True):
        summarise(
            {name: [cohort_outputs(results, c)[name] for c in finished] for name in MODEL_TABLES},
            {name: [cohort_outputs(results, c)[name] for c in finished] for name in COHORT_FILES},
            {c: {"source": "table", "description": ""} for c in finished},
            config["statistics"],
            {**config["primary"], "pool": "all"},
            tables=tables,
            plots=plots,
            planning=config["planning"],
        )[1]()
    return {
        "config": config,
        "runs": runs,
        "results": results,
        "finished": finished,
        "summary_log": summary_log.read_text(),
    }


def table(corpus_run, name, cohort=None):
    frame = pd.read_csv(
        corpus_run["results"] / "tables" / f"{name}.tsv",
        sep="\t",
        keep_default_na=False,
        na_values=["NA"],
    )
    if "note" in frame:  # the run-wide tables write an empty note as NA
        frame["note"] = frame["note"].fillna("")
    return frame if cohort is None else frame[frame["cohort"] == cohort]


STOPS = {"days_as_months": "follow-up longer than 100 years: is time_unit right?"}


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
@pytest.mark.parametrize(
    "cohort",
    [
        "panel3",
        "panel5_tcga",
        "panel50_tcga",
        "standardised_tcga",
        "constant_gene",
        "one_sample",
        "tied_scores",
        "two_score_values",
        "mixed_case",
        "days_as_months",
        "duplicate_rows",
    ],
)
def test_every_case_ends_with_rows_and_reasons_or_a_clear_error(corpus_run, cohort):
    log, exit_code = corpus_run["runs"][cohort]
    assert "unexpected failure" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    if cohort in STOPS:
        assert exit_code == 1
        assert f"ERROR {STOPS[cohort]}" in log
        return
    assert exit_code is None, log[-3000:]
    for name in (
        "cox",
        "groups",
        "competing",
        "nonlinearity",
        "discrimination",
        "sensitivity",
        "locality",
    ):
        rows = table(corpus_run, name, cohort)
        assert len(rows), name
        estimate = {
            "cox": "hr",
            "groups": "p",
            "competing": "shr",
            "nonlinearity": "p",
            "discrimination": "harrell_c",
            "sensitivity": "hr",
            "locality": "p_equal",
        }[name]
        unexplained = rows[rows[estimate].isna() & (rows["note"] == "")] if estimate in rows else []
        if estimate not in rows:  # nothing estimable anywhere in this table: every row says why
            assert (rows["note"] != "").all(), name
        else:
            assert len(unexplained) == 0, (name, unexplained)
    skipped = table(corpus_run, "skipped", cohort)
    cox = table(corpus_run, "cox", cohort)
    assert set(cox.loc[cox["note"] != "", "note"]) <= set(skipped["reason"])


def notes(corpus_run, cohort, method):
    cox = table(corpus_run, "cox", cohort)
    return cox.loc[cox["method"] == method, "note"]


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
@pytest.mark.parametrize("cohort", ["panel3", "panel5_tcga", "panel50_tcga"])
def test_panels_skip_the_genome_wide_methods_and_fit_zmean(corpus_run, cohort):
    n_genes = {"panel3": 3, "panel5_tcga": 5, "panel50_tcga": 50}[cohort]
    for method, minimum in (("score_genes", "at least 12"), ("ssgsea", "at least 1000 genes")):
        reasons = notes(corpus_run, cohort, method)
        assert reasons.str.contains(f"skipped: {method} needs genome-wide data").all()
        assert reasons.str.contains(minimum).all()
        assert reasons.str.contains(f"found {n_genes}").all()
    cox = table(corpus_run, "cox", cohort)
    fitted = cox[(cox["method"] == "zmean") & cox["hr"].notna()]
    assert set(fitted["signature"]) >= {"attractor", "self_seeding"}


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_genome_wide_cohorts_keep_every_method(corpus_run):
    cox = table(corpus_run, "cox", "standardised_tcga")
    assert len(cox) == 2 * 3
    assert cox["hr"].notna().all()


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_a_score_without_variation_never_reaches_a_model(corpus_run):
    one = table(corpus_run, "cox", "one_sample")  # one sample: every gene is constant
    assert one["hr"].isna().all()
    assert len(one) == 2 * 3
    reason = "fewer than min_genes=2 (constant across samples: IL6, CXCL8"
    assert one["note"].str.contains(reason, regex=False).all()
    tied = table(corpus_run, "cox", "tied_scores")
    attractor = tied[(tied["signature"] == "attractor") & (tied["method"] == "zmean")]
    assert attractor["note"].str.startswith("not run: the score takes one value").all()
    groups = table(corpus_run, "groups", "two_score_values")
    tertiles = groups[
        (groups["signature"] == "attractor")
        & (groups["method"] == "zmean")
        & (groups["grouping"] == "tertile")
    ]
    assert tertiles["note"].str.contains("tied values").all()


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_a_constant_signature_gene_is_left_out_with_its_reason(corpus_run):
    coverage = table(corpus_run, "coverage", "constant_gene")
    assert set(coverage.loc[coverage["symbol"] == "MMP1", "note"]) == {"constant across samples"}
    cox = table(corpus_run, "cox", "constant_gene")
    assert cox.loc[cox["signature"] == "self_seeding", "hr"].notna().any()


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_event_codes_in_mixed_case_keep_every_event(corpus_run, gse1992):
    cohorts = table(corpus_run, "cohorts").set_index("cohort")
    events = int((gse1992["event"] == 1).sum())
    assert cohorts.loc["mixed_case", "events"] == cohorts.loc["constant_gene", "events"] == events
    log, _ = corpus_run["runs"]["mixed_case"]
    line = next(line for line in log.splitlines() if "regardless of case" in line)
    assert "'Relapse' (12 rows)" in line
    assert "'RELAPSE' (15 rows)" in line
    cox = table(corpus_run, "cox", "mixed_case").set_index(["signature", "method", "model"])
    same = table(corpus_run, "cox", "constant_gene").set_index(["signature", "method", "model"])
    key = ("attractor", "zmean", "univariable")  # constant_gene differs in MMP1 only
    assert cox.loc[key, "hr"] == pytest.approx(same.loc[key, "hr"], rel=1e-12)


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_duplicate_rows_that_disagree_are_a_warning_and_a_detail(corpus_run):
    log, _ = corpus_run["runs"]["duplicate_rows"]
    # gse1992 has 14 such pairs of its own (e.g. ALG13 and its alias CXorf45), the test adds 1
    assert re.search(r"WARNING duplicate_rows: 15 duplicate gene rows have other values", log)
    dropped = pd.read_csv(corpus_run["results"] / "qc" / "duplicate_rows.dropped.tsv", sep="\t")
    (detail,) = dropped.loc[dropped["id"].isin(["IL8", "CXCL8"]), "detail"]
    assert detail.startswith("CXCL8: kept ")
    assert "values differ" in detail


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_text_is_drawn_as_written_never_as_mathtext(corpus_run):
    svg = (corpus_run["results"] / "plots" / "km" / "panel3.svg").read_text()
    assert r"$\frac{ x^$ (in $)" in svg.replace("&#36;", "$")
    coverage_svg = (corpus_run["results"] / "plots" / "coverage.svg").read_text()
    assert r"$\alpha$" in coverage_svg


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_the_summary_goes_on_over_every_cohort_that_finished(corpus_run):
    assert "unexpected failure" not in corpus_run["summary_log"]
    cohorts = table(corpus_run, "cohorts")
    assert sorted(cohorts["cohort"]) == sorted(corpus_run["finished"])
    skipped = table(corpus_run, "skipped")
    assert skipped["reason"].str.contains("needs genome-wide data").any()
    meta = table(corpus_run, "meta")
    assert meta["hr"].notna().any()


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_every_finished_cohort_has_gene_rows_with_estimates_or_reasons(corpus_run):
    genes = table(corpus_run, "genes")
    per_cohort = genes[genes["cohort"] != "pooled"]
    assert sorted(per_cohort["cohort"].unique()) == sorted(corpus_run["finished"])
    # the primary signature's five genes by each leave-one-out method, or a reason
    unexplained = per_cohort[per_cohort["hr"].isna() & (per_cohort["note"] == "")]
    assert unexplained.empty, unexplained
    one = per_cohort[per_cohort["cohort"] == "one_sample"]
    assert one["hr"].isna().all()
    assert (one["note"] != "").all()
    skipped = table(corpus_run, "skipped")
    noted = skipped[skipped["analysis"] == "genes"]
    assert len(noted) == (genes["note"] != "").sum()
    assert (genes.loc[genes["cohort"] == "pooled", "k"] >= 1).all()
    for cohort in corpus_run["finished"]:
        ranking = pd.read_csv(
            corpus_run["results"] / "models" / cohort / COHORT_RANKING,
            sep="\t",
            keep_default_na=False,
            na_values=["NA"],
        )
        assert (ranking["z"].notna() | (ranking["note"] != "")).all(), cohort


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_power_table_of_the_corpus_says_why_or_gives_numbers(corpus_run):
    power = table(corpus_run, "power")
    planned = power[power["question"] == "events and patients needed"]
    assert len(planned) == 2 * 2 * 2  # hazards x assumed HR x powers
    assert (planned["events"].notna() | (planned["note"] != "")).all()
    detectable = power[power["question"] == "minimum detectable HR per SD"]
    assert sorted(detectable["cohort"].unique()) == sorted(corpus_run["finished"])


@pytest.mark.workflow  # imports gseapy and runs prerank in process
@pytest.mark.usefixtures("svg_copies_on")
def test_prerank_of_the_corpus_rankings_ends_with_rows(corpus_run, tmp_path):
    from selfseed.drivers import pathway_context

    config = corpus_run["config"]
    paths = [corpus_run["results"] / "models" / c / COHORT_RANKING for c in corpus_run["finished"]]
    tables = {name: tmp_path / f"{name}.tsv" for name in ("ranking", "pathways", "standing")}
    signatures = {"self_seeding": config["signatures"]["self_seeding"]}
    settings_ = {**config["pathways"], "permutations": 20}
    pathway_context(paths, signatures, settings_, tables=tables, plot=tmp_path / "e.png")
    sets = pd.read_csv(tables["pathways"], sep="\t", keep_default_na=False, na_values=["NA"])
    assert (sets["nes"].notna() | (sets["note"] != "")).all()
    assert sets.loc[sets["set"] == "self_seeding", "statement"].str.contains("percentiles").all()
    assert (tmp_path / "e.png").stat().st_size
    assert (tmp_path / "e.svg").stat().st_size


# ---------------------------------------------------------------- random subsets of a real cohort

FEW = settings(
    max_examples=8,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FEW
@given(data=st.data())
def test_random_subsets_of_a_real_cohort_never_fail_unexpectedly(tmp_path_factory, ucs, data):
    """Random genes (always some signature genes, from 2 to 2,000) and random samples (1 to all)
    of TCGA-UCS, through ingest, scores and models (figures left out for speed)."""
    from selfseed.cohort import build_cohort
    from selfseed.errors import SelfseedError
    from selfseed.pipeline import model, score

    signature_rows = data.draw(st.lists(st.sampled_from(SIGNATURE_ROWS), min_size=1, unique=True))
    n_other = data.draw(st.sampled_from([0, 1, 10, 300, 2000]))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    others = list(
        rng.choice([g for g in ucs.index if g not in SIGNATURE_ROWS], n_other, replace=False)
    )
    n_samples = data.draw(st.integers(1, ucs.shape[1]))
    samples = list(rng.choice(ucs.columns, n_samples, replace=False))
    folder = tmp_path_factory.mktemp("subset")
    config = validated(
        {
            **base_config(),
            "cohorts": {
                "subset": tcga_cohort(folder, "subset", ucs.loc[signature_rows + others, samples])
            },
        }
    )
    log = folder / "subset.log"
    try:
        with logged(log):
            settings_ = cohort_settings(config, "subset")
            adata, _ = build_cohort(
                config["cohorts"]["subset"],
                "subset",
                max_missing_fraction=settings_["max_missing_fraction"],
            )
            scored = score(
                adata,
                settings_["signatures"],
                settings_["scoring"],
                min_genes=settings_["min_genes"],
                scores_h5ad=folder / "s.h5ad",
                scores_tsv=folder / "s.tsv",
            )
            model(
                scored,
                [],
                None,
                settings_["scoring"]["methods"],
                settings_["statistics"],
                tables={n: folder / f"{n}.tsv" for n in MODEL_TABLES},
            )
    except SystemExit:
        pass  # a clear error (an expected failure)
    except SelfseedError:
        pytest.fail("a project error escaped the job's log handling")
    text = log.read_text()
    assert "unexpected failure" not in text, text[-3000:]


@pytest.mark.workflow  # runs whole cohort jobs and the summary in process
def test_a_score_missing_for_every_patient_never_reaches_a_model(corpus_run, tmp_path, caplog):
    """As ssGSEA gave on a 3-gene matrix before it declared its minimum: every row says why, and
    no misleading 'no events of interest' warning is logged."""
    import anndata as ad

    from selfseed.pipeline import model

    scored = ad.read_h5ad(corpus_run["results"] / "scores" / "panel5_tcga.h5ad")
    scored.obs["score:attractor:zmean"] = np.nan
    config = corpus_run["config"]
    with caplog.at_level("INFO", logger="selfseed"):
        model(
            scored,
            [],
            None,
            ["zmean"],
            config["statistics"],
            tables={n: tmp_path / f"{n}.tsv" for n in MODEL_TABLES},
        )
    reason = "not run: the score is missing (NaN) for every patient with the endpoint"
    for name in MODEL_TABLES:
        rows = pd.read_csv(tmp_path / f"{name}.tsv", sep="\t")
        assert (rows.loc[rows["signature"] == "attractor", "note"] == reason).all(), name
    assert not [m for m in caplog.messages if "no events" in m]
    cox = pd.read_csv(tmp_path / "cox.tsv", sep="\t").set_index("signature")
    assert np.isfinite(cox.loc["self_seeding", "hr"])  # the other signature goes on


def test_only_not_estimable_becomes_a_note_any_other_error_is_a_bug(gse1992, monkeypatch):
    """A library upgrade that breaks a statistic shows as an unexpected failure, not a note."""
    import selfseed.stats.coxdiag as coxdiag
    from selfseed import analysis
    from selfseed.errors import NotEstimable

    frame = pd.DataFrame(
        {
            "time_months": gse1992["time"].astype(float),
            "event": gse1992["event"].astype(int),
            "score": gse1992["num_HS_IL6"].astype(float),
        }
    )
    assert analysis.nonlinearity_row(frame, 4)[0]["note"] == ""

    def not_estimable(*args, **kwargs):
        raise NotEstimable("too few distinct score values for a restricted cubic spline")

    monkeypatch.setattr(coxdiag, "spline_nonlinearity", not_estimable)
    row, curve = analysis.nonlinearity_row(frame, 4)
    assert row["note"] == "not run: too few distinct score values for a restricted cubic spline"
    assert curve is None

    def broken(*args, **kwargs):
        raise ValueError("shapes (3,) and (4,) not aligned")

    monkeypatch.setattr(coxdiag, "spline_nonlinearity", broken)
    with pytest.raises(ValueError, match="not aligned"):
        analysis.nonlinearity_row(frame, 4)
