"""Gene identifiers to current official (HGNC) symbols, offline.

The table `data/gene_ids.parquet` is built from NCBI Gene's human table (Bioconductor org.Hs.eg.db,
source date in `GENE_TABLE_SOURCE`) by `tools/build_gene_table.py`. Priority when an identifier matches
several kinds: official symbol, then unambiguous alias (IL8 -> CXCL8), RefSeq, Ensembl, GenBank accession.
"""

import re
import warnings
from importlib.resources import files

import numpy as np
import pandas as pd

GENE_TABLE = files("selfseed") / "data" / "gene_ids.parquet"
GENE_TABLE_SOURCE = "NCBI Gene via Bioconductor org.Hs.eg.db, EGSOURCEDATE 2022-Sep12"
KIND_PRIORITY = ["symbol", "alias", "entrez", "refseq", "ensembl", "genbank"]
_VERSIONED = re.compile(r"^((?:N[MR]_|X[MR]_|ENS[A-Z]*G)\d+)\.\d+$")


def normalise_identifier(identifier):
    """Strip whitespace, quotes, accession versions (NM_000584.4, ENSG...15) and Rosetta '_RC' suffixes."""
    text = str(identifier).strip().strip('"')
    text = _VERSIONED.sub(r"\1", text)
    return text[:-3] if text.endswith("_RC") else text


def lookup_symbols(identifiers):
    """DataFrame[identifier, key, symbol, kind] with the current symbol of each identifier (NaN if unknown)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    ids = pd.Series(list(identifiers), dtype=object).astype(str)
    keys = ids.map(normalise_identifier)
    table = pq.read_table(GENE_TABLE, columns=["identifier", "kind", "symbol"])
    wanted = pa.array(sorted(set(keys) | set(keys.str.upper())))
    hits = table.filter(pc.is_in(table["identifier"], value_set=wanted)).to_pandas()
    hits["rank"] = hits["kind"].map(KIND_PRIORITY.index)
    best = hits.sort_values("rank").drop_duplicates("identifier").set_index("identifier")
    exact = keys.map(best["symbol"])
    upper = keys.str.upper().map(best["symbol"])
    kind = keys.map(best["kind"]).where(exact.notna(), keys.str.upper().map(best["kind"]))
    return pd.DataFrame(
        {"identifier": ids, "key": keys, "symbol": exact.fillna(upper), "kind": kind}
    )


def harmonise_genes(expression):
    """Re-index a genes x samples matrix by current symbols.

    Unknown identifiers are dropped; when several rows map to one symbol the row with the highest mean
    expression is kept. Returns (matrix, dropped DataFrame[gene_id, reason, detail]).
    """
    mapping = lookup_symbols(expression.index)
    unknown = mapping["symbol"].isna().to_numpy()
    dropped = [
        pd.DataFrame(
            {
                "gene_id": mapping["identifier"][unknown],
                "reason": "identifier not in the NCBI Gene table (no current symbol)",
                "detail": "",
            }
        )
    ]
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
    order = pd.DataFrame({"symbol": symbols, "mean": means, "row": np.arange(len(rows))})
    order = order.sort_values(["symbol", "mean"], ascending=[True, False], kind="stable")
    keep = ~order["symbol"].duplicated()
    kept_id = dict(zip(order["symbol"][keep], original[order["row"][keep]], strict=True))
    lost = order[~keep]
    dropped.append(
        pd.DataFrame(
            {
                "gene_id": original[lost["row"]],
                "reason": "duplicate symbol after mapping (another row has the higher mean)",
                "detail": [f"{s}: kept {kept_id[s]}" for s in lost["symbol"]],
            }
        )
    )
    kept = np.sort(order["row"][keep].to_numpy())
    result = expression if len(kept) == len(expression) else expression.iloc[rows[kept]]
    result = result.set_axis(symbols[kept], axis=0, copy=False)
    return result, pd.concat(dropped, ignore_index=True)
