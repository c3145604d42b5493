"""A user's own expression matrix and clinical table (TSV/CSV, gzipped or not, or parquet).

Text files go through `textio`: BOM, CRLF/CR line ends and latin-1 are read, an empty file, a web
page or a file whose delimiter does not match its name stops with InputDataError naming the file."""

import csv
import io
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError, InputDataError
from selfseed.files import sha256
from selfseed.inflate import check_inflated, is_gzip, open_inflated
from selfseed.sources.common import LoadedCohort, Source
from selfseed.sources.textio import header_cells, naming, parser_line, read_text, repeated

SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t", ".tab": "\t"}
log = logging.getLogger(__name__)
HEADER_BYTES = 1 << 20  # read for the header; a longer first line is read to its end
# pandas' default missing-value texts (read_csv na_values), for the value columns only
NA_TEXTS = [
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
]
FORMATS = "tab-separated (.tsv, .txt), comma-separated (.csv), optionally .gz, or .parquet"


def table_format(path):
    """'parquet', or the delimiter the file name promises (.csv comma, .tsv/.txt tab)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    if suffixes[-1:] == [".parquet"]:
        return "parquet"
    return SEPARATORS.get(suffixes[-1] if suffixes else "", "\t")


def existing(path, *, cohort, key):
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            "file not found",
            cohort=cohort,
            file=path,
            key=key,
            expected="an existing file (paths are relative to the directory snakemake runs in)",
        )
    return path


def read_parquet(path, *, cohort, key):
    try:
        frame = pd.read_parquet(path)
    except (ValueError, OSError) as error:
        raise InputDataError(
            f"cannot read the parquet file: {error}",
            cohort=cohort,
            file=path,
            key=key,
            expected=FORMATS,
            fix="write it again with pandas.DataFrame.to_parquet",
        ) from error
    frame = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_header(path, *, cohort, key):
    """Column names of a table, reading only its first line (or the parquet schema)."""
    path = existing(path, cohort=cohort, key=key)
    sep = table_format(path)
    if sep == "parquet":
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except (OSError, ValueError) as error:
            raise InputDataError(
                f"cannot read the parquet file: {error}",
                cohort=cohort,
                file=path,
                key=key,
                expected=FORMATS,
            ) from error
        index = (schema.pandas_metadata or {}).get("index_columns", [])
        index = [name for name in index if isinstance(name, str)]
        names = index + [n for n in schema.names if n not in index]
        return [n for n in names if not n.startswith("__index_level_")]
    text = read_text(path, cohort=cohort, key=key, limit=HEADER_BYTES)
    return header_cells(text, sep, cohort=cohort, key=key)


def clinical_header(text, sep, *, cohort, key):
    """Header cells of a clinical table; a repeated column name is an error (which one to use?)."""
    names = header_cells(text, sep, cohort=cohort, key=key)
    twice = [name for name in repeated(names) if name]
    if twice:
        raise InputDataError(
            "repeated column names in the clinical table",
            cohort=cohort,
            file=text.path,
            line=1,
            key=key,
            found=f"{len(twice)} repeated, e.g. {twice[:5]}",
            expected="each column name once",
            fix="remove or rename the duplicated columns",
        )
    return names


def parse_error(error, *, cohort, file, key):
    text = str(error).strip().splitlines()[-1]
    cells = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    return InputDataError(
        "cannot parse the table: a line has more cells than the header"
        if cells
        else f"cannot parse the table: {text}",
        cohort=cohort,
        file=file,
        line=parser_line(error),
        key=key,
        found=f"{cells[3]} cells on line {cells[2]}, {cells[1]} in the header" if cells else None,
        expected="the same number of cells on every line as in the header",
        fix="remove the stray delimiter, or quote the text that contains the delimiter",
    )


def no_rows(*, cohort, file, key):
    return InputDataError(
        "the table has a header but no data rows",
        cohort=cohort,
        file=file,
        key=key,
        expected="at least one data row",
    )


def strip_text(frame):
    """Text cells without surrounding whitespace; cells that are then empty or a missing-value
    text (' NA ') become missing."""
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:
            stripped = values.str.strip()
            frame[column] = stripped.where(~stripped.isin(NA_TEXTS))
    return frame


def read_clinical(path, *, cohort, key):
    """Clinical table, every cell as text (stripped; empty and NA cells missing), header as is."""
    path = existing(path, cohort=cohort, key=key)
    sep = table_format(path)
    if sep == "parquet":
        frame = read_parquet(path, cohort=cohort, key=key)
        return frame.astype(object).where(frame.notna()).map(lambda v: v if pd.isna(v) else str(v))
    text = read_text(path, cohort=cohort, key=key)
    names = clinical_header(text, sep, cohort=cohort, key=key)
    try:
        frame = pd.read_csv(
            io.StringIO(text.text),
            sep=sep,
            header=None,
            skiprows=1,
            dtype=str,
            quoting=csv.QUOTE_MINIMAL,
            skipinitialspace=True,
            index_col=False,
        )
    except pd.errors.EmptyDataError:
        raise no_rows(cohort=cohort, file=path, key=key) from None
    except (pd.errors.ParserError, ValueError) as error:
        raise parse_error(error, cohort=cohort, file=path, key=key) from error
    if frame.empty:
        raise no_rows(cohort=cohort, file=path, key=key)
    names = fitted_names(names, frame.shape[1], cohort=cohort, file=path, key=key)
    frame, names = without_empty_last(frame, names)
    frame.columns = names
    return strip_text(frame)


def read_expression(path, *, cohort, key):
    """Expression table: first column the row ids (text), the other columns numbers.

    A header with one cell fewer than the rows (R's write.table with row names) is read as
    R does: the first column holds the row ids. Empty, NA, NaN, null cells are missing; other
    non-numeric cells are an error naming the row, column and line; inf stays (dropped later).
    Repeated row or column ids are kept: sample ids must be unique (checked when samples are
    matched), repeated gene ids are resolved like any duplicate symbol."""
    path = existing(path, cohort=cohort, key=key)
    sep = table_format(path)
    if sep == "parquet" and (values := parquet_numeric_table(path)) is not None:
        return values
    if sep == "parquet":
        frame = read_parquet(path, cohort=cohort, key=key)
        names = list(frame.columns)
        frame.columns = range(len(names))
        frame[0] = frame[0].astype(str)
    else:
        text = read_text(path, cohort=cohort, key=key, limit=HEADER_BYTES)
        names = header_cells(text, sep, cohort=cohort, key=key)
        with naming(cohort=cohort, key=key):  # a gzip file past the inflation limits
            frame = (
                fast_numeric_table(path, sep, len(names)) if text.encoding != "latin-1" else None
            )
            if frame is None:
                frame = careful_text_table(path, sep, names, text, cohort=cohort, key=key)
        if frame.shape[1] == len(names) + 1:
            names = ["", *names]  # R's row names: no header cell for the id column
        names = fitted_names(names, frame.shape[1], cohort=cohort, file=path, key=key)
        frame, names = without_empty_last(frame, names)
    if frame.empty:
        raise no_rows(cohort=cohort, file=path, key=key)
    if len(names) < 2:
        raise InputDataError(
            "the expression table has one column only",
            cohort=cohort,
            file=path,
            key=key,
            expected="row ids in the first column, then one column per sample or gene",
        )
    ids = frame.pop(0).astype(str).str.strip()
    text_file = sep != "parquet"
    values = numeric_block(frame, ids, names, cohort=cohort, file=path, key=key, lines=text_file)
    values.index = pd.Index(ids, name=names[0] or "id")
    values.columns = pd.Index([str(n).strip() for n in names[1:]])
    return values


def parquet_numeric_table(path, batch=256):
    """The common parquet case without a pandas copy of the whole Arrow table: the ids in the
    first column, numbers (float or integer, nulls missing) in every other one, no stored pandas
    index, each column name once. The value columns are read `batch` at a time into the one
    float64 block of the returned frame (ids x columns, as `read_expression` returns it), so the
    memory is that block plus one batch. None when the file needs `read_parquet` (which also gives
    the errors)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError, ValueError):
        return None
    schema = parquet.schema_arrow
    stored_index = (schema.pandas_metadata or {}).get("index_columns", [])
    plain = not any(isinstance(column, str) for column in stored_index)
    numeric = all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in schema.types[1:])
    rows = parquet.metadata.num_rows
    if not (
        plain and numeric and rows and len(schema) > 1 and len(set(schema.names)) == len(schema)
    ):
        return None
    value_names = schema.names[1:]
    block = np.empty((len(value_names), rows))  # C order: the frame's own block, no copy
    for start in range(0, len(value_names), batch):
        table = parquet.read(columns=value_names[start : start + batch])
        for offset, column in enumerate(table.columns):
            block[start + offset] = column.to_numpy()
        del table
    names = [str(name).strip() for name in schema.names]
    ids = parquet.read(columns=schema.names[:1]).column(0).to_pandas().astype(str).str.strip()
    return pd.DataFrame(
        block.T, index=pd.Index(ids.to_numpy(), name=names[0] or "id"), columns=names[1:]
    )


