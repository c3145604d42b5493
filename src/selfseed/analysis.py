"""All statistics for one cohort x signature x scoring method, as table rows.

Each analysis that cannot run (no events, ties, no treatment column, ...) gives its row with the reason in
`note` instead of stopping the run: the statistics raise NotEstimable where these data cannot give an
estimate; anything else is a bug and stops the job as an unexpected failure. The event of interest is
event == 1; competing events are event == 2.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from selfseed.contracts import COMPETING, EVENT
from selfseed.endpoints import ENDPOINT_VARIANTS, coded_samples
from selfseed.errors import NotEstimable
from selfseed.survival import constant, cox_per_sd, design_matrix

NOT_RUN = (NotEstimable,)


def why(error):
    """The one-line reason of an error, for a table's `note`."""
    return str(error).splitlines()[0]


def complete_cases(frame, terms=()):
    """Rows with time, event, score and the terms all present."""
    return frame[["time_months", "event", "score", *[t for t, _ in terms]]].dropna()


def standardised(frame, terms):
    """Complete cases of time, event, score and the terms, with the score scaled to unit SD; a
    score that is constant (or has fewer than 2 values) there is not estimable."""
    used = complete_cases(frame, terms)
    sd = used["score"].std(ddof=1)
    if constant(used["score"]):
        raise NotEstimable(
            "the score is constant" if len(used) > 1 else "fewer than 2 patients with a score",
            found=f"{len(used)} complete cases",
            expected="a score that varies between patients",
        )
    return used.assign(score_sd=(used["score"] - used["score"].mean()) / sd)


def logrank(time, status, groups):
    """Log-rank chi-square and p (statsmodels survdiff) of `groups`; a singular variance (e.g. a
    group without anyone at risk at the event times) is not estimable."""
    from statsmodels.duration.survfunc import survdiff

    try:
        chi2, p = survdiff(time, status, groups)
    except np.linalg.LinAlgError as error:
        raise NotEstimable("log-rank test not estimable: singular variance matrix") from error
    return float(chi2), float(p)


def proportional_hazards(frame, terms):
    """Scaled-Schoenfeld test (as R cox.zph, km transform): p for the score and the global p."""
    from selfseed.stats.coxdiag import schoenfeld_test

    data = standardised(frame, terms)
    exog = design_matrix(data, terms)
    table = schoenfeld_test(
        data["time_months"], (data["event"] == EVENT).astype(int), exog.to_numpy(float)
    )
    ph_p, global_p = float(table["p"].iloc[0]), float(table["p"].iloc[-1])
    flag = "possible PH violation (p < 0.05)" if min(ph_p, global_p) < 0.05 else ""
    return {"ph_p": ph_p, "ph_global_p": global_p, "ph_flag": flag}


def cox_rows(frame, models):
    """Cause-specific Cox per SD for each model, with the proportional-hazards test."""
    rows = []
    for name, terms in models:
        fit = cox_per_sd(frame, terms)
        ph = {"ph_p": np.nan, "ph_global_p": np.nan, "ph_flag": ""}
        if not fit["note"]:
            try:
                ph = proportional_hazards(frame, terms)
            except NOT_RUN as error:
                fit["note"] = f"proportional-hazards test not run: {why(error)}"
        covariates = ",".join(t for t, _ in terms)
        rows.append({"model": name, **fit, **ph, "covariates": covariates})
    return rows


def group_rows(frame, groupings):
    """Pre-specified score groups (median, tertiles): sizes, events, log-rank test, Gray's test."""
    from selfseed.stats.competing import gray_test
    from selfseed.stats.cutpoint import group_by_quantiles

    data = frame[["time_months", "event", "score"]].dropna()
    rows = []
    for grouping in groupings:
        row = {"grouping": grouping, "cutpoint_rule": "pre-specified quantiles"}
        try:
            groups = group_by_quantiles(data["score"], grouping).astype(str).to_numpy()
            status = (data["event"] == EVENT).to_numpy(int)
            for label in pd.unique(groups):
                row[f"n_{label}"] = int((groups == label).sum())
                row[f"events_{label}"] = int(status[groups == label].sum())
            if status.sum() == 0:
                raise NotEstimable("no events of interest")
            chi2, p = logrank(data["time_months"].to_numpy(float), status, groups)
            row.update(logrank_chi2=chi2, logrank_df=len(set(groups)) - 1, p=p)
            if (data["event"] == COMPETING).any():
                gray = gray_test(data["time_months"], data["event"], groups)
                row.update(gray_chi2=gray.statistic, gray_p=gray.p)
            row["note"] = ""
        except NOT_RUN as error:
            row["note"] = f"not run: {why(error)}"
        rows.append(row)
    return rows


