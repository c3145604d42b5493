"""Per-cohort data model: one AnnData (obs = samples with harmonised clinical data, var = gene symbols)."""

import contextlib
import warnings

import numpy as np
import pandas as pd

from selfseed.contracts import (
    UNS_CODINGS,
    UNS_COHORT,
    UNS_COUNTS,
    UNS_ENDPOINT,
    UNS_PROVENANCE,
    coding_columns,
)
from selfseed.endpoints import (
    ENDPOINT_VARIANTS,
    code_endpoint,
    endpoint_counts,
    no_usable_endpoint,
)
from selfseed.errors import ConfigError, InputDataError, SelfseedError
from selfseed.genes import GENE_TABLE_SOURCE, harmonise_genes
from selfseed.logs import log
from selfseed.sources import source


def drop_rows(kind, ids, reason, detail=""):
    """Dropped samples or genes, one row each, with the reason."""
    return pd.DataFrame({"kind": kind, "id": list(ids), "reason": reason, "detail": detail})


def unique_sample_ids(ids, what, *, cohort, file=None):
    """Duplicated sample ids are an error: which row is the sample?"""
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise InputDataError(
            f"duplicated sample ids in the {what}",
            cohort=cohort,
            file=file,
            found=f"{len(duplicated)} duplicated, e.g. {list(duplicated[:5])}",
            expected="one column/row per sample",
            fix="remove the repeated samples, or give replicates their own ids",
        )


def match_samples(expression, clinical, *, cohort, expression_file=None, clinical_file=None):
    """Keep samples present in both; report the others. Duplicated ids are an error."""
    unique_sample_ids(expression.columns, "expression matrix", cohort=cohort, file=expression_file)
    unique_sample_ids(clinical.index, "clinical table", cohort=cohort, file=clinical_file)
    common = expression.columns.intersection(clinical.index, sort=False)
    if common.empty:
        raise InputDataError(
            "no sample id is shared by the expression matrix and the clinical table",
            cohort=cohort,
            file=expression_file,
            found=f"expression ids {list(expression.columns[:3])}, clinical ids "
            f"{list(clinical.index[:3])}",
            expected="the same sample ids in both files",
            fix="check sample_column (and orientation for table sources)",
        )
    dropped = pd.concat(
        [
            drop_rows("sample", expression.columns.difference(common), "not in the clinical table"),
            drop_rows("sample", clinical.index.difference(common), "not in the expression matrix"),
        ]
    )
    return columns(expression, common), clinical.loc[common], dropped


def columns(expression, names):
    """expression[names], without copying the matrix when that is all of it in the same order."""
    return expression if expression.columns.equals(names) else expression[names]


def covariate_frame(clinical, covariates, *, cohort, file=None):
    """Covariates under their configured names; numeric ones as floats, categorical as text."""
    frame = pd.DataFrame(index=clinical.index)
    for position, spec in enumerate(covariates):
        column = spec["column"]
        if column not in clinical.columns:
            raise ConfigError(
                "covariate column not found in the clinical table",
                cohort=cohort,
                file=file,
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
                    file=file,
                    column=column,
                    key=f"cohorts.{cohort}.covariates[{position}]",
                    found=f"{sorted(values[bad].astype(str).unique())[:5]}",
                    expected="numbers, or type: categorical",
                    fix="write missing values as NA, or list the text in missing_values",
                )
            frame[spec["name"]] = numbers.astype(float)
        else:
            frame[spec["name"]] = values.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
    return frame


def clean_expression(expression, max_missing_fraction):
    """Numeric matrix without genes or samples that are mostly missing; remaining gaps mean-imputed.

    Infinite values count as missing. In turn: genes with no value at all are dropped; then samples
    missing more than `max_missing_fraction` of the other genes (or all of them); then genes missing
    in more than that fraction of the samples kept. Returns (genes x samples kept, dropped rows,
    number of values imputed)."""
    numeric = expression
    if not all(pd.api.types.is_numeric_dtype(t) for t in expression.dtypes):
        numeric = expression.apply(pd.to_numeric, errors="coerce")
    values = numeric.to_numpy(dtype=float)
    if np.isfinite(values).all():  # the usual case: nothing to drop, impute or copy
        return numeric.astype(float, copy=False), drop_rows("gene", [], ""), 0
    values = infinite_as_missing(values.copy(), numeric)
    missing = np.isnan(values)
    empty_gene = missing.all(axis=1)
    if not (~empty_gene).any():
        return (
            pd.DataFrame(values[:0], numeric.index[:0], numeric.columns),
            drop_rows("gene", numeric.index, "no expression value in any sample"),
            0,
        )
    sample_fraction, bad_sample, gene_fraction, sparse = mostly_missing(
        missing, empty_gene, max_missing_fraction
    )
    percent = f"{max_missing_fraction:.0%}"
    dropped = pd.concat(
        [
            drop_rows("gene", numeric.index[empty_gene], "no expression value in any sample"),
            drop_rows(
                "sample",
                numeric.columns[bad_sample],
                f"expression missing for more than {percent} of genes",
                [f"{f:.1%} of genes missing" for f in sample_fraction[bad_sample]],
            ),
            drop_rows(
                "gene",
                numeric.index[sparse],
                f"missing or non-numeric in more than {percent} of samples",
                [
                    f"{f:.1%} of samples missing"
                    for f in np.broadcast_to(gene_fraction, sparse.shape)[sparse]
                ],
            ),
        ],
        ignore_index=True,
    )
    keep_gene = ~(empty_gene | sparse)
    values, missing = values[keep_gene][:, ~bad_sample], missing[keep_gene][:, ~bad_sample]
    if values.size:
        values = np.where(missing, np.nanmean(values, axis=1)[:, None], values)
    kept = pd.DataFrame(values, numeric.index[keep_gene], numeric.columns[~bad_sample])
    return kept, dropped, int(missing.sum())


