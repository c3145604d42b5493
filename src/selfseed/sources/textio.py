"""Low-level reading of public text tables: gzip, BOM, CR-only / CRLF line ends, latin-1,
web pages saved instead of data, empty files, tab-or-comma sniffing."""

import contextlib
import csv
import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from selfseed.errors import InputDataError, environment_failure
from selfseed.inflate import open_inflated

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 64 << 20  # the longest first (header) line read: ~3 million sample ids
# Excel workbooks: .xlsx (a zip archive) and the older .xls (an OLE2 compound file)
SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


@dataclass
class Text:
    """Decoded file content with '\\n' line ends, and what was done to get it."""

    text: str
    path: Path
    encoding: str
    notes: list[str] = field(default_factory=list)


def read_text(path, *, cohort=None, key=None, limit=None) -> Text:
    """Read a (possibly gzipped) text file as str: UTF-8 (BOM removed), else latin-1 with a note.

    CRLF and CR-only line ends become '\\n'. An empty file, an HTML/XML page saved in place of
    the data (a portal error or login page) or an Excel workbook raises InputDataError naming the
    file; so does a gzip file inflating beyond the limits (`selfseed.inflate`). With `limit`, only
    about the first `limit` bytes (uncompressed) are read, cut after the last whole line; a first
    line longer than `limit` is read to its end (at most MAX_LINE_BYTES)."""
    path = Path(path)
    with naming(cohort=cohort, key=key):
        raw = read_bytes(path, limit)
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


def read_bytes(path, limit=None) -> bytes:
    """The (inflated) bytes of a file, or its first lines (`read_text`'s `limit`)."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(8)
        if magic.startswith(SPREADSHEET_MAGIC):
            raise spreadsheet_error(path, magic)
        with open_inflated(path) as handle:
            return handle.read() if limit is None else first_lines(handle, limit, path)
    except (OSError, EOFError, zlib.error) as err:
        failure = environment_failure(err, path)
        if failure is not None:
            raise failure from None
        raise InputDataError(
            f"cannot read the file ({err})",
            file=path,
            fix="download or export it again: the file is damaged or cut short",
        ) from err


def first_lines(handle, limit, path) -> bytes:
    """About the first `limit` bytes of a binary stream, cut after the last whole line in them; the
    whole first line when it is longer (InputDataError beyond MAX_LINE_BYTES)."""
    raw = handle.read(limit + 1)
    if len(raw) <= limit:
        return raw
    last = max(raw.rfind(b"\n", 0, limit), raw.rfind(b"\r", 0, limit))
    if last > 0:
        return raw[: last + 1]
    line, searched = bytearray(raw), 0
    while len(line) <= MAX_LINE_BYTES:
        ends = [i for i in (line.find(b"\n", searched), line.find(b"\r", searched)) if i >= 0]
        if ends:
            return bytes(line[: min(ends) + 1])
        searched = len(line)
        block = handle.read(1 << 20)
        if not block:
            return bytes(line)  # a file of one line without a line end
        line += block
    raise InputDataError(
        "the first line is longer than the longest header read",
        file=path,
        line=1,
        found=f"no line end in the first {MAX_LINE_BYTES >> 20} MiB",
        expected="a table with one header line and one line per row (line ends \\n, \\r\\n or \\r)",
    )


def spreadsheet_error(path, magic):
    kind = (
        "an Excel .xlsx workbook (or another zip archive)"
        if magic.startswith(b"PK")
        else "an Excel .xls workbook"
    )
    return InputDataError(
        f"the file is {kind}, not a text table",
        file=path,
        found=f"{kind} (a binary file starting with {magic[:4]!r})",
        expected="a tab-separated (.tsv) or comma-separated (.csv) text table, or .parquet",
        fix="open it in Excel or LibreOffice and save the sheet as 'Text (tab delimited)' or CSV; "
        "check that gene symbols such as SEPT1 or MARCH1 were not turned into dates",
    )


@contextlib.contextmanager
def naming(*, cohort=None, key=None):
    """InputDataErrors raised in the block name `cohort` and `key` where they do not already."""
    try:
        yield
    except InputDataError as err:
        err.cohort, err.key = err.cohort or cohort, err.key or key
        raise


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
