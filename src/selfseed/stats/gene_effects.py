"""Which signature genes carry the association: per cohort, each gene's cause-specific Cox HR and
Fine-Gray subdistribution HR per SD of its expression, the signature's HR rescored without the gene
(leave one gene out), and the change in log HR when the gene is left out; pooled across cohorts.

Leave-one-out is run for the deterministic scores, zmean and ssgsea: each is a function of the
signature's genes alone (zmean of their within-cohort z-scores, ssgsea of their within-sample ranks),
so the change is the gene's. `score_genes` is left out: it subtracts control genes drawn at random
from the expression bins of the signature genes, and without a gene the bins and the draws change
even at a fixed random_state, so its change would mix the gene's removal with a new control set (on
the shipped TCGA cohorts, the full self-seeding signature's score_genes log HR varies with SD
0.013-0.019 across random states, the size of several genes' leave-one-out changes).

Per-gene and signature HRs are those of `survival.cox_per_sd` (statsmodels PHReg, Efron ties; per
SD of the value among the analysed patients) and `analysis.fine_gray_row` (as cmprsk::crr), on the
cohort's primary endpoint coding; scores are computed on all of the cohort's samples, as
`scoring.score_cohort` does, so a leave-one-out score is the pipeline's score of the smaller
signature.
"""

import numpy as np
import pandas as pd

from selfseed.analysis import fine_gray_row
from selfseed.endpoints import coded_samples
from selfseed.pooled import random_effects_row
from selfseed.scoring import ssgsea, zmean
from selfseed.signatures import gene_coverage, signature_genes
from selfseed.survival import cox_per_sd

LEAVE_ONE_OUT_METHODS = ("zmean", "ssgsea")
COLUMNS = [
    "cohort",
    "endpoint",
    "signature",
    "gene",
    "symbol",
    "method",
    "n",
    "events",
    "competing",
    "hr",
    "ci_low",
    "ci_high",
    "p",
    "coef",
    "se",
    "shr",
    "shr_ci_low",
    "shr_ci_high",
    "shr_p",
    "shr_coef",
    "shr_se",
    "signature_hr",
    "signature_coef",
    "signature_se",
    "loo_hr",
    "loo_ci_low",
    "loo_ci_high",
    "loo_p",
    "loo_coef",
    "loo_se",
    "log_hr_change_without_gene",
    "note",
]
COX_KEYS = ("hr", "ci_low", "ci_high", "p", "coef", "se")


def signature_score(expression, genes, method, *, ssgsea_weight):
    """The signature score of `genes` by a leave-one-out method (zmean or ssgsea), per sample."""
    if method == "zmean":
        return zmean(expression, genes)
    return ssgsea(expression, {"signature": genes}, weight=ssgsea_weight)["signature"]


def gene_decomposition(adata, signature, genes, *, methods, min_genes, ssgsea_weight):
    """Per signature gene x leave-one-out method of one cohort AnnData (X: samples x genes; obs:
    time_months, event and the other codings; uns: cohort, endpoint): the gene's cause-specific
    Cox HR per SD (hr ...), its Fine-Gray sHR per SD (shr ...), the full signature's HR by the
    method (signature_...), the signature's HR rescored without the gene (loo_...) and
    log_hr_change_without_gene = loo_coef - signature_coef (negative: the association weakens
    without the gene). A leave-one-out signature needs `min_genes` genes, as scoring does.
    Returns DataFrame[COLUMNS]; `note` says what was not estimable and why."""
    unknown = [m for m in methods if m not in LEAVE_ONE_OUT_METHODS]
    if unknown:
        raise ValueError(f"leave-one-out methods are {LEAVE_ONE_OUT_METHODS}, not {unknown}")
    values = np.asarray(adata.X)
    expression = pd.DataFrame(values, index=adata.obs_names, columns=adata.var_names, copy=False)
    constant = adata.var_names[values.min(axis=0) == values.max(axis=0)]
    coverage = gene_coverage(signature_genes({signature: genes}), adata.var_names, constant)
    present = coverage.loc[coverage["present"], "symbol"].tolist()
    patients = coded_samples(adata.obs)
    label = {
        "cohort": adata.uns["cohort"],
        "endpoint": adata.uns["endpoint"]["name"],
        "signature": signature,
    }

    def cox(score):
        return cox_per_sd(patients.assign(score=score.reindex(patients.index)))

    full = {}
    for method in methods:
        if len(present) >= min_genes:
            fit = cox(signature_score(expression, present, method, ssgsea_weight=ssgsea_weight))
            full[method] = {
                "signature_hr": fit["hr"],
                "signature_coef": fit["coef"],
                "signature_se": fit["se"],
                "note": fit["note"],
            }
        else:
            full[method] = {
                "note": f"{len(present)} of {len(coverage)} genes present, fewer "
                f"than min_genes={min_genes}"
            }
    rows = []
    for gene in coverage.itertuples():
        base = {**label, "gene": gene.gene, "symbol": gene.symbol}
        if not gene.present:
            rows += [{**base, "method": m, "note": f"gene {gene.note}"} for m in methods]
            continue
        own = cox(expression[gene.symbol])
        fine_gray = (
            fine_gray_row(patients.assign(score=expression[gene.symbol]))
            if not own["note"].endswith("constant")
            else {"note": "not run: expression is constant"}
        )
        effects = {
            "n": own["n"],
            "events": own["events"],
            "competing": fine_gray.get("competing"),
            **{k: own[k] for k in COX_KEYS},
            **{
                f"shr{s}": fine_gray.get(k, np.nan)
                for k, s in (
                    ("shr", ""),
                    ("ci_low", "_ci_low"),
                    ("ci_high", "_ci_high"),
                    ("p", "_p"),
                    ("coef", "_coef"),
                    ("se", "_se"),
                )
            },
        }
        notes = [
            f"gene Cox {own['note']}" if own["note"] else "",
            f"gene Fine-Gray {fine_gray['note']}" if fine_gray["note"] else "",
        ]
        rest = [g for g in present if g != gene.symbol]
        for method in methods:
            row = {
                **base,
                "method": method,
                **effects,
                **{k: v for k, v in full[method].items() if k != "note"},
            }
            note = list(notes)
            if full[method]["note"]:
                note.append(f"signature {full[method]['note']}")
            if len(rest) < min_genes:
                note.append(
                    f"no leave-one-out: {len(rest)} genes left, fewer than min_genes={min_genes}"
                )
            else:
                loo = cox(signature_score(expression, rest, method, ssgsea_weight=ssgsea_weight))
                row.update({f"loo_{k}": loo[k] for k in COX_KEYS})
                row["log_hr_change_without_gene"] = loo["coef"] - row.get("signature_coef", np.nan)
                if loo["note"]:
                    note.append(f"leave-one-out {loo['note']}")
            rows.append({**row, "note": "; ".join(n for n in note if n)})
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


