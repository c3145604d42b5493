"""The pipeline's stages as functions of file paths: what each Snakemake rule script calls."""

import platform
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from selfseed.atomic import replaced
from selfseed.logs import log

CONTRACT_COLUMNS = [
    "cohort", "endpoint", "signature", "method", "model", "n", "events",
    "hr", "ci_low", "ci_high", "p", "fdr",
]  # fmt: skip
COX_COLUMNS = (
    CONTRACT_COLUMNS[:2]
    + ["endpoint_label"]
    + [c for c in CONTRACT_COLUMNS[2:] if c != "fdr"]
    + ["coef", "se", "ph_p", "ph_global_p", "ph_flag", "covariates", "note"]
)
STACK = [
    "snakemake", "pandas", "numpy", "scipy", "anndata", "scanpy", "gseapy", "statsmodels",
    "matplotlib", "pyarrow", "SurvSet", "selfseed",
]  # fmt: skip


def write_tsv(frame, path):
    """Write a table atomically, with stable float formatting (byte-identical reruns)."""
    with replaced(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format="%.10g", na_rep="NA")


def write_h5ad(adata, path):
    with replaced(path, suffix=".part.h5ad") as tmp:  # anndata wants the .h5ad suffix
        adata.write_h5ad(tmp)


def download(url, dest, limits=None):
    """Fetch a public file into the cache, within the inflation `limits` (the config's `download:`
    section); a GEO platform without an .annot file falls back to the platform's full SOFT table."""
    from selfseed.download import cached_url, fallback_url, fetch
    from selfseed.errors import DownloadError
    from selfseed.inflate import Limits

    limits = Limits.from_config(limits or {})
    fallback = fallback_url(url)
    if fallback and cached_url(dest) == fallback:
        url = fallback  # an earlier run found no .annot file on the server
    try:
        fetch(url, dest, limits=limits)
    except DownloadError as error:
        if not (fallback and url != fallback and error.found == "HTTP 404"):
            raise
        log.warning(
            "%s is not on the server (404); using the full platform table %s", url, fallback
        )
        url = fallback
        fetch(fallback, dest, limits=limits)
    log.info("%s -> %s", url, dest)


def ingest(entry, cohort, files, *, max_missing_fraction, h5ad, dropped, downloads=None,
           limits=None):  # fmt: skip
    """Source data -> harmonised cohort AnnData, plus every dropped sample and gene with its reason.

    `downloads` (kind -> URL) names the files of `files` that come from the download cache: each
    must be that URL's (its manifest) before it is read. Compressed files are read within the
    inflation `limits` (the config's `download:` section)."""
    from selfseed.cohort import build_cohort
    from selfseed.download import check_cached
    from selfseed.inflate import Limits, limited

    with limited(Limits.from_config(limits or {})) as bounds:
        for kind, url in (downloads or {}).items():
            check_cached(url, files[kind], bounds)
        adata, dropped_rows = build_cohort(
            entry, cohort, files, max_missing_fraction=max_missing_fraction
        )
    for (kind, reason), count in dropped_rows.groupby(["kind", "reason"]).size().items():
        log.info("%s: dropped %d %s(s): %s", cohort, count, kind, reason)
    counts = adata.uns["counts"]
    log.info(
        "%s: %d samples x %d genes kept; endpoint %s: %d events, %d competing, %d censored",
        cohort, adata.n_obs, adata.n_vars, adata.uns["endpoint"]["name"],
        counts["events"], counts["competing"], counts["censored"],
    )  # fmt: skip
    write_tsv(dropped_rows, dropped)
    write_h5ad(adata, h5ad)


def score(cohort_h5ad, signatures, scoring, *, min_genes, scores_h5ad, scores_tsv):
    """Score every signature by every method; skipped signatures say why."""
    import anndata as ad

    from selfseed.scoring import score_cohort, scores_wide

    adata = ad.read_h5ad(cohort_h5ad)
    cohort = adata.uns["cohort"]
    long, coverage, status = score_cohort(
        adata,
        signatures,
        methods=scoring["methods"],
        min_genes=min_genes,
        ctrl_size=scoring["ctrl_size"],
        n_bins=scoring["n_bins"],
        random_state=scoring["random_state"],
        weight=scoring["ssgsea_weight"],
    )
    for row in status.itertuples():
        if row.scored:
            log.info("%s: %s scored with %s (missing: %s)", cohort, row.signature, row.present,
                     row.missing or "none")  # fmt: skip
        else:
            log.warning("%s: %s %s", cohort, row.signature, row.reason)
    wide = scores_wide(long)
    present = coverage.loc[coverage["present"], "symbol"].unique().tolist()
    scored = adata[:, present].copy()
    scored.obs = adata.obs.join(wide.add_prefix("score:"))
    scored.uns["coverage"] = coverage.astype({"present": str})
    scored.uns["signatures"] = status.astype({"scored": str})
    scored.uns["scoring"] = {k: v for k, v in scoring.items()}
    write_h5ad(scored, scores_h5ad)
    write_tsv(long.assign(cohort=cohort)[["cohort", "sample_id", "signature", "method", "score"]],
              scores_tsv)  # fmt: skip


