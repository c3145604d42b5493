"""The pipeline's stages as functions of file paths: what each Snakemake rule script calls."""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.contracts import (
    COHORT_PLOTS,
    COHORT_SUMMARY,
    CONTRACT_COLUMNS,
    COX_COLUMNS,
    EVENT_COLUMN,
    GENE_PLOTS,
    GENE_TABLES,
    MODEL_TABLES,
    PATHWAY_TABLES,
    UNS_CODINGS,
    UNS_COHORT,
    UNS_COVERAGE,
    UNS_ENDPOINT,
    UNS_SIGNATURES,
    parse_score_column,
    score_column,
    score_columns,
)
from selfseed.endpoints import coded_samples
from selfseed.files import read_table, write_h5ad, write_json, write_tsv
from selfseed.logs import log
from selfseed.provenance import software_versions


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


def analyse_cohort(entry, cohort, files, settings, *, outputs):
    """One cohort end to end, in one process: ingest, score, model, its figures (`outputs`: the
    cohort rule's named output files; `settings`: common.smk's cohort_settings). The log ends with
    the seconds each stage took."""
    from selfseed.drivers import cohort_gene_tables

    clock = Stopwatch()
    adata = ingest(
        entry,
        cohort,
        files,
        max_missing_fraction=settings["max_missing_fraction"],
        h5ad=outputs["h5ad"],
        dropped=outputs["dropped"],
        downloads=settings["downloads"],
        limits=settings["limits"],
    )
    clock.lap("ingest")
    scored = score(
        adata,
        settings["signatures"],
        settings["scoring"],
        min_genes=settings["min_genes"],
        scores_h5ad=outputs["scores_h5ad"],
        scores_tsv=outputs["scores_tsv"],
    )
    clock.lap("score")
    drawn = model(
        scored,
        settings["covariates"],
        settings["treatment"],
        settings["scoring"]["methods"],
        settings["statistics"],
        tables={name: outputs[name] for name in MODEL_TABLES},
    )
    write_summary(
        scored, coverage=outputs["coverage"], patients=outputs["patients"], record=outputs["record"]
    )
    clock.lap("models")
    cohort_gene_tables(adata, settings, genes=outputs["genes"], ranking=outputs["ranking"])
    clock.lap("genes")
    draw_cohort_figures(drawn, scored.uns, plots={kind: outputs[kind] for kind in COHORT_PLOTS})
    clock.lap("figures")
    log.info("%s: seconds per stage: %s", cohort, clock)


def write_summary(scored, *, coverage, patients, record):
    """What the run-wide summary needs of a cohort, small: its gene coverage, its patients with the
    primary coding and every score, and its record (counts, endpoint, provenance) as JSON."""

    write_tsv(cohort_coverage(scored), coverage)
    coded = coded_samples(scored.obs)
    scores = score_columns(coded.columns)
    write_tsv(coded[["time_months", "event", *scores]].reset_index(), patients)
    uns = scored.uns
    write_json(
        {
            "cohort": uns["cohort"],
            "endpoint": uns["endpoint"]["name"],
            "endpoint_label": uns["endpoint"]["label"],
            **uns["counts"],
            "dropped_samples": uns["provenance"]["dropped_samples"],
            "dropped_genes": uns["provenance"]["dropped_genes"],
            "provenance": dict(uns["provenance"]),
        },
        record,
    )


class Stopwatch:
    """Wall seconds per named stage, summed over laps."""

    def __init__(self):
        import time

        self.now, self.stages = time.perf_counter, {}
        self.start = self.now()

    def lap(self, stage):
        now = self.now()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.start
        self.start = now

    def __str__(self):
        return ", ".join(f"{stage} {seconds:.2f}" for stage, seconds in self.stages.items())


def ingest(
    entry, cohort, files, *, max_missing_fraction, h5ad, dropped, downloads=None, limits=None
):
    """Source data -> harmonised cohort AnnData (written and returned), plus every dropped sample and
    gene with its reason.

    `downloads` (kind -> URL) names the files of `files` that come from the download cache: each
    must be that URL's (its manifest) before it is read. Compressed files are read within the
    inflation `limits` (the config's `download:` section)."""
    from selfseed.cohort import build_cohort
    from selfseed.inflate import Limits, limited

    with limited(Limits.from_config(limits or {})) as bounds:
        if downloads:  # (selfseed.download imports requests, which the embedded cohorts never need)
            from selfseed.download import check_cached

            for kind, url in downloads.items():
                check_cached(url, files[kind], bounds)
        adata, dropped_rows = build_cohort(
            entry, cohort, files, max_missing_fraction=max_missing_fraction
        )
    log_ingest(adata, dropped_rows)
    write_tsv(dropped_rows, dropped)
    write_h5ad(adata, h5ad)
    return adata