def fast_numeric_table(path, sep, width):
    """The common case, parsed by pyarrow's multithreaded CSV reader (gzip inflated on one thread,
    blocks parsed on the others): UTF-8, a one-line header of `width` cells, ids then numbers,
    NA_TEXTS missing. Columns 0..width-1, column 0 the ids as written. None when the file needs
    `careful_text_table` (R row names, padded or text cells, ragged rows), which also gives the
    precise error."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(i) for i in range(width)]
    types = {"0": pa.string(), **{name: pa.float64() for name in names[1:]}}
    inflated = open_inflated(path, quietly=True) if is_gzip(path) else None
    try:
        stream = pa.PythonFile(inflated, mode="r") if inflated else pa.OSFile(str(path))
        with stream:
            table = pacsv.read_csv(
                stream,
                pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
                pacsv.ParseOptions(delimiter=sep),
                pacsv.ConvertOptions(
                    column_types=types, null_values=NA_TEXTS, strings_can_be_null=False
                ),
            )
    except (pa.ArrowInvalid, OSError, EOFError):
        table = None
    finally:
        if inflated:
            check_inflated(inflated)  # gzip past the inflation limits: InflationError
    if table is None:
        return None
    # one float block filled column by column: to_pandas makes a block per column, which costs
    # seconds for a table tens of thousands of columns wide (samples x genes)
    values = np.empty((table.num_rows, width - 1))
    for j in range(1, width):
        values[:, j - 1] = table.column(j).to_numpy()
    frame = pd.DataFrame(values, columns=range(1, width))
    frame.insert(0, 0, table.column(0).to_pandas())
    return frame


def careful_text_table(path, sep, names, text, *, cohort, key):
    """Any text table pandas can read (UTF-8 or latin-1, spaces after delimiters, R row names);
    errors name the file and line."""
    missing = {column: NA_TEXTS for column in range(1, len(names) + 2)}
    for encoding in ["latin-1"] if text.encoding == "latin-1" else ["utf-8-sig", "latin-1"]:
        try:
            with open_inflated(path) as stream:
                return pd.read_csv(
                    stream,
                    sep=sep,
                    header=None,
                    skiprows=1,
                    dtype={0: str},
                    encoding=encoding,
                    quoting=csv.QUOTE_MINIMAL,
                    skipinitialspace=True,
                    index_col=False,
                    low_memory=False,
                    keep_default_na=False,
                    na_values=missing,  # ids (column 0) taken literally
                )
        except UnicodeDecodeError:
            log.warning("%s: not valid UTF-8; read as latin-1", path)
        except pd.errors.EmptyDataError:
            raise no_rows(cohort=cohort, file=path, key=key) from None
        except (pd.errors.ParserError, ValueError, OSError, EOFError) as error:
            raise parse_error(error, cohort=cohort, file=path, key=key) from error


def fitted_names(names, width, *, cohort, file, key):
    """Header names for `width` data columns: trailing empty header cells (a trailing delimiter)
    are left out; any other mismatch is an error."""
    while len(names) > width and names[-1] == "":
        names = names[:-1]
    if len(names) != width:
        raise InputDataError(
            f"the data rows have {'more' if width > len(names) else 'fewer'} cells than the header",
            cohort=cohort,
            file=file,
            line=2,
            key=key,
            found=f"{len(names)} header cells, {width} cells in the rows",
            expected="one header cell per column, the same number of cells on every line",
        )
    return names


def without_empty_last(frame, names):
    """A delimiter at the end of every line makes a last column without name or values: dropped."""
    while len(names) > 1 and names[-1] == "" and frame.iloc[:, -1].isna().all():
        frame, names = frame.iloc[:, :-1], names[:-1]
    return frame, names


def numeric_block(frame, ids, names, *, cohort, file, key, lines=True):
    """The value columns as float64; a non-numeric cell is an InputDataError naming where."""
    # pandas reads a column of only TRUE/FALSE cells as booleans, which would pass as 1 and 0
    text_columns = [
        c
        for c, dtype in frame.dtypes.items()
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype)
    ]
    for column in text_columns:
        raw = frame[column]
        text = raw.astype(str).str.strip()
        text = text.where(raw.notna() & ~text.isin(NA_TEXTS))  # ' NA ' is missing too
        numbers = pd.to_numeric(text, errors="coerce")
        bad = text.notna().to_numpy() & numbers.isna().to_numpy()
        if bad.any():
            rows = np.flatnonzero(bad)
            first = rows[0]
            cell = text.iloc[first] if pd.api.types.is_bool_dtype(raw) else raw.iloc[first]
            raise InputDataError(
                "non-numeric expression values",
                cohort=cohort,
                file=file,
                line=int(first) + 2 if lines else None,
                column=names[column],
                key=key,
                found=f"{cell!r} in row {ids.iloc[first]!r} "
                f"({len(rows)} non-numeric cell(s) in this column)",
                expected="numbers; empty, NA, NaN or null for missing values",
                fix="write missing values as NA (or leave the cell empty)",
            )
        frame[column] = numbers
    return frame.astype(np.float64, copy=False)


def sample_ids(clinical, column, *, cohort, file, key):
    """The clinical table indexed by its sample-id column (text, stripped); a row without an id
    cannot be matched to expression and is an error."""
    if column not in clinical.columns:
        raise ConfigError(
            "sample column not found in the clinical table",
            cohort=cohort,
            file=file,
            column=column,
            key=key,
            found=f"columns {list(clinical.columns)[:20]}",
            expected="the exact name of the clinical column holding sample ids",
        )
    ids = clinical[column]
    if ids.isna().any():
        first = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputDataError(
            "rows without a sample id in the clinical table",
            cohort=cohort,
            file=file,
            line=first + 2,
            column=column,
            key=key,
            found=f"{int(ids.isna().sum())} empty or NA sample ids",
            expected="a sample id on every row",
            fix="fill in or delete those rows",
        )
    return clinical.set_index(pd.Index(ids.astype(str).str.strip(), name="sample_id"))


class Table(Source):
    """A user's own files: an expression matrix (`expression`, `orientation`) and a clinical table
    (`clinical`, one row per sample, ids in `sample_column`)."""

    file_keys = ("expression", "clinical")
    logs_unlogged = False

    def clinical(self, entry, cohort):
        for key in self.file_keys:
            existing(entry[key], cohort=cohort, key=f"cohorts.{cohort}.{key}")
        key = f"cohorts.{cohort}.clinical"
        return read_clinical(entry["clinical"], cohort=cohort, key=key), entry["clinical"]

    def check_clinical(self, entry, cohort, frame, file):
        """Unique sample ids, and the expression header's orientation against them."""
        from selfseed.cohort import unique_sample_ids

        frame = sample_ids(
            frame,
            entry["sample_column"],
            cohort=cohort,
            file=file,
            key=f"cohorts.{cohort}.sample_column",
        )
        unique_sample_ids(frame.index, "clinical table", cohort=cohort, file=file)
        check_expression_header(entry, cohort, list(frame.index))
        return frame

    def load(self, entry, files, *, cohort):
        key = f"cohorts.{cohort}"
        expression = read_expression(entry["expression"], cohort=cohort, key=f"{key}.expression")
        if entry["orientation"] == "samples_by_genes":
            expression = expression.T
        clinical = read_clinical(entry["clinical"], cohort=cohort, key=f"{key}.clinical")
        clinical = sample_ids(
            clinical,
            entry["sample_column"],
            cohort=cohort,
            file=entry["clinical"],
            key=f"{key}.sample_column",
        )
        provenance = {
            "source": "table",
            "files": [f"{p} sha256:{sha256(p)}" for p in (entry["expression"], entry["clinical"])],
            "clinical_file": str(entry["clinical"]),
            "expression_file": str(entry["expression"]),
        }
        return LoadedCohort(expression, clinical, provenance)


