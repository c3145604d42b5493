"""Gene identifiers to current official (HGNC) symbols, offline.

The table `data/gene_ids.parquet` is built from NCBI Gene's human table (Bioconductor org.Hs.eg.db,
source date in `GENE_TABLE_SOURCE`) by `tools/build_gene_table.py`. Priority when an identifier matches
several kinds: official symbol, then unambiguous alias (IL8 -> CXCL8), RefSeq, Ensembl, GenBank accession.
Entrez Gene ids are read from TCGA Firehose `SYMBOL|EntrezID` and `?|EntrezID` and from plain numbers
("3576"); the Entrez id wins over the symbol part (IL8|3576 -> CXCL8), and the symbol part (as symbol
or alias) is used only when the Entrez id is not in the table.
"""

import functools
import re
import warnings
from importlib.resources import files

import numpy as np
import pandas as pd

from selfseed.logs import log

GENE_TABLE = files("selfseed") / "data" / "gene_ids.parquet"
GENE_TABLE_SOURCE = "NCBI Gene via Bioconductor org.Hs.eg.db, EGSOURCEDATE 2022-Sep12"
KIND_PRIORITY = ["symbol", "alias", "entrez", "refseq", "ensembl", "genbank"]
KIND_LABELS = {
    "symbol": "official symbol",
    "alias": "alias",
    "entrez": "Entrez id",
    "symbol_part": "SYMBOL part (Entrez id not in the table)",
    "refseq": "RefSeq",
    "ensembl": "Ensembl id",
    "genbank": "GenBank accession",
}
_VERSIONED = re.compile(r"^((?:N[MR]_|X[MR]_|ENS[A-Z]*G)\d+)\.\d+$")
# SYMBOL|EntrezID, ?|EntrezID (TCGA Firehose; '?' = no symbol) or a plain Entrez id
_ENTREZ_FORM = r"^(?:(?P<symbol_part>[^|]+)\|)?(?P<entrez>\d+)$"


def normalise_identifier(identifier):
    """Strip whitespace, quotes, accession versions (NM_000584.4, ENSG...15) and Rosetta '_RC' suffixes."""
    text = str(identifier).strip().strip('"')
    text = _VERSIONED.sub(r"\1", text)
    return text[:-3] if text.endswith("_RC") else text


@functools.cache
def gene_table():
    """The offline gene table (read once per process; kind and symbol repeat, so they are read as
    dictionaries and decoded after filtering)."""
    import pyarrow.parquet as pq

    return pq.read_table(
        GENE_TABLE, columns=["identifier", "kind", "symbol"], read_dictionary=["kind", "symbol"]
    )