def fine_gray_row(frame):
    """Fine-Gray subdistribution HR per SD of score (cmprsk::crr), when there are competing events."""
    from selfseed.stats.competing import fine_gray

    used = complete_cases(frame)
    row = {
        "n": len(used),
        "events": int((used["event"] == EVENT).sum()),
        "competing": int((used["event"] == COMPETING).sum()),
    }
    if row["competing"] == 0:
        return {**row, "note": "not run: no competing events in this cohort"}
    try:
        data = standardised(frame, [])
        fit = fine_gray(data["time_months"], data["event"], data[["score_sd"]]).iloc[0]
    except NOT_RUN as error:
        return {**row, "note": f"not run: {why(error)}"}
    return {
        **row,
        "shr": fit["hr"],
        "ci_low": fit["ci_low"],
        "ci_high": fit["ci_high"],
        "p": fit["p"],
        "coef": fit["coef"],
        "se": fit["se"],
        "note": "",
    }


def nonlinearity_row(frame, knots):
    """Restricted cubic spline LR test of non-linearity; returns (row, HR curve)."""
    from selfseed.stats.coxdiag import spline_nonlinearity

    try:
        data = standardised(frame, [])
        fit = spline_nonlinearity(
            data["time_months"], (data["event"] == EVENT).astype(int), data["score_sd"], knots=knots
        )
    except NOT_RUN as error:
        return {"knots": knots, "note": f"not run: {why(error)}"}, None
    row = {"knots": knots, "lr_stat": fit["lr_stat"], "df": fit["df"], "p": fit["p"], "note": ""}
    return row, fit["curve"]


def discrimination_row(frame, horizons):
    """Harrell's and Uno's C of the score for the event of interest, and time-dependent AUCs."""
    from selfseed.stats.discrimination import harrell_c, time_dependent_auc, uno_c

    data = frame[["time_months", "event", "score"]].dropna()
    time, status = data["time_months"], (data["event"] == EVENT).astype(int)
    row = {}
    try:
        row["harrell_c"] = harrell_c(time, status, data["score"])["concordance"]
        row["uno_c"] = uno_c(time, status, data["score"])["concordance"]
    except NOT_RUN as error:
        return {"note": f"not run: {why(error)}"}
    notes = []
    for horizon in horizons:
        try:
            auc = time_dependent_auc(time, status, data["score"], [horizon]).iloc[0]
            row[f"auc_{horizon:g}m"] = auc["auc"]
        except NOT_RUN as error:
            row[f"auc_{horizon:g}m"] = np.nan
            notes.append(f"AUC at {horizon:g} months not estimable: {why(error)}")
    return {**row, "note": "; ".join(notes)}


def cutpoint_row(frame, minprop, correction):
    """Data-driven optimal cutpoint with a p corrected for the search (never the minimum p)."""
    from selfseed.stats.cutpoint import optimal_cutpoint

    data = frame[["time_months", "event", "score"]].dropna()
    try:
        fit = optimal_cutpoint(
            data["time_months"],
            (data["event"] == EVENT).astype(int),
            data["score"],
            minprop=minprop,
            method=correction,
            seed=0,
        )
    except NOT_RUN as error:
        return {"note": f"not run: {why(error)}"}
    keys = ("cutpoint", "max_stat", "p_corrected", "n_low", "n_high", "label")
    return {**{k: fit[k] for k in keys}, "note": ""}


def interaction_row(frame, treatment):
    """Score x treatment interaction on the cause-specific hazard, when a treatment is configured."""
    from selfseed.stats.coxdiag import treatment_interaction

    if treatment is None:
        return {"note": "not run: no treatment column configured for this cohort"}
    try:
        data = standardised(frame, [(treatment["name"], "categorical")])
        fit = treatment_interaction(
            data["time_months"],
            (data["event"] == EVENT).astype(int),
            data["score_sd"],
            data[treatment["name"]].astype(str),
        )
    except NOT_RUN as error:
        return {"treatment": treatment["name"], "note": f"not run: {why(error)}"}
    by_level = fit["score_hr_by_treatment"]
    return {
        "treatment": treatment["name"],
        "levels": "|".join(map(str, fit["treatment_levels"])),
        "interaction_hr": fit["interaction_hr"],
        "ci_low": fit["ci_low"],
        "ci_high": fit["ci_high"],
        "wald_p": fit["wald_p"],
        "lrt_p": fit["lrt_p"],
        "hr_by_level": "; ".join(f"{r.treatment}: {r.hr:.3g}" for r in by_level.itertuples()),
        "note": "",
    }


NO_VARIANTS = (
    "not run: the endpoint has no other codings (the unknown-site bounds, LR at any time and "
    "distant metastasis as first event come from the tcga_cdr and metabric_rueda presets)"
)


def sensitivity_rows(obs, score, variants):
    """Per other coding of the endpoint (`variants`, names in ENDPOINT_VARIANTS): the univariable
    cause-specific Cox HR per SD and the Fine-Gray subdistribution HR of the score."""
    rows = []
    for name in variants:
        frame = coded_samples(obs, name).assign(score=score)
        cox = cox_per_sd(frame)
        fine_gray = fine_gray_row(frame)
        rows.append(
            {
                "endpoint": name,
                "endpoint_label": ENDPOINT_VARIANTS[name]["label"],
                "role": ENDPOINT_VARIANTS[name]["role"],
                "model": "univariable",
                **{
                    k: cox[k] for k in ("n", "events", "hr", "ci_low", "ci_high", "p", "coef", "se")
                },
                "competing": fine_gray["competing"],
                **{
                    f"shr{suffix}": fine_gray.get(key, np.nan)
                    for key, suffix in (
                        ("shr", ""),
                        ("ci_low", "_ci_low"),
                        ("ci_high", "_ci_high"),
                        ("p", "_p"),
                        ("coef", "_coef"),
                        ("se", "_se"),
                    )
                },
                "note": "; ".join(
                    n
                    for n in (cox["note"], fine_gray["note"] and f"Fine-Gray {fine_gray['note']}")
                    if n
                ),
            }
        )
    return rows


