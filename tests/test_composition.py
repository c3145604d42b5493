"""Bulk models adjusted for composition (selfseed.composition): equal R's coxph and cmprsk::crr with
the same covariates on the shipped TCGA-UCS cohort; degenerate cases give rows with the reason."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.composition import (
    MIN_EVENTS_PER_TERM,
    marker_scores,
    marker_sets,
    pooled_rows,
    signature_rows,
)
from selfseed.contracts import COMPOSITION_COLUMNS
from selfseed.stats.meta import random_effects

REFERENCE = Path(__file__).resolve().parent / "reference"
COVERAGE = {"stromal": "57/57", "immune": "51/61", "malignant": "20/20"}
STATISTICS = {"meta_method": "REML", "hartung_knapp": False}


@pytest.fixture(scope="module")
def ucs():
    """composition_inputs.py's TCGA-UCS patients: time, event, score, the three marker scores."""
    return pd.read_csv(REFERENCE / "composition_ucs.tsv", sep="\t").set_index("sample_id")


def rows_of(frame, label=None, coverage=COVERAGE):
    rows = signature_rows(frame, coverage, label or {"cohort": "c", "endpoint": "LR"})
    return pd.DataFrame(rows).set_index(["hazard", "model"])


def test_adjusted_models_equal_r(ucs):
    """coxph(Surv(t, event == 1) ~ score_sd + stromal + immune, ties = "efron") and crr with the same
    covariates (tests/reference/composition.R) to 1e-6."""
    expected = pd.read_csv(REFERENCE / "composition_r.tsv", sep="\t").set_index(["hazard", "model"])
    got = rows_of(ucs).loc[expected.index]
    for column in ("coef", "se", "p"):
        np.testing.assert_allclose(got[column], expected[column], rtol=1e-6, err_msg=column)
    assert (got["n"] == 50).all()
    assert (got["events"] == 14).all()
    assert set(got.loc["cause_specific", "covariates"]) == {"", "stromal,immune", "malignant"}


def test_share_explained_is_one_minus_the_ratio_of_log_hrs(ucs):
    rows = rows_of(ucs)
    for hazard in ("cause_specific", "subdistribution"):
        part = rows.loc[hazard]
        base = part.loc["unadjusted", "coef"]
        assert np.isnan(part.loc["unadjusted", "share_explained"])
        for model in ("stroma_immune", "purity"):
            expected = 1 - part.loc[model, "coef"] / base
            assert part.loc[model, "share_explained"] == pytest.approx(expected, rel=1e-12)
            assert part.loc[model, "hr_unadjusted"] == pytest.approx(np.exp(base), rel=1e-12)


def test_missing_marker_set_and_no_malignant_type_give_reasons(ucs):
    reason = "stromal marker set missing: 1 of its 57 genes measured in this cohort (min_genes 2)"
    rows = rows_of(ucs.drop(columns=["stromal", "malignant"]), coverage={"stromal": reason})
    assert rows.loc[("cause_specific", "stroma_immune"), "note"] == f"not run: {reason}"
    purity = rows.loc[("cause_specific", "purity"), "note"]
    assert purity.startswith("not run: no malignant marker set")
    assert np.isfinite(rows.loc[("cause_specific", "unadjusted"), "hr"])


def test_too_few_events_and_no_competing_events(ucs):
    few = ucs.copy()
    events = np.flatnonzero(few["event"] == 1)
    few.iloc[events[5:], few.columns.get_loc("event")] = 0  # 5 events of interest left
    rows = rows_of(few)
    note = rows.loc[("cause_specific", "stroma_immune"), "note"]
    assert note == (
        f"not fitted: 5 events of interest for 3 model terms (at least {MIN_EVENTS_PER_TERM} "
        "per term)"
    )
    assert np.isfinite(rows.loc[("cause_specific", "purity"), "hr"])  # 2 terms: 4 events needed
    no_competing = ucs.assign(event=ucs["event"].replace(2, 0))
    rows = rows_of(no_competing)
    assert (
        rows.loc["subdistribution", "note"] == "not run: no competing events in this cohort"
    ).all()


def test_near_zero_unadjusted_log_hr_gives_no_share():
    rows = [{"model": "stroma_immune", "coef": 0.2, "note": ""}]
    from selfseed.composition import with_share

    row = with_share(rows[0], {"coef": 0.01})
    assert "share_explained" not in row
    assert row["note"].startswith("no share explained: unadjusted log HR 0.010 is near 0")