def log_ingest(adata, dropped_rows):
    """Log the dropped samples and genes by reason, and what is kept."""
    cohort = adata.uns[UNS_COHORT]
    for (kind, reason), count in dropped_rows.groupby(["kind", "reason"]).size().items():
        if reason.startswith("event code "):  # the config's lists may have missed a code
            log.warning(
                "%s: dropped %d %s(s): %s (list the code in the endpoint's event, "
                "competing or censored values, or in missing_values)",
                cohort,
                count,
                kind,
                reason,
            )
        else:
            log.info("%s: dropped %d %s(s): %s", cohort, count, kind, reason)
    counts = adata.uns["counts"]
    log.info(
        "%s: %d samples x %d genes kept; endpoint %s: %d events, %d competing, %d censored",
        cohort,
        adata.n_obs,
        adata.n_vars,
        adata.uns["endpoint"]["name"],
        counts["events"],
        counts["competing"],
        counts["censored"],
    )


def score(adata, signatures, scoring, *, min_genes, scores_h5ad, scores_tsv):
    """Score every signature by every method (skipped signatures and methods say why); the scores
    AnnData (signature genes, scores in obs, uns["signatures"] one row per signature x method) is
    written and returned."""
    from selfseed.scoring import score_cohort, scores_wide

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
    log_scoring(cohort, status)
    wide = scores_wide(long)
    present = coverage.loc[coverage["present"], "symbol"].unique().tolist()
    scored = adata[:, present].copy()
    scored.obs = adata.obs.join(wide)
    scored.uns[UNS_COVERAGE] = coverage
    scored.uns[UNS_SIGNATURES] = status
    scored.uns["scoring"] = {k: v for k, v in scoring.items()}
    write_h5ad(scored, scores_h5ad)
    write_tsv(
        long.assign(cohort=cohort)[["cohort", "sample_id", "signature", "method", "score"]],
        scores_tsv,
    )
    return scored


def log_scoring(cohort, status):
    """Log which genes scored each signature by each method, and why one was not scored."""
    for row in status.itertuples():
        if row.scored:
            log.info(
                "%s: %s scored by %s with %s (missing: %s)",
                cohort,
                row.signature,
                row.method,
                row.present,
                row.missing or "none",
            )
        else:
            log.warning("%s: %s by %s %s", cohort, row.signature, row.method, row.reason)


def model(adata, covariates, treatment, methods, statistics, *, tables):
    """Every survival analysis of one scored cohort: per signature x method, its rows of each model
    table (written to `tables`). Returns what its figures draw (`figure_frames`, and the scores
    with the primary coding's event)."""
    from selfseed import analysis

    cohort, endpoint = adata.uns[UNS_COHORT], adata.uns[UNS_ENDPOINT]
    primary = coded_samples(adata.obs)
    settings = model_settings(adata, covariates, treatment, statistics)
    rows, results = {name: [] for name in MODEL_TABLES}, []
    for status in adata.uns[UNS_SIGNATURES].itertuples():
        if status.method not in methods:
            continue
        label = {
            "cohort": cohort,
            "endpoint": endpoint["name"],
            "signature": status.signature,
            "method": status.method,
        }
        score = adata.obs.get(score_column(status.signature, status.method))
        reason = status.reason if not status.scored else unusable(score, primary.index)
        if reason:
            result = analysis.not_run(reason, settings["models"])
        else:
            result = analysis.analyse(score, adata.obs, settings)
            results.append((label, result))
        for name, table_rows in result.rows.items():
            rows[name] += [{**label, **row} for row in table_rows]
    log_unfitted(rows["cox"])
    write_model_tables(rows, endpoint, tables)
    scores = primary[[EVENT_COLUMN, *score_columns(primary.columns)]].reset_index()
    return {**figure_frames(results), "scores": scores}


def model_settings(adata, covariates, treatment, statistics):
    """What `analysis.analyse` needs besides the data: the Cox models (univariable, and adjusted
    for the covariates when there are some), the statistics, the treatment, the other codings."""
    terms = [(c["name"], c["type"]) for c in covariates]
    codings = adata.uns.get(UNS_CODINGS)
    return {
        "models": [("univariable", [])] + ([("adjusted", terms)] if terms else []),
        "statistics": statistics,
        "treatment": treatment,
        "variants": [] if codings is None else list(codings["name"]),
    }


