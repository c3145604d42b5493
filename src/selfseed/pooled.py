"""Run-wide statistics: per-cohort estimates pooled across cohorts, the locality test pooled, and the
declared primary analysis with its sensitivity rows, each with a plain sentence."""

import numpy as np
import pandas as pd

from selfseed.endpoints import ENDPOINT_VARIANTS
from selfseed.errors import NotEstimable
from selfseed.stats.meta import random_effects, stratified_cox

CAUSE_SPECIFIC, SUBDISTRIBUTION = "cause_specific", "subdistribution"
HAZARD_WORDS = {
    CAUSE_SPECIFIC: "cause-specific HR",
    SUBDISTRIBUTION: "Fine-Gray subdistribution HR",
}
MODEL_WORDS = {CAUSE_SPECIFIC: "Cox", SUBDISTRIBUTION: "Fine-Gray"}
PRIMARY_COLUMNS = [
    "role",
    "label",
    "signature",
    "method",
    "model",
    "hazard",
    "pool",
    "endpoints",
    "cohorts",
    "k",
    "n",
    "events",
    "hr",
    "ci_low",
    "ci_high",
    "pi_low",
    "pi_high",
    "p",
    "tau2",
    "i2",
    "estimator",
    "note",
    "statement",
]
SMALL_EVENTS = 10  # fewer events of interest per cohort than this: said in the sentence


def random_effects_row(part, statistics, coef="coef", se="se"):
    """Random-effects pool of per-cohort log HRs (columns `coef`, `se`) with the prediction
    interval, as a meta.tsv row (without its labels); not estimable: NaNs and the reason."""
    try:
        fit = random_effects(
            part[coef],
            part[se],
            method=statistics["meta_method"],
            hartung_knapp=statistics["hartung_knapp"],
        )
    except NotEstimable as error:
        fit = {
            key: np.nan
            for key in (
                "hr",
                "hr_ci_low",
                "hr_ci_high",
                "hr_pi_low",
                "hr_pi_high",
                "p",
                "tau2",
                "i2",
                "q",
                "q_p",
            )
        }
        fit.update(
            method=statistics["meta_method"],
            hartung_knapp=statistics["hartung_knapp"],
            note=f"not estimable: {error.problem}",
        )
    return {
        "analysis": "random_effects",
        "estimator": fit["method"],
        "hartung_knapp": fit["hartung_knapp"],
        "hr": fit["hr"],
        "ci_low": fit["hr_ci_low"],
        "ci_high": fit["hr_ci_high"],
        "pi_low": fit["hr_pi_low"],
        "pi_high": fit["hr_pi_high"],
        "p": fit["p"],
        "tau2": fit["tau2"],
        "i2": fit["i2"],
        "q": fit["q"],
        "q_p": fit["q_p"],
        "note": fit["note"],
    }


def pools(group):
    """Pool every cohort ('all'), and separately the cohorts of each endpoint that two share."""
    return [("all", group)] + [
        (endpoint, part) for endpoint, part in group.groupby("endpoint") if len(part) >= 2
    ]


def meta_rows(cox, fine_gray, sensitivity, patients, statistics):
    """Per signature x method x model x hazard: random-effects pooled HR per SD (with prediction
    interval), of the primary endpoints (all cohorts, and cohorts sharing an endpoint; the
    cause-specific Cox and the Fine-Gray model) and of each other endpoint coding (cohorts that
    have it); for the univariable cause-specific Cox also a one-stage Cox stratified by cohort."""
    estimates = [
        (cox, CAUSE_SPECIFIC, "coef", "se"),
        (fine_gray.assign(model="univariable"), SUBDISTRIBUTION, "coef", "se"),
        (sensitivity, CAUSE_SPECIFIC, "coef", "se"),
        (sensitivity, SUBDISTRIBUTION, "shr_coef", "shr_se"),
    ]
    rows = []
    for table, hazard, coef, se in estimates:
        if coef not in table:
            continue
        # per-cohort estimates with a finite log HR and SE (the others' rows say why not)
        fitted = table[np.isfinite(table[coef]) & np.isfinite(table[se]) & (table[se] > 0)]
        for (signature, method, model), group in fitted.groupby(
            ["signature", "method", "model"], sort=False
        ):
            variant = table is sensitivity
            for pool, part in group.groupby("endpoint") if variant else pools(group):
                if variant and len(part) < 2:
                    continue
                label = {
                    "signature": signature,
                    "method": method,
                    "model": model,
                    "pool": pool,
                    "endpoints": ",".join(sorted(part["endpoint"].unique())),
                    "cohorts": ",".join(part["cohort"]),
                    "k": len(part),
                    "hazard": hazard,
                }
                counts = {"n": part["n"].sum(), "events": part["events"].sum()}
                rows.append({**label, **random_effects_row(part, statistics, coef, se), **counts})
                if table is cox and model == "univariable":
                    rows.append({**label, **one_stage_row(patients, part, signature, method)})
    return pd.DataFrame(rows)