def test_pooled_rows_are_random_effects_over_the_same_cohorts(ucs):
    frames = []
    for i, cohort in enumerate(("a", "b", "c")):
        part = ucs.sample(frac=0.9, random_state=i)
        label = {"cohort": cohort, "endpoint": "LR", "signature": "s", "method": "zmean"}
        frames.append(pd.DataFrame(signature_rows(part, COVERAGE, {**label, "reference": "r"})))
    table = pd.concat(frames, ignore_index=True).reindex(columns=COMPOSITION_COLUMNS)
    pooled = pooled_rows(table, STATISTICS).set_index(["hazard", "model"])
    for (hazard, model), row in pooled.iterrows():
        part = table[(table["hazard"] == hazard) & (table["model"] == model)]
        fit = random_effects(part["coef"], part["se"], method="REML", hartung_knapp=False)
        assert row["hr"] == pytest.approx(fit["hr"], rel=1e-12)
        assert row["k"] == 3
        assert row["cohorts"] == "a,b,c"
    base = pooled.loc[("cause_specific", "unadjusted"), "coef"]
    share = 1 - pooled.loc[("cause_specific", "purity"), "coef"] / base
    assert pooled.loc[("cause_specific", "purity"), "share_explained"] == pytest.approx(share)
    one = pooled_rows(table[table["cohort"] == "a"], STATISTICS)
    assert (one["note"] == "not pooled: fewer than 2 cohorts with an estimate").all()


def test_marker_sets_pool_the_compartments_types_and_scores_need_min_genes():
    markers = pd.DataFrame(
        {
            "cell_type": ["CAFs", "CAFs", "PVL", "T", "Tumour", "Other", "B"],
            "gene": ["A", "B", "B", "C", "D", "E", np.nan],
        }
    )
    entry = {"malignant": "Tumour", "stromal": ["CAFs", "PVL"], "immune": ["T", "B"]}
    sets = marker_sets(markers, entry)
    assert sets == {"stromal": ["A", "B"], "immune": ["C"], "malignant": ["D"]}
    rng = np.random.default_rng(0)
    expression = pd.DataFrame(rng.normal(size=(30, 4)), columns=["A", "B", "C", "D"])
    expression["D"] = 1.0  # constant: not used
    scores, coverage = marker_scores(expression, sets, min_genes=1)
    z = (expression - expression.mean()) / expression.std(ddof=1)
    np.testing.assert_allclose(scores["stromal"], z[["A", "B"]].mean(axis=1), atol=1e-12)
    assert list(scores.columns) == ["stromal", "immune"]
    assert coverage["stromal"] == "2/2"
    assert coverage["malignant"].startswith("malignant marker set missing: 0 of its 1 genes")
    scores, coverage = marker_scores(expression, sets, min_genes=2)
    assert list(scores.columns) == ["stromal"]


@pytest.mark.parametrize("sparse", [False, True])
def test_cohort_expression_reads_only_the_marker_columns(tmp_path, sparse):
    """The backed read of a cohort h5ad gives the measured marker genes' columns, equal to the same
    columns of the whole matrix (dense and CSR), and leaves out genes the cohort lacks."""
    import anndata as ad
    import scipy.sparse as sp

    from selfseed.composition import cohort_expression

    rng = np.random.default_rng(1)
    values = rng.poisson(2.0, size=(12, 6)).astype(np.float32)
    genes = [f"G{i}" for i in range(6)]
    adata = ad.AnnData(
        X=sp.csr_matrix(values) if sparse else values,
        obs=pd.DataFrame(index=[f"s{i}" for i in range(12)]),
        var=pd.DataFrame(index=genes),
    )
    adata.write_h5ad(tmp_path / "cohort.h5ad")
    read = cohort_expression(tmp_path / "cohort.h5ad", ["G4", "MISSING", "G1", "G4"])
    assert list(read.columns) == ["G1", "G4"]
    assert list(read.index) == list(adata.obs_names)
    whole = pd.DataFrame(values, index=adata.obs_names, columns=genes)
    pd.testing.assert_frame_equal(read, whole[["G1", "G4"]])
