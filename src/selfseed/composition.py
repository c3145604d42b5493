"""Is it the tumour cells, or how much stroma and inflammation a sample holds? The signature's
bulk models adjusted for composition, with marker sets from a single-cell reference.

Each compartment's marker score in a bulk cohort is the `zmean` of its marker genes (the mean of
their within-cohort z-scores, as the signatures' zmean score): `stromal` and `immune` pool the
marker sets of the cell types the reference entry names, `malignant` is the malignant type's set
(a purity proxy: malignant-cell content). The signature's cause-specific Cox model (Efron ties,
`selfseed.survival.cox_per_sd`) and Fine-Gray model (`selfseed.stats.competing.fine_gray`) are
fitted on the same patients (complete cases of every marker score the cohort has) unadjusted, adjusted
for the stromal and immune scores (`stroma_immune`) and adjusted for the malignant score
(`purity`); the HR is per SD of the signature score. `share_explained` = 1 - (adjusted log HR /
unadjusted log HR): how much of the unadjusted association the adjustment removes, not a
mediation proportion; it is not given when the unadjusted log HR is near 0. Per-cohort log HRs are
pooled by random effects as meta.tsv pools them (selfseed.pooled).
"""

import numpy as np
import pandas as pd

from selfseed.contracts import COMPETING, COMPOSITION_COLUMNS, EVENT, parse_score_column
from selfseed.contracts import score_columns as find_score_columns
from selfseed.errors import NotEstimable
from selfseed.survival import constant

MODELS = {"unadjusted": (), "stroma_immune": ("stromal", "immune"), "purity": ("malignant",)}
HAZARDS = ("cause_specific", "subdistribution")
MIN_EVENTS_PER_TERM = 2  # fewer events of interest per model term: not fitted, the row says so
NEAR_ZERO = 0.05  # |unadjusted log HR| below this: no share explained (the ratio is unstable)
FIT_COLUMNS = ["n", "events", "coef", "se", "hr", "ci_low", "ci_high", "p"]


def marker_sets(markers, entry):
    """{compartment: marker genes} from the reference's marker table: the malignant type's set,
    and the union of the stromal and of the immune types' sets (compartments the entry does not
    name, or whose types have no markers, are left out)."""
    from selfseed.cells import compartment_of

    named = markers[markers["gene"].notna() & (markers["gene"] != "")]
    compartment = named["cell_type"].map(compartment_of(entry))
    return {
        c: list(dict.fromkeys(named.loc[compartment == c, "gene"]))
        for c in ("stromal", "immune", "malignant")
        if (compartment == c).any()
    }


def marker_scores(expression, sets, min_genes):
    """Each compartment's zmean score over its marker genes measured (and not constant) in the
    cohort (samples x genes); a set with fewer than `min_genes` such genes is left out. Returns
    (scores samples x compartments, {compartment: genes used "k/m" or why not})."""
    from selfseed.scoring import zmean

    varies = expression.columns[expression.std(ddof=1).to_numpy() > 0]
    scores, coverage = {}, {}
    for compartment, genes in sets.items():
        present = [g for g in genes if g in varies]
        if len(present) < min_genes:
            coverage[compartment] = (
                f"{compartment} marker set missing: {len(present)} of its {len(genes)} genes "
                f"measured in this cohort (min_genes {min_genes})"
            )
            continue
        scores[compartment] = zmean(expression, present)
        coverage[compartment] = f"{len(present)}/{len(genes)}"
    return pd.DataFrame(scores, index=expression.index), coverage


def cohort_expression(path, genes):
    """The cohort's expression (results/cohorts/{cohort}.h5ad) of those of `genes` it measures, as
    samples x genes: read backed, so only these genes' columns are read."""
    import anndata as ad
    import scipy.sparse as sp

    adata = ad.read_h5ad(path, backed="r")
    try:
        positions = np.sort(adata.var_names.get_indexer(adata.var_names.intersection(genes)))
        x = adata.X[:, positions]
        x = x.toarray() if sp.issparse(x) else np.asarray(x)
        return pd.DataFrame(x, index=adata.obs_names, columns=adata.var_names[positions])
    finally:
        adata.file.close()


