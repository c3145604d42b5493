"""Pathway context: the shipped Hallmark collection is the public file (sha256 in its manifest);
selfseed.pathways.prerank gives what a direct gseapy.prerank call gives on the same ranking and seed
(the pooled genome-wide ranking of the shipped TCGA cohorts), records its seed and permutation count
and says why a set was not tested; where the signature genes stand; the plain sentence; the plot."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from selfseed.errors import ConfigError
from selfseed.pathways import (
    HALLMARK,
    collection,
    enrichment_plot,
    gene_standing,
    hallmark_path,
    prerank,
    ranked,
    signature_sentence,
)

SELF_SEEDING = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]
PERMUTATIONS = (
    100  # the test's; the default (pathways.PERMUTATIONS) is chosen in benchmarks/README.md
)


@pytest.fixture(scope="module")
def ranking():
    """The pooled genome-wide ranking of the three shipped cohorts (Stouffer z by gene)."""
    from reference.genes_inputs import shipped_cohort

    from selfseed.stats.genomewide import cohort_ranking, stouffer

    rankings = [cohort_ranking(shipped_cohort(c)) for c in ("tcga_acc", "tcga_chol", "tcga_ucs")]
    return stouffer(pd.concat(rankings)).set_index("gene")["z"]


@pytest.fixture(scope="module")
def sets():
    return collection({"self_seeding": SELF_SEEDING, "attractor": ["IL6", "CXCL8"]})


@pytest.fixture(scope="module")
def enrichment(ranking, sets):
    return prerank(ranking, *sets, permutations=PERMUTATIONS, seed=7)


def test_shipped_hallmark_is_the_public_file(shared_data):
    data = hallmark_path().read_bytes()
    manifest = json.loads((hallmark_path().parent / "manifest.json").read_text())
    assert manifest["file"] == HALLMARK
    assert manifest["sets"] == 50
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"]
    assert data == (shared_data / "genesets" / HALLMARK).read_bytes()
    assert manifest["source"]["repository"] == "GSEA-MSigDB/GSEA2.jl"
    readme = (hallmark_path().parent / "README.md").read_text()
    assert "CC BY 4.0" in readme
    assert "Liberzon" in readme
    assert "Subramanian" in readme


def test_collection_hallmark_user_gmt_and_clashes(tmp_path, sets):
    gene_sets, sources = sets
    assert len(gene_sets) == 52
    assert sources["HALLMARK_HYPOXIA"] == "Hallmark v2022.1.Hs"
    assert gene_sets["self_seeding"] == SELF_SEEDING
    assert sources["self_seeding"] == "signature"
    gmt = tmp_path / "mine.gmt"
    gmt.write_text("MY SET\tdescription\tMMP1\tFSCN1\n")
    own, own_sources = collection({"self_seeding": SELF_SEEDING}, gmt)
    assert list(own) == ["MY_SET", "self_seeding"]
    assert own_sources["MY_SET"] == str(gmt)
    with pytest.raises(ConfigError, match="name of a gene set of the collection"):
        collection({"hallmark_hypoxia": SELF_SEEDING})


def test_prerank_equals_a_direct_gseapy_call(ranking, sets, enrichment):
    import gseapy

    gene_sets, _ = sets
    table, _ = enrichment
    direct = gseapy.prerank(
        ranked(ranking),
        gene_sets,
        permutation_num=PERMUTATIONS,
        seed=7,
        min_size=5,
        max_size=500,
        threads=1,
        outdir=None,
        no_plot=True,
    )
    expected = direct.res2d.set_index("Term")
    tested = table[table["note"] == ""].set_index("set")
    assert len(tested) == len(expected) == 51
    for column, theirs in (
        ("es", "ES"),
        ("nes", "NES"),
        ("nominal_p", "NOM p-val"),
        ("fdr", "FDR q-val"),
        ("fwer_p", "FWER p-val"),
    ):
        np.testing.assert_array_equal(
            tested[column], expected.loc[tested.index, theirs].astype(float)
        )
    assert tested["leading_edge"].equals(
        expected.loc[tested.index, "Lead_genes"].rename("leading_edge")
    )
    assert (table["permutations"] == PERMUTATIONS).all()
    assert (table["seed"] == 7).all()


def test_the_seed_is_used(ranking, sets, enrichment):
    table, _ = enrichment
    again, _ = prerank(ranking, *sets, permutations=PERMUTATIONS, seed=7)
    other, _ = prerank(ranking, *sets, permutations=PERMUTATIONS, seed=8)
    pd.testing.assert_frame_equal(again, table)
    assert not other.set_index("set")["nominal_p"].equals(table.set_index("set")["nominal_p"])
    np.testing.assert_array_equal(
        other.set_index("set")["es"].sort_index(), table.set_index("set")["es"].sort_index()
    )  # the ES does not depend on the permutations


def test_permutations_are_needed(ranking, sets):
    with pytest.raises(ValueError, match="permutations must be a whole number >= 1"):
        prerank(ranking, *sets, permutations=0)


def test_untested_set_says_why(enrichment):
    table, _ = enrichment
    row = table.set_index("set").loc["attractor"]
    assert row["note"] == "not tested: 2 genes in the ranking, outside 5-500"
    assert np.isnan(row["nes"])
    assert table.iloc[-1]["set"] == "attractor"
    self_seeding = table.set_index("set").loc["self_seeding"]
    assert self_seeding["in_ranking"] == 5
    assert self_seeding["note"] == ""
    assert set(self_seeding["leading_edge"].split(";")) <= set(SELF_SEEDING)


def test_gene_standing():
    ranking = pd.Series([3.0, 2.0, 2.0, -1.0, np.nan], index=["A", "B", "C", "D", "E"])
    standing = gene_standing(ranking, ["A", "B", "D", "E"]).set_index("gene")
    assert standing.loc["A", ["rank", "of", "percentile"]].tolist() == [1, 4, 100.0]
    assert standing.loc["B", ["rank", "percentile"]].tolist() == [2, 75.0]
    assert standing.loc["D", ["rank", "percentile"]].tolist() == [4, 25.0]
    assert standing.loc["E", "note"] == "not in the ranking"


def test_signature_sentence(ranking, enrichment):
    table, _ = enrichment
    standing = gene_standing(ranking, SELF_SEEDING)
    text = signature_sentence(table, standing, "self_seeding")
    row = table.set_index("set").loc["self_seeding"]
    assert f"IL6 {standing.loc[0, 'percentile']:.0f}," in text
    assert f"{PERMUTATIONS} permutations, seed 7" in text
    assert f"NES {row['nes']:.2f}" in text
    fixed = table.copy()
    at = fixed["set"] == "self_seeding"
    fixed.loc[at, ["nominal_p", "permutations"]] = [0.3, 1000]
    assert "not enriched (nominal p >= 0.05)." in signature_sentence(
        fixed, standing, "self_seeding"
    )
    fixed.loc[at, ["nominal_p", "permutations"]] = [0.04, 250]
    assert "cannot settle it" in signature_sentence(fixed, standing, "self_seeding")
    fixed.loc[at, ["nominal_p", "nes"]] = [0.0, -1.9]
    sentence = signature_sentence(fixed, standing, "self_seeding")
    assert "nominal p < 0.004" in sentence
    assert "with a lower hazard (nominal p < 0.05)." in sentence
    untested = signature_sentence(table, gene_standing(ranking, ["IL6", "CXCL8"]), "attractor")
    assert untested.endswith(
        "the attractor set was not tested: 2 genes in the ranking, outside 5-500."
    )


@pytest.mark.usefixtures("svg_copies_on")
def test_enrichment_plot_png_and_svg(tmp_path, enrichment):
    table, result = enrichment
    path = tmp_path / "enrichment.png"
    enrichment_plot(result, table, path, title="pathway context")
    with Image.open(path) as image:
        assert image.info["dpi"] == pytest.approx((150, 150), abs=0.5)
        assert image.size[1] > image.size[0]  # one panel per set, stacked
    svg = path.with_suffix(".svg").read_text()
    assert "self_seeding: NES" in svg
    assert table.iloc[0]["set"] in svg
    first = path.read_bytes()
    enrichment_plot(result, table, path, title="pathway context")
    assert path.read_bytes() == first  # byte-identical reruns