MODEL_TABLES = (
    "cox", "groups", "competing", "nonlinearity", "discrimination", "cutpoints", "interaction",
)  # fmt: skip


def model(scores_h5ad, covariates, treatment, methods, statistics, *, tables, plots):
    """Every survival analysis of one cohort: per signature x method, one row per table."""
    import anndata as ad

    from selfseed import analysis
    from selfseed.plots import cif_grid, km_grid, spline_grid
    from selfseed.stats.competing import cumulative_incidence
    from selfseed.survival import km_median_split

    adata = ad.read_h5ad(scores_h5ad)
    cohort, endpoint = adata.uns["cohort"], adata.uns["endpoint"]
    terms = [(c["name"], c["type"]) for c in covariates]
    models = [("univariable", [])] + ([("adjusted", terms)] if terms else [])
    rows = {name: [] for name in MODEL_TABLES}
    km_rows, km_curves, km_patients, cif_curves, spline_curves = [], [], [], [], []
    for status in adata.uns["signatures"].itertuples():
        for method in methods:
            label = {"cohort": cohort, "endpoint": endpoint["name"], "signature": status.signature,
                     "method": method}  # fmt: skip
            if status.scored != "True":
                rows["cox"] += [{**label, "model": m, "note": status.reason} for m, _ in models]
                for name in MODEL_TABLES[1:]:
                    rows[name].append({**label, "note": status.reason})
                continue
            data = adata.obs.assign(score=adata.obs[f"score:{status.signature}:{method}"])
            cox = analysis.cox_rows(data, models)
            for row in cox:
                if row["note"]:
                    log.warning("%s %s %s %s: %s", cohort, status.signature, method,
                                row["model"], row["note"])  # fmt: skip
            rows["cox"] += [{**label, **row} for row in cox]
            rows["groups"] += [
                {**label, **row} for row in analysis.group_rows(data, statistics["groupings"])
            ]
            rows["competing"].append({**label, **analysis.fine_gray_row(data)})
            spline, curve = analysis.nonlinearity_row(data, statistics["spline_knots"])
            rows["nonlinearity"].append({**label, **spline})
            rows["discrimination"].append(
                {**label, **analysis.discrimination_row(data, statistics["horizons_months"])}
            )
            if statistics["cutpoint_search"]:
                rows["cutpoints"].append({**label, **analysis.cutpoint_row(
                    data, statistics["cutpoint_minprop"], statistics["cutpoint_correction"])})  # fmt: skip
            else:
                rows["cutpoints"].append(
                    {**label, "note": "not run: statistics.cutpoint_search is false"}
                )
            rows["interaction"].append({**label, **analysis.interaction_row(data, treatment)})
            summary, km = km_median_split(data)
            km_rows.append(
                {**label, **summary, **{k: cox[0][k] for k in ("hr", "ci_low", "ci_high")}}
            )
            km_curves.append(km.assign(signature=status.signature, method=method))
            km_patients.append(data[["time_months", "event", "score"]].assign(
                signature=status.signature, method=method))  # fmt: skip
            events = data[["time_months", "event", "score"]].dropna()
            groups = np.where(events["score"] > events["score"].median(), "high", "low")
            cif = cumulative_incidence(events["time_months"], events["event"], groups)
            cif_curves.append(cif.assign(signature=status.signature, method=method))
            if curve is not None:
                spline_curves.append(curve.assign(signature=status.signature, method=method))
    for name in MODEL_TABLES:
        frame = pd.DataFrame(rows[name])
        frame.insert(2, "endpoint_label", endpoint["label"])
        if name == "cox":
            frame = frame.reindex(columns=COX_COLUMNS)
        write_tsv(frame, tables[name])
    km_table = pd.DataFrame(km_rows).reindex(
        columns=["signature", "method", "n_low", "n_high", "p", "hr", "ci_low", "ci_high", "note"]
    )
    # each figure is written atomically as PNG (300 dpi) and as SVG beside it
    patients = pd.concat(km_patients, ignore_index=True) if km_patients else None
    km_grid(km_curves, km_table, cohort=cohort, endpoint=endpoint, path=plots["km"],
            patients=patients)  # fmt: skip
    cif_grid(cif_curves, km_table, cohort=cohort, endpoint=endpoint, path=plots["cif"])
    spline_grid(spline_curves, km_table, cohort=cohort, endpoint=endpoint, path=plots["spline"])