def infinite_as_missing(values, frame):
    """`values` (of genes x samples `frame`) with infinite values as NaN, logged."""
    infinite = np.isinf(values)
    if infinite.any():
        gene, sample = (int(i[0]) for i in np.nonzero(infinite))
        log.warning(
            "%d infinite expression values (e.g. %s in sample %s) treated as missing",
            int(infinite.sum()),
            frame.index[gene],
            frame.columns[sample],
        )
        values[infinite] = np.nan
    return values


def mostly_missing(missing, empty_gene, max_missing_fraction):
    """Per sample the fraction of (non-empty) genes missing and whether it is dropped; then per
    gene the fraction of the kept samples missing and whether it is dropped."""
    sample_fraction = missing[~empty_gene].mean(axis=0)
    bad_sample = (sample_fraction > max_missing_fraction) | (sample_fraction == 1)
    gene_fraction = missing[:, ~bad_sample].mean(axis=1) if (~bad_sample).any() else 1.0
    sparse = ~empty_gene & ((gene_fraction > max_missing_fraction) | (gene_fraction == 1))
    return sample_fraction, bad_sample, gene_fraction, sparse


def looks_unlogged(values, chunk=256):
    """GEO2R's rule applied to each sample (column) of genes x samples values: True where
    q99 > 100, or max - min > 50 with q25 > 0 (finite values only). `chunk` samples at a time:
    the partition copies its input, so the memory is one chunk, not the matrix again."""
    by_sample = values.T  # C-contiguous for a DataFrame's genes x samples block: fast partition
    parts = [
        sample_quantiles(by_sample[start : start + chunk])
        for start in range(0, len(by_sample), chunk)
    ]
    q0, q25, q99, q100 = (np.concatenate(q) for q in zip(*parts, strict=True))
    return (q99 > 100) | ((q100 - q0 > 50) & (q25 > 0)), q99


