"""TCGA data: GDC HTSeq counts and clinical exports, TCGA barcodes, UCSC Xena matrices."""

import logging
import re

import numpy as np
import pandas as pd

from selfseed.errors import InputDataError
from selfseed.sources.cbioportal import first_non_numeric, usable_survival
from selfseed.sources.textio import numbers_where_possible, read_table, read_text

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12
# GDC clinical exports write "--" (newer ones "'--") for an empty field; "not reported" is the
# GDC value for an unrecorded answer.
GDC_MISSING = ["", "--", "'--", "not reported", "Not Reported"]
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


def strip_ensembl_version(ids: pd.Series) -> pd.Series:
    """ENSG00000000003.13 -> ENSG00000000003 (also ENSGR..., keeps suffixes such as _PAR_Y)."""
    return ids.str.replace(r"^(ENS[A-Z]*\d+)\.\d+", r"\1", regex=True)


def read_htseq_counts(paths: dict) -> pd.DataFrame:
    """Genes x samples integer counts from GDC HTSeq-Counts files ({sample_id: path}).

    Ensembl versions are stripped; the HTSeq summary rows (__no_feature, __ambiguous, ...) are
    dropped and named in attrs["notes"]. All files must list the same genes."""
    if not paths:
        raise InputDataError("no HTSeq count files given", expected="{sample_id: path}")
    columns, summary_rows = {}, set()
    for sample, path in paths.items():
        text = read_text(path)
        table = read_table(text, sep="\t", header=None, dtype=str, keep_default_na=False)
        if table.shape[1] != 2:
            raise InputDataError(
                "not an HTSeq-Counts file",
                file=path,
                found=f"{table.shape[1]} columns",
                expected="2 columns: Ensembl gene id, count (STAR-Counts files are not HTSeq)",
            )
        counts = pd.to_numeric(table[1], errors="coerce")
        bad = counts.isna() | (counts < 0) | (counts % 1 != 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputDataError(
                "a count is not a non-negative integer",
                file=path,
                line=row + 1,
                found=repr(table[1][row]),
                expected="read counts",
            )
        summary = table[0].str.startswith("__")
        summary_rows |= set(table[0][summary])
        genes = strip_ensembl_version(table[0][~summary])
        if genes.duplicated().any():
            raise InputDataError(
                "a gene id is repeated once the Ensembl version is removed",
                file=path,
                found=", ".join(genes[genes.duplicated()].head(3)),
            )
        columns[sample] = pd.Series(counts[~summary].astype(np.int64).to_numpy(), index=genes)
    matrix = pd.concat(columns, axis=1)
    differing = matrix.columns[matrix.isna().any()]
    if len(differing):
        raise InputDataError(
            "the HTSeq files do not list the same genes",
            file=paths[differing[0]],
            expected=f"the {len(next(iter(columns.values())))} genes of the first file",
        )
    matrix = matrix.astype(np.int64)
    matrix.index.name = "gene_id"
    matrix.attrs["notes"] = [
        f"HTSeq summary rows dropped: {', '.join(sorted(summary_rows))}; Ensembl versions removed"
    ]
    return matrix


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


def read_gdc_clinical(path) -> pd.DataFrame:
    """A GDC clinical.tsv export indexed by case submitter_id (TCGA-XX-XXXX); "--", "'--" and
    "not reported" become NaN, all-number columns become floats. Newer exports' prefixes
    ("demographic.vital_status") are dropped where the short name stays unique; a case spread
    over several rows (one per treatment) keeps the first non-missing value of each column."""
    text = read_text(path)
    table = read_table(text, sep="\t", dtype=str, keep_default_na=False, na_values=GDC_MISSING)
    id_column = next(
        (c for c in ("cases.submitter_id", "submitter_id") if c in table.columns), None
    )
    if id_column is None:
        raise InputDataError(
            "the GDC clinical file has no case id column",
            file=path,
            column="submitter_id",
            found=", ".join(table.columns[:6]),
        )
    table = table.set_index(id_column)
    table.index.name = "submitter_id"
    short = table.columns.str.split(".", n=1).str[-1]
    unique = ~short.duplicated(keep=False)
    table.columns = np.where(unique, short, table.columns)
    if table.index.duplicated().any():
        log.info("%s: several rows per case; first non-missing value kept", path)
        table = table.groupby(level=0, sort=False).first()
    numbers_where_possible(table)
    return table


def gdc_overall_survival(clinical: pd.DataFrame) -> pd.DataFrame:
    """DataFrame[time_months, event] for overall survival: dead -> days_to_death, event 1;
    alive -> days_to_last_follow_up, event 0; months = days / (365.25 / 12). Cases with unknown
    status or time, or time <= 0, are dropped (counted in attrs["notes"])."""
    needed = ["vital_status", "days_to_death", "days_to_last_follow_up"]
    for column in needed:
        if column not in clinical.columns:
            raise InputDataError(
                "the GDC clinical table lacks a survival column", column=column, expected=needed
            )
    status = clinical["vital_status"].str.lower()
    dead, alive = status.eq("dead"), status.eq("alive")
    days = pd.to_numeric(clinical["days_to_death"]).where(
        dead, pd.to_numeric(clinical["days_to_last_follow_up"]).where(alive)
    )
    event = pd.Series(np.where(dead, 1.0, np.where(alive, 0.0, np.nan)), index=clinical.index)
    survival = pd.DataFrame({"time_months": days / DAYS_PER_MONTH, "event": event})
    return usable_survival(survival, "vital_status/days_to_death/days_to_last_follow_up")


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


def xena_survival(
    pheno: pd.DataFrame, time_col: str = "OS.time", event_col: str = "OS", time_unit="days"
) -> pd.DataFrame:
    """DataFrame[time_months, event] from a Xena phenotype (OS.time/OS, RFS.time/RFS, ...).

    `time_unit` (days, months or years) is checked against the `<event_col>.unit` column when
    there is one. Rows with missing time or event, or time <= 0, are dropped (attrs["notes"])."""
    to_months = {"days": 1 / DAYS_PER_MONTH, "months": 1.0, "years": 12.0}
    for column in (time_col, event_col):
        if column not in pheno.columns:
            raise InputDataError(
                "the survival column is missing from the Xena phenotype",
                column=column,
                found=", ".join(c for c in pheno.columns if re.search(r"OS|RFS|PFI|DSS|DFI", c)),
            )
    unit_column = f"{event_col}.unit"
    if unit_column in pheno.columns:
        units = set(pheno[unit_column].dropna().str.lower())
        if units - {time_unit}:
            raise InputDataError(
                "the survival time unit is not the one given",
                column=unit_column,
                found=", ".join(sorted(units)),
                expected=time_unit,
            )
    event = pd.to_numeric(pheno[event_col], errors="coerce")
    if not event.dropna().isin([0, 1]).all() or event.isna().gt(pheno[event_col].isna()).any():
        raise InputDataError(
            "survival events must be 0 or 1",
            column=event_col,
            found=", ".join(map(str, pheno[event_col].dropna().unique()[:6])),
        )
    survival = pd.DataFrame(
        {"time_months": pd.to_numeric(pheno[time_col]) * to_months[time_unit], "event": event}
    )
    return usable_survival(survival, f"{time_col}/{event_col}")


def load_xena(entry, files, *, cohort):
    """TCGA data from UCSC Xena as (genes x samples, clinical with patient_id, provenance,
    dropped): primary tumour samples only, one per patient, unless primary_tumour_only is false."""
    from selfseed.sources.geo import log2_if_unlogged

    expression = read_xena_matrix(files["expression"])
    phenotype = read_xena_phenotype(files["phenotype"])
    dropped = pd.DataFrame(columns=["kind", "id", "reason", "detail"])
    if entry["primary_tumour_only"]:
        kept, not_primary = primary_tumour_one_per_patient(expression.columns)
        expression = expression[kept]
        dropped = pd.DataFrame({"kind": "sample", "id": not_primary["sample_id"],
                                "reason": not_primary["reason"], "detail": ""})  # fmt: skip
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
    return expression, clinical, provenance, dropped