def lookup_symbols(identifiers):
    """DataFrame[identifier, key, symbol, kind, entrez, symbol_part]: the current symbol of each
    identifier and the kind of table row that gave it (both missing if unknown).

    `entrez` and `symbol_part` are the parts of `SYMBOL|EntrezID` / `?|EntrezID` (symbol_part '?')
    and plain Entrez ids (symbol_part missing); missing for other identifiers. Kind "entrez": mapped by the
    Entrez id; "symbol_part": the Entrez id is not in the table, the symbol part is a current symbol
    or unambiguous alias.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pd.Series(list(identifiers), dtype=object).astype(str)
    keys = ids.map(normalise_identifier)
    parts = pc.extract_regex(pa.array(keys, type=pa.string()), _ENTREZ_FORM)
    entrez = pc.struct_field(parts, "entrez").to_pandas()
    symbol_part = pc.struct_field(parts, "symbol_part")
    symbol_part = pc.if_else(pc.equal(symbol_part, ""), None, symbol_part).to_pandas()
    has_entrez = entrez.notna()
    # the name looked up: the identifier itself, or the symbol part of SYMBOL|EntrezID
    names = keys.where(~has_entrez, symbol_part.where(symbol_part != "?"))
    table = gene_table()
    looked_up = pd.concat([names, names.str.upper(), entrez]).dropna()
    wanted = pa.array(pd.unique(looked_up.to_numpy()), type=pa.string())
    hits = table.filter(pc.is_in(table["identifier"], value_set=wanted))
    hits = hits.cast(pa.schema([(name, pa.string()) for name in hits.column_names])).to_pandas()
    by_entrez = hits[hits["kind"] == "entrez"].set_index("identifier")["symbol"]
    hits["rank"] = hits["kind"].map(KIND_PRIORITY.index)
    best = hits.sort_values("rank", kind="stable").drop_duplicates("identifier")
    any_kind = pd.Series(best["identifier"].to_numpy(), index=best["identifier"])
    symbol_or_alias = any_kind[best["kind"].isin(["symbol", "alias"]).to_numpy()]
    # the table identifier each name matches; a symbol part only as a symbol or alias
    matched = _exact_then_upper(names, any_kind).where(
        ~has_entrez, _exact_then_upper(names, symbol_or_alias)
    )
    best = best.set_index("identifier")
    entrez_symbol = entrez.map(by_entrez)
    kind = matched.map(best["kind"]).mask(has_entrez & matched.notna(), "symbol_part")
    return pd.DataFrame(
        {
            "identifier": ids,
            "key": keys,
            "symbol": entrez_symbol.fillna(matched.map(best["symbol"])),
            "kind": kind.mask(entrez_symbol.notna(), "entrez"),
            "entrez": entrez,
            "symbol_part": symbol_part,
        }
    )


def _exact_then_upper(names, index):
    """Each name's value in `index`, else its upper-case form's (NaN if neither is there)."""
    exact = names.map(index)
    return exact.where(exact.notna(), names.str.upper().map(index))


def harmonise_genes(expression, *, cohort=None):
    """Re-index a genes x samples matrix by current symbols.

    Unknown identifiers are dropped; when several rows map to one symbol the row with the highest mean
    expression is kept, except that a row mapped by its own Entrez id beats one mapped only by the
    symbol part of a withdrawn Entrez id (C5orf23|79614 is an alias of NPR3, NPR3|4883 is NPR3). A
    dropped duplicate's `detail` says whether its values equal the kept row's; rows that disagree
    are a warning in the log (the choice of row changes the data). Logs how the ids were mapped
    (`cohort` names them in the log). Returns (matrix, dropped DataFrame[gene_id, reason, detail]).
    """
    mapping = lookup_symbols(expression.index)
    log_mapping(mapping, cohort)
    unknown = mapping["symbol"].isna().to_numpy()
    dropped = [unmapped_reasons(mapping[unknown])]
    rows = np.flatnonzero(~unknown)
    symbols = mapping["symbol"].to_numpy()[rows]
    original = mapping["identifier"].to_numpy()[rows]
    # the mean is only needed where a symbol repeats: one pass over those rows, not the matrix
    repeated = pd.Series(symbols).duplicated(keep=False).to_numpy()
    means = np.zeros(len(rows))
    if repeated.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing row: mean NaN
            means[repeated] = np.nanmean(expression.iloc[rows[repeated]].to_numpy(float), axis=1)
    fallback = mapping["kind"].to_numpy()[rows] == "symbol_part"
    order = pd.DataFrame(
        {"symbol": symbols, "fallback": fallback, "mean": means, "row": np.arange(len(rows))}
    )
    order = order.sort_values(
        ["symbol", "fallback", "mean"], ascending=[True, True, False], kind="stable"
    )
    keep = ~order["symbol"].duplicated()
    kept_row = pd.Series(order["row"][keep].to_numpy(), index=order["symbol"][keep].to_numpy())
    kept_id = dict(zip(kept_row.index, original[kept_row.to_numpy()], strict=True))
    lost = order[~keep]
    lost_rows, kept_rows = lost["row"].to_numpy(), kept_row[lost["symbol"]].to_numpy()
    comparison = compare_duplicates(
        expression.iloc[rows[lost_rows]].to_numpy(float),
        expression.iloc[rows[kept_rows]].to_numpy(float),
    )
    log_disagreeing(original[lost_rows], original[kept_rows], comparison, cohort)
    dropped.append(
        pd.DataFrame(
            {
                "gene_id": original[lost["row"]],
                "reason": np.where(
                    fallback[lost["row"]] & ~fallback[kept_row[lost["symbol"]]],
                    "duplicate symbol after mapping (another row maps by its own Entrez id; this "
                    "one by the symbol part of an Entrez id not in the table)",
                    "duplicate symbol after mapping (another row has the higher mean)",
                ),
                "detail": [
                    f"{s}: kept {kept_id[s]}{c}"
                    for s, c in zip(lost["symbol"], comparison["detail"], strict=True)
                ],
            }
        )
    )
    kept = np.sort(order["row"][keep].to_numpy())
    result = expression if len(kept) == len(expression) else expression.iloc[rows[kept]]
    result = result.set_axis(symbols[kept], axis=0, copy=False)
    return result, pd.concat(dropped, ignore_index=True)


def compare_duplicates(lost, kept):
    """Each dropped duplicate row (of `lost`) against the row kept for its symbol (same row of
    `kept`): DataFrame[agree, mean_lost, mean_kept, r, detail]. Rows agree when every value is equal
    up to rounding (relative 1e-6), missing values in the same samples; `r` is the Pearson
    correlation over the samples where both have a value."""
    agree = np.isclose(lost, kept, rtol=1e-6, atol=1e-12, equal_nan=True).all(axis=1)
    both = np.isfinite(lost) & np.isfinite(kept)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without values: NaN
        mean_lost, mean_kept = np.nanmean(lost, axis=1), np.nanmean(kept, axis=1)
        a = np.where(both, lost - np.nanmean(np.where(both, lost, np.nan), axis=1)[:, None], 0)
        b = np.where(both, kept - np.nanmean(np.where(both, kept, np.nan), axis=1)[:, None], 0)
        r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    detail = np.where(
        agree,
        " (same values)",
        [
            f"; values differ: mean {m:.4g} (kept row {k:.4g}), Pearson r {c:.2f} with the kept row"
            for m, k, c in zip(mean_lost, mean_kept, r, strict=True)
        ],
    )
    return pd.DataFrame(
        {"agree": agree, "mean_lost": mean_lost, "mean_kept": mean_kept, "r": r, "detail": detail}
    )


def log_disagreeing(lost_ids, kept_ids, comparison, cohort=None, examples=3):
    """One WARNING line when dropped duplicate rows disagree with the rows kept for their symbols."""
    differ = np.flatnonzero(~comparison["agree"].to_numpy())
    if not len(differ):
        return
    shown = ", ".join(
        f"{lost_ids[i]} (r {comparison['r'].iloc[i]:.2f} with {kept_ids[i]})"
        for i in differ[:examples]
    )
    log.warning(
        "%s%d duplicate gene rows have other values than the row kept for their symbol (kept: the "
        "row mapped by its own Entrez id, then the higher mean; each in dropped.tsv): e.g. %s",
        f"{cohort}: " if cohort else "",
        len(differ),
        shown,
    )


def symbol_part_differs(mapping):
    """Rows of `lookup_symbols` mapped by their Entrez id whose SYMBOL part is not the id's current
    symbol (IL8|3576 -> CXCL8)."""
    part = mapping["symbol_part"]
    return (
        (mapping["kind"] == "entrez") & part.notna() & (part != "?") & (part != mapping["symbol"])
    )


def unmapped_reasons(mapping):
    """DataFrame[gene_id, reason, detail] for rows of `lookup_symbols` without a symbol."""
    entrez, part = mapping["entrez"], mapping["symbol_part"]
    symbol_given = entrez.notna() & part.notna() & (part != "?")
    reason = np.select(
        [symbol_given, entrez.notna() & (part == "?"), entrez.notna()],
        [
            "neither the Entrez id nor the symbol part (as symbol or unambiguous alias) is in the "
            "NCBI Gene table (SYMBOL|id)",
            "Entrez id not in the NCBI Gene table and no symbol given (?|id)",
            "Entrez id not in the NCBI Gene table (a plain number is read as an Entrez Gene id)",
        ],
        "identifier not in the NCBI Gene table (no current symbol)",
    )
    detail = ("Entrez id " + entrez).mask(
        symbol_given, "Entrez id " + entrez + ", symbol part " + part
    )
    return pd.DataFrame(
        {
            "gene_id": mapping["identifier"].to_numpy(),
            "reason": reason,
            "detail": detail.fillna("").to_numpy(),
        }
    )


def log_mapping(mapping, cohort=None, examples=3):
    """One INFO line: how many ids each kind mapped, how many stay unmapped, and how many SYMBOL parts
    differ from their Entrez id's current symbol (with examples)."""
    kinds = mapping["kind"].value_counts()
    counts = [f"{kinds[k]} by {label}" for k, label in KIND_LABELS.items() if k in kinds]
    counts.append(f"{mapping['kind'].isna().sum()} unmapped")
    line = f"{len(mapping)} gene ids: " + ", ".join(counts)
    differs = symbol_part_differs(mapping)
    if differs.any():
        shown = mapping[differs].head(examples)
        line += (
            f"; {differs.sum()} SYMBOL parts differ from their Entrez id's current symbol (the "
            "Entrez id wins), e.g. " + ", ".join(shown["identifier"] + " -> " + shown["symbol"])
        )
    log.info("%s%s", f"{cohort}: " if cohort else "", line)
