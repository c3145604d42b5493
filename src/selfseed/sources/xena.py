"""TCGA data from UCSC Xena: genomic and phenotype matrices, TCGA barcodes (primary tumours)."""

import logging
import re

import numpy as np
import pandas as pd

from selfseed.errors import InputDataError
from selfseed.sources.common import (
    LoadedCohort,
    Source,
    first_non_numeric,
    is_url,
    log2_if_unlogged,
    no_drops,
)
from selfseed.sources.textio import numbers_where_possible, read_table, read_text

log = logging.getLogger(__name__)

XENA_MISSING = ["", "NA", "NaN", "nan"]
# GDC sample type codes (barcode characters 14-15), https://gdc.cancer.gov/resources-tcga-users/
SAMPLE_TYPES = {
    "01": "Primary Solid Tumor",
    "02": "Recurrent Solid Tumor",
    "03": "Primary Blood Derived Cancer - Peripheral Blood",
    "05": "Additional - New Primary",
    "06": "Metastatic",
    "07": "Additional Metastatic",
    "10": "Blood Derived Normal",
    "11": "Solid Tissue Normal",
}
BARCODE = re.compile(r"^(?P<patient>TCGA-[A-Z0-9]{2}-[A-Z0-9]{4})-(?P<type>\d{2})(?:[A-Z]|-|$)")


def counts_to_log2cpm(counts: pd.DataFrame, prior_count: float = 2.0) -> pd.DataFrame:
    """log2 counts per million as edgeR::cpm(y, log=TRUE, prior.count) without TMM factors:
    library size L_j = column sum, prior p_j = prior_count * L_j / mean(L),
    log2cpm = log2((count + p_j) / (L_j + 2 p_j) * 1e6)."""
    library = counts.sum(axis=0).astype(float)
    if (library <= 0).any():
        raise InputDataError(
            "a sample has no counts", column=library.index[library <= 0][0], expected="counts > 0"
        )
    prior = prior_count * library / library.mean()
    return np.log2((counts + prior) / (library + 2 * prior) * 1e6)


def primary_tumour_one_per_patient(sample_ids) -> tuple[list, pd.DataFrame]:
    """Keep TCGA primary solid tumour samples (sample type 01) and one per patient: the first
    barcode in sorted order (so vial A before B, then lowest portion/analyte/plate).

    Returns (kept ids in input order, DataFrame[sample_id, reason] of the others)."""
    ids = pd.Series(list(sample_ids), dtype=str)
    parts = ids.str.extract(BARCODE)
    reason = pd.Series(pd.NA, index=ids.index, dtype=object)
    reason[parts["patient"].isna()] = "not a TCGA sample barcode"
    other_type = parts["type"].notna() & parts["type"].ne("01")
    reason[other_type] = (
        "sample type "
        + parts["type"][other_type]
        + " ("
        + parts["type"][other_type].map(SAMPLE_TYPES).fillna("not primary tumour")
        + "), not 01 primary tumour"
    )
    reason[reason.isna() & ids.duplicated()] = "repeated sample id"
    candidates = ids[reason.isna()]
    chosen = candidates.groupby(parts["patient"][reason.isna()]).transform("min")
    later = candidates.ne(chosen)
    reason[later[later].index] = (
        "another primary tumour sample of the patient kept: " + chosen[later]
    )
    kept = ids[reason.isna()].tolist()
    dropped = pd.DataFrame({"sample_id": ids[reason.notna()], "reason": reason[reason.notna()]})
    return kept, dropped.reset_index(drop=True)


def read_xena_matrix(path) -> pd.DataFrame:
    """A UCSC Xena genomic matrix (first column feature id, one column per sample, "NA" missing)
    as a features x samples float DataFrame."""
    text = read_text(path)
    first_column = text.text.split("\n", 1)[0].split("\t")[0]
    table = read_table(
        text,
        sep="\t",
        index_col=0,
        dtype={first_column: str},
        keep_default_na=False,
        na_values=XENA_MISSING,
    )
    try:
        matrix = table.astype(float)
    except ValueError as err:
        column, value = first_non_numeric(table)
        raise InputDataError(
            "non-numeric value in a Xena matrix",
            file=path,
            column=column,
            found=repr(value),
            expected="numbers or NA",
        ) from err
    if matrix.index.duplicated().any():
        raise InputDataError(
            "a feature id is repeated",
            file=path,
            column=first_column,
            found=", ".join(matrix.index[matrix.index.duplicated()][:3]),
        )
    return matrix


def read_xena_phenotype(path) -> pd.DataFrame:
    """A UCSC Xena phenotype (clinicalMatrix) indexed by its first column (sampleID); empty
    cells are NaN, all-number columns floats, id-like columns (sample_type_id) kept as text."""
    text = read_text(path)
    table = read_table(text, sep="\t", dtype=str, keep_default_na=False, na_values=XENA_MISSING)
    table = table.set_index(table.columns[0])
    if table.index.duplicated().any():
        raise InputDataError(
            "a sample id is repeated",
            file=path,
            column=table.index.name,
            found=", ".join(table.index[table.index.duplicated()][:3]),
        )
    numbers_where_possible(table)
    return table


class Xena(Source):
    """UCSC Xena TCGA matrices: `expression` and `phenotype` (local paths or URLs, downloaded);
    primary tumours only, one per patient, unless `primary_tumour_only` is false."""

    file_keys = ("expression", "phenotype")

    def downloads(self, entry, config):
        return {key: entry[key] for key in self.file_keys if is_url(entry[key])}

    def load(self, entry, files, *, cohort):
        """Genes x samples (counts as log2-CPM, else log2 by GEO2R's rule), clinical with
        patient_id."""
        expression = read_xena_matrix(files["expression"])
        phenotype = read_xena_phenotype(files["phenotype"])
        dropped = no_drops()
        if entry["primary_tumour_only"]:
            kept, not_primary = primary_tumour_one_per_patient(expression.columns)
            expression = expression[kept]
            dropped = pd.DataFrame(
                {
                    "kind": "sample",
                    "id": not_primary["sample_id"],
                    "reason": not_primary["reason"],
                    "detail": "",
                }
            )
        if entry["values"] == "counts":
            expression = counts_to_log2cpm(expression)
            log2_note = "read counts normalised to log2-CPM (edgeR formula, prior count 2, no TMM)"
        else:
            expression, log2_note = log2_if_unlogged(expression)
        clinical = phenotype.assign(patient_id=phenotype.index.str.slice(0, 12))
        provenance = {
            "source": "xena",
            "files": [str(files["expression"]), str(files["phenotype"])],
            "log2": log2_note,
            "clinical_file": str(files["phenotype"]),
        }
        return LoadedCohort(expression, clinical, provenance, dropped)


SOURCE = Xena()
