"""What every source shares: the `Source` interface, what it loads (`LoadedCohort`) and the helpers
several sources use. A source is a module of this package named as the config's `source:` value,
with a `SOURCE` (a `Source`); `selfseed.sources.source(name)` finds it."""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError

DROPPED_COLUMNS = ["kind", "id", "reason", "detail"]


def no_drops():
    return pd.DataFrame(columns=DROPPED_COLUMNS)


@dataclass
class LoadedCohort:
    """A source's cohort as ingest receives it: expression genes x samples with the source's own
    row ids, clinical data by sample id, provenance (at least `source` and `clinical_file`) and
    the probes or samples the source itself left out, with reasons."""

    expression: pd.DataFrame
    clinical: pd.DataFrame
    provenance: dict
    dropped: pd.DataFrame = field(default_factory=no_drops)


class Source:
    """A source of cohorts. Subclasses set `file_keys` and `load`, and override what else they have.

    `file_keys`: the cohort config keys that name its local files or folders (checked to exist
    before any job, and the job's inputs; a source that downloads them may take URLs there).
    `logs_unlogged`: the source log-transforms unlogged values itself (GEO2R's rule) or ships
    log-scale values, so a matrix that looks unlogged is no error at ingest.
    `clinical_key`: the config key whose file holds the clinical table; `sample_column`: whether
    the cohort's `sample_column` names its sample ids (h5ad: the obs index is).
    """

    file_keys = ()
    logs_unlogged = True
    clinical_key = "clinical"
    sample_column = True

    def downloads(self, entry, config):
        """Kind of file -> URL of what the cohort needs from the network."""
        return {}

    def download_key(self, kind):
        """The config key (in the cohort, or from the top with a dot) a download's URL comes from."""
        return kind

    def inputs(self, entry):
        """Kind of file -> local path, the cohort job's inputs besides downloads and preset tables."""
        return {
            key: entry[key] for key in self.file_keys if key in entry and not is_url(entry[key])
        }

    def endpoint_defaults(self, entry):
        """Settings an endpoint preset takes from the source (tables it ships)."""
        return {}

    def clinical(self, entry, cohort):
        """Before any job: (clinical table by row, its file name) for the endpoint and covariate
        checks, after the source's own checks; None when it can only be read at ingest."""
        return None

    def check_clinical(self, entry, cohort, frame, file):
        """Before any job, after the common checks of the clinical table's columns: the source's
        own (e.g. sample ids); returns the table by sample id or row."""
        return frame

    def load(self, entry, files, *, cohort):
        """The cohort (a LoadedCohort) from its files (kind -> path; downloads included)."""
        raise NotImplementedError


def is_url(text):
    return str(text).startswith(("http://", "https://"))


def check_files_exist(named, cohort):
    """Each (config key, path) that is not a URL names an existing file or folder."""
    for key, path in named:
        if not is_url(path) and not Path(path).exists():
            raise ConfigError(
                "file not found",
                cohort=cohort,
                file=path,
                key=f"cohorts.{cohort}.{key}",
                expected="an existing file or folder (relative to the directory snakemake runs in)",
            )


def log2_if_unlogged(expression):
    """GEO2R's rule: log2-transform unless the values already look log-scaled.

    qx = quantiles 0, .25, .5, .75, .99, 1 of all values; LogC = qx99 > 100 or (max - min > 50 and
    q25 > 0). If LogC, values <= 0 become NaN and log2 is applied. Returns (expression, note)."""
    values = expression.to_numpy(dtype=float)
    qx = np.nanquantile(values, [0, 0.25, 0.5, 0.75, 0.99, 1.0])
    log_c = bool(qx[4] > 100 or (qx[5] - qx[0] > 50 and qx[1] > 0))
    rule = (
        "GEO2R log2 rule: quantiles 0/25/50/75/99/100% = "
        + ", ".join(f"{q:.4g}" for q in qx)
        + f"; LogC = (q99 > 100) or (max - min > 50 and q25 > 0) = ({qx[4]:.4g} > 100) or "
        f"({qx[5] - qx[0]:.4g} > 50 and {qx[1]:.4g} > 0) = {log_c}"
    )
    if not log_c:
        return expression, rule + ": values taken as already log2-scaled, left unchanged"
    non_positive = int((values <= 0).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        logged = np.log2(np.where(values > 0, values, np.nan))
    note = rule + f": {non_positive} values <= 0 set to NaN, log2 applied"
    return pd.DataFrame(logged, index=expression.index, columns=expression.columns), note


def first_non_numeric(table: pd.DataFrame) -> tuple[str, str]:
    """(column, value) of the first value that is neither a number nor missing."""
    for column in table.columns:
        bad = table[column].notna() & pd.to_numeric(table[column], errors="coerce").isna()
        if bad.any():
            return column, table[column][bad].iloc[0]
    raise ValueError("all values are numeric")