POOLED = (  # output prefix, what is pooled, its per-cohort coef and se columns
    ("", "gene Cox", "coef", "se"),
    ("shr_", "gene Fine-Gray", "shr_coef", "shr_se"),
    ("signature_", "signature", "signature_coef", "signature_se"),
    ("loo_", "leave-one-out signature", "loo_coef", "loo_se"),
)


def pooled_column(prefix, key):
    """Pooled columns are named as the per-cohort ones (the Fine-Gray HR is `shr`)."""
    return "shr" if (prefix, key) == ("shr_", "hr") else f"{prefix}{key}"


POOLED_COLUMNS = [
    "cohort",
    "k",
    "cohorts",
    "endpoint",
    "signature",
    "gene",
    "symbol",
    "method",
    "n",
    "events",
    *[
        pooled_column(prefix, key)
        for prefix, *_ in POOLED
        for key in ("hr", "ci_low", "ci_high", "p", "coef")
    ],
    "log_hr_change_without_gene",
    "note",
]


def pooled_gene_rows(tables, statistics):
    """Per signature x gene x method, random-effects pools (`statistics`: meta_method,
    hartung_knapp; as meta.tsv) over the cohorts of `tables` (gene_decomposition rows,
    concatenated) of the gene's cause-specific and Fine-Gray log HRs and of the signature's and the
    leave-one-out signature's log HRs; log_hr_change_without_gene is the difference of the last two
    pools when they pool the same cohorts. Rows have cohort = 'pooled'; `note` says what was not
    pooled."""
    rows = []
    for (signature, symbol, method), part in tables.groupby(
        ["signature", "symbol", "method"], sort=False
    ):
        gene_fitted = part[part["coef"].notna()]
        row = {
            "cohort": "pooled",
            "k": len(gene_fitted),
            "cohorts": ",".join(gene_fitted["cohort"]),
            "endpoint": ",".join(sorted(part["endpoint"].unique())),
            "signature": signature,
            "gene": part["gene"].iloc[0],
            "symbol": symbol,
            "method": method,
            "n": gene_fitted["n"].sum(),
            "events": gene_fitted["events"].sum(),
        }
        notes = []
        for prefix, what, coef, se in POOLED:
            fit = random_effects_row(part[part[coef].notna()], statistics, coef, se)
            row.update({pooled_column(prefix, k): fit[k] for k in ("hr", "ci_low", "ci_high", "p")})
            row[pooled_column(prefix, "coef")] = np.log(fit["hr"])
            if fit["note"]:
                notes.append(f"{what}: {fit['note']}")
        if part["signature_coef"].notna().equals(part["loo_coef"].notna()):
            row["log_hr_change_without_gene"] = row["loo_coef"] - row["signature_coef"]
        elif np.isfinite(row["loo_coef"]):
            notes.append("no pooled change: signature and leave-one-out fitted in other cohorts")
        rows.append({**row, "note": "; ".join(notes)})
    return pd.DataFrame(rows).reindex(columns=POOLED_COLUMNS)
