"""Real cohorts shipped in the PyPI package SurvSet (Drysdale 2022), e.g. gse1992, gse3143, vdv."""

from selfseed.errors import ConfigError


def load_survset(dataset, *, gene_prefix, sample_column, cohort):
    """Return (expression genes x samples with the platform's identifiers, clinical, provenance dict)."""
    from importlib.metadata import version

    from SurvSet.data import SurvLoader

    loader = SurvLoader()
    if dataset not in set(loader.df_ds["ds"]):
        raise ConfigError(
            "unknown SurvSet dataset",
            cohort=cohort,
            key=f"cohorts.{cohort}.dataset",
            found=dataset,
            expected="a dataset name listed by SurvSet.data.SurvLoader().df_ds",
        )
    loaded = loader.load_dataset(ds_name=dataset)
    frame = loaded["df"]
    if sample_column not in frame.columns:
        raise ConfigError(
            "sample column not in the SurvSet dataset",
            cohort=cohort,
            column=sample_column,
            key=f"cohorts.{cohort}.sample_column",
            expected=f"one of {list(frame.columns[:5])}",
        )
    gene_columns = [c for c in frame.columns if c.startswith(gene_prefix)]
    if not gene_columns:
        raise ConfigError(
            "no expression columns start with the configured prefix",
            cohort=cohort,
            key=f"cohorts.{cohort}.gene_prefix",
            found=gene_prefix,
            expected=f"a prefix of columns such as {list(frame.columns[3:8])}",
        )
    frame = frame.set_index(frame[sample_column].astype(str).rename("sample_id"))
    expression = frame[gene_columns].T
    expression.index = [c[len(gene_prefix) :] for c in gene_columns]
    clinical = frame.drop(columns=gene_columns)
    provenance = {
        "source": "survset",
        "dataset": dataset,
        "package": f"SurvSet {version('SurvSet')}",
        "reference": str(loaded.get("ref", "")),
        "clinical_file": f"SurvSet dataset {dataset}",
    }
    return expression, clinical, provenance