def locality_row(frame, distant_first):
    """Is the association local? The cause-specific HR per SD for LR as first event and for
    distant metastasis as first event (`distant_first`: that coding's event column), and the
    Lunn-McNeil test that the two are equal."""
    from selfseed.stats.competing import lunn_mcneil

    terms = [("distant", "numeric")]
    used = complete_cases(frame.assign(distant=distant_first), terms)
    cause = np.select([used["event"] == EVENT, used["distant"] == EVENT], [1, 2], 0)
    row = {
        "n": len(used),
        "lr_events": int((cause == 1).sum()),
        "dm_events": int((cause == 2).sum()),
    }
    for kind in ("lr", "dm"):
        if row[f"{kind}_events"] == 0:
            name = "local recurrences" if kind == "lr" else "distant metastases"
            return {**row, "note": f"not run: no {name} as first event"}
    try:
        data = standardised(frame.assign(distant=distant_first), terms)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a non-converged fit warns
            fit = lunn_mcneil(data["time_months"], cause, data["score_sd"])
    except (*NOT_RUN, RuntimeWarning, UserWarning) as error:
        return {**row, "note": f"not run: {why(error)}"}
    for kind, part in (("lr", fit["first"]), ("dm", fit["second"])):
        row.update(
            {
                f"hr_{kind}": part["hr"],
                f"hr_{kind}_ci_low": part["ci_low"],
                f"hr_{kind}_ci_high": part["ci_high"],
                f"p_{kind}": part["p"],
                f"coef_{kind}": part["coef"],
                f"se_{kind}": part["se"],
            }
        )
    ratio = fit["interaction"]
    return {
        **row,
        "ratio_dm_lr": ratio["hr"],
        "ratio_ci_low": ratio["ci_low"],
        "ratio_ci_high": ratio["ci_high"],
        "p_equal": ratio["p"],
        "coef_diff": ratio["coef"],
        "se_diff": ratio["se"],
        "note": "",
    }


@dataclass
class Analysis:
    """Every result of one signature x method in one cohort: the rows of each model table, the
    Kaplan-Meier summary of the median split, the curves the figures draw and the split itself."""

    rows: dict
    km_summary: dict = field(default_factory=dict)
    curves: dict = field(default_factory=dict)
    split: pd.DataFrame = None


def not_run(reason, models):
    """The rows of an analysis that cannot run at all (e.g. the score is missing), with the reason."""
    from selfseed.contracts import MODEL_TABLES

    rows = {name: [{"note": reason}] for name in MODEL_TABLES}
    rows["cox"] = [{"model": name, "note": reason} for name, _ in models]
    return Analysis(rows)


def analyse(score, obs, settings):
    """Every analysis of one score (by sample): `obs` holds the cohort's codings of the endpoint
    (the primary one and the others, each over the samples it codes) and the covariates;
    `settings` the models [(name, terms)], the statistics, the treatment (or None) and the names
    of the other codings."""
    from selfseed.stats.competing import cumulative_incidence
    from selfseed.survival import km_median_split, median_split

    statistics, variants = settings["statistics"], settings["variants"]
    data = coded_samples(obs).assign(score=score)
    cox = cox_rows(data, settings["models"])
    spline, spline_curve = nonlinearity_row(data, statistics["spline_knots"])
    search = statistics["cutpoint_search"]
    rows = {
        "cox": cox,
        "groups": group_rows(data, statistics["groupings"]),
        "competing": [fine_gray_row(data)],
        "nonlinearity": [spline],
        "discrimination": [discrimination_row(data, statistics["horizons_months"])],
        "cutpoints": [
            cutpoint_row(data, statistics["cutpoint_minprop"], statistics["cutpoint_correction"])
            if search
            else {"note": "not run: statistics.cutpoint_search is false"}
        ],
        "interaction": [interaction_row(data, settings["treatment"])],
        "sensitivity": sensitivity_rows(obs, score, variants) or [{"note": NO_VARIANTS}],
        "locality": [
            locality_row(data, obs["event:DM_first"])
            if "DM_first" in variants
            else {"note": NO_VARIANTS}
        ],
    }
    split = median_split(data)
    km_summary, km = km_median_split(split)
    curves = {
        "km": km,
        "spline": spline_curve,
        "cif": cumulative_incidence(split["time_months"], split["event"], split["group"]),
    }
    hr = {key: cox[0][key] for key in ("hr", "ci_low", "ci_high")}
    return Analysis(rows, {**km_summary, **hr}, curves, split)