def software_versions():
    """Versions of Python and the analysis stack as installed."""
    rows = [{"software": "python", "version": platform.python_version()}]
    for name in STACK:
        try:
            rows.append({"software": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"software": name, "version": "not installed"})
    return pd.DataFrame(rows)


def meta_rows(cox, patients, statistics):
    """Random-effects meta-analysis of per-cohort log HRs (and a one-stage Cox stratified by cohort)
    per signature x method x model, pooling all cohorts and, separately, cohorts sharing an endpoint."""
    from selfseed.stats.meta import random_effects, stratified_cox

    fitted = cox[cox["coef"].notna()]
    rows = []
    for (signature, method, model_name), group in fitted.groupby(
        ["signature", "method", "model"], sort=False
    ):
        pools = [("all", group)] + [
            (endpoint, part) for endpoint, part in group.groupby("endpoint") if len(part) >= 2
        ]
        for pool, part in pools:
            label = {
                "signature": signature, "method": method, "model": model_name, "pool": pool,
                "endpoints": ",".join(sorted(part["endpoint"].unique())),
                "cohorts": ",".join(part["cohort"]), "k": len(part),
            }  # fmt: skip
            fit = random_effects(
                part["coef"], part["se"], method=statistics["meta_method"],
                hartung_knapp=statistics["hartung_knapp"],
            )  # fmt: skip
            rows.append({**label, "analysis": "random_effects", "estimator": fit["method"],
                         "hartung_knapp": fit["hartung_knapp"], "hr": fit["hr"],
                         "ci_low": fit["hr_ci_low"], "ci_high": fit["hr_ci_high"], "p": fit["p"],
                         "tau2": fit["tau2"], "i2": fit["i2"], "q": fit["q"], "q_p": fit["q_p"],
                         "n": part["n"].sum(), "events": part["events"].sum(),
                         "note": fit["note"]})  # fmt: skip
            if model_name != "univariable":
                continue
            pooled = patients[
                patients["cohort"].isin(part["cohort"])
                & (patients["signature"] == signature)
                & (patients["method"] == method)
            ]
            one_stage = stratified_cox(
                pooled["time_months"], pooled["event"], pooled["score_sd"], pooled["cohort"]
            )
            rows.append({**label, "analysis": "one_stage_stratified_cox", "estimator": "PHReg",
                         "hartung_knapp": False, "hr": one_stage["hr"],
                         "ci_low": one_stage["ci_low"], "ci_high": one_stage["ci_high"],
                         "p": one_stage["p"], "n": one_stage["n"], "events": one_stage["events"],
                         "note": ""})  # fmt: skip
    return pd.DataFrame(rows)


def primary_row(meta, primary):
    """The declared primary analysis, with its result in one sentence."""
    chosen = (
        meta[
            (meta["analysis"] == "random_effects")
            & (meta["signature"] == primary["signature"])
            & (meta["method"] == primary["method"])
            & (meta["model"] == primary["model"])
            & (meta["pool"] == primary["pool"])
        ]
        if len(meta)
        else meta
    )
    declared = (f"{primary['signature']} signature, {primary['method']} score, "
                f"{primary['model']} Cox, pooled over {primary['pool']} cohorts")  # fmt: skip
    if chosen.empty:
        return pd.DataFrame([{**primary, "statement": f"{declared}: not estimable (fewer than two "
                              "cohorts with a fitted model in this pool)"}])  # fmt: skip
    r = chosen.iloc[0]
    statement = (
        f"{declared} (endpoints {r['endpoints']}; k={r['k']}): pooled HR per SD {r['hr']:.2f} "
        f"(95% CI {r['ci_low']:.2f}-{r['ci_high']:.2f}), p={r['p']:.3g}, I2={r['i2']:.0f}%, "
        f"{r['estimator']} random effects"
    )
    if r["note"]:
        statement += f" ({r['note']})"
    if "LR" not in r["endpoints"].split(","):
        statement += "; none of the pooled endpoints is local recurrence (LR)"
    return pd.DataFrame([{**r.to_dict(), "statement": statement}])