def log_unfitted(cox_rows):
    for row in cox_rows:
        if row.get("note"):
            log.warning(
                "%s %s %s %s: %s",
                row["cohort"],
                row["signature"],
                row["method"],
                row["model"],
                row["note"],
            )


def write_model_tables(rows, endpoint, tables):
    """One table per model analysis; rows of the endpoint's other codings keep their own label."""
    for name in MODEL_TABLES:
        frame = pd.DataFrame(rows[name])
        if "endpoint_label" in frame:
            frame["endpoint_label"] = frame["endpoint_label"].fillna(endpoint["label"])
        else:
            frame.insert(2, "endpoint_label", endpoint["label"])
        write_tsv(frame.reindex(columns=COX_COLUMNS) if name == "cox" else frame, tables[name])


def figure_frames(results):
    """What the cohort's figures draw of its analysed scores ([(label, Analysis)]): the
    Kaplan-Meier, cumulative-incidence and spline curves, the Kaplan-Meier summary (log-rank p, HR
    per SD) and the median split, each with its signature and method."""

    def stacked(frames):
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def curves(kind):
        return stacked(
            [
                r.curves[kind].assign(signature=label["signature"], method=label["method"])
                for label, r in results
                if r.curves.get(kind) is not None
            ]
        )

    summary = pd.DataFrame([{**label, **r.km_summary} for label, r in results])
    splits = [
        r.split.assign(signature=label["signature"], method=label["method"]) for label, r in results
    ]
    return {
        "km_curves": curves("km"),
        "cif_curves": curves("cif"),
        "spline_curves": curves("spline"),
        "km_summary": summary.reindex(columns=KM_SUMMARY_COLUMNS),
        "median_split": stacked(splits),
    }


KM_SUMMARY_COLUMNS = [
    "signature",
    "method",
    "n_low",
    "n_high",
    "p",
    "hr",
    "ci_low",
    "ci_high",
    "note",
]


def draw_cohort_figures(frames, uns, *, plots):
    """A cohort's figures from what `model` returned (`frames`) and its scored AnnData's `uns`:
    Kaplan-Meier, cumulative incidence, spline HR and score distributions (`plots`, by
    COHORT_PLOTS kind), each a PNG (and SVG: plots.save)."""
    from selfseed.plots import cif_grid, km_grid, score_distributions, spline_grid

    endpoint = {"name": uns[UNS_ENDPOINT]["name"], "label": uns[UNS_ENDPOINT]["label"]}
    common = {"cohort": uns[UNS_COHORT], "endpoint": endpoint}

    def curves(kind):
        frame = frames[f"{kind}_curves"]
        return [frame] if len(frame) else []

    table, split = frames["km_summary"], frames["median_split"]
    km_grid(curves("km"), table, **common, path=plots["km"], patients=split if len(split) else None)
    cif_grid(curves("cif"), table, **common, path=plots["cif"])
    spline_grid(curves("spline"), table, **common, path=plots["spline"])
    score_distributions(frames["scores"], **common, path=plots["scores"])


def unusable(score, patients):
    """Why a score cannot enter any model (missing for every patient with the endpoint, or one
    value among them, up to rounding), or "" when it can."""
    from selfseed.survival import constant

    values = pd.Series(np.nan, index=patients) if score is None else score.reindex(patients)
    finite = values[np.isfinite(values)]
    if finite.empty:
        return "not run: the score is missing (NaN) for every patient with the endpoint"
    if constant(finite):
        return (
            f"not run: the score takes one value (up to rounding) in all {len(finite)} "
            "patients with a score: no variation to relate to the endpoint"
        )
    return ""


def cohort_coverage(adata):
    """Which signature genes a scored cohort measures: DataFrame[cohort, signature, gene, symbol,
    present, note]."""
    coverage = adata.uns["coverage"].assign(cohort=adata.uns["cohort"])
    return coverage[["cohort", "signature", "gene", "symbol", "present", "note"]]


PATIENT_COLUMNS = ["cohort", "signature", "method", "time_months", "event", "score_sd"]


# imported before the run-wide job forks, so that the forked steps and the summary share them
RUN_WIDE_SHARED_IMPORTS = ("selfseed.stats.cox", "selfseed.plots")  # statsmodels, scipy, matplotlib


