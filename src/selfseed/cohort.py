"""Per-cohort data model: one AnnData (obs = samples with harmonised clinical data, var = gene symbols)."""

from importlib import import_module

import numpy as np
import pandas as pd

from selfseed.endpoints import code_endpoint, endpoint_counts
from selfseed.errors import ConfigError, InputDataError
from selfseed.genes import GENE_TABLE_SOURCE, harmonise_genes

PUBLIC_LOADERS = {
    "geo": ("geo", "load_geo"),
    "cbioportal": ("cbioportal", "load_cbioportal"),
    "xena": ("tcga", "load_xena"),
    "h5ad": ("h5ad", "load_h5ad"),
}


def load_source(entry, cohort, files):
    """(expression genes x samples, clinical by sample, provenance, dropped probes) from the source."""
    none_dropped = pd.DataFrame(columns=["kind", "id", "reason", "detail"])
    if entry["source"] in PUBLIC_LOADERS:
        module, function = PUBLIC_LOADERS[entry["source"]]
        loader = getattr(import_module(f"selfseed.sources.{module}"), function)
        return loader(entry, files, cohort=cohort)
    if entry["source"] == "survset":
        from selfseed.sources.survset import load_survset

        loaded = load_survset(
            entry["dataset"],
            gene_prefix=entry["gene_prefix"],
            sample_column=entry["sample_column"],
            cohort=cohort,
        )
        return (*loaded, none_dropped)
    from selfseed.sources.table import load_table_cohort

    return (*load_table_cohort(entry, cohort=cohort), none_dropped)


def drop_rows(kind, ids, reason, detail=""):
    """Dropped samples or genes, one row each, with the reason."""
    return pd.DataFrame({"kind": kind, "id": list(ids), "reason": reason, "detail": detail})


def match_samples(expression, clinical, *, cohort):
    """Keep samples present in both; report the others. Duplicated ids are an error."""
    for name, ids in (
        ("expression matrix", expression.columns),
        ("clinical table", clinical.index),
    ):
        duplicated = ids[ids.duplicated()].unique()
        if len(duplicated):
            raise InputDataError(
                f"duplicated sample ids in the {name}",
                cohort=cohort,
                found=f"{len(duplicated)} duplicated, e.g. {list(duplicated[:5])}",
                expected="one column/row per sample",
            )
    common = expression.columns.intersection(clinical.index, sort=False)
    if common.empty:
        raise InputDataError(
            "no sample id is shared by the expression matrix and the clinical table",
            cohort=cohort,
            found=f"expression ids {list(expression.columns[:3])}, clinical ids "
            f"{list(clinical.index[:3])}",
            expected="the same sample ids in both files",
        )
    dropped = pd.concat(
        [
            drop_rows("sample", expression.columns.difference(common), "not in the clinical table"),
            drop_rows("sample", clinical.index.difference(common), "not in the expression matrix"),
        ]
    )
    return expression[common], clinical.loc[common], dropped


def covariate_frame(clinical, covariates, *, cohort):
    """Covariates under their configured names; numeric ones as floats, categorical as text."""
    frame = pd.DataFrame(index=clinical.index)
    for position, spec in enumerate(covariates):
        column = spec["column"]
        if column not in clinical.columns:
            raise ConfigError(
                "covariate column not found in the clinical table",
                cohort=cohort,
                column=column,
                key=f"cohorts.{cohort}.covariates[{position}].column",
                found=f"columns {list(clinical.columns)[:20]}",
            )
        values = clinical[column]
        if spec["type"] == "numeric":
            numbers = pd.to_numeric(values, errors="coerce")
            bad = values.notna() & numbers.isna()
            if bad.any():
                raise InputDataError(
                    "non-numeric values in a numeric covariate",
                    cohort=cohort,
                    column=column,
                    key=f"cohorts.{cohort}.covariates[{position}]",
                    found=f"{sorted(values[bad].astype(str).unique())[:5]}",
                    expected="numbers, or type: categorical, or the value in missing_values",
                )
            frame[spec["name"]] = numbers.astype(float)
        else:
            frame[spec["name"]] = values.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
    return frame


