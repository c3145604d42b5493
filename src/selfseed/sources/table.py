"""A user's own expression matrix and clinical table (TSV/CSV, gzipped or not, or parquet)."""

import hashlib
from pathlib import Path

import pandas as pd

from selfseed.errors import ConfigError, InputDataError


def read_frame(path, *, cohort, key, text_dtype=None):
    """Read a TSV/CSV (optionally .gz; .csv means comma) or parquet file into a DataFrame."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            "file not found", cohort=cohort, file=path, key=key, expected="an existing file"
        )
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes[-1:] == [".parquet"]:
            frame = pd.read_parquet(path)
            return frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
        return pd.read_csv(path, sep="," if ".csv" in suffixes else "\t", dtype=text_dtype)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise InputDataError(
            f"cannot read the table: {error}",
            cohort=cohort,
            file=path,
            key=key,
            expected="tab-separated (.tsv, .txt), comma-separated (.csv), optionally .gz, or .parquet",
        ) from error


def sha256(path):
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_table_cohort(entry, *, cohort):
    """Return (expression genes x samples, clinical indexed by sample id, provenance dict)."""
    key = f"cohorts.{cohort}"
    matrix = read_frame(entry["expression"], cohort=cohort, key=f"{key}.expression")
    expression = matrix.set_index(matrix.columns[0])
    expression.index = expression.index.astype(str).str.strip()
    expression.columns = expression.columns.astype(str).str.strip()
    if entry["orientation"] == "samples_by_genes":
        expression = expression.T
    clinical = read_frame(entry["clinical"], cohort=cohort, key=f"{key}.clinical", text_dtype=str)
    column = entry["sample_column"]
    if column not in clinical.columns:
        raise ConfigError(
            "sample column not found in the clinical table",
            cohort=cohort,
            file=entry["clinical"],
            column=column,
            key=f"{key}.sample_column",
            found=f"columns {list(clinical.columns)[:20]}",
        )
    clinical.index = pd.Index(clinical[column].astype(str).str.strip(), name="sample_id")
    files = (entry["expression"], entry["clinical"])
    provenance = {
        "source": "table",
        "files": [f"{p} sha256:{sha256(p)}" for p in files],
        "clinical_file": str(entry["clinical"]),
    }
    return expression, clinical, provenance