def one_stage_row(patients, part, signature, method):
    """One-stage Cox of the pooled patients stratified by cohort (primary endpoints)."""
    pooled = patients[
        patients["cohort"].isin(part["cohort"])
        & (patients["signature"] == signature)
        & (patients["method"] == method)
    ].dropna(subset=["time_months", "event", "score_sd"])  # complete cases, as per cohort
    label = {"analysis": "one_stage_stratified_cox", "estimator": "PHReg", "hartung_knapp": False}
    try:
        fit = stratified_cox(
            pooled["time_months"], pooled["event"], pooled["score_sd"], pooled["cohort"]
        )
    except NotEstimable as error:
        return {**label, "n": len(pooled), "note": f"not estimable: {error.problem}"}
    return {
        **label,
        "hr": fit["hr"],
        "ci_low": fit["ci_low"],
        "ci_high": fit["ci_high"],
        "p": fit["p"],
        "n": fit["n"],
        "events": fit["events"],
        "note": "",
    }


def locality_rows(locality, statistics):
    """Per signature x method, pooled over the cohorts with a locality fit: the cause-specific HR
    per SD for LR and for distant metastasis as first event, and the ratio of the two (the
    Lunn-McNeil interaction), each random-effects pooled with its prediction interval."""
    rows = []
    fitted = (
        locality[np.isfinite(locality["coef_diff"]) & np.isfinite(locality["se_diff"])]
        if "coef_diff" in locality
        else locality[:0]
    )
    for (signature, method), part in fitted.groupby(["signature", "method"], sort=False):
        row = {
            "signature": signature,
            "method": method,
            "cohort": "pooled",
            "k": len(part),
            "cohorts": ",".join(part["cohort"]),
            "n": part["n"].sum(),
            "lr_events": part["lr_events"].sum(),
            "dm_events": part["dm_events"].sum(),
        }
        for name, coef, se in (
            ("lr", "coef_lr", "se_lr"),
            ("dm", "coef_dm", "se_dm"),
            ("ratio", "coef_diff", "se_diff"),
        ):
            fit = random_effects_row(part, statistics, coef, se)
            key = {"lr": "hr_lr", "dm": "hr_dm", "ratio": "ratio_dm_lr"}[name]
            row.update(
                {
                    key: fit["hr"],
                    f"{name}_ci_low": fit["ci_low"],
                    f"{name}_ci_high": fit["ci_high"],
                    f"{name}_pi_low": fit["pi_low"],
                    f"{name}_pi_high": fit["pi_high"],
                    f"{name}_tau2": fit["tau2"],
                    f"{name}_i2": fit["i2"],
                }
            )
            row["p_equal" if name == "ratio" else f"p_{name}"] = fit["p"]
            row["note"] = fit["note"]
        row["statement"] = locality_sentence(row)
        rows.append(row)
    return pd.DataFrame(rows)


def locality_sentence(row):
    """Whether the data favour an LR-specific effect, in one sentence."""
    numbers = (
        f"pooled cause-specific HR per SD {row['hr_lr']:.2f} for LR as first event and "
        f"{row['hr_dm']:.2f} for distant metastasis as first event (k={row['k']}; "
        f"{row['lr_events']} and {row['dm_events']} events); ratio distant/LR "
        f"{row['ratio_dm_lr']:.2f} (95% CI {row['ratio_ci_low']:.2f}-{row['ratio_ci_high']:.2f}), "
        f"Lunn-McNeil p={row['p_equal']:.2g}"
    )
    if not np.isfinite(row["p_equal"]):
        verdict = "not estimable"
    elif row["p_equal"] >= 0.05:
        verdict = (
            "the two effects cannot be told apart, so the data do not favour an effect specific "
            "to local recurrence"
        )
    elif row["hr_lr"] > row["hr_dm"]:
        verdict = "the association is stronger for local recurrence: the data favour an LR-specific effect"
    else:
        verdict = (
            "the association is stronger for distant metastasis: the data do not favour an "
            "LR-specific effect"
        )
    return f"Is it local? {numbers}: {verdict}."


