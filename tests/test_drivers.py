"""The gene-level stages (selfseed.drivers): the study planning from the primary analysis's pooled
HRs and the pooled cumulative incidence (closed forms: no censoring before the horizon), rows with
reasons when a stage cannot run (no leave-one-out method, prerank failing), the skipped rows, the
plain sentences and the escaped report page; the config checks of the `genes` and `pathways` keys."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from selfseed import drivers
from selfseed.config import check_genes
from selfseed.errors import ConfigError

PLANNING = {"power_levels": [0.8, 0.9], "two_sided_alpha": 0.05, "cif_horizon_months": 60}


def primary_table(hr=1.5, shr=1.4):
    rows = [
        ("primary", "LR", "cause_specific", hr, 1.1, 2.0),
        ("sensitivity", "LR", "subdistribution", shr, 1.05, 1.9),
        ("sensitivity", "LR_any", "cause_specific", 9.0, 8.0, 10.0),
        ("locality", "LR", "cause_specific", 7.0, 6.0, 8.0),
    ]
    frame = pd.DataFrame(rows, columns=["role", "pool", "hazard", "hr", "ci_low", "ci_high"])
    return frame.assign(cohorts="a,b")


def patients():
    """No censoring before 60 months: the cumulative incidence is the share of patients."""
    return {
        "a": pd.DataFrame({"time_months": [10, 20, 30, 70, 80], "event": [1, 2, 1, 0, 0]}),
        "b": pd.DataFrame({"time_months": [5, 25, 65], "event": [1, 2, 0]}),
        "c": pd.DataFrame({"time_months": [1, 2], "event": [1, 1]}),  # not pooled
    }


def test_power_table_is_schoenfeld_and_latouche_on_the_pooled_incidence():
    cohorts = pd.DataFrame({"cohort": ["a", "b"], "n": [5, 3], "events": [2, 1]})
    table = drivers.power_table(primary_table(), cohorts, patients(), PLANNING)
    planned = table[table["question"] == "events and patients needed"].set_index(
        ["hazard", "assumed", "power"]
    )
    assert len(planned) == 2 * 2 * 2
    assert (planned["cif_event"] == 3 / 8).all()
    assert (planned["cif_competing"] == 2 / 8).all()
    for (hazard, assumed, power), hr in {
        ("cause_specific", "pooled estimate", 0.8): 1.5,
        ("cause_specific", "CI bound nearer 1", 0.9): 1.1,
        ("subdistribution", "pooled estimate", 0.9): 1.4,
        ("subdistribution", "CI bound nearer 1", 0.8): 1.05,
    }.items():
        row = planned.loc[(hazard, assumed, power)]
        events = (norm.ppf(0.975) + norm.ppf(power)) ** 2 / np.log(hr) ** 2
        assert row["hr_per_sd"] == hr
        assert row["events_exact"] == pytest.approx(events, rel=1e-12)
        assert row["patients_exact"] == pytest.approx(events / (3 / 8), rel=1e-12)
        assert row["patients"] == np.ceil(events / (3 / 8))
    detectable = table[table["question"] == "minimum detectable HR per SD"]
    assert list(detectable["cohort"]) == ["a", "a", "b", "b"]
    expected = np.exp((norm.ppf(0.975) + norm.ppf([0.8, 0.9, 0.8, 0.9])) / np.sqrt([2, 2, 1, 1]))
    assert detectable["hr_per_sd"].to_numpy() == pytest.approx(expected, rel=1e-12)


def test_power_table_says_why_without_an_estimate():
    cohorts = pd.DataFrame({"cohort": ["a"], "n": [5], "events": [0]})
    primary = primary_table().assign(hr=np.nan, ci_low=np.nan, ci_high=np.nan)
    table = drivers.power_table(primary, cohorts, patients(), PLANNING)
    planned = table[table["question"] == "events and patients needed"]
    assert planned["events"].isna().all()
    assert planned["note"].str.startswith("not estimable").all()
    assert (
        table.loc[table["question"] != "events and patients needed", "note"]
        .eq("no events of interest")
        .all()
    )


def test_decomposition_without_a_scoring_method_is_a_row_with_the_reason():
    class Cohort:
        uns = {"cohort": "c"}
        n_vars = 20000

    settings = {
        "genes": {"decompose": ["self_seeding"], "leave_one_out": ["ssgsea"]},
        "scoring": {"methods": ["zmean"]},
    }
    rows = drivers.decomposition(Cohort(), settings)
    assert len(rows) == 1
    assert rows["note"].item() == (
        "not run: none of genes.leave_one_out ['ssgsea'] is a scoring method"
    )
    Cohort.n_vars = 5  # a panel: ssgsea cannot score it, as in scoring
    settings["scoring"]["methods"] = ["ssgsea"]
    (reason,) = drivers.decomposition(Cohort(), settings)["note"]
    assert reason.startswith("no leave-one-out: skipped: ssgsea needs genome-wide data")
    skipped = drivers.skipped_gene_rows(rows)
    assert skipped["reason"].item().startswith("signature: not run")
    assert skipped["analysis"].item() == "genes"


@pytest.mark.usefixtures("svg_copies_on")
def test_prerank_failure_is_a_row_per_set_with_the_reason(monkeypatch, tmp_path):
    import selfseed.pathways

    def failing(*args, **kwargs):
        raise ValueError("no gene set passed the size filter")

    monkeypatch.setattr(selfseed.pathways, "prerank", failing)
    sets = {"HALLMARK_X": ["A", "B"], "self_seeding": ["IL6", "CXCL8"]}
    sources = {"HALLMARK_X": "test", "self_seeding": "signature"}
    settings = {"permutations": 10, "permutation_seed": 3, "min_size": 5, "max_size": 500}
    z = pd.Series([1.0, -1.0], index=["A", "IL6"])
    table, result = drivers.run_prerank(z, sets, sources, settings)
    assert list(table["set"]) == list(sets)
    assert (
        table["note"]
        .eq("not tested: prerank failed (ValueError: no gene set passed the size filter)")
        .all()
    )
    assert (table["permutations"] == 10).all()
    assert (table["seed"] == 3).all()
    assert table["nes"].isna().all()
    selfseed.pathways.enrichment_plot(result, table, tmp_path / "e.png", title="t")
    assert (tmp_path / "e.png").stat().st_size
    assert (tmp_path / "e.svg").stat().st_size


def pooled_genes(changes):
    return pd.DataFrame(
        {
            "cohort": "pooled",
            "signature": "s",
            "method": "zmean",
            "symbol": list(changes),
            "hr": 1.2,
            "ci_low": 0.9,
            "ci_high": 1.6,
            "log_hr_change_without_gene": list(changes.values()),
        }
    )


def test_gene_sentence_names_the_gene_whose_removal_weakens_most():
    (text,) = drivers.gene_sentences(pooled_genes({"IL6": 0.2, "FSCN1": -0.1, "MMP1": -0.3}))
    assert "by MMP1 -0.300, FSCN1 -0.100, IL6 +0.200" in text
    assert "MMP1 carries the most" in text
    (none,) = drivers.gene_sentences(pooled_genes({"IL6": np.nan}))
    assert none == "s (zmean): no gene could be left out and pooled."


def test_genes_page_escapes_every_text(tmp_path):
    figures = {}
    for name in ("gene_forest", "enrichment"):
        figures[name] = tmp_path / f"{name}.png"
        figures[name].write_bytes(b"\x89PNG\r\n\x1a\n")
    genes = pooled_genes({"<b>IL6</b>": -0.1}).reindex(
        columns=list(drivers.PAGE_GENE_COLUMNS) + ["cohort"]
    )
    genes["cohort"] = "pooled"
    power = pd.DataFrame(
        {
            "question": ["events and patients needed"],
            "hazard": ["cause_specific"],
            "assumed": ["pooled estimate"],
            "hr_per_sd": [1.5],
            "power": [0.8],
            "alpha": [0.05],
            "events": [48],
            "patients": [128.0],
            "horizon_months": [60],
            "cif_event": [0.375],
            "cif_competing": [0.25],
            "formula": ["Schoenfeld <i>"],
            "note": [""],
        }
    )
    sets = pd.DataFrame(
        {
            "set": ["<script>alert(1)</script>"],
            "collection": ["signature"],
            "in_ranking": [5],
            "nes": [1.5],
            "nominal_p": [0.04],
            "fdr": [0.1],
            "leading_edge": ["IL6"],
            "permutations": [250],
            "seed": [0],
            "statement": ["a <script>statement</script>"],
        }
    )
    standing = pd.DataFrame({"signature": ["<s>"], "gene": ["IL6"], "percentile": [90.0]})
    tables = {"genes": genes, "power": power, "pathways": sets, "standing": standing}
    html = drivers.genes_page(tables, figures)
    assert "<script>alert" not in html
    assert "<script>statement" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;IL6&lt;/b&gt;" in html
    assert "Schoenfeld &lt;i&gt;" in html
    assert "48 LR events, 128 patients" in html
    assert "250 permutations, seed 0" in html


def genes_config(**changes):
    config = {
        "genes": {"decompose": []},
        "pathways": {"collection": None, "min_size": 5, "max_size": 500},
    }
    for section, values in changes.items():
        config[section] = {**config[section], **values}
    return config


@pytest.mark.parametrize(
    ("changes", "signatures", "message"),
    [
        ({"genes": {"decompose": ["nope"]}}, {}, "genes.decompose names an unknown signature"),
        ({"pathways": {"collection": "missing.gmt"}}, {}, "gene-set collection not found"),
        ({"pathways": {"min_size": 9, "max_size": 8}}, {}, "min_size is larger than"),
        ({}, {"HALLMARK_HYPOXIA": ["VEGFA"]}, "has the name of a gene set"),
    ],
)
def test_gene_and_pathway_keys_are_checked(changes, signatures, message):
    with pytest.raises(ConfigError, match=message):
        check_genes(genes_config(**changes), signatures)


def test_default_gene_and_pathway_keys_pass():
    check_genes(genes_config(), {"self_seeding": ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]})
