"""Real cohorts shipped in the PyPI package SurvSet (Drysdale 2022), e.g. gse1992, gse3143, vdv."""

from selfseed.errors import ConfigError
from selfseed.sources.common import LoadedCohort, Source


def survset_frame(dataset, *, cohort):
    """(the dataset's one table: clinical and expression columns, its reference)."""
    from SurvSet.data import SurvLoader

    loader = SurvLoader()
    if dataset not in set(loader.df_ds["ds"]):
        raise ConfigError(
            "unknown SurvSet dataset",
            cohort=cohort,
            key=f"cohorts.{cohort}.dataset",
            found=dataset,
            expected="a dataset listed by SurvSet.data.SurvLoader().df_ds, e.g. gse1992",
        )
    loaded = loader.load_dataset(ds_name=dataset)
    return loaded["df"], str(loaded.get("ref", ""))


class SurvSet(Source):
    """A SurvSet dataset (`dataset`): expression columns start with `gene_prefix`."""

    clinical_key = "dataset"

    def clinical(self, entry, cohort):
        frame, _ = survset_frame(entry["dataset"], cohort=cohort)
        return frame, f"SurvSet dataset {entry['dataset']}"

    def load(self, entry, files, *, cohort):
        """Expression genes x samples with the platform's identifiers, clinical by sample id."""
        from importlib.metadata import version

        dataset, prefix, sample_column = (
            entry["dataset"],
            entry["gene_prefix"],
            entry["sample_column"],
        )
        frame, reference = survset_frame(dataset, cohort=cohort)
        if sample_column not in frame.columns:
            raise ConfigError(
                "sample column not in the SurvSet dataset",
                cohort=cohort,
                column=sample_column,
                key=f"cohorts.{cohort}.sample_column",
                expected=f"one of {list(frame.columns[:5])}",
            )
        gene_columns = [c for c in frame.columns if c.startswith(prefix)]
        if not gene_columns:
            raise ConfigError(
                "no expression columns start with the configured prefix",
                cohort=cohort,
                key=f"cohorts.{cohort}.gene_prefix",
                found=prefix,
                expected=f"a prefix of columns such as {list(frame.columns[3:8])}",
            )
        frame = frame.set_index(frame[sample_column].astype(str).rename("sample_id"))
        expression = frame[gene_columns].T
        expression.index = [c[len(prefix) :] for c in gene_columns]
        provenance = {
            "source": "survset",
            "dataset": dataset,
            "package": f"SurvSet {version('SurvSet')}",
            "reference": reference,
            "clinical_file": f"SurvSet dataset {dataset}",
        }
        return LoadedCohort(expression, frame.drop(columns=gene_columns), provenance)


SOURCE = SurvSet()
