"""Write the inputs of genes.R from the shipped TCGA cohorts of the default config, as the pipeline
builds them (selfseed.cohort.build_cohort):

- genes_cohorts.tsv: per cohort, every sample of the cohort AnnData (scores are computed on all of
  them) with its primary endpoint coding (time_months, event; NA where the sample has none) and the
  expression of the five self-seeding genes;
- genes_genomewide_ucs.tsv: the patients of tcga_ucs with a primary coding, their time_months and
  event, and 200 genes drawn at random (seed 16) from those that vary across these patients.

Run: python tests/reference/genes_inputs.py"""

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from selfseed.cohort import build_cohort
from selfseed.endpoints import coded_samples

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "config.yaml"
SELF_SEEDING = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1"]
RANDOM_GENES, SEED = 200, 16


def shipped_cohort(name):
    config = yaml.safe_load(CONFIG.read_text())
    defaults = {"covariates": [], "missing_values": [], "sample_column": "sample_id"}
    adata, _ = build_cohort({**defaults, **config["cohorts"][name]}, name, max_missing_fraction=0.2)
    return adata


def expression(adata):
    return pd.DataFrame(np.asarray(adata.X), index=adata.obs_names, columns=adata.var_names)


def signature_genes_table():
    frames = []
    for name in ("tcga_acc", "tcga_chol", "tcga_ucs"):
        adata = shipped_cohort(name)
        coded = coded_samples(adata.obs)
        frame = pd.DataFrame({"cohort": name, "sample_id": adata.obs_names})
        frame["time_months"] = coded["time_months"].reindex(adata.obs_names).to_numpy()
        frame["event"] = coded["event"].reindex(adata.obs_names).astype("Int64").array
        frames.append(frame.join(expression(adata)[SELF_SEEDING].reset_index(drop=True)))
    return pd.concat(frames, ignore_index=True)


def random_genes(adata):
    """RANDOM_GENES genes (seeded) that vary across the cohort's patients with a primary coding."""
    values = expression(adata).loc[coded_samples(adata.obs).index]
    varying = np.sort(values.columns[values.max() > values.min()].to_numpy(dtype=str))
    return list(np.random.default_rng(SEED).choice(varying, RANDOM_GENES, replace=False))


def genomewide_table():
    adata = shipped_cohort("tcga_ucs")
    coded = coded_samples(adata.obs)
    values = expression(adata).loc[coded.index, random_genes(adata)]
    frame = pd.DataFrame({"time_months": coded["time_months"], "event": coded["event"]})
    return frame.join(values).rename_axis("sample_id").reset_index()


if __name__ == "__main__":
    options = {"sep": "\t", "index": False, "float_format": "%.17g", "na_rep": "NA"}
    signature_genes_table().to_csv(HERE / "genes_cohorts.tsv", **options)
    genomewide_table().to_csv(HERE / "genes_genomewide_ucs.tsv", **options)