def too_few_events(frame, terms):
    """Why a model with `terms` (besides the score) is not fitted on `frame`, or ''."""
    events = int((frame["event"] == EVENT).sum())
    needed = MIN_EVENTS_PER_TERM * (1 + len(terms))
    if events < needed:
        return (
            f"not fitted: {events} events of interest for {1 + len(terms)} model terms "
            f"(at least {MIN_EVENTS_PER_TERM} per term)"
        )
    return ""


def fit(frame, terms, hazard):
    """The signature's HR per SD adjusted for `terms`: cause-specific Cox or Fine-Gray, on the
    complete cases in `frame` (time_months, event, score, the terms)."""
    from selfseed.survival import cox_per_sd

    counts = {"n": len(frame), "events": int((frame["event"] == EVENT).sum())}
    reason = too_few_events(frame, terms)
    if reason:
        return {**counts, "note": reason}
    if hazard == "cause_specific":
        return cox_per_sd(frame, [(t, "numeric") for t in terms])
    return fine_gray_fit(frame, terms, counts)


def fine_gray_fit(frame, terms, counts):
    """Fine-Gray subdistribution HR per SD of score, adjusted for `terms` (cmprsk::crr)."""
    from selfseed.stats.competing import fine_gray

    if not (frame["event"] == COMPETING).any():
        return {**counts, "note": "not run: no competing events in this cohort"}
    if constant(frame["score"]):
        return {**counts, "note": "not fitted: score is constant"}
    score_sd = (frame["score"] - frame["score"].mean()) / frame["score"].std(ddof=1)
    design = pd.concat([score_sd.rename("score_sd"), frame[list(terms)]], axis=1)
    try:
        row = fine_gray(frame["time_months"], frame["event"], design).iloc[0]
    except NotEstimable as error:
        return {**counts, "note": f"not fitted: {error.problem}"}
    return {**counts, **{k: float(row[k]) for k in FIT_COLUMNS[2:]}, "note": ""}


def with_share(row, unadjusted):
    """A fitted row with the unadjusted HR beside it and the share of its log HR explained."""
    base = unadjusted.get("coef", np.nan)
    row = {**row, "hr_unadjusted": np.exp(base)}
    if row["model"] == "unadjusted" or not np.isfinite(row.get("coef", np.nan)):
        return row
    if not np.isfinite(base) or abs(base) < NEAR_ZERO:
        why = (
            "no unadjusted estimate"
            if not np.isfinite(base)
            else f"unadjusted log HR {base:.3f} is near 0 (|log HR| < {NEAR_ZERO})"
        )
        row["note"] = (row["note"] + "; " if row["note"] else "") + f"no share explained: {why}"
        return row
    return {**row, "share_explained": 1 - row["coef"] / base}


def no_set(compartment):
    """Why a compartment the reference does not give has no score."""
    return (
        f"no {compartment} marker set (the reference names no {compartment} cell type with "
        "marker genes)"
    )


def signature_rows(frame, coverage, label):
    """Every hazard x model row of one signature score in one cohort (`frame`: time_months,
    event, score and the cohort's marker scores, complete cases)."""
    rows = []
    for hazard in HAZARDS:
        unadjusted = {}
        for model, terms in MODELS.items():
            missing = [coverage.get(t, no_set(t)) for t in terms if t not in frame]
            named = {**label, "hazard": hazard, "model": model, "covariates": ",".join(terms)}
            named["marker_genes"] = "; ".join(f"{t} {coverage.get(t, '')}" for t in terms)
            if missing:
                result = {"n": len(frame), "note": "not run: " + "; ".join(missing)}
            else:
                result = fit(frame, terms, hazard)
            if model == "unadjusted":
                unadjusted = result
            rows.append(with_share({**named, **result}, unadjusted))
    return rows


