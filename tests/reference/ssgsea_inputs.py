"""Real expression matrices and gene sets for the ssGSEA comparison (tests/test_ssgsea.py, ssgsea.R).

Cohorts: the SurvSet cohorts gse1992 (Agilent log ratios, with ties), gse3143 (Affymetrix
HG-U95Av2) and vdv (Rosetta Hu25K), gene columns as shipped, missing values replaced by the gene's
mean as ingest does. All three hold many within-sample ties (values rounded to 2-3 decimals), on
which gseapy and GSVA 1.46 disagree: GSVA truncates average ranks to integers (`mode(R) <-
"integer"`) and walks tied genes in column order, gseapy keeps average ranks and walks them in
reverse column order. So each matrix is also written as its tie-free within-sample ranks
(`ranks`: ties broken by column order), on which the estimators must agree exactly: ssGSEA depends
on the data only through these ranks. Gene sets: the self-seeding genes the cohort has, and seeded
random sets of 2, 5, 20 and 100 genes.
Run: .venv/bin/python tests/reference/ssgsea_inputs.py DIR && Rscript tests/reference/ssgsea.R DIR
(writes tests/reference/ssgsea_gsva.tsv).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

COHORTS = {"gse1992": "num_HS_", "gse3143": "num_HS_", "vdv": "num_"}
SELF_SEEDING = ["IL6", "IL8", "CXCL8", "MMP1", "FSCN1", "CXCL1"]


def expression(cohort):
    """samples x genes of a SurvSet cohort, missing values mean-imputed per gene."""
    from SurvSet.data import SurvLoader

    frame = SurvLoader().load_dataset(ds_name=cohort)["df"].set_index("pid")
    values = frame[[c for c in frame.columns if c.startswith(COHORTS[cohort])]].astype(float)
    values = values.loc[:, values.notna().any() & (values.std() > 0)]
    values.index = values.index.astype(str)
    return values.fillna(values.mean())


def tie_free_ranks(values):
    """Within-sample ranks 1..N, ties broken by column order."""
    return values.rank(axis=1, method="first")


def gene_sets(genes, seed=2026):
    rng = np.random.default_rng(seed)
    sets = {"self_seeding": [g for g in genes if g.rsplit("_", 1)[-1] in SELF_SEEDING]}
    for size in (2, 5, 20, 100):
        sets[f"random_{size}"] = list(rng.choice(genes, size=size, replace=False))
    return {name: members for name, members in sets.items() if len(members) >= 2}


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for cohort in COHORTS:
        values = expression(cohort)
        values.T.to_csv(out / f"{cohort}.values.tsv", sep="\t", float_format="%.17g")
        tie_free_ranks(values).T.to_csv(out / f"{cohort}.ranks.tsv", sep="\t", float_format="%d")
        sets = gene_sets(list(values.columns))
        rows = [(name, gene) for name, members in sets.items() for gene in members]
        pd.DataFrame(rows, columns=["set", "gene"]).to_csv(
            out / f"{cohort}.sets.tsv", sep="\t", index=False
        )


if __name__ == "__main__":
    main(sys.argv[1])
