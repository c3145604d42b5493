import pandas as pd
import pytest

from selfseed.genes import harmonise_genes, lookup_symbols, normalise_identifier


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
