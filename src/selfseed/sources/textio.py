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


def read_text(path, *, cohort=None, key=None, limit=None) -> Text:
    """Read a (possibly gzipped) text file as str: UTF-8 (BOM removed), else latin-1 with a note.

    CRLF and CR-only line ends become '\\n'. An empty file, or an HTML/XML page saved in place of
    the data (a portal error or login page), raises InputDataError naming the file. With `limit`,
    only about the first `limit` bytes (uncompressed) are read, cut after the last whole line."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            gzipped = handle.read(2) == GZIP_MAGIC
        opener = gzip.open if gzipped else open
        with opener(path, "rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit + 1)
    except (OSError, EOFError) as err:
        raise InputDataError(
            f"cannot read the file ({err})",
            cohort=cohort,
            file=path,
            key=key,
            fix="download or export it again: the file is damaged or cut short",
        ) from err
    if limit is not None and len(raw) > limit:
        last = max(raw.rfind(b"\n", 0, limit), raw.rfind(b"\r", 0, limit))
        raw = raw[: last + 1] if last > 0 else raw[:limit]
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
            key=key,
            expected="a data table",
            fix="download or export it again; an interrupted download leaves an empty file",
        )
    if head.startswith("<"):
        raise InputDataError(
            "the file is a web page (HTML/XML), not a data table",
            cohort=cohort,
            file=path,
            key=key,
            found=repr(text.lstrip()[:80]),
            expected="a tab- or comma-separated table",
            fix="the server returned an error or login page: check the URL and download again",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Text(text=text, path=path, encoding=encoding, notes=notes)


SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}


def header_cells(text: Text, sep: str, *, cohort=None, key=None) -> list[str]:
    """The cells of the first line, split by `sep` (quotes honoured, whitespace stripped).

    A first line without `sep` is a one-column read: InputDataError saying which delimiter the
    line does have (a .tsv that is comma-separated, a .csv saved with semicolons, ...)."""
    first = text.text.split("\n", 1)[0]
    if sep not in first:
        others = [other for other in SEPARATOR_NAMES if other != sep and other in first]
        found = (
            f"{SEPARATOR_NAMES[others[0]]}-separated first line {first[:80]!r}"
            if others
            else f"one column only: {first[:80]!r}"
        )
        raise InputDataError(
            f"the file is not {SEPARATOR_NAMES[sep]}-separated as its name says",
            cohort=cohort,
            file=text.path,
            line=1,
            key=key,
            found=found,
            expected=f"{SEPARATOR_NAMES[sep]}-separated columns (.tsv/.txt: tab, .csv: comma)",
            fix="rename the file to match its delimiter (.csv for commas, .tsv for tabs) or save "
            "it again with the expected delimiter"
            if others
            else "save the table with one column per field",
        )
    cells = next(csv.reader([first], delimiter=sep, skipinitialspace=True))
    return [cell.strip() for cell in cells]


def repeated(names) -> list[str]:
    """Names occurring more than once, in first-seen order."""
    seen, twice = set(), []
    for name in names:
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    return twice


def parser_line(error) -> int | None:
    """The line number in a pandas ParserError message ('... in line 7, saw 5'), if any."""
    match = re.search(r"line (\d+)", str(error))
    return int(match[1]) if match else None


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