def check_expression_header(entry, cohort, sample_ids):
    """A table cohort's expression file: readable, delimiter as its name says, and (reading only
    its header) orientation consistent with the clinical sample ids."""
    from selfseed.genes import lookup_symbols

    path = entry["expression"]
    names = read_header(path, cohort=cohort, key=f"cohorts.{cohort}.expression")
    header = [name.strip() for name in names]
    shared = set(header) & set(sample_ids)
    found = f"header {header[:4]}...; clinical sample ids {list(sample_ids[:4])}..."
    if entry["orientation"] == "genes_by_samples" and not shared:
        symbols = lookup_symbols(header[1:200])["symbol"]
        genes = symbols.notna().mean() >= 0.5
        raise ConfigError(
            "the expression header names no sample of the clinical table",
            cohort=cohort,
            file=path,
            line=1,
            key=f"cohorts.{cohort}.{'orientation' if genes else 'sample_column'}",
            found=found,
            expected="orientation genes_by_samples: a header of sample ids, as in the clinical "
            "sample column",
            fix="the header holds gene ids: set orientation: samples_by_genes"
            if genes
            else "check sample_column and that both files use the same sample ids",
        )
    if entry["orientation"] == "samples_by_genes" and len(shared) > (len(header) - 1) / 2:
        raise ConfigError(
            "the expression header holds sample ids, not gene ids",
            cohort=cohort,
            file=path,
            line=1,
            key=f"cohorts.{cohort}.orientation",
            found=found,
            expected="orientation samples_by_genes: a header of gene ids",
            fix="set orientation: genes_by_samples",
        )


SOURCE = Table()