def run_wide(inputs, outputs, config, *, descriptions, configfiles, threads=1):
    """The summarise job: the run-wide tables and figures (`summarise`), "Which cells"
    (`whichcells.which_cells`), the report pages (`report.build`), the pathway context
    (`drivers.pathway_context`) and, last, the page on genes, pathways and power.

    `inputs` and `outputs` are the rule's named files; `descriptions` {table: label} names the run
    tables; `configfiles` are the config files' paths. With 2 or more `threads` the shared imports
    are done once, then the pathway context and "Which cells" run in forked processes beside the
    summary (with 4 or more, two of its figures too); with 1 each step runs in turn."""
    import importlib

    from selfseed.config import cohort_sources
    from selfseed.drivers import pathway_context, write_genes_page
    from selfseed.report import build
    from selfseed.signatures import load_signatures
    from selfseed.whichcells import which_cells

    tables = {name: outputs[name] for name in descriptions}
    parallel = threads > 1
    if parallel:
        for module in RUN_WIDE_SHARED_IMPORTS:
            importlib.import_module(module)
    pathways_done = aside(
        parallel,
        lambda: pathway_context(
            list(inputs["rankings"]),
            load_signatures(config["signatures"], config["signatures_gmt"]),
            config["pathways"],
            tables={name: outputs[name] for name in PATHWAY_TABLES},
            plot=outputs["enrichment"],
        ),
    )
    cells_done = which_cells(
        inputs,
        config,
        tables=tables,
        outputs={"forest": outputs["composition_forest"], "page": outputs["cells_page"]},
        parallel=parallel,
    )
    cohort_provenance, figures_drawn = summarise(
        {name: inputs[name] for name in MODEL_TABLES},
        {name: inputs[name] for name in COHORT_SUMMARY},
        cohort_sources(config),
        config["statistics"],
        config["primary"],
        tables=tables,
        plots={
            "forest": outputs["forest"],
            "coverage": outputs["coverage_plot"],
            "correlation": outputs["correlation_plot"],
            "gene_forest": outputs["gene_forest"],
        },
        planning=config["planning"],
        threads=max(threads - 2, 1),
    )
    cells_done()
    build(
        tables,
        cohort_provenance,
        config=config,
        configfiles=configfiles,
        descriptions=descriptions,
        outputs={
            **{key: outputs[key] for key in ("summary", "provenance", "provenance_html")},
            "tables": by_prefix(outputs, "table_"),
            "forest": by_prefix(outputs, "signature_forest_"),
        },
    )
    figures_drawn()
    pathways_done()
    write_genes_page(
        {name: outputs[name] for name in (*GENE_TABLES, "pathways", "standing")},
        {name: outputs[name] for name in GENE_PLOTS},
        outputs["genes_page"],
    )


def by_prefix(outputs, prefix):
    """{name without `prefix`: path} of the outputs whose name starts with it."""
    return {
        key.removeprefix(prefix): path for key, path in outputs.items() if key.startswith(prefix)
    }


def summarise(
    model_tables,
    cohort_files,
    sources,
    statistics,
    primary,
    *,
    tables,
    plots,
    planning,
    threads=1,
):
    """Run-wide tables (BH FDR across all tests), meta-analysis, primary analysis, versions and the
    run-wide figures (forest plot, gene coverage, agreement of scores), from the cohort jobs' tables
    and their summary files (`cohort_files`: {"coverage", "patients", "record", "genes"} -> paths);
    the pooled per-gene rows, their forest plot and the study planning (`planning`: the config's
    `planning` keys). With 2 `threads`, the figures of coverage and agreement are drawn by a second
    process meanwhile.

    Returns (each cohort's provenance record {cohort: dict}, for the report; a function that waits
    for the second process)."""
    from selfseed.drivers import gene_forest
    from selfseed.plots import coverage_heatmap, forest, score_correlation
    from selfseed.pooled import locality_rows, meta_rows, primary_rows

    merged = merged_model_tables(model_tables)
    cohorts, provenance, scores = read_cohort_summaries(cohort_files, sources)
    coverage = pd.concat([read_table(p) for p in cohort_files["coverage"]], ignore_index=True)
    figures_drawn = aside(
        threads > 1,
        lambda: (
            coverage_heatmap(coverage, plots["coverage"]),
            score_correlation(scores, plots["correlation"]),
        ),
    )
    cox, skipped = merged["cox"], skipped_rows(merged)
    meta = meta_rows(
        cox, merged["competing"], merged["sensitivity"], standardised_patients(scores), statistics
    )
    merged["locality"] = pd.concat(
        [merged["locality"], locality_rows(merged["locality"], statistics)], ignore_index=True
    )
    pooled_locality = merged["locality"][merged["locality"]["cohort"] == "pooled"]
    run_tables = {
        **merged,
        "meta": meta,
        "primary": primary_rows(meta, pooled_locality, primary),
        "coverage": coverage,
        "cohorts": pd.DataFrame(cohorts),
        "skipped": skipped,
        "versions": software_versions(),
    }
    run_tables |= gene_level(run_tables, cohort_files["genes"], statistics, scores, planning)
    for name, frame in run_tables.items():
        write_tsv(frame, tables[name])
    forest(cox, meta, plots["forest"])
    gene_forest(run_tables["genes"], plots["gene_forest"])
    log.info(
        "cox.tsv: %d rows, %d fitted; meta.tsv: %d rows",
        len(cox),
        cox["hr"].notna().sum(),
        len(meta),
    )
    return provenance, figures_drawn


