import anndata as ad
import numpy as np
import pandas as pd
import pytest

from selfseed.errors import ConfigError
from selfseed.scoring import score_cohort, ssgsea, zmean
from selfseed.signatures import gene_coverage, read_gmt, signature_genes, signature_status

SIGNATURES = {
    "attractor": ["IL6", "IL8"],
    "invasion": ["MMP1", "FSCN1", "CXCL1"],
    "half_absent": ["IL6", "NOTAGENE1", "NOTAGENE2"],
}


def test_zmean_by_hand():
    expression = pd.DataFrame({"A": [1.0, 2.0, 3.0], "B": [10.0, 10.0, 40.0]})
    # A: mean 2, sd 1 -> -1, 0, 1. B: mean 20, sd 17.3205 -> -0.57735, -0.57735, 1.1547
    expected = [(-1 - 0.5773503) / 2, (0 - 0.5773503) / 2, (1 + 1.1547005) / 2]
    assert zmean(expression, ["A", "B"]).tolist() == pytest.approx(expected, rel=1e-6)


def reference_ssgsea_es(values, genes, names, alpha):
    """Barbie et al. 2009 single-sample ES: sum over ranks of (weighted hit CDF - miss CDF)."""
    rank = pd.Series(values).rank().to_numpy() * 10000 / len(values)
    order = np.argsort(-rank, kind="stable")
    hit = np.isin(np.asarray(names)[order], genes)
    weights = np.abs(rank[order]) ** alpha * hit
    return (np.cumsum(weights) / weights.sum() - np.cumsum(~hit) / (~hit).sum()).sum()


def test_ssgsea_equals_the_published_formula_and_needs_no_other_sample():
    rng = np.random.default_rng(1)
    genes = [f"G{i}" for i in range(40)]
    expression = pd.DataFrame(rng.normal(size=(5, 40)), columns=genes, index=list("abcde"))
    sets = {"two": ["G1", "G2"], "three": ["G3", "G7", "G30"]}
    scores = ssgsea(expression, sets, weight=0.25)
    for sample in expression.index:
        for name, members in sets.items():
            expected = reference_ssgsea_es(expression.loc[sample], members, genes, 0.25)
            assert scores.loc[sample, name] == pytest.approx(expected, abs=1e-9)
    alone = ssgsea(expression.iloc[[2]], sets, weight=0.25)
    assert alone.iloc[0].to_numpy() == pytest.approx(scores.iloc[2].to_numpy(), abs=1e-12)


def test_coverage_maps_aliases_and_skips_small_signatures():
    genes = signature_genes(SIGNATURES)
    assert genes.loc[genes["gene"] == "IL8", "symbol"].item() == "CXCL8"
    coverage = gene_coverage(genes, ["IL6", "CXCL8", "MMP1", "FSCN1"], constant=["FSCN1"])
    status = signature_status(coverage, min_genes=2).set_index("signature")
    assert status.loc["attractor", "scored"]
    assert status.loc["attractor", "present"] == "IL6,CXCL8"
    assert status.loc["invasion", "n_present"] == 1  # FSCN1 constant, CXCL1 not measured
    assert not status.loc["invasion", "scored"]
    assert "1 of 3 genes present" in status.loc["invasion", "reason"]
    notes = coverage.set_index(["signature", "symbol"])["note"]
    assert notes[("invasion", "FSCN1")] == "constant across samples"
    assert notes[("invasion", "CXCL1")] == "not measured"


def test_read_gmt(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text("mine\tmy set\tIL6\tCXCL1\n\nother\tna\tMMP1\tFSCN1\t\n")
    assert read_gmt(path) == {"mine": ["IL6", "CXCL1"], "other": ["MMP1", "FSCN1"]}
    path.write_text("broken\tno genes\n")
    with pytest.raises(ConfigError, match="line 1"):
        read_gmt(path)


def cohort_adata(frame):
    genes = [c for c in frame.columns if c.startswith("num_HS_")]
    return ad.AnnData(
        X=frame[genes].to_numpy(float),
        obs=pd.DataFrame(index=frame["pid"].astype(str)),
        var=pd.DataFrame(index=[g[7:].replace("IL8", "CXCL8") for g in genes]),
    )


def test_score_cohort_on_a_real_cohort(gse1992):
    adata = cohort_adata(gse1992.drop_duplicates("pid"))
    kwargs = dict(
        methods=["zmean", "score_genes", "ssgsea"],
        min_genes=2,
        ctrl_size=50,
        n_bins=25,
        random_state=0,
        weight=0.25,
    )
    scores, coverage, status = score_cohort(adata, SIGNATURES, **kwargs)
    assert set(status.loc[status["scored"], "signature"]) == {"attractor", "invasion"}
    assert len(scores) == 2 * 3 * adata.n_obs
    assert scores["score"].notna().all()
    wide = scores.pivot(index="sample_id", columns=["signature", "method"], values="score")
    # zmean: mean of the two genes' z-scores, recomputed independently from the source table
    z = gse1992.set_index("pid")[["num_HS_IL6", "num_HS_IL8"]].apply(
        lambda s: (s - s.mean()) / s.std()
    )
    assert wide[("attractor", "zmean")].to_numpy() == pytest.approx(
        z.mean(axis=1).loc[wide.index].to_numpy()
    )
    # methods agree in direction on the same genes
    assert wide[("attractor", "zmean")].corr(wide[("attractor", "score_genes")]) > 0.8
    again, _, _ = score_cohort(adata, SIGNATURES, **kwargs)
    pd.testing.assert_frame_equal(scores, again)  # fixed random state: reproducible


def test_genome_wide_methods_declare_their_minimum():
    from selfseed.scoring import method_unmet

    options = {"ctrl_size": 50, "n_bins": 25}
    assert method_unmet("zmean", 2, 2, False, **options) == ""
    assert method_unmet("score_genes", 1252, 2, True, **options) == ""
    reason = method_unmet("score_genes", 1251, 2, True, **options)
    assert reason.startswith("skipped: score_genes needs genome-wide data: at least 1252 genes")
    assert "n_bins x ctrl_size = 25 x 50" in reason
    assert reason.endswith("found 1251")
    assert method_unmet("ssgsea", 1000, 5, True, **options) == ""
    assert "at least 1000 genes" in method_unmet("ssgsea", 999, 5, True, **options)
    assert method_unmet("ssgsea", 5000, 5, False, **options) == (
        "skipped: ssgsea needs finite expression values"
    )


def test_a_panel_of_signature_genes_is_scored_by_zmean_only(gse1992):
    """A table of only the genes of interest, as researchers often export it: scanpy's
    score_genes would stop ("No control genes found in any cut") and ssGSEA give NaN."""
    adata = cohort_adata(gse1992.drop_duplicates("pid"))
    panel = adata[:, ["IL6", "CXCL8", "MMP1"]].copy()
    kwargs = dict(
        methods=["zmean", "score_genes", "ssgsea"],
        min_genes=2,
        ctrl_size=50,
        n_bins=25,
        random_state=0,
        weight=0.25,
    )
    scores, _, status = score_cohort(panel, {"attractor": ["IL6", "IL8"]}, **kwargs)
    assert status["method"].tolist() == ["zmean", "score_genes", "ssgsea"]
    assert status["scored"].tolist() == [True, False, False]
    assert status["reason"].str.endswith("found 3").tolist() == [False, True, True]
    assert set(scores["method"]) == {"zmean"}
    assert scores["score"].notna().all()
