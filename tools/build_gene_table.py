"""Build src/selfseed/data/gene_ids.parquet, the offline gene-identifier table, from NCBI Gene's human table.

Source: Bioconductor org.Hs.eg.db (Debian package r-bioc-org.hs.eg.db), whose SQLite file holds NCBI Gene's
gene_info, alias (synonyms), RefSeq, Ensembl and GenBank accession tables. Run:

    apt-get install -y --no-install-recommends r-bioc-org.hs.eg.db
    python tools/build_gene_table.py [path/to/org.Hs.eg.sqlite]

Rows: identifier, kind (symbol | alias | entrez | refseq | ensembl | genbank), symbol (current official
symbol), entrez. Kind entrez: the Entrez Gene id itself as text ("3576" -> CXCL8), one row per NCBI gene.
Aliases that name more than one gene, or that are some other gene's official symbol, are left out (ambiguous);
RefSeq and GenBank accessions are unversioned nucleotide accessions (NM_, NR_; 1-2 letters + 5-6 digits).
"""

import sqlite3
import sys
from pathlib import Path

import pandas as pd

DEFAULT_DB = "/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite"
OUT = Path(__file__).resolve().parents[1] / "src" / "selfseed" / "data" / "gene_ids.parquet"


def build(db_path):
    con = sqlite3.connect(db_path)
    genes = pd.read_sql(
        "SELECT _id, gene_id AS entrez, symbol FROM genes JOIN gene_info USING(_id)", con
    )

    def linked(table, column, kind):
        frame = pd.read_sql(f"SELECT _id, {column} AS identifier FROM {table}", con)
        return frame.merge(genes, on="_id").assign(kind=kind)

    symbols = genes.assign(identifier=genes.symbol, kind="symbol")
    entrez = genes.assign(identifier=genes.entrez, kind="entrez")
    aliases = linked("alias", "alias_symbol", "alias")
    aliases = aliases[~aliases.identifier.isin(genes.symbol)]
    aliases = aliases[~aliases.identifier.duplicated(keep=False)]
    refseq = linked("refseq", "accession", "refseq")
    refseq = refseq[refseq.identifier.str.match(r"^(NM|NR)_\d+$")]
    ensembl = linked("ensembl", "ensembl_id", "ensembl")
    genbank = linked("accessions", "accession", "genbank")
    genbank = genbank[genbank.identifier.str.match(r"^[A-Z]{1,2}\d{5,6}$")]
    table = pd.concat([symbols, aliases, entrez, refseq, ensembl, genbank], ignore_index=True)
    # An accession shared by several genes cannot name one gene.
    table = table.drop_duplicates(["identifier", "kind", "symbol"])
    shared = (table.kind != "symbol") & table.duplicated(["identifier", "kind"], keep=False)
    table = table[~shared]
    meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
    return table[["identifier", "kind", "symbol", "entrez"]].sort_values(
        ["kind", "identifier"]
    ), meta


if __name__ == "__main__":
    table, meta = build(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DB)
    table.to_parquet(OUT, index=False, compression="zstd")
    print(f"{OUT}: {len(table)} rows; NCBI Gene source date {meta['EGSOURCEDATE']}")
    print(table.kind.value_counts().to_string())