def gene_level(run_tables, gene_paths, statistics, scores, planning):
    """The pooled per-gene decomposition and the study planning (selfseed.drivers.gene_tables),
    and skipped.tsv with the gene rows that carry a note."""
    from selfseed.drivers import gene_tables, skipped_gene_rows

    patients = {cohort: frame[["time_months", "event"]] for cohort, frame in scores.items()}
    tables = gene_tables(
        gene_paths, statistics, run_tables["primary"], run_tables["cohorts"], patients, planning
    )
    skipped, noted = run_tables["skipped"], skipped_gene_rows(tables["genes"])
    if len(noted):
        skipped = pd.concat([skipped, noted], ignore_index=True)
    return {**tables, "skipped": skipped}


def merged_model_tables(model_tables):
    """Each model table over all cohorts ({name: [paths]}), the Cox and group tests with their BH
    FDR across the run, the Cox table's contract columns first."""
    from selfseed.survival import add_fdr

    merged = {
        name: pd.concat([pd.read_csv(p, sep="\t") for p in paths], ignore_index=True)
        for name, paths in model_tables.items()
    }
    cox = add_fdr(merged["cox"])
    merged["cox"] = cox[CONTRACT_COLUMNS + [c for c in cox.columns if c not in CONTRACT_COLUMNS]]
    merged["groups"] = add_fdr(merged["groups"])
    return merged


def read_cohort_summaries(cohort_files, sources):
    """Per cohort job's summary files: the cohorts table's rows, each cohort's provenance record and
    its patients (primary coding and every score, by sample)."""
    cohorts, provenance, scores = [], {}, {}
    for record_path, patients_path in zip(
        cohort_files["record"], cohort_files["patients"], strict=True
    ):
        record = json.loads(Path(record_path).read_text())
        cohort = record["cohort"]
        provenance[cohort] = record.pop("provenance")
        cohorts.append({"cohort": cohort, **sources[cohort], **record})
        scores[cohort] = pd.read_csv(patients_path, sep="\t").set_index("sample_id")
    return cohorts, provenance, scores


def standardised_patients(scores):
    """One row per cohort x signature x method x patient: the primary coding and the score in SD
    units of its cohort (what the stratified pooled Cox model fits)."""
    patients = [
        pd.DataFrame(
            {
                "cohort": cohort,
                "signature": parse_score_column(column)[0],
                "method": parse_score_column(column)[1],
                "time_months": coded["time_months"],
                "event": coded["event"],
                "score_sd": (coded[column] - coded[column].mean()) / coded[column].std(ddof=1),
            }
        )
        for cohort, coded in scores.items()
        for column in score_columns(coded.columns)
    ]
    if not patients:
        return pd.DataFrame(columns=PATIENT_COLUMNS)
    return pd.concat(patients, ignore_index=True)


def skipped_rows(merged):
    """Every row of every model table that carries a note: which analysis, and why."""
    return pd.concat(
        [
            frame.loc[
                frame["note"].fillna("").ne(""), ["cohort", "signature", "method", "note"]
            ].assign(analysis=name)
            for name, frame in merged.items()
        ],
        ignore_index=True,
    ).rename(columns={"note": "reason"})


def aside(parallel, step):
    """Call `step()` in a forked process when `parallel` (the caller goes on), else now; returns a
    function that waits for it and raises if it failed (its traceback is in the log)."""
    if not parallel:
        step()
        return lambda: None
    pid = os.fork()
    if pid == 0:  # the child: run the step, then leave without running the parent's exit handlers
        status = 1
        try:
            step()
            status = 0
        except BaseException:
            log.exception("a step in a forked process failed")
        finally:
            os._exit(status)

    def wait():
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("a step in a forked process failed (traceback in the log)")

    return wait
