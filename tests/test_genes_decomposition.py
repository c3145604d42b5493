"""Gene-level decomposition of the self-seeding signature on the shipped TCGA cohorts: per-gene
cause-specific Cox and Fine-Gray HRs per SD, leave-one-gene-out zmean signatures and the change in
log HR equal R's coxph and cmprsk::crr (tests/reference/genes.R on genes_cohorts.tsv); ssgsea
leave-one-out equals the pipeline's score of the smaller signature; rows say why when not estimable."""

import numpy as np
import pandas as pd
import pytest
from reference.genes_inputs import SELF_SEEDING, shipped_cohort, signature_genes_table

from conftest import REPO
from selfseed.stats.gene_effects import LEAVE_ONE_OUT_METHODS, gene_decomposition, pooled_gene_rows

REFERENCE = REPO / "tests" / "reference"
COHORTS = ("tcga_acc", "tcga_chol", "tcga_ucs")
STATISTICS = {"meta_method": "REML", "hartung_knapp": False}
SETTINGS = {"methods": ("zmean", "ssgsea"), "min_genes": 2, "ssgsea_weight": 0.25}


@pytest.fixture(scope="module")
def cohorts():
    return {name: shipped_cohort(name) for name in COHORTS}


@pytest.fixture(scope="module")
def tables(cohorts):
    return {
        name: gene_decomposition(adata, "self_seeding", SELF_SEEDING, **SETTINGS)
        for name, adata in cohorts.items()
    }


@pytest.fixture(scope="module")
def r():
    table = pd.read_csv(REFERENCE / "genes_r.tsv", sep="\t", keep_default_na=False)
    return {(row.cohort, row.gene, row.name): float(row.value) for row in table.itertuples()}


def test_reference_inputs_are_the_shipped_cohorts():
    stored = pd.read_csv(REFERENCE / "genes_cohorts.tsv", sep="\t").astype({"event": "Int64"})
    pd.testing.assert_frame_equal(signature_genes_table(), stored, rtol=1e-12)


@pytest.mark.parametrize("cohort", COHORTS)
def test_per_gene_cause_specific_cox_equals_coxph(tables, r, cohort):
    table = tables[cohort].set_index(["symbol", "method"])
    for gene in SELF_SEEDING:
        row = table.loc[(gene, "zmean")]
        assert row["coef"] == pytest.approx(r[cohort, gene, "coef"], rel=1e-6), gene
        assert row["se"] == pytest.approx(r[cohort, gene, "se"], rel=1e-6), gene
        assert row["p"] == pytest.approx(r[cohort, gene, "p"], rel=1e-6), gene
        assert row["hr"] == pytest.approx(np.exp(r[cohort, gene, "coef"]), rel=1e-6), gene
        # the gene's own effects do not depend on the leave-one-out method
        assert table.loc[(gene, "ssgsea"), "coef"] == row["coef"]


@pytest.mark.parametrize("cohort", COHORTS)
def test_per_gene_fine_gray_equals_crr(tables, r, cohort):
    table = tables[cohort].set_index(["symbol", "method"])
    for gene in SELF_SEEDING:
        row = table.loc[(gene, "zmean")]
        assert row["shr_coef"] == pytest.approx(r[cohort, gene, "shr_coef"], rel=1e-6), gene
        assert row["shr_se"] == pytest.approx(r[cohort, gene, "shr_se"], rel=1e-6), gene


@pytest.mark.parametrize("cohort", COHORTS)
def test_zmean_leave_one_out_equals_coxph(tables, r, cohort):
    table = tables[cohort].set_index(["symbol", "method"])
    for gene in SELF_SEEDING:
        row = table.loc[(gene, "zmean")]
        assert row["signature_coef"] == pytest.approx(r[cohort, "", "signature_coef"], rel=1e-6)
        assert row["loo_coef"] == pytest.approx(r[cohort, gene, "loo_coef"], rel=1e-6), gene
        assert row["loo_se"] == pytest.approx(r[cohort, gene, "loo_se"], rel=1e-6), gene
        change = r[cohort, gene, "loo_coef"] - r[cohort, "", "signature_coef"]
        assert row["log_hr_change_without_gene"] == pytest.approx(change, rel=1e-6, abs=1e-9)
        assert row["note"] == ""


