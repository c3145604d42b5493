import numpy as np
import pandas as pd
import pytest

from selfseed.genes import (
    harmonise_genes,
    lookup_symbols,
    normalise_identifier,
    symbol_part_differs,
    unmapped_reasons,
)
from selfseed.signatures import signature_genes


@pytest.mark.parametrize(
    ("identifier", "symbol", "kind"),
    [
        ("IL8", "CXCL8", "alias"),  # array platforms' old name for CXCL8
        ("CXCL8", "CXCL8", "symbol"),
        ("il6", "IL6", "symbol"),
        ("NM_000584", "CXCL8", "refseq"),
        ("NM_000600.5", "IL6", "refseq"),
        ("NM_002421", "MMP1", "refseq"),
        ("NM_003088", "FSCN1", "refseq"),
        ("NM_001511", "CXCL1", "refseq"),
        ("ENSG00000169429.11", "CXCL8", "ensembl"),
        ("AB002301", "MAST4", "genbank"),
    ],
)
def test_identifiers_map_to_current_symbols(identifier, symbol, kind):
    row = lookup_symbols([identifier]).iloc[0]
    assert (row["symbol"], row["kind"]) == (symbol, kind)


def test_unknown_identifiers_stay_unmapped():
    table = lookup_symbols(["Contig12345_RC", "NOT_A_GENE"])
    assert table["symbol"].isna().all()


def test_normalise_identifier_strips_versions_quotes_and_rc():
    assert normalise_identifier(' "NM_000584.4" ') == "NM_000584"
    assert normalise_identifier("ENSG00000169429.11") == "ENSG00000169429"
    assert normalise_identifier("AA555029_RC") == "AA555029"
    assert normalise_identifier("HLA-A") == "HLA-A"


def test_duplicates_keep_the_row_with_the_highest_mean():
    expression = pd.DataFrame(
        {"s1": [1.0, 5.0, 3.0, 0.0], "s2": [3.0, 7.0, 3.0, 1.0]},
        index=["IL8", "CXCL8", "NOPE1", "IL6"],
    )
    genes, dropped = harmonise_genes(expression)
    assert list(genes.index) == ["CXCL8", "IL6"]
    assert genes.loc["CXCL8"].tolist() == [5.0, 7.0]
    reasons = dict(zip(dropped["gene_id"], dropped["reason"], strict=True))
    assert reasons["NOPE1"].startswith("identifier not in the NCBI Gene table")
    assert reasons["IL8"].startswith("duplicate symbol")


def test_duplicate_rows_that_disagree_warn_identical_ones_do_not(caplog):
    expression = pd.DataFrame(
        {"s1": [1.0, 5.0, 2.0, 2.0], "s2": [3.0, 7.0, 4.0, 4.0], "s3": [2.0, 6.5, np.nan, np.nan]},
        index=["IL8", "CXCL8", "IL6", "NM_000600"],  # NM_000600 is IL6 too, with the same values
    )
    with caplog.at_level("INFO", logger="selfseed"):
        genes, dropped = harmonise_genes(expression, cohort="mine")
    assert list(genes.index) == ["CXCL8", "IL6"]
    assert genes.loc["CXCL8"].tolist() == [5, 7, 6.5]
    details = dict(zip(dropped["gene_id"], dropped["detail"], strict=True))
    assert details["NM_000600"] == "IL6: kept IL6 (same values)"
    assert details["IL8"] == (
        "CXCL8: kept CXCL8; values differ: mean 2 (kept row 6.167), Pearson r 0.96 with the kept row"
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "mine: 1 duplicate gene rows have other values than the row kept for their symbol (kept: "
        "the row mapped by its own Entrez id, then the higher mean; each in dropped.tsv): e.g. IL8 "
        "(r 0.96 with CXCL8)"
    ]


# TCGA Firehose gene ids (SYMBOL|EntrezID), on the real RTCGA.rnaseq.20160128 tables
FIREHOSE = ["UCS", "ACC", "CHOL"]
SIGNATURE_ROWS = ["IL6|3569", "IL8|3576", "MMP1|4312", "FSCN1|6624", "CXCL1|2919"]


def firehose_rnaseq(rtcga, cohort):
    """Real TCGA Firehose RNA-seq (RSEM, linear) as genes x samples, ids SYMBOL|EntrezID."""
    frame = rtcga(f"{cohort}.rnaseq.20160128.rda")
    expression = frame.set_index("bcr_patient_barcode").T.astype(float)
    expression.index = expression.index.astype(str)
    return expression


@pytest.fixture(scope="module")
def ucs(rtcga):
    return firehose_rnaseq(rtcga, "UCS")


