"""Export the SurvSet cohorts used by coxdiag.R and the coxdiag/cutpoint/discrimination tests.

Writes tests/reference/coxdiag_<cohort>.tsv so that R and Python read the same numbers:
sample, time (months), event, score (mean of the within-cohort z-scores of IL6, IL8 (CXCL8),
MMP1, FSCN1, CXCL1, standardised to unit SD), the score rounded to 0.1 (tied risks) and the
clinical covariates ('missing' -> NA).
Run: .venv/bin/python tests/reference/coxdiag_inputs.py
"""

from pathlib import Path

import numpy as np
import pandas as pd
from SurvSet.data import SurvLoader

HERE = Path(__file__).resolve().parent
GENES = ["IL6", "IL8", "MMP1", "FSCN1", "CXCL1"]
COVARIATES = {
    "gse1992": {
        "fac_er_positive": "er_positive",
        "fac_node_status": "node_positive",
        "fac_grade": "grade",
        "num_age": "age",
    },
    "gse3143": {"num_erlev": "er_level"},
}


def signature_score(df):
    """Mean of the within-cohort z-scores of the five genes, standardised to unit SD."""
    expr = df[[f"num_HS_{gene}" for gene in GENES]].astype(float)
    z = (expr - expr.mean()) / expr.std(ddof=1)
    score = z.mean(axis=1)
    return (score - score.mean()) / score.std(ddof=1)


def export(cohort):
    df = SurvLoader().load_dataset(ds_name=cohort)["df"]
    out = df[["pid", "time", "event"]].rename(columns={"pid": "sample"})
    out["score"] = np.round(signature_score(df), 12)
    out["score_round1"] = np.round(out["score"], 1)  # a risk score with ties, for concordance
    for column, name in COVARIATES[cohort].items():
        out[name] = pd.to_numeric(df[column].astype(object).replace("missing", None))
    out.to_csv(HERE / f"coxdiag_{cohort}.tsv", sep="\t", index=False, na_rep="NA")


if __name__ == "__main__":
    for cohort in COVARIATES:
        export(cohort)