def test_leave_one_out_is_the_pipeline_score_of_the_smaller_signature(cohorts, tables):
    """Each leave-one-out HR is the pipeline's HR (score_cohort, then cox_per_sd on the primary
    coding) of the signature defined without the gene, for both methods."""
    from selfseed.endpoints import coded_samples
    from selfseed.scoring import score_cohort
    from selfseed.survival import cox_per_sd

    adata = cohorts["tcga_ucs"]
    table = tables["tcga_ucs"].set_index(["symbol", "method"])
    signatures = {gene: [g for g in SELF_SEEDING if g != gene] for gene in SELF_SEEDING}
    long, _, _ = score_cohort(
        adata,
        signatures,
        methods=list(LEAVE_ONE_OUT_METHODS),
        min_genes=2,
        ctrl_size=50,
        n_bins=25,
        random_state=0,
        weight=0.25,
    )
    primary = coded_samples(adata.obs)
    for (gene, method), scores in long.groupby(["signature", "method"]):
        fit = cox_per_sd(primary.assign(score=scores.set_index("sample_id")["score"]))
        assert table.loc[(gene, method), "loo_coef"] == pytest.approx(fit["coef"], rel=1e-12)


def test_pooled_signature_equals_metafor(tables):
    """The pooled zmean signature HR is the random-effects pool of meta.tsv (metafor::rma REML,
    tests/reference/lr_cohorts_r.tsv)."""
    reference = pd.read_csv(REFERENCE / "lr_cohorts_r.tsv", sep="\t")
    expected = reference.set_index("name").loc["cox_rma_hr", "value"]
    pooled = pooled_gene_rows(pd.concat(tables.values()), STATISTICS).set_index(
        ["symbol", "method"]
    )
    assert pooled["signature_hr"].loc[:, "zmean"].to_numpy() == pytest.approx(expected, rel=1e-6)
    assert (pooled["k"] == 3).all()
    row = pooled.loc[("IL6", "zmean")]
    assert row["log_hr_change_without_gene"] == pytest.approx(
        row["loo_coef"] - row["signature_coef"]
    )


def test_rows_say_why_when_not_estimable(cohorts):
    adata = cohorts["tcga_chol"].copy()
    adata.X = np.asarray(adata.X).copy()
    adata.X[:, adata.var_names.get_loc("FSCN1")] = 1.0  # constant: not scored, as scoring does
    table = gene_decomposition(
        adata, "s", ["IL6", "IL8", "FSCN1", "NOTAGENE"], **SETTINGS
    ).set_index(["gene", "method"])
    assert table.loc[("NOTAGENE", "zmean"), "note"] == "gene not measured"
    assert table.loc[("FSCN1", "zmean"), "note"] == "gene constant across samples"
    # IL8 is CXCL8's old symbol; with two genes present, leaving one out leaves too few
    assert table.loc[("IL8", "zmean"), "symbol"] == "CXCL8"
    assert np.isfinite(table.loc[("IL8", "zmean"), "hr"])
    assert (
        "no leave-one-out: 1 genes left, fewer than min_genes=2"
        in table.loc[("IL8", "ssgsea"), "note"]
    )
    assert np.isnan(table.loc[("IL8", "ssgsea"), "loo_hr"])


def test_no_events_and_unknown_method(cohorts):
    adata = cohorts["tcga_acc"].copy()
    adata.obs["event"] = adata.obs["event"].where(adata.obs["event"] != 1, 0)
    table = gene_decomposition(
        adata, "self_seeding", SELF_SEEDING, **{**SETTINGS, "methods": ["zmean"]}
    )
    assert table["hr"].isna().all()
    assert table["loo_hr"].isna().all()
    assert table["note"].str.contains("gene Cox not fitted: no events of interest").all()
    assert table["note"].str.contains("leave-one-out not fitted: no events of interest").all()
    with pytest.raises(ValueError, match="leave-one-out methods"):
        gene_decomposition(
            adata, "self_seeding", SELF_SEEDING, **{**SETTINGS, "methods": ["score_genes"]}
        )