@pytest.mark.parametrize(
    ("identifier", "symbol", "kind"),
    [
        ("IL8|3576", "CXCL8", "entrez"),  # CXCL8's old symbol
        *[(row, row.split("|")[0], "entrez") for row in SIGNATURE_ROWS if "IL8" not in row],
        ("?|340602", "EZHIP", "entrez"),  # no symbol in 2016
        ("?|8225", "GTPBP6", "entrez"),
        ("SEPT4|5414", "SEPTIN4", "entrez"),  # renamed since 2016 (SEPT -> SEPTIN)
        ("MARCH1|55016", "MARCHF1", "entrez"),
        ("ADRBK1|156", "GRK2", "entrez"),
        ("AARS|16", "AARS1", "entrez"),
        ("DUX4|22947", "DUX4L1", "entrez"),  # DUX4 is now another gene's symbol: the Entrez id wins
        ("NAA38|51691", "LSM8", "entrez"),
        ("CASP12|120329", "CASP12", "symbol_part"),  # Entrez id replaced; its symbol is current
        ("OCLN|4950", "OCLN", "symbol_part"),
        ("C10orf12|26148", "LCOR", "symbol_part"),  # Entrez id replaced; symbol part an alias
    ],
)
def test_firehose_rows_map_to_current_symbols(ucs, identifier, symbol, kind):
    assert identifier in ucs.index  # a real row
    row = lookup_symbols([identifier]).iloc[0]
    assert (row["symbol"], row["kind"]) == (symbol, kind)


@pytest.mark.parametrize(
    ("identifier", "reason", "detail"),
    [
        ("?|100130426", "no symbol given (?|id)", "Entrez id 100130426"),
        ("?|10431", "no symbol given (?|id)", "Entrez id 10431"),
        (
            "C14orf181|400223",
            "neither the Entrez id nor the symbol part",
            "Entrez id 400223, symbol part C14orf181",
        ),
        (
            "CRIPAK|285464",
            "neither the Entrez id nor the symbol part",
            "Entrez id 285464, symbol part CRIPAK",
        ),
    ],
)
def test_firehose_rows_left_unmapped_say_why(ucs, identifier, reason, detail):
    assert identifier in ucs.index
    mapping = lookup_symbols([identifier])
    assert mapping["symbol"].isna().all()
    dropped = unmapped_reasons(mapping).iloc[0]
    assert reason in dropped["reason"]
    assert dropped["detail"] == detail


@pytest.mark.parametrize(
    ("identifier", "symbol"),
    [
        ("3576", "CXCL8"),
        ("3569", "IL6"),
        ("4312", "MMP1"),
        ("6624", "FSCN1"),
        (" 2919 ", "CXCL1"),
        ("5414", "SEPTIN4"),
    ],
)
def test_plain_entrez_ids(identifier, symbol):
    row = lookup_symbols([identifier]).iloc[0]
    assert (row["symbol"], row["kind"], row["entrez"]) == (symbol, "entrez", identifier.strip())


def test_unknown_plain_entrez_id_says_it_was_read_as_one():
    mapping = lookup_symbols(["100130426"])
    assert mapping["symbol"].isna().all()
    dropped = unmapped_reasons(mapping).iloc[0]
    assert dropped["reason"].startswith("Entrez id not in the NCBI Gene table (a plain number")
    assert dropped["detail"] == "Entrez id 100130426"


def test_signature_genes_accept_entrez_forms():
    genes = signature_genes({"seed": ["IL8|3576", "3569", "MMP1"]})
    assert genes["symbol"].tolist() == ["CXCL8", "IL6", "MMP1"]


@pytest.mark.parametrize("cohort", FIREHOSE)
def test_firehose_gene_list_counts(rtcga, ucs, cohort):
    ids = ucs.index if cohort == "UCS" else firehose_rnaseq(rtcga, cohort).index
    mapping = lookup_symbols(ids)
    no_symbol = mapping["symbol_part"] == "?"
    assert len(mapping) == 20531
    assert no_symbol.sum() == 29
    assert (mapping["kind"] == "entrez").sum() == 20387
    assert (no_symbol & (mapping["kind"] == "entrez")).sum() == 17
    assert (mapping["kind"] == "symbol_part").sum() == 71
    assert symbol_part_differs(mapping).sum() == 2981
    assert mapping["symbol"].isna().sum() == 73
    reasons = unmapped_reasons(mapping[mapping["symbol"].isna()])["reason"]
    assert reasons.str.startswith("neither the Entrez id nor the symbol part").sum() == 61
    assert reasons.str.endswith("no symbol given (?|id)").sum() == 12
    assert mapping["symbol"].nunique() == 20420  # rows kept by harmonise_genes


