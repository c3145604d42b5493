"""Gene signatures: from config and .gmt files, mapped to current symbols; per-cohort gene coverage."""

from pathlib import Path

import pandas as pd

from selfseed.errors import ConfigError
from selfseed.genes import lookup_symbols


def read_gmt(path):
    """Gene sets from a .gmt file: name <tab> description <tab> gene <tab> gene ..."""
    sets = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        fields = [f.strip() for f in line.split("\t")]
        if not line.strip():
            continue
        genes = [g for g in fields[2:] if g]
        if len(fields) < 3 or not genes:
            raise ConfigError(
                "a .gmt line has no genes",
                file=path,
                line=number,
                key="signatures_gmt",
                expected="name<TAB>description<TAB>gene1<TAB>gene2...",
            )
        sets[fields[0]] = genes
    return sets


def load_signatures(signatures, gmt_path=None):
    """Signatures from config plus an optional .gmt file; a name may appear only once."""
    combined = dict(signatures)
    if gmt_path:
        for name, genes in read_gmt(gmt_path).items():
            if name in combined:
                raise ConfigError(
                    "signature defined twice",
                    file=gmt_path,
                    key=f"signatures.{name}",
                    fix="rename the gene set in the .gmt file or in config signatures",
                )
            combined[name] = genes
    return combined


def signature_genes(signatures):
    """Long table [signature, gene, symbol]: each configured gene with its current symbol (IL8 -> CXCL8)."""
    rows = [(name, gene) for name, genes in signatures.items() for gene in dict.fromkeys(genes)]
    table = pd.DataFrame(rows, columns=["signature", "gene"])
    symbols = lookup_symbols(table["gene"])
    table["symbol"] = symbols["symbol"].fillna(table["gene"]).to_numpy()
    return table


def gene_coverage(genes, available, constant=()):
    """Per signature gene: whether the cohort measures it (and with some variation)."""
    table = genes.copy()
    table["present"] = table["symbol"].isin(available) & ~table["symbol"].isin(constant)
    table["note"] = ""
    table.loc[~table["symbol"].isin(available), "note"] = "not measured"
    table.loc[table["symbol"].isin(constant), "note"] = "constant across samples"
    return table


def signature_status(coverage, min_genes):
    """Per signature: genes present, genes missing, scored or skipped with the reason."""
    rows = []
    for name, genes in coverage.groupby("signature", sort=False):
        present = genes.loc[genes["present"], "symbol"].tolist()
        missing = genes.loc[~genes["present"], "symbol"].tolist()
        scored = len(present) >= min_genes
        why = "; ".join(f"{note}: {', '.join(part['symbol'])}"
                        for note, part in genes[~genes["present"]].groupby("note", sort=False))  # fmt: skip
        rows.append(
            {
                "signature": name,
                "n_genes": len(genes),
                "n_present": len(present),
                "present": ",".join(present),
                "missing": ",".join(missing),
                "scored": scored,
                "reason": ""
                if scored
                else f"skipped: {len(present)} of {len(genes)} genes present, "
                f"fewer than min_genes={min_genes} ({why})",
            }
        )
    return pd.DataFrame(rows)