def cohort_rows(cohort, endpoint, patients, markers, coverage, reference):
    """The composition rows of one cohort: every signature x method score in `patients` (the
    cohort job's patients.tsv, indexed by sample) against its marker scores."""
    rows = []
    joined = patients.join(markers, how="left")
    for column in find_score_columns(patients.columns):
        signature, method = parse_score_column(column)
        frame = joined[["time_months", "event", column, *markers.columns]].rename(
            columns={column: "score"}
        )
        label = {
            "cohort": cohort,
            "endpoint": endpoint,
            "signature": signature,
            "method": method,
            "reference": reference,
        }
        rows += signature_rows(frame.dropna(), coverage, label)
    return rows


def pooled_rows(rows, statistics):
    """Random-effects pool of each signature x method x hazard x model over the cohorts with an
    estimate; the unadjusted estimate pooled over the same cohorts gives the share explained."""
    from selfseed.pooled import random_effects_row

    keys = ["signature", "method", "hazard", "model"]
    fitted = rows[np.isfinite(rows["coef"]) & (rows["se"] > 0)]
    pooled, unadjusted_pools = [], {}  # (signature, method, hazard, cohorts) -> pooled log HR
    for (signature, method, hazard, model), part in fitted.groupby(keys, sort=False):
        label = dict(zip(keys, (signature, method, hazard, model), strict=True))
        label.update(
            cohort="pooled",
            endpoint=",".join(sorted(part["endpoint"].unique())),
            covariates=part["covariates"].iloc[0],
            reference=part["reference"].iloc[0],
            k=len(part),
            cohorts=",".join(part["cohort"]),
            n=part["n"].sum(),
            events=part["events"].sum(),
        )
        if len(part) < 2:
            pooled.append({**label, "note": "not pooled: fewer than 2 cohorts with an estimate"})
            continue
        fit = random_effects_row(part, statistics)
        row = {**label, **{k: fit[k] for k in ("hr", "ci_low", "ci_high", "p", "tau2", "i2")}}
        row.update(coef=np.log(fit["hr"]), note=fit["note"])
        key = (signature, method, hazard, label["cohorts"])
        if model == "unadjusted":
            unadjusted_pools[key] = row["coef"]
        elif key not in unadjusted_pools:  # fewer cohorts than the unadjusted pool
            base = fitted[
                (fitted[keys[:3]] == [signature, method, hazard]).all(axis=1)
                & (fitted["model"] == "unadjusted")
                & fitted["cohort"].isin(part["cohort"])
            ]
            unadjusted_pools[key] = np.log(random_effects_row(base, statistics)["hr"])
        pooled.append(with_share(row, {"coef": unadjusted_pools[key]}))
    return pd.DataFrame(pooled)


def composition_table(cohorts, markers, entry, settings, reference):
    """composition.tsv: per cohort and pooled. `cohorts`: {cohort: {"h5ad", "patients",
    "record"} paths}; `markers`: the reference's marker table; `entry`: its config entry."""
    import json
    from pathlib import Path

    sets = marker_sets(markers, entry)
    genes = list(dict.fromkeys(gene for members in sets.values() for gene in members))
    rows = []
    for cohort, paths in cohorts.items():
        record = json.loads(Path(paths["record"]).read_text())
        patients = pd.read_csv(paths["patients"], sep="\t").set_index("sample_id")
        expression = cohort_expression(paths["h5ad"], genes)
        scores, coverage = marker_scores(expression, sets, settings["min_genes"])
        rows += cohort_rows(cohort, record["endpoint"], patients, scores, coverage, reference)
    table = pd.DataFrame(rows).reindex(columns=COMPOSITION_COLUMNS)
    pooled = pooled_rows(table, settings["statistics"])
    table = pd.concat([table, pooled.reindex(columns=COMPOSITION_COLUMNS)], ignore_index=True)
    table["note"] = table["note"].fillna("")
    return table


def not_run_table(reason):
    """composition.tsv when no reference adjusts the models: one row saying why."""
    return pd.DataFrame([{"cohort": "all", "note": reason}]).reindex(columns=COMPOSITION_COLUMNS)