def primary_rows(meta, locality, primary):
    """The declared primary analysis and, beside it and labelled as such, its sensitivity analyses
    (Fine-Gray; unknown-site bounds; LR at any time), the competing cause (distant metastasis as
    first event) and the pooled locality test, for the primary signature and method."""
    chosen = {"signature": primary["signature"], "method": primary["method"]}
    specs = [
        (
            "primary",
            "primary: declared in the config",
            primary["model"],
            primary["pool"],
            CAUSE_SPECIFIC,
        ),
        (
            "sensitivity",
            "sensitivity (c): Fine-Gray subdistribution HR",
            "univariable",
            primary["pool"],
            SUBDISTRIBUTION,
        ),
    ] + [
        (
            "sensitivity" if name != "DM_first" else "competing cause",
            spec["role"],
            "univariable",
            name,
            CAUSE_SPECIFIC,
        )
        for name, spec in ENDPOINT_VARIANTS.items()
    ]
    rows = []
    for role, label, model, pool, hazard in specs:
        match = (
            meta[
                (meta["analysis"] == "random_effects")
                & (meta["signature"] == chosen["signature"])
                & (meta["method"] == chosen["method"])
                & (meta["model"] == model)
                & (meta["pool"] == pool)
                & (meta["hazard"] == hazard)
            ]
            if len(meta)
            else meta
        )
        if match.empty and role != "primary":
            continue
        base = {
            "role": role,
            "label": label,
            **chosen,
            "model": model,
            "pool": pool,
            "hazard": hazard,
        }
        record = {**match.iloc[0].to_dict(), **base} if len(match) else base
        rows.append({**record, "statement": statement(record, label)})
    pooled = (
        locality[
            (locality["signature"] == chosen["signature"])
            & (locality["method"] == chosen["method"])
        ]
        if len(locality)
        else locality
    )
    for record in pooled.to_dict("records"):
        rows.append(
            {
                "role": "locality",
                "label": "is it local? Lunn-McNeil test, LR vs distant metastasis as first event",
                **chosen,
                "model": "univariable",
                "pool": "cohorts with both codings",
                "hazard": CAUSE_SPECIFIC,
                "endpoints": "LR,DM_first",
                "cohorts": record["cohorts"],
                "k": record["k"],
                "n": record["n"],
                "events": record["lr_events"],
                "hr": record["ratio_dm_lr"],
                "ci_low": record["ratio_ci_low"],
                "ci_high": record["ratio_ci_high"],
                "pi_low": record["ratio_pi_low"],
                "pi_high": record["ratio_pi_high"],
                "p": record["p_equal"],
                "tau2": record["ratio_tau2"],
                "i2": record["ratio_i2"],
                "note": record["note"],
                "statement": record["statement"],
            }
        )
    return pd.DataFrame(rows).reindex(columns=PRIMARY_COLUMNS)


def statement(row, label):
    """One sentence for a primary.tsv row: what was pooled, the estimate with CI and prediction
    interval, and how small the data are."""
    declared = (
        f"{row['signature']} signature, {row['method']} score, {row['model']} "
        f"{MODEL_WORDS[row['hazard']]} model, pooled over {row['pool']} cohorts"
    )
    if not np.isfinite(row.get("hr", np.nan)):
        return (
            f"{label}: {declared}: not estimable (fewer than two cohorts with a fitted "
            "model in this pool)"
        )
    cohorts = row["cohorts"].split(",")
    text = (
        f"{label}: {declared} (endpoints {row['endpoints']}; k={row['k']}, {int(row['n'])} "
        f"patients, {int(row['events'])} events of interest): pooled {HAZARD_WORDS[row['hazard']]} "
        f"per SD {row['hr']:.2f} (95% CI {row['ci_low']:.2f}-{row['ci_high']:.2f}; 95% "
        f"prediction interval {row['pi_low']:.2f}-{row['pi_high']:.2f}), p={row['p']:.3g}, "
        f"I2={row['i2']:.0f}%, tau2={row['tau2']:.3g}, {row['estimator']} random effects"
    )
    if row.get("note"):
        text += f" ({row['note']})"
    if row["events"] / len(cohorts) < SMALL_EVENTS or len(cohorts) < 5:
        text += (
            f"; small: {int(row['events'])} events in {len(cohorts)} cohorts, so tau2 and "
            "the prediction interval are imprecise"
        )
    if "LR" not in row["endpoints"].split(",") and row["pool"] not in ENDPOINT_VARIANTS:
        text += "; none of the pooled endpoints is local recurrence (LR)"
    return text