def sample_quantiles(by_sample):
    """Per row of samples x genes values: the 0, 25, 99 and 100% quantiles of its finite values."""
    probabilities = [0, 0.25, 0.99, 1.0]
    if np.isfinite(by_sample).all():  # np.quantile partitions all samples at once
        q25, q99 = np.quantile(by_sample, probabilities[1:3], axis=1)
        return by_sample.min(axis=1), q25, q99, by_sample.max(axis=1)
    by_sample = np.where(np.isfinite(by_sample), by_sample, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing sample: NaN
        return tuple(np.nanquantile(by_sample, probabilities, axis=1))


def check_log_scale(expression, *, cohort, logs_unlogged, file):
    """Stop when some samples look unlogged and others log-scaled (two scales in one matrix), or
    when the cohort's source does not log-transform (`logs_unlogged`: table, h5ad) and the matrix
    looks unlogged as a whole."""
    if expression.empty:
        return
    unlogged, q99 = looks_unlogged(expression.to_numpy(dtype=float))
    if not unlogged.any() or (unlogged.all() and logs_unlogged):
        return
    names = list(expression.columns[unlogged][:5])
    if unlogged.all():
        raise InputDataError(
            "the expression values look unlogged (raw intensities or counts)",
            cohort=cohort,
            file=file,
            found=f"99th percentile per sample up to {np.nanmax(q99):.4g} (e.g. samples {names})",
            expected="log-scale values (GEO2R's rule: 99th percentile <= 100 and range <= 50)",
            fix="log2-transform the matrix first (e.g. log2(TPM + 1), log2 intensities)",
        )
    raise InputDataError(
        "some samples look unlogged while the others are log-scaled",
        cohort=cohort,
        file=file,
        found=f"{int(unlogged.sum())} of {unlogged.size} samples unlogged by GEO2R's rule, e.g. "
        f"{names} (99th percentile {', '.join(f'{q:.4g}' for q in q99[unlogged][:5])})",
        expected="every sample on the same (log) scale",
        fix="log2-transform those samples, or remove them",
    )


@contextlib.contextmanager
def in_cohort(cohort):
    """Name the cohort in any project error raised by the readers below it."""
    try:
        yield
    except SelfseedError as error:
        if error.cohort is None:
            error.cohort = cohort
        raise


def preset_spec(entry):
    """The endpoint preset's settings, with the defaults of sources that ship their own tables."""
    return {**source(entry["source"]).endpoint_defaults(entry), **entry["endpoint"]}


def variant_frame(variants, samples):
    """The other endpoint codings as obs columns (time_months:{name}, event:{name}); NaN where a
    sample has no usable value in that coding."""
    frame = pd.DataFrame(index=samples)
    for name, (coded, _) in variants.items():
        time, event = coding_columns(name)
        frame[time] = coded["time_months"].reindex(samples)
        frame[event] = coded["event"].reindex(samples)
    return frame


def variant_table(obs, variants):
    """Per endpoint coding: name, label, role, counts and why samples are not coded."""
    rows = []
    for name, (_, dropped) in variants.items():
        counts = endpoint_counts(obs[coding_columns(name)[1]])
        reasons = dropped.loc[dropped["sample_id"].isin(obs.index), "reason"].value_counts()
        rows.append(
            {
                "name": name,
                **ENDPOINT_VARIANTS[name],
                **counts,
                "not_coded": "; ".join(f"{n} x {r}" for r, n in reasons.items()),
            }
        )
    return pd.DataFrame(rows)


def build_cohort(entry, cohort, files=None, *, max_missing_fraction):
    """Build the cohort AnnData and the table of dropped samples, probes and genes with reasons."""
    with in_cohort(cohort):
        return _build_cohort(entry, cohort, files or {}, max_missing_fraction)


def _build_cohort(entry, cohort, files, max_missing_fraction):
    import anndata as ad

    loaded = source(entry["source"]).load(entry, files, cohort=cohort)
    provenance = loaded.provenance
    file = provenance["clinical_file"]
    expression_file = provenance.get("expression_file", file)
    clinical = loaded.clinical.astype(object)
    clinical = clinical.where(~clinical.isin(entry["missing_values"]))
    coding = endpoint_coder(entry, clinical, cohort=cohort, file=file)
    expression, clinical, dropped_samples = match_samples(
        loaded.expression,
        clinical,
        cohort=cohort,
        expression_file=expression_file,
        clinical_file=file,
    )
    coded, dropped_endpoint, endpoint, variants = coding(clinical)
    if coded.empty:
        raise no_usable_endpoint(
            InputDataError, dropped_endpoint, len(clinical), cohort=cohort, file=file
        )
    # samples with the primary coding or only another one (e.g. an unknown-site first event, kept
    # for the bounds): scores do not depend on the endpoint
    coded_somewhere = clinical.index.isin(coded.index)
    for variant, _ in variants.values():
        coded_somewhere |= clinical.index.isin(variant.index)
    symbols, dropped_genes, imputed = cohort_genes(
        columns(expression, clinical.index[coded_somewhere]),
        entry,
        max_missing_fraction,
        cohort=cohort,
        file=expression_file,
    )
    samples = symbols.columns
    obs = cohort_obs(coded, variants, clinical.loc[samples], entry, cohort=cohort, file=file)
    excluded = drop_rows(
        "sample",
        dropped_endpoint["sample_id"],
        dropped_endpoint["reason"],
        np.where(
            dropped_endpoint["sample_id"].isin(samples),
            "excluded from the primary endpoint only; kept for: " + ", ".join(variants),
            "",
        ),
    )
    dropped = pd.concat(
        [loaded.dropped, dropped_samples, excluded, dropped_genes], ignore_index=True
    )
    adata = ad.AnnData(
        X=np.ascontiguousarray(symbols.to_numpy(dtype=np.float64).T),
        obs=obs,
        var=pd.DataFrame(index=pd.Index(symbols.index, name="symbol")),
    )
    describe_endpoint(adata, cohort, endpoint, variants)
    adata.uns[UNS_PROVENANCE] = provenance_record(provenance, dropped, imputed)
    dropped.insert(0, "cohort", cohort)
    return adata, dropped


def cohort_obs(coded, variants, clinical, entry, *, cohort, file):
    """obs of the samples of `clinical`: the primary coding, the other codings, the covariates and
    the treatment."""
    samples = clinical.index
    treatment = [{**entry["treatment"], "type": "categorical"}] if "treatment" in entry else []
    terms = covariate_frame(clinical, entry["covariates"] + treatment, cohort=cohort, file=file)
    obs = coded.reindex(samples) if not coded.index.equals(samples) else coded
    obs = obs.join(variant_frame(variants, samples)).join(terms)
    obs.index.name = "sample_id"
    return obs


def endpoint_coder(entry, clinical, *, cohort, file):
    """A function of the expression-matched clinical table returning (coded primary endpoint,
    dropped samples, endpoint spec, other codings). Without a preset the codes are checked on the
    whole clinical table: a configured code that occurs nowhere is a typo, but one that occurs only
    in samples without expression is data (e.g. zero events measured)."""
    if "preset" in entry["endpoint"]:
        from selfseed.presets import preset_endpoint

        return lambda matched: preset_endpoint(preset_spec(entry), matched, cohort=cohort)
    all_coded, all_dropped = code_endpoint(clinical, entry["endpoint"], cohort=cohort, file=file)

    def coded(matched):
        kept = matched.index[matched.index.isin(all_coded.index)]
        dropped = all_dropped[all_dropped["sample_id"].isin(matched.index)]
        return all_coded.loc[kept], dropped, entry["endpoint"], {}

    return coded


def cohort_genes(expression, entry, max_missing_fraction, *, cohort, file):
    """The expression matrix by gene symbol, on one log scale, without mostly missing genes or
    samples: (genes x samples, dropped genes and samples, number of values imputed)."""
    symbols, dropped_ids = harmonise_genes(expression, cohort=cohort)
    if symbols.empty:
        raise InputDataError(
            "no expression row maps to a gene symbol",
            cohort=cohort,
            file=file,
            found=f"{len(expression)} rows with ids such as {list(expression.index[:3])}",
            expected="gene symbols, Entrez (or SYMBOL|Entrez), RefSeq, Ensembl or GenBank ids "
            "(probe ids need a platform annotation)",
        )
    check_log_scale(
        symbols, cohort=cohort, file=file, logs_unlogged=source(entry["source"]).logs_unlogged
    )
    symbols, dropped_sparse, imputed = clean_expression(symbols, max_missing_fraction)
    if symbols.empty:
        raise InputDataError(
            "no gene or no sample is left after dropping missing expression values",
            cohort=cohort,
            file=file,
            found=", ".join(
                f"{n} {kind}s dropped" for kind, n in dropped_sparse["kind"].value_counts().items()
            ),
            expected=f"genes and samples with at most {max_missing_fraction:.0%} missing values",
            fix="check the expression file, or raise max_missing_fraction",
        )
    dropped = pd.concat(
        [
            drop_rows("gene", dropped_ids["gene_id"], dropped_ids["reason"], dropped_ids["detail"]),
            dropped_sparse,
        ],
        ignore_index=True,
    )
    return symbols, dropped, imputed


def describe_endpoint(adata, cohort, endpoint, variants):
    """Record the endpoint, its counts and the other codings in `adata.uns`, and log them."""
    adata.uns[UNS_COHORT] = cohort
    adata.uns[UNS_ENDPOINT] = {k: v for k, v in endpoint.items() if v is not None}
    adata.uns[UNS_COUNTS] = endpoint_counts(adata.obs["event"])
    if variants:
        adata.uns[UNS_CODINGS] = variant_table(adata.obs, variants)
        for row in adata.uns[UNS_CODINGS].itertuples():
            log.info(
                "%s: endpoint coding %s: %d samples, %d events, %d competing, %d censored; "
                "not coded: %s",
                cohort,
                row.name,
                row.n,
                row.events,
                row.competing,
                row.censored,
                row.not_coded or "none",
            )
    if adata.uns[UNS_COUNTS]["events"] == 0:
        log.warning(
            "%s: no event of interest (%s) among the %d samples kept: every model of this cohort "
            "will be skipped with that reason",
            cohort,
            endpoint["name"],
            adata.n_obs,
        )


def provenance_record(provenance, dropped, imputed):
    """The source's provenance with the gene table, imputed values, drop counts and, for local
    files, their size and time stamps (to tell at the summary whether a file changed since)."""
    record = {
        **provenance,
        "gene_table": GENE_TABLE_SOURCE,
        "imputed_values": imputed,
        "dropped_samples": int((dropped["kind"] == "sample").sum()),
        "dropped_genes": int((dropped["kind"] == "gene").sum()),
    }
    if "files" in provenance:
        from selfseed.provenance import file_stat, input_files

        record["file_stats"] = [file_stat(path) for path, _ in input_files(provenance["files"])]
    return record