REAL_ROWS = [
    *SIGNATURE_ROWS,
    "SEPT4|5414",
    "?|340602",
    "CASP12|120329",
    "NPR3|4883",
    "C5orf23|79614",
    "?|100130426",
    "C14orf181|400223",
]


def test_harmonise_firehose_rows(ucs, caplog):
    expression = ucs.loc[REAL_ROWS]
    with caplog.at_level("INFO", logger="selfseed"):
        genes, dropped = harmonise_genes(expression, cohort="ucs")
    # C5orf23's Entrez id is gone and its symbol is now an alias of NPR3: NPR3's own row stays,
    # although the other has the higher mean
    npr3 = expression.loc[["NPR3|4883", "C5orf23|79614"]].mean(axis=1)
    kept, lost = "NPR3|4883", "C5orf23|79614"
    assert npr3[lost] > npr3[kept]
    assert list(genes.index) == [
        "IL6",
        "CXCL8",
        "MMP1",
        "FSCN1",
        "CXCL1",
        "SEPTIN4",
        "EZHIP",
        "CASP12",
        "NPR3",
    ]
    assert genes.loc["CXCL8"].tolist() == expression.loc["IL8|3576"].tolist()
    assert genes.loc["NPR3"].tolist() == expression.loc[kept].tolist()
    reasons = dict(zip(dropped["gene_id"], dropped["reason"], strict=True))
    assert set(reasons) == {"?|100130426", "C14orf181|400223", lost}
    assert reasons["?|100130426"].endswith("no symbol given (?|id)")
    assert reasons["C14orf181|400223"].startswith("neither the Entrez id nor the symbol part")
    assert reasons[lost].startswith("duplicate symbol after mapping (another row maps by its own")
    assert caplog.messages[0] == (
        "ucs: 12 gene ids: 8 by Entrez id, 2 by SYMBOL part (Entrez id not in the table), "
        "2 unmapped; 2 SYMBOL parts differ from their Entrez id's current symbol (the Entrez id "
        "wins), e.g. IL8|3576 -> CXCL8, SEPT4|5414 -> SEPTIN4"
    )
    # the two rows of NPR3 disagree: the choice changes the data, so it is a warning
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage().startswith("ucs: 1 duplicate gene rows have other values")
    r = np.corrcoef(expression.loc[kept], expression.loc[lost])[0, 1]
    assert f"C5orf23|79614 (r {r:.2f} with NPR3|4883)" in warning.getMessage()
    detail = dropped.set_index("gene_id").loc[lost, "detail"]
    assert detail.startswith("NPR3: kept NPR3|4883; values differ: mean ")
    assert f"Pearson r {r:.2f} with the kept row" in detail


def test_firehose_reasons_reach_the_cohort_dropped_table(tmp_path, ucs):
    """A table cohort of real Firehose rows (log2 RSEM + 1) and a test-made endpoint (seeded)."""
    from snakemake.utils import validate

    from conftest import REPO
    from selfseed.cohort import build_cohort

    expression = np.log2(ucs.loc[REAL_ROWS] + 1)
    expression.index.name = "gene"
    rng = np.random.default_rng(7)
    clinical = pd.DataFrame(
        {
            "sample": expression.columns,
            "days": rng.integers(30, 3000, expression.shape[1]),
            "status": rng.choice(["relapse", "censored"], expression.shape[1]),
        }
    )
    expression.to_csv(tmp_path / "expr.tsv", sep="\t")
    clinical.to_csv(tmp_path / "clinical.tsv", sep="\t", index=False)
    entry = {
        "source": "table",
        "expression": str(tmp_path / "expr.tsv"),
        "clinical": str(tmp_path / "clinical.tsv"),
        "orientation": "genes_by_samples",
        "sample_column": "sample",
        "covariates": [],
        "endpoint": {
            "name": "RFS",
            "label": "relapse-free survival",
            "time_column": "days",
            "time_unit": "days",
            "event_column": "status",
            "event_values": ["relapse"],
            "censored_values": ["censored"],
        },
    }
    config = {"cohorts": {"ucs": entry}}
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    adata, dropped = build_cohort(entry, "ucs", {}, max_missing_fraction=0.2)
    assert {"IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"} <= set(adata.var_names)
    genes = dropped[dropped["kind"] == "gene"].set_index("id")
    assert genes.loc["?|100130426", "detail"] == "Entrez id 100130426"
    assert genes.loc["C14orf181|400223", "detail"] == "Entrez id 400223, symbol part C14orf181"
    assert genes.loc["C14orf181|400223", "reason"].endswith("in the NCBI Gene table (SYMBOL|id)")
