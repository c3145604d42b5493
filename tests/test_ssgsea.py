"""The vectorised ssGSEA equals the libraries: gseapy (run here) and GSVA (stored, ssgsea.R)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selfseed.scoring import ssgsea

REFERENCE = Path(__file__).parent / "reference"
sys.path.insert(0, str(REFERENCE))
import ssgsea_inputs  # noqa: E402


def ssgsea_gseapy(expression, gene_sets, *, weight):
    """gseapy.ssgsea raw enrichment scores, samples x gene sets: the library reference of `ssgsea`
    (the pipeline's estimator before it was vectorised).

    Genes are ranked within each sample (sample_norm_method='rank'); min_size=1 lets 2-gene sets
    through (min_genes is enforced before).
    """
    import gseapy

    result = gseapy.ssgsea(
        data=expression.T,
        gene_sets=gene_sets,
        sample_norm_method="rank",
        correl_norm_type="rank",
        weight=weight,
        min_size=1,
        max_size=max(len(g) for g in gene_sets.values()),
        permutation_num=0,
        outdir=None,
        no_plot=True,
        threads=1,
        seed=0,
        verbose=False,
    )
    table = result.res2d.pivot(index="Name", columns="Term", values="ES").astype(float)
    return table.reindex(index=expression.index, columns=list(gene_sets))


@pytest.fixture(scope="module", params=list(ssgsea_inputs.COHORTS))
def real_cohort(request):
    values = ssgsea_inputs.expression(request.param)
    return request.param, values, ssgsea_inputs.gene_sets(list(values.columns))


def test_equals_gseapy_on_real_cohorts(real_cohort):
    _, values, sets = real_cohort
    for weight in (0.25, 0.0, 1.0):
        expected = ssgsea_gseapy(values, sets, weight=weight)
        got = ssgsea(values, sets, weight=weight)
        assert got.columns.tolist() == list(sets)
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-6)


def gsva_reference(cohort, input):
    table = pd.read_csv(REFERENCE / "ssgsea_gsva.tsv", sep="\t", dtype={"sample": str})
    table = table[(table["cohort"] == cohort) & (table["input"] == input)]
    return table.pivot(index="sample", columns="set", values="es")


def gsva_tie_rule(values, sets, weight):
    """GSVA 1.46's ssgsea (R source, .fastRndWalk): average ranks truncated to integers, tied genes
    walked in column order; only differs from gseapy where genes tie."""
    ranks = values.rank(axis=1, method="average").astype(int).to_numpy()
    n = ranks.shape[1]
    scores = {}
    for name, genes in sets.items():
        idx = values.columns.get_indexer(genes)
        es = []
        for r in ranks:
            order = np.argsort(-r, kind="stable")
            q = n - np.sort(np.argsort(order)[idx])  # n - position + 1, positions from 0
            w = r[order][np.sort(np.argsort(order)[idx])].astype(float) ** weight
            es.append((w * q).sum() / w.sum() - (n * (n + 1) / 2 - q.sum()) / (n - len(idx)))
        scores[name] = es
    return pd.DataFrame(scores, index=values.index)


def test_equals_gsva_on_real_cohorts_tie_free(real_cohort):
    """On the cohorts' tie-free within-sample ranks, all implementations walk the same order."""
    cohort, values, sets = real_cohort
    expected = gsva_reference(cohort, "ranks")
    ranks = ssgsea_inputs.tie_free_ranks(values)
    got = ssgsea(ranks, sets, weight=0.25)
    assert set(expected.columns) == set(sets)
    assert len(expected) == len(values)
    np.testing.assert_allclose(
        got.loc[expected.index, expected.columns], expected, rtol=0, atol=1e-6
    )


def test_gsva_differs_from_gseapy_only_by_its_tie_rule(real_cohort):
    """On the raw tied values, GSVA equals its own tie rule, and that rule is the only difference."""
    cohort, values, sets = real_cohort
    expected = gsva_reference(cohort, "values")
    rule = gsva_tie_rule(values, sets, 0.25)
    np.testing.assert_allclose(rule.loc[expected.index, expected.columns], expected, atol=1e-6)
    difference = (ssgsea(values, sets, weight=0.25) - rule).abs().to_numpy().max()
    assert difference > 1e-3  # the cohorts do tie, so the rules give different numbers


def test_ties_broken_like_gseapy():
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(60)]
    values = pd.DataFrame(rng.integers(0, 6, size=(8, 60)).astype(float), columns=genes)
    sets = {"a": ["G1", "G5", "G9"], "b": ["G40", "G2", "G33", "G59"]}
    expected = ssgsea_gseapy(values, sets, weight=0.25)
    np.testing.assert_allclose(ssgsea(values, sets, weight=0.25), expected, rtol=0, atol=1e-9)


def test_missing_values_are_refused():
    values = pd.DataFrame([[1.0, np.nan, 3.0]], columns=["A", "B", "C"])
    with pytest.raises(ValueError, match="finite"):
        ssgsea(values, {"s": ["A", "C"]}, weight=0.25)
