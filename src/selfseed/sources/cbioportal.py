"""cBioPortal study folders (datahub layout): meta_*.txt files, clinical tables, mRNA profiles.

Data files are found through their `meta_*.txt` file (`data_filename:`), so singular and plural
file names both work. File format: https://docs.cbioportal.org/file-formats/
"""

import logging
import re
import tarfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError, InputDataError
from selfseed.inflate import extract_archive
from selfseed.sources.common import LoadedCohort, Source, first_non_numeric, log2_if_unlogged
from selfseed.sources.textio import (
    numbers_where_possible,
    read_table,
    read_text,
    split_comment_header,
)

log = logging.getLogger(__name__)

# Missing-value markers of cBioPortal's validator and of the TCGA clinical exports, plus the
# usual NA spellings ("None" is left out: it can be a real category, e.g. no radiotherapy).
MISSING = [
    "",
    "NA",
    "N/A",
    "NaN",
    "nan",
    "null",
    "NULL",
    "[Not Available]",
    "[Not Applicable]",
    "[Unknown]",
    "[Not Evaluated]",
    "[Pending]",
    "[Discrepancy]",
    "[Completed]",
    "[null]",
]
EXPRESSION_DATATYPES = ("CONTINUOUS", "Z-SCORE")


@dataclass
class CbioStudy:
    """One cBioPortal study: expression (genes x samples), clinical table per sample."""

    expression: pd.DataFrame
    samples: pd.DataFrame
    profile: str
    meta: dict
    notes: list[str] = field(default_factory=list)