def cohort_coverage(adata):
    """Which signature genes a scored cohort measures: DataFrame[cohort, signature, gene, symbol,
    present, note]."""
    coverage = adata.uns["coverage"].assign(cohort=adata.uns["cohort"])
    return coverage[["cohort", "signature", "gene", "symbol", "present", "note"]]


def score_figures(scores_paths, *, coverage_plot, correlation_plot, distribution_plots):
    """The figures that need only the scores, drawn while the model jobs run: gene coverage and
    agreement of scores (run-wide), score distributions by event (per cohort, `distribution_plots`
    {cohort: png})."""
    import anndata as ad

    from selfseed.plots import coverage_heatmap, score_correlation, score_distributions

    coverage, scores = [], {}
    for path in scores_paths:
        adata = ad.read_h5ad(path)
        cohort = adata.uns["cohort"]
        coverage.append(cohort_coverage(adata))
        scores[cohort] = adata.obs
        score_distributions(adata.obs, cohort=cohort, endpoint=adata.uns["endpoint"],
                            path=distribution_plots[cohort])  # fmt: skip
    coverage_heatmap(pd.concat(coverage, ignore_index=True), coverage_plot)
    score_correlation(scores, correlation_plot)


def summarise(model_tables, scores_paths, sources, statistics, primary, *, tables, plots):
    """Run-wide tables (BH FDR across all tests), meta-analysis, primary analysis, plots, versions.

    Returns each cohort's provenance record {cohort: dict}, for the report."""
    import anndata as ad

    from selfseed.plots import forest
    from selfseed.survival import add_fdr

    merged = {
        name: pd.concat([pd.read_csv(p, sep="\t") for p in paths], ignore_index=True)
        for name, paths in model_tables.items()
    }
    cox = add_fdr(merged["cox"])
    cox = cox[CONTRACT_COLUMNS + [c for c in cox.columns if c not in CONTRACT_COLUMNS]]
    merged["groups"] = add_fdr(merged["groups"])
    coverage, cohorts, patients, cohort_provenance = [], [], [], {}
    for path in scores_paths:
        adata = ad.read_h5ad(path)
        cohort, endpoint = adata.uns["cohort"], adata.uns["endpoint"]
        cohort_provenance[cohort] = dict(adata.uns.get("provenance", {}))
        coverage.append(cohort_coverage(adata))
        cohorts.append(
            {
                "cohort": cohort,
                "source": sources[cohort]["source"],
                "description": sources[cohort]["description"],
                "endpoint": endpoint["name"],
                "endpoint_label": endpoint["label"],
                **adata.uns["counts"],
                "dropped_samples": adata.uns["provenance"]["dropped_samples"],
                "dropped_genes": adata.uns["provenance"]["dropped_genes"],
            }
        )
        for column in adata.obs.columns[adata.obs.columns.str.startswith("score:")]:
            _, signature, method = column.split(":")
            score = adata.obs[column]
            patients.append(pd.DataFrame({
                "cohort": cohort, "signature": signature, "method": method,
                "time_months": adata.obs["time_months"], "event": adata.obs["event"],
                "score_sd": (score - score.mean()) / score.std(ddof=1),
            }))  # fmt: skip
    patients = (
        pd.concat(patients, ignore_index=True)
        if patients
        else pd.DataFrame(
            columns=["cohort", "signature", "method", "time_months", "event", "score_sd"]
        )
    )
    meta = meta_rows(cox, patients, statistics)
    coverage = pd.concat(coverage, ignore_index=True)
    skipped = pd.concat(
        [frame.loc[frame["note"].fillna("").ne(""), ["cohort", "signature", "method", "note"]]
         .assign(analysis=name) for name, frame in {**merged, "cox": cox}.items()],
        ignore_index=True,
    )  # fmt: skip
    for name, frame in merged.items():
        if name != "cox":
            write_tsv(frame, tables[name])
    write_tsv(cox, tables["cox"])
    write_tsv(meta, tables["meta"])
    write_tsv(primary_row(meta, primary), tables["primary"])
    write_tsv(coverage, tables["coverage"])
    write_tsv(pd.DataFrame(cohorts), tables["cohorts"])
    write_tsv(skipped.rename(columns={"note": "reason"}), tables["skipped"])
    write_tsv(software_versions(), tables["versions"])
    forest(cox, meta, plots["forest"])  # and forest.svg beside it
    log.info("cox.tsv: %d rows, %d fitted; meta.tsv: %d rows", len(cox), cox["hr"].notna().sum(),
             len(meta))  # fmt: skip
    return cohort_provenance