def clean_expression(expression, max_missing_fraction):
    """Numeric matrix; genes missing in more than the allowed fraction dropped, the rest mean-imputed."""
    numeric = expression
    if not all(pd.api.types.is_numeric_dtype(t) for t in expression.dtypes):
        numeric = expression.apply(pd.to_numeric, errors="coerce")
    values = numeric.to_numpy(dtype=float)
    values[~np.isfinite(values)] = np.nan
    missing = np.isnan(values)
    fraction = missing.mean(axis=1)
    too_sparse = (fraction > max_missing_fraction) | (fraction == 1)
    dropped = drop_rows(
        "gene",
        numeric.index[too_sparse],
        f"missing or non-numeric in more than {max_missing_fraction:.0%} of samples",
    )
    values, missing = values[~too_sparse], missing[~too_sparse]
    values = np.where(missing, np.nanmean(values, axis=1)[:, None], values)
    kept = pd.DataFrame(values, index=numeric.index[~too_sparse], columns=numeric.columns)
    return kept, dropped, int(missing.sum())


def build_cohort(entry, cohort, files=None, *, max_missing_fraction):
    """Build the cohort AnnData and the table of dropped samples, probes and genes with reasons."""
    import anndata as ad

    expression, clinical, provenance, dropped_probes = load_source(entry, cohort, files or {})
    clinical = clinical.astype(object)
    clinical = clinical.where(~clinical.isin(entry["missing_values"]))
    expression, clinical, dropped_samples = match_samples(expression, clinical, cohort=cohort)
    file = provenance["clinical_file"]
    if "preset" in entry["endpoint"]:
        from selfseed.presets import preset_endpoint

        coded, dropped_endpoint, endpoint = preset_endpoint(
            entry["endpoint"], clinical, cohort=cohort
        )
    else:
        coded, dropped_endpoint = code_endpoint(
            clinical, entry["endpoint"], cohort=cohort, file=file
        )
        endpoint = entry["endpoint"]
    treatment = [{**entry["treatment"], "type": "categorical"}] if "treatment" in entry else []
    clinical_terms = covariate_frame(
        clinical.loc[coded.index], entry["covariates"] + treatment, cohort=cohort
    )
    obs = coded.join(clinical_terms)
    symbols, dropped_ids = harmonise_genes(expression[coded.index])
    if symbols.empty:
        raise InputDataError(
            "no expression row maps to a gene symbol",
            cohort=cohort,
            found=f"{len(expression)} rows with ids such as {list(expression.index[:3])}",
            expected="gene symbols, RefSeq, Ensembl or GenBank ids (probe ids need a platform annotation)",
        )
    symbols, dropped_sparse, imputed = clean_expression(symbols, max_missing_fraction)
    dropped = pd.concat(
        [
            dropped_probes,
            dropped_samples,
            drop_rows("sample", dropped_endpoint["sample_id"], dropped_endpoint["reason"]),
            drop_rows("gene", dropped_ids["gene_id"], dropped_ids["reason"], dropped_ids["detail"]),
            dropped_sparse,
        ],
        ignore_index=True,
    )
    obs.index.name = "sample_id"
    adata = ad.AnnData(
        X=symbols.T.to_numpy(dtype=np.float64),
        obs=obs,
        var=pd.DataFrame(index=pd.Index(symbols.index, name="symbol")),
    )
    adata.uns["cohort"] = cohort
    adata.uns["endpoint"] = {k: v for k, v in endpoint.items() if v is not None}
    adata.uns["counts"] = endpoint_counts(obs["event"])
    adata.uns["provenance"] = {
        **provenance,
        "gene_table": GENE_TABLE_SOURCE,
        "imputed_values": imputed,
        "dropped_samples": int((dropped["kind"] == "sample").sum()),
        "dropped_genes": int((dropped["kind"] == "gene").sum()),
    }
    dropped.insert(0, "cohort", cohort)
    return adata, dropped
