"""Gene signatures: from config and .gmt files, mapped to current symbols; per-cohort gene coverage."""

import re
from pathlib import Path

import pandas as pd

from selfseed.errors import ConfigError
from selfseed.genes import lookup_symbols

MAX_NAME_LENGTH = 100  # signature names become file names (results/plots/forest/{name}.png)


def gmt_name(name):
    """The signature name of a .gmt gene set: each run of characters other than letters, digits
    and _ becomes one _, none at either end ('Cell Cycle, Mitotic' -> 'Cell_Cycle_Mitotic',
    '../../x' -> 'x'), so it follows the config's name rule and stays a plain file name."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def read_gmt(path):
    """Gene sets from a .gmt file: name <tab> description <tab> gene <tab> gene ...

    Names are made safe by `gmt_name`; a name that leaves nothing, is longer than MAX_NAME_LENGTH
    or becomes the name of another set (also regardless of case) is an error naming the lines."""
    sets, lines = {}, {}
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
        name = gmt_name(fields[0])
        if not name or len(name) > MAX_NAME_LENGTH:
            raise ConfigError(
                "a .gmt gene set name gives no usable signature name",
                file=path,
                line=number,
                key="signatures_gmt",
                found=repr(fields[0]),
                expected=f"a name with letters or digits, at most {MAX_NAME_LENGTH} characters "
                "once other characters are replaced by _",
                fix="rename the gene set in the .gmt file",
            )
        if name.lower() in lines:
            first, other = lines[name.lower()]
            raise ConfigError(
                "two .gmt gene sets get the same signature name",
                file=path,
                line=number,
                key="signatures_gmt",
                found=f"{other!r} (line {first}) and {fields[0]!r} (line {number}) -> {name!r}",
                expected="gene set names that differ in their letters, digits or _ (not only in "
                "case, spaces or punctuation)",
                fix="rename one of the gene sets in the .gmt file",
            )
        lines[name.lower()] = (number, fields[0])
        sets[name] = genes
    return sets


def load_signatures(signatures, gmt_path=None):
    """Signatures from config plus an optional .gmt file; a name may appear only once (also
    regardless of case: the names are file names)."""
    combined = dict(signatures)
    if gmt_path:
        folded = {name.lower(): name for name in combined}
        for name, genes in read_gmt(gmt_path).items():
            if name.lower() in folded:
                raise ConfigError(
                    "signature defined twice",
                    file=gmt_path,
                    key=f"signatures.{folded[name.lower()]}",
                    found=f"{name!r} in the .gmt file (names from a .gmt file are made safe by "
                    "replacing other characters than letters, digits and _ by _)",
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
        why = "; ".join(
            f"{note}: {', '.join(part['symbol'])}"
            for note, part in genes[~genes["present"]].groupby("note", sort=False)
        )
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
