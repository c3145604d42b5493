"""The pipeline's stages as functions of file paths: what each Snakemake rule script calls."""

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from selfseed.logs import log

CONTRACT_COLUMNS = [
    "cohort", "endpoint", "signature", "method", "model", "n", "events",
    "hr", "ci_low", "ci_high", "p", "fdr",
]  # fmt: skip
STACK = [
    "snakemake", "pandas", "numpy", "scipy", "anndata", "scanpy", "gseapy", "statsmodels",
    "matplotlib", "pyarrow", "SurvSet", "selfseed",
]  # fmt: skip


def atomic_path(path):
    """A temporary name beside `path`; call os.replace(tmp, path) once the file is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.part")


def write_tsv(frame, path):
    """Write a table atomically, with stable float formatting (byte-identical reruns)."""
    tmp = atomic_path(path)
    frame.to_csv(tmp, sep="\t", index=False, float_format="%.10g", na_rep="NA")
    os.replace(tmp, path)


def write_h5ad(adata, path):
    tmp = atomic_path(path).with_suffix(".h5ad")
    adata.write_h5ad(tmp)
    os.replace(tmp, path)


def ingest(entry, cohort, *, max_missing_fraction, h5ad, dropped):
    """Source data -> harmonised cohort AnnData, plus every dropped sample and gene with its reason."""
    from selfseed.cohort import build_cohort

    adata, dropped_rows = build_cohort(entry, cohort, max_missing_fraction=max_missing_fraction)
    for (kind, reason), count in dropped_rows.groupby(["kind", "reason"]).size().items():
        log.info("%s: dropped %d %s(s): %s", cohort, count, kind, reason)
    counts = adata.uns["counts"]
    log.info(
        "%s: %d samples x %d genes kept; endpoint %s: %d events, %d competing, %d censored",
        cohort, adata.n_obs, adata.n_vars, entry["endpoint"]["name"],
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


def model(scores_h5ad, covariates, methods, *, cox, km, km_plot):
    """Cox per SD (univariable, and adjusted when covariates are configured) and KM by median split."""
    import anndata as ad

    from selfseed.plots import km_grid
    from selfseed.survival import cox_per_sd, km_median_split

    adata = ad.read_h5ad(scores_h5ad)
    cohort, endpoint = adata.uns["cohort"], adata.uns["endpoint"]
    status = adata.uns["signatures"]
    covariate_terms = [(c["name"], c["type"]) for c in covariates]
    models = [("univariable", [])] + ([("adjusted", covariate_terms)] if covariate_terms else [])
    cox_rows, km_rows, curves = [], [], []
    for row in status.itertuples():
        for method in methods:
            label = {"cohort": cohort, "endpoint": endpoint["name"], "signature": row.signature,
                     "method": method}  # fmt: skip
            if row.scored != "True":
                for name, terms in models:
                    cox_rows.append({**label, "model": name, "note": row.reason,
                                     "covariates": ",".join(t for t, _ in terms)})  # fmt: skip
                continue
            data = adata.obs.assign(score=adata.obs[f"score:{row.signature}:{method}"])
            for name, terms in models:
                fit = cox_per_sd(data, terms)
                if fit["note"]:
                    log.warning("%s %s %s %s: %s", cohort, row.signature, method, name, fit["note"])
                cox_rows.append({**label, "model": name, **fit,
                                 "covariates": ",".join(t for t, _ in terms)})  # fmt: skip
            summary, curve = km_median_split(data)
            km_rows.append({**label, **summary, "hr": cox_rows[-len(models)]["hr"]})
            curves.append(curve.assign(signature=row.signature, method=method))
    cox_table = pd.DataFrame(cox_rows).reindex(
        columns=[c for c in CONTRACT_COLUMNS if c != "fdr"]
        + ["coef", "se", "covariates", "note"]
    )  # fmt: skip
    cox_table.insert(2, "endpoint_label", endpoint["label"])
    km_table = pd.DataFrame(km_rows)
    write_tsv(cox_table, cox)
    write_tsv(km_table, km)
    tmp = atomic_path(km_plot).with_suffix(".png")
    km_grid(
        pd.concat(curves) if curves else pd.DataFrame(columns=["signature", "method", "group"]),
        km_table if len(km_table) else pd.DataFrame(columns=["signature", "method"]),
        cohort=cohort,
        endpoint=endpoint,
        path=tmp,
    )
    os.replace(tmp, km_plot)


def software_versions():
    """Versions of Python and the analysis stack as installed."""
    rows = [{"software": "python", "version": platform.python_version()}]
    for name in STACK:
        try:
            rows.append({"software": name, "version": version(name)})
        except PackageNotFoundError:
            rows.append({"software": name, "version": "not installed"})
    return pd.DataFrame(rows)


def summarise(cox_paths, km_paths, scores_paths, sources, *, tables, forest_plot):
    """Run-wide tables (BH FDR across all tests), the forest plot and the software versions."""
    import anndata as ad

    from selfseed.plots import forest
    from selfseed.survival import add_fdr

    cox = add_fdr(pd.concat([pd.read_csv(p, sep="\t") for p in cox_paths], ignore_index=True))
    cox = cox[CONTRACT_COLUMNS + [c for c in cox.columns if c not in CONTRACT_COLUMNS]]
    km = add_fdr(pd.concat([pd.read_csv(p, sep="\t") for p in km_paths], ignore_index=True))
    coverage, cohorts = [], []
    for path in scores_paths:
        adata = ad.read_h5ad(path, backed="r")
        cohort, endpoint = adata.uns["cohort"], adata.uns["endpoint"]
        coverage.append(adata.uns["coverage"].assign(cohort=cohort))
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
        adata.file.close()
    coverage = pd.concat(coverage, ignore_index=True)
    coverage = coverage[["cohort", "signature", "gene", "symbol", "present", "note"]]
    skipped = cox.loc[
        cox["note"].notna(), ["cohort", "endpoint", "signature", "method", "model", "note"]
    ]
    write_tsv(cox, tables["cox"])
    write_tsv(km, tables["km"])
    write_tsv(coverage, tables["coverage"])
    write_tsv(pd.DataFrame(cohorts), tables["cohorts"])
    write_tsv(skipped.rename(columns={"note": "reason"}), tables["skipped"])
    write_tsv(software_versions(), tables["versions"])
    tmp = atomic_path(forest_plot).with_suffix(".png")
    forest(cox, tmp)
    os.replace(tmp, forest_plot)
    log.info("cox.tsv: %d rows, %d fitted, %d skipped", len(cox), cox["hr"].notna().sum(),
             len(skipped))  # fmt: skip