def read_meta_file(path) -> dict:
    """The `key: value` lines of a cBioPortal meta file as a dict."""
    meta = {}
    for number, line in enumerate(read_text(path).text.split("\n"), start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise InputDataError(
                "a meta file line is not 'key: value'",
                file=path,
                line=number,
                found=repr(line[:80]),
                expected="key: value",
            )
        meta[key.strip()] = value.strip()
    return meta


@contextmanager
def study_folder(folder_or_archive):
    """Yield the folder holding the study's meta files; a .tar.gz is extracted to a temp dir."""
    path = Path(folder_or_archive)
    if path.is_dir():
        yield _folder_with_meta_files(path, path)
    elif path.is_file() and tarfile.is_tarfile(path):
        with TemporaryDirectory(prefix="cbioportal_") as tmp:
            extract_archive(path, tmp)  # within the inflation limits, under tar's data filter
            yield _folder_with_meta_files(Path(tmp), path)
    else:
        raise InputDataError(
            "not a cBioPortal study folder or .tar.gz archive",
            file=path,
            expected="a folder (or .tar.gz of one) with meta_study.txt and meta_*.txt files",
        )


def _folder_with_meta_files(root: Path, shown: Path) -> Path:
    folders = sorted({p.parent for p in root.rglob("meta_*.txt")})
    if len(folders) != 1:
        raise InputDataError(
            "cannot find one study folder with meta_*.txt files",
            file=shown,
            found=f"{len(folders)} folders with meta files",
            expected="exactly one",
        )
    return folders[0]


def _profile_metas(folder: Path) -> list[dict]:
    metas = []
    for meta_path in sorted(folder.glob("meta_*.txt")):
        meta = read_meta_file(meta_path)
        meta["meta_file"] = meta_path.name
        metas.append(meta)
    return metas


def _typed_columns(table: pd.DataFrame, header: list[str], path: Path, notes: list) -> dict:
    """Make NUMBER columns, and columns whose values are all numbers (ids excepted), float in
    place; return column -> {name, description, datatype} from the '#' header rows (display name,
    description, datatype, priority) when present."""
    rows = [line[1:].split("\t") for line in header]
    if not (len(rows) >= 3 and all(len(r) == table.shape[1] for r in rows[:3])):
        numbers_where_possible(table)
        return {}
    columns = {}
    for name, description, datatype, column in zip(*rows[:3], table.columns, strict=True):
        columns[column] = {"name": name, "description": description, "datatype": datatype.upper()}
        if datatype.upper() == "NUMBER":
            values = table[column]
            numbers = pd.to_numeric(values, errors="coerce")
            not_numeric = values.notna() & numbers.isna()
            if not_numeric.any():
                notes.append(
                    f"{path.name}: column {column} is NUMBER but {not_numeric.sum()} values are "
                    f"not numbers (e.g. {values[not_numeric].iloc[0]!r}); set to NaN"
                )
            table[column] = numbers.astype(float)
    numbers_where_possible(table, [c for c, d in columns.items() if d["datatype"] != "NUMBER"])
    return columns


def read_clinical_file(path, id_column: str) -> tuple[pd.DataFrame, dict, list[str]]:
    """A cBioPortal clinical file indexed by `id_column` (PATIENT_ID or SAMPLE_ID).

    Leading '#' header rows are skipped and give the column descriptions; missing-value markers
    (`MISSING`) become NaN; NUMBER columns become floats. Returns (table, descriptions, notes)."""
    text = read_text(path)
    header, body = split_comment_header(text.text)
    table = read_table(text, body, sep="\t", dtype=str, keep_default_na=False, na_values=MISSING)
    notes = list(text.notes)
    if id_column not in table.columns:
        raise InputDataError(
            f"the clinical file has no {id_column} column",
            file=path,
            column=id_column,
            found=", ".join(table.columns[:8]),
            expected=f"{id_column} in the first row after the '#' header rows",
        )
    ids = table[id_column]
    if ids.isna().any() or ids.duplicated().any():
        bad = ids[ids.isna() | ids.duplicated()].fillna("<empty>").unique()[:5]
        raise InputDataError(
            f"{id_column} values are missing or repeated",
            file=path,
            column=id_column,
            found=", ".join(bad),
            expected="one row per id",
        )
    descriptions = _typed_columns(table, header, text.path, notes)
    return table.set_index(id_column), descriptions, notes


def read_cbioportal_clinical(folder) -> tuple[pd.DataFrame, dict, list[str]]:
    """Sample table (index SAMPLE_ID) joined with the patient table on PATIENT_ID, from the files
    that `genetic_alteration_type: CLINICAL` meta files name. Returns (samples, descriptions,
    notes); patient columns whose names clash with sample columns get the suffix `_patient`."""
    with study_folder(folder) as root:
        return _read_clinical(root, _profile_metas(root))


def _read_clinical(root: Path, metas: list[dict]):
    tables, descriptions, notes = {}, {}, []
    for kind, id_column in (
        ("SAMPLE_ATTRIBUTES", "SAMPLE_ID"),
        ("PATIENT_ATTRIBUTES", "PATIENT_ID"),
    ):
        for meta in metas:
            if meta.get("genetic_alteration_type") == "CLINICAL" and meta.get("datatype") == kind:
                table, described, file_notes = read_clinical_file(_data_file(root, meta), id_column)
                if kind in tables:  # a further file of the same kind adds its new columns
                    table = tables[kind].join(
                        table.loc[:, ~table.columns.isin(tables[kind].columns)]
                    )
                tables[kind] = table
                descriptions.update(described)
                notes += file_notes
    if "SAMPLE_ATTRIBUTES" not in tables:
        raise InputDataError(
            "no sample clinical file: no meta file with datatype SAMPLE_ATTRIBUTES",
            file=root,
            expected="meta_clinical_sample(s).txt with genetic_alteration_type: CLINICAL",
        )
    samples = tables["SAMPLE_ATTRIBUTES"]
    if "PATIENT_ATTRIBUTES" in tables:
        patients = tables["PATIENT_ATTRIBUTES"]
        if "PATIENT_ID" not in samples.columns:
            raise InputDataError(
                "the sample clinical file has no PATIENT_ID column", file=root, column="PATIENT_ID"
            )
        unknown = ~samples["PATIENT_ID"].isin(patients.index)
        if unknown.any():
            notes.append(
                f"{unknown.sum()} samples have a PATIENT_ID missing from the patient file "
                f"(e.g. {samples.index[unknown][0]}); their patient columns are NaN"
            )
        samples = samples.join(patients, on="PATIENT_ID", rsuffix="_patient")
    return samples, descriptions, notes


def _data_file(root: Path, meta: dict) -> Path:
    name = meta.get("data_filename")
    if not name:
        raise InputDataError(
            "the meta file has no data_filename", file=root / meta["meta_file"], key="data_filename"
        )
    relative = PurePosixPath(name.replace("\\", "/"))
    if relative.is_absolute() or ".." in relative.parts or re.match(r"[A-Za-z]:", name):
        raise InputDataError(
            f"the data file named by {meta['meta_file']} lies outside the study folder",
            file=root / meta["meta_file"],
            key="data_filename",
            found=repr(name),
            expected="a file name (or a path below the study folder) without '..' or a leading '/'",
            fix="name the data file relative to the study folder, as cBioPortal does",
        )
    path = root / relative
    if not path.is_file():
        raise InputDataError(
            f"the data file named by {meta['meta_file']} is missing",
            file=path,
            key="data_filename",
            fix="download the complete study folder",
        )
    return path


def _choose_profile(metas: list[dict], expression_profile, study_id: str, root: Path) -> dict:
    profiles = [
        m
        for m in metas
        if m.get("genetic_alteration_type") == "MRNA_EXPRESSION"
        and m.get("datatype") in EXPRESSION_DATATYPES
    ]
    names = [f"{m.get('stable_id')} ({m.get('data_filename')})" for m in profiles]
    if expression_profile is not None:
        wanted = str(expression_profile).removeprefix(f"{study_id}_")
        chosen = [
            m
            for m in profiles
            if wanted in (m.get("stable_id"), m.get("data_filename"), m["meta_file"])
        ]
        if len(chosen) != 1:
            raise ConfigError(
                "expression_profile names no mRNA profile of this study",
                file=root,
                found=expression_profile,
                expected="one of: " + ", ".join(names),
            )
        return chosen[0]
    continuous = [m for m in profiles if m["datatype"] == "CONTINUOUS"]
    if len(continuous) == 1:
        return continuous[0]
    if not profiles:
        raise InputDataError(
            "the study has no mRNA expression profile",
            file=root,
            expected="a meta file with genetic_alteration_type: MRNA_EXPRESSION, datatype: "
            "CONTINUOUS or Z-SCORE",
        )
    if not continuous and len(profiles) == 1:
        return profiles[0]
    raise ConfigError(
        "the study has several mRNA profiles: choose one",
        file=root,
        found=", ".join(names),
        fix="set expression_profile to a stable_id or data file name",
    )


def read_expression_file(path) -> tuple[pd.DataFrame, list[str]]:
    """A cBioPortal mRNA file as genes x samples floats, indexed by Hugo_Symbol (or by
    Entrez_Gene_Id when that is the only gene column). Returns (expression, notes)."""
    text = read_text(path)
    notes = list(text.notes)
    _, body = split_comment_header(text.text)
    gene_columns = {"Hugo_Symbol": str, "Entrez_Gene_Id": str}
    table = read_table(
        text, body, sep="\t", dtype=gene_columns, keep_default_na=False, na_values=MISSING
    )
    present = [c for c in gene_columns if c in table.columns]
    if not present:
        raise InputDataError(
            "the expression file has no gene column",
            file=path,
            found=", ".join(table.columns[:4]),
            expected="Hugo_Symbol and/or Entrez_Gene_Id as first columns",
        )
    gene_column = present[0]
    if gene_column == "Entrez_Gene_Id":
        notes.append(f"{text.path.name}: no Hugo_Symbol column; genes are Entrez_Gene_Id")
    missing = table[gene_column].isna()
    if missing.any():
        notes.append(f"{text.path.name}: {missing.sum()} rows without {gene_column} dropped")
        table = table[~missing]
    expression = table.set_index(gene_column).drop(columns=present[1:])
    try:
        expression = expression.astype(float)
    except ValueError as err:
        column, value = first_non_numeric(expression)
        raise InputDataError(
            "non-numeric expression value",
            file=path,
            column=column,
            found=repr(value),
            expected="numbers or NA",
        ) from err
    duplicated = expression.index[expression.index.duplicated()].unique()
    if len(duplicated):
        notes.append(
            f"{text.path.name}: {len(duplicated)} {gene_column} values occur on several rows "
            f"(kept all): {', '.join(map(str, duplicated[:10]))}"
        )
    top = np.nanmax(expression.to_numpy()) if expression.notna().any().any() else np.nan
    if top > 100:
        notes.append(
            f"{text.path.name}: values up to {top:.0f}, so probably not log2 scale "
            "(e.g. RSEM); log-transform before scoring"
        )
    return expression, notes


def read_cbioportal_study(folder_or_archive, *, expression_profile=None) -> CbioStudy:
    """Read a cBioPortal study folder or .tar.gz: one mRNA profile plus the clinical tables.

    The profile is the study's only CONTINUOUS (not z-score) mRNA profile unless
    `expression_profile` names a stable_id (with or without the study prefix) or data file."""
    with study_folder(folder_or_archive) as root:
        metas = _profile_metas(root)
        study = next((m for m in metas if m["meta_file"] == "meta_study.txt"), {})
        study_id = study.get("cancer_study_identifier", root.name)
        profile = _choose_profile(metas, expression_profile, study_id, root)
        expression, notes = read_expression_file(_data_file(root, profile))
        samples, descriptions, clinical_notes = _read_clinical(root, metas)
    notes += clinical_notes
    unmatched = ~expression.columns.isin(samples.index)
    if unmatched.any():
        notes.append(
            f"{unmatched.sum()} of {expression.shape[1]} expression samples have no clinical row "
            f"(e.g. {expression.columns[unmatched][0]})"
        )
    for note in notes:
        log.info("%s: %s", study_id, note)
    return CbioStudy(
        expression=expression,
        samples=samples,
        profile=profile.get("stable_id", profile["data_filename"]),
        meta={"study": study, "profile": profile, "clinical_columns": descriptions},
        notes=notes,
    )


class Cbioportal(Source):
    """A cBioPortal study: a local folder or .tar.gz archive (`study`), or the archive's `url`
    (downloaded); the mRNA profile by `expression_profile` when the study has several."""

    file_keys = ("study",)

    def downloads(self, entry, config):
        return {"study": entry["url"]} if "url" in entry else {}

    def download_key(self, kind):
        return "url"

    def load(self, entry, files, *, cohort):
        """Genes x samples (log2 by GEO2R's rule), clinical by SAMPLE_ID."""
        path = files.get("study") or entry["study"]
        study = read_cbioportal_study(path, expression_profile=entry.get("expression_profile"))
        expression, log2_note = log2_if_unlogged(study.expression)
        provenance = {
            "source": "cbioportal",
            "study": str(path),
            "profile": str(study.profile),
            "log2": log2_note,
            "notes": list(study.notes),
            "clinical_file": f"{path} (clinical files)",
        }
        return LoadedCohort(expression, study.samples, provenance)


SOURCE = Cbioportal()
