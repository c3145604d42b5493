"""Low-level reading of public text tables: gzip, BOM, CR-only / CRLF line ends, latin-1,
web pages saved instead of data, empty files, tab-or-comma sniffing."""

import csv
import gzip
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from selfseed.errors import InputDataError

log = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Text:
    """Decoded file content with '\\n' line ends, and what was done to get it."""

    text: str
    path: Path
    encoding: str
    notes: list[str] = field(default_factory=list)


def read_text(path, *, cohort=None) -> Text:
    """Read a (possibly gzipped) text file as str: UTF-8 (BOM removed), else latin-1 with a note.

    CRLF and CR-only line ends become '\\n'. An empty file, or an HTML/XML page saved in place of
    the data (a portal error or login page), raises InputDataError naming the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise InputDataError(
            f"cannot read the file ({err})", cohort=cohort, file=path, fix="download it again"
        ) from err
    notes = []
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as err:
        text, encoding = raw.decode("latin-1"), "latin-1"
        notes.append(
            f"{path.name}: not valid UTF-8 (byte {raw[err.start]:#04x} at offset {err.start}); "
            "read as latin-1"
        )
        log.warning(notes[-1])
    head = text.lstrip()[:200].lower()
    if not head:
        raise InputDataError(
            "the file is empty",
            cohort=cohort,
            file=path,
            expected="a data table",
            fix="download it again; an interrupted download leaves an empty file",
        )
    if head.startswith("<"):
        raise InputDataError(
            "the file is a web page (HTML/XML), not a data table",
            cohort=cohort,
            file=path,
            found=repr(text.lstrip()[:80]),
            expected="a tab- or comma-separated table",
            fix="the server returned an error or login page: check the URL and download again",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Text(text=text, path=path, encoding=encoding, notes=notes)


def split_comment_header(text: str, prefix: str = "#") -> tuple[list[str], str]:
    """Split off the leading lines that start with `prefix`; return (those lines, the rest)."""
    lines = text.split("\n")
    n = 0
    while n < len(lines) and lines[n].startswith(prefix):
        n += 1
    return lines[:n], "\n".join(lines[n:])


def sniff_delimiter(text: str, path=None) -> str:
    """Tab if the first line has a tab, else comma if it has a comma, else InputDataError."""
    first = text.split("\n", 1)[0]
    for sep in ("\t", ","):
        if sep in first:
            return sep
    raise InputDataError(
        "cannot tell the column delimiter: the first line has neither tabs nor commas",
        file=path,
        line=1,
        found=repr(first[:80]),
        expected="a tab- or comma-separated header line",
    )


def read_table(text: Text, body: str | None = None, *, sep=None, **read_csv_args) -> pd.DataFrame:
    """pandas.read_csv on decoded text (or on `body`, a part of it), quotes taken literally as
    in these tab-separated exports; the delimiter is sniffed when `sep` is None."""
    body = text.text if body is None else body
    sep = sep or sniff_delimiter(body, text.path)
    read_csv_args.setdefault("quoting", csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL)
    try:
        table = pd.read_csv(io.StringIO(body), sep=sep, **read_csv_args)
    except (pd.errors.ParserError, ValueError) as err:
        raise InputDataError(f"cannot parse the table: {err}", file=text.path) from err
    if table.shape[0] == 0:
        raise InputDataError(
            "the table has a header but no data rows",
            file=text.path,
            expected="at least one data row",
        )
    return table


def is_id_column(name) -> bool:
    """Column names like PATIENT_ID, sample_type_id, bcr_patient_barcode: values are labels."""
    return re.search(r"(_id|barcode)$", str(name), flags=re.IGNORECASE) is not None


def numbers_where_possible(table: pd.DataFrame, columns=None) -> list[str]:
    """Make float, in place, each of `columns` (default all; ids excepted) whose non-missing
    values are all numbers; return their names. Reading as str first keeps labels like "01"."""
    converted = []
    for column in table.columns if columns is None else columns:
        values = table[column]
        if is_id_column(column) or values.isna().all():
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        if not (values.notna() & numbers.isna()).any():
            table[column] = numbers.astype(float)
            converted.append(column)
    return converted
