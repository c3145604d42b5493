"""GEO series matrices and platform annotations: expression, sample characteristics, probe -> gene.

`read_series_matrix` parses the same content as GEOquery::getGEO(filename=...) (checked in
benchmarks/geo_ingest_vs_geoquery.py): the table is parsed by pyarrow's multithreaded CSV reader.
"""

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from selfseed.errors import ConfigError, InputDataError
from selfseed.inflate import check_inflated, is_gzip, open_inflated
from selfseed.sources.common import LoadedCohort, Source, log2_if_unlogged
from selfseed.sources.textio import read_table, read_text

TABLE_BEGIN = b"!series_matrix_table_begin"
TABLE_END = b"!series_matrix_table_end"
# GEOquery reads "NA", "null", "NULL", "Null" as missing; empty cells are missing too.
MISSING_VALUES = ["", "NA", "null", "NULL", "Null", "NaN", "nan"]
BLOCK_SIZE = 1 << 24  # bytes of text per parsing task
# Platform-table columns holding gene symbols, compared lower-case with '_' read as ' '.
SYMBOL_COLUMNS = ("gene symbol", "symbol", "gene sym")
GENE_ASSIGNMENT_COLUMN = "gene assignment"
NO_SYMBOL = {"", "---", "--", "-", "NA", "null"}
COLLAPSE_METHODS = ("max_mean", "mean", "median")
MULTI_GENE_RULES = ("drop", "first")


@dataclass
class SeriesMatrix:
    """One GEO series matrix file: expression (probes x GSM), sample annotations, series fields."""

    expression: pd.DataFrame
    samples: pd.DataFrame
    series: dict
    platform: str
    path: Path


def read_series_matrix(path) -> SeriesMatrix:
    """Read a GEO `GSExxx[-GPLyyy]_series_matrix.txt[.gz]` file.

    `expression`: float probes x samples, probe ids (str, quotes stripped) as index, GSM ids as
    columns; "null"/empty/"NA" and other non-numeric cells are NaN. `samples`: one row per GSM
    (index `sample_id`), the `!Sample_*` fields as columns (repeated fields as `field`, `field.1`,
    ... like GEOquery), plus every `!Sample_characteristics_chN` "key: value" cell as column
    `key:chN` (GEOquery's naming; a key given twice for a sample is joined with ';'; values
    without "key:" stay only in the raw `characteristics_chN[.k]` columns). `series`: the
    `!Series_*` fields, a list when repeated. `platform`: the samples' `!Sample_platform_id`.
    """
    path = Path(path)
    header, names, table_offset = _read_header(path)
    series, sample_rows, sample_lines = _header_fields(header)
    samples = _samples_table(sample_rows, sample_lines, path)
    expression = _expression_table(path, table_offset, names) if names else None
    if expression is None or expression.empty:
        raise _no_rows_error(path, samples, series)
    if list(samples.index) != list(expression.columns):
        raise InputDataError(
            "the expression table columns are not the samples of !Sample_geo_accession",
            file=path,
            found=list(expression.columns[:5]),
            expected=list(samples.index[:5]),
        )
    platforms = list(dict.fromkeys(samples["platform_id"])) if "platform_id" in samples else []
    platforms = platforms or _as_list(series.get("platform_id", []))
    if len(platforms) != 1:
        raise InputDataError(
            "cannot tell the platform of this series matrix",
            file=path,
            key="!Sample_platform_id",
            found=platforms,
            expected="one platform id (GEO writes one matrix per platform)",
        )
    return SeriesMatrix(expression, samples, series, platforms[0], path)


def _read_header(path: Path) -> tuple[list[str], list[str] | None, int]:
    """The lines above !series_matrix_table_begin, the table's column names (None when the table
    has no header line) and the byte offset (uncompressed) of the first table row."""
    try:
        with open_inflated(path) as handle:
            lines, offset = [], 0
            for line in handle:
                offset += len(line)
                if line.startswith(TABLE_BEGIN):
                    columns = handle.readline()
                    if not columns.strip() or columns.startswith(TABLE_END):
                        return lines, None, offset
                    names = [_unquote(c) for c in _decode(columns).rstrip("\r\n").split("\t")]
                    return lines, names, offset + len(columns)
                lines.append(_decode(line).rstrip("\r\n"))
    except (OSError, EOFError, zlib.error) as err:
        raise InputDataError(
            f"cannot read the file ({err})", file=path, fix="download it again"
        ) from err
    raise InputDataError(
        "not a GEO series matrix: there is no !series_matrix_table_begin line",
        file=path,
        found=repr(lines[0][:80]) if lines else "an empty file",
        expected="a GEO series matrix (GSExxx_series_matrix.txt.gz)",
    )


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _unquote(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"' else cell


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _header_fields(lines):
    """`!Series_*` fields -> dict (lists when repeated); `!Sample_*` rows and their line numbers."""
    series, sample_rows, sample_lines = {}, [], []
    for number, line in enumerate(lines, start=1):
        if line.startswith("!Series_"):
            name, _, value = line[len("!Series_") :].partition("\t")
            value = _unquote(value)
            if name in series:
                series[name] = [*_as_list(series[name]), value]
            else:
                series[name] = value
        elif line.startswith("!Sample_"):
            cells = line.split("\t")
            sample_rows.append([cells[0][len("!Sample_") :]] + [_unquote(c) for c in cells[1:]])
            sample_lines.append(number)
    return series, sample_rows, sample_lines


def _samples_table(rows, lines, path) -> pd.DataFrame:
    """One row per GSM from the `!Sample_*` lines, with `key:chN` characteristics columns."""
    accession = next((row[1:] for row in rows if row[0] == "geo_accession"), None)
    if accession is None:
        raise InputDataError(
            "the series matrix has no !Sample_geo_accession line",
            file=path,
            expected="a !Sample_geo_accession line listing the GSM ids",
        )
    columns, seen = {}, {}
    for row, line in zip(rows, lines, strict=True):
        if len(row) - 1 != len(accession):
            raise InputDataError(
                f"the !Sample_{row[0]} line has {len(row) - 1} values for {len(accession)} samples",
                file=path,
                line=line,
                expected="one tab-separated value per sample, as on !Sample_geo_accession",
            )
        count = seen.get(row[0], 0)
        seen[row[0]] = count + 1
        columns[row[0] if count == 0 else f"{row[0]}.{count}"] = row[1:]
    characteristics = {}
    for name, values in columns.items():
        channel = re.fullmatch(r"characteristics_(ch\d+)(?:\.\d+)?", name)
        if channel is None:
            continue
        for sample, cell in enumerate(values):
            key, colon, value = cell.partition(":")
            value = value.strip()
            if not colon or not value:
                continue
            column = characteristics.setdefault(f"{key.strip()}:{channel[1]}", {})
            column[sample] = f"{column[sample]};{value}" if sample in column else value
    samples = pd.DataFrame(columns, index=pd.Index(accession, name="sample_id"))
    samples = samples.replace("", None)
    parsed = {
        name: [values.get(i) for i in range(len(accession))]
        for name, values in characteristics.items()
    }
    return pd.concat([samples, pd.DataFrame(parsed, index=samples.index)], axis=1)


def _expression_table(path: Path, offset: int, names: list[str]) -> pd.DataFrame:
    """Parse the probes x samples rows, from byte `offset` to !series_matrix_table_end, as floats.

    pyarrow decompresses on one thread while parsing blocks on the others. Quotes are not
    parsed (GEO quotes ids, not numbers; a tab never occurs inside a cell): that is ~30% faster,
    and quoted cells are unquoted afterwards."""
    end_seen = []

    def end_marker(row):
        if row.text.startswith(TABLE_END.decode()):
            end_seen.append(row.number)
            return "skip"
        return "error"

    try:
        try:
            numbers = {names[0]: pa.string(), **{n: pa.float64() for n in names[1:]}}
            table = _read_matrix(path, offset, names, numbers, end_marker)
        except pa.ArrowInvalid as err:
            if "conversion error" not in str(err):
                raise
            # Quoted numbers or non-numeric cells: read as text, unquote, non-numbers -> NaN.
            texts = {n: pa.string() for n in names}
            table = _read_matrix(path, offset, names, texts, end_marker)
    except (pa.ArrowInvalid, OSError) as err:
        raise InputDataError(
            f"cannot parse the expression table: {err}",
            file=path,
            expected=f"{len(names)} tab-separated columns on every row ({names[0]} + samples)",
            fix="a row with another number of cells: the file is truncated or malformed; "
            "download it again",
        ) from err
    if not end_seen:
        raise InputDataError(
            "the series matrix ends without its !series_matrix_table_end line",
            file=path,
            expected="a complete file",
            fix="the download was probably cut short: download it again",
        )
    probes = _probe_ids(table.column(0), path, names[0])
    values = table.drop_columns([names[0]])
    del table
    expression = _numeric_values(values, names[1:])
    expression.index = probes
    return expression


def _read_matrix(path, offset, names, column_types, invalid_row_handler):
    """The table rows from byte `offset` as an Arrow table of `column_types`. A gzip file is
    inflated within selfseed.inflate's limits; pyarrow's threads see the stream end there, and
    check_inflated raises the InflationError afterwards."""
    inflated = open_inflated(path, quietly=True) if is_gzip(path) else None
    try:
        with pa.PythonFile(inflated, mode="r") if inflated else pa.OSFile(str(path)) as stream:
            stream.read(offset)
            return pacsv.read_csv(
                stream,
                pacsv.ReadOptions(column_names=names, block_size=BLOCK_SIZE),
                pacsv.ParseOptions(
                    delimiter="\t", quote_char=False, invalid_row_handler=invalid_row_handler
                ),
                pacsv.ConvertOptions(
                    column_types=column_types,
                    null_values=MISSING_VALUES,
                    strings_can_be_null=True,
                ),
            )
    finally:
        if inflated:
            check_inflated(inflated)


def _probe_ids(column, path, name):
    """The probe ids (unquoted): present and unique, or a named error."""
    probes = pd.Index(_unquoted(column).to_numpy(zero_copy_only=False), name="probe_id")
    if probes.isna().any() or (probes == "").any() or not probes.is_unique:
        raise InputDataError(
            "the expression table has missing or repeated probe ids",
            file=path,
            column=name,
            found=list(probes[probes.isna() | (probes == "") | probes.duplicated()][:5]),
            expected="one row per probe id",
        )
    return probes


def _numeric_values(values, names):
    """The sample columns as a float DataFrame: text columns unquoted and non-numbers NaN."""
    if any(column.type != pa.float64() for column in values.columns):
        values = pa.table([_unquoted(column) for column in values.columns], names=names)
        return values.to_pandas().apply(pd.to_numeric, errors="coerce").astype(float)
    return values.to_pandas(self_destruct=True)


def _unquoted(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text cells without their enclosing double quotes (the table is parsed without quoting)."""
    return pc.replace_substring_regex(column, pattern='^"(.*)"$', replacement=r"\1")


def _no_rows_error(path, samples, series) -> InputDataError:
    counts = samples.get("data_row_count")
    said = ""
    if counts is not None and (counts.astype(str) == "0").all():
        said = f"; GEO gives !Sample_data_row_count 0 for all {len(samples)} samples"
    files = [Path(f).name for f in _as_list(series.get("supplementary_file", [])) if f]
    fix = (
        "the data are only in GEO's supplementary files of this series ("
        + ", ".join(files)
        + "): download and read those instead"
        if files
        else "use a series with expression values in its series matrix"
    )
    return InputDataError(
        "the series matrix has no expression rows: only the column header lies between "
        "!series_matrix_table_begin and !series_matrix_table_end" + said,
        file=path,
        found="0 expression rows",
        expected="one row per probe",
        fix=fix,
    )


def read_platform_annotation(path) -> pd.DataFrame:
    """Probe -> gene symbol from a GEO platform file: columns `probe_id`, `gene_symbol`.

    Reads `.annot[.gz]` files (the `!platform_table_begin` block, `ID` and `Gene symbol`),
    platform SOFT files and full platform `.txt` tables (`#` comment lines, then the table). The
    symbol column is the first named `Gene Symbol`/`GENE_SYMBOL`/`Symbol`/`Gene_Sym`, else
    Affymetrix `gene_assignment` ("NM_x // SYMBOL // ... /// ..."; the 2nd field of each record).
    Several genes are joined as "A///B"; probes without a symbol have gene_symbol NaN."""
    text = read_text(path)
    lines = text.text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("!platform_table_begin")]
    start = starts[0] + 1 if starts else 0
    while not starts and start < len(lines) and lines[start][:1] in ("#", "!", "^"):
        start += 1
    stop = next((i for i in range(start, len(lines)) if lines[i][:1] in ("!", "^")), len(lines))
    table = read_table(
        text, "\n".join(lines[start:stop]), sep="\t", dtype=str, keep_default_na=False
    )
    if "ID" not in table.columns:
        raise InputDataError(
            "the platform table has no ID column",
            file=text.path,
            found=list(table.columns[:10]),
            expected="a GEO platform table whose first column is ID",
        )
    normalised = {c: " ".join(c.replace("_", " ").lower().split()) for c in table.columns}
    symbol_column = next((c for c in table.columns if normalised[c] in SYMBOL_COLUMNS), None)
    if symbol_column is not None:
        symbols = table[symbol_column].map(_clean_symbols)
    else:
        symbol_column = next(
            (c for c in table.columns if normalised[c] == GENE_ASSIGNMENT_COLUMN), None
        )
        if symbol_column is None:
            raise InputDataError(
                "the platform table has no gene symbol column",
                file=text.path,
                found=list(table.columns),
                expected="a column 'Gene symbol', 'Gene Symbol', 'GENE_SYMBOL', 'Symbol' or "
                "'gene_assignment'",
                fix="use the platform's .annot.gz file from GEO, or the full platform table",
            )
        symbols = table[symbol_column].map(_gene_assignment_symbols)
    return pd.DataFrame({"probe_id": table["ID"].str.strip(), "gene_symbol": symbols})


def _clean_symbols(cell: str):
    """'A /// B' -> 'A///B'; no symbol -> None."""
    genes = [g.strip() for g in cell.split("///")]
    genes = list(dict.fromkeys(g for g in genes if g not in NO_SYMBOL))
    return "///".join(genes) if genes else None


def _gene_assignment_symbols(cell: str):
    """'NM_1 // A // name // loc // id /// NR_2 // B // ...' -> 'A///B'; '---' -> None."""
    genes = []
    for record in cell.split("///"):
        fields = record.split("//")
        if len(fields) > 1 and fields[1].strip() not in NO_SYMBOL:
            genes.append(fields[1].strip())
    genes = list(dict.fromkeys(genes))
    return "///".join(genes) if genes else None


def probes_to_genes(expression, annotation, *, multi_gene, collapse):
    """Probes x samples -> genes x samples, and a table of the dropped probes with the reason.

    Dropped: AFFX control probes, probes absent from the annotation or without a gene symbol,
    multi-gene probes ('A///B'; `multi_gene="first"` keeps them under their first symbol). Several
    probes of one gene are collapsed by `collapse`: "max_mean" keeps the probe with the highest
    mean over samples (ties: the first), "mean"/"median" average the probes sample by sample."""
    if multi_gene not in MULTI_GENE_RULES:
        raise ConfigError(
            "unknown rule for multi-gene probes",
            key="multi_gene",
            found=multi_gene,
            expected=" or ".join(MULTI_GENE_RULES),
        )
    if collapse not in COLLAPSE_METHODS:
        raise ConfigError(
            "unknown method to collapse probes of one gene",
            key="collapse",
            found=collapse,
            expected=", ".join(COLLAPSE_METHODS),
        )
    annotation = annotation.assign(probe_id=annotation["probe_id"].astype(str))
    repeated = annotation["probe_id"][annotation["probe_id"].duplicated()]
    if len(repeated):
        raise InputDataError(
            "the platform annotation lists some probe ids more than once",
            column="probe_id",
            found=list(repeated[:5]),
            expected="one row per probe",
        )
    probes = expression.index.astype(str)
    if not probes.is_unique:
        raise InputDataError(
            "the expression table repeats some probe ids",
            found=list(probes[probes.duplicated()][:5]),
            expected="one row per probe",
        )
    symbol = pd.Series(
        probes.map(annotation.set_index("probe_id")["gene_symbol"]), index=probes, dtype=object
    )
    in_annotation = probes.isin(annotation["probe_id"])
    reason = pd.Series(None, index=probes, dtype=object)
    multi = symbol.str.contains("///", regex=False, na=False)
    for dropped, why in (
        (probes.str.upper().str.startswith("AFFX"), "AFFX control probe"),
        (~in_annotation, "not in the platform annotation"),
        (symbol.isna(), "no gene symbol"),
        (multi & (multi_gene == "drop"), "multi-gene probe (///)"),
    ):
        reason[np.asarray(dropped) & reason.isna()] = why
    symbol = symbol.str.split("///", regex=False).str[0]
    kept = reason.isna().to_numpy()
    values = pd.DataFrame(
        expression.to_numpy()[kept], index=probes[kept], columns=expression.columns
    )
    genes = symbol[kept]
    if collapse == "max_mean":
        order = values.mean(axis=1).sort_values(ascending=False, kind="stable", na_position="last")
        best = genes[order.index].drop_duplicates()
        winner = pd.Series(best.index, index=best.to_numpy())
        losers = genes[~genes.index.isin(best.index)]
        reason[losers.index] = (
            "collapsed: lower mean than " + winner[losers].to_numpy() + " for " + losers.to_numpy()
        )
        by_gene = values.loc[best.index].set_axis(best.to_numpy()).sort_index()
    else:
        by_gene = values.groupby(genes.to_numpy()).agg(collapse)
    by_gene.index.name = "gene"
    dropped = reason.dropna()
    return by_gene, pd.DataFrame({"probe_id": dropped.index, "reason": dropped.to_numpy()})


class Geo(Source):
    """A GEO series (`accession`) on one platform (`platform`): the series matrix and the
    platform annotation are downloaded; probes are mapped to genes by the annotation."""

    def downloads(self, entry, config):
        from selfseed.download import geo_platform_annot_url, geo_series_matrix_url

        base = config["download"]["geo_base_url"]
        gpl = entry["platform"]
        matrix = geo_series_matrix_url(
            entry["accession"], gpl if entry["multi_platform"] else None, base_url=base
        )
        return {"matrix": matrix, "annotation": geo_platform_annot_url(gpl, base_url=base)}

    def download_key(self, kind):
        return "download.geo_base_url"

    def load(self, entry, files, *, cohort):
        """Genes x samples, clinical by GSM (the series matrix's sample fields, characteristics as
        `key:ch1`), and the probes dropped with reasons."""
        from selfseed.files import sha256

        series = read_series_matrix(files["matrix"])
        annotation = read_platform_annotation(files["annotation"])
        probes, log2_note = log2_if_unlogged(series.expression)
        genes, dropped = probes_to_genes(
            probes, annotation, multi_gene=entry["multi_gene"], collapse=entry["collapse"]
        )
        if genes.empty:
            raise InputDataError(
                "the platform annotation maps no probe of the series matrix to a gene",
                cohort=cohort,
                file=files["annotation"],
                found=f"{len(series.expression)} probes, {len(annotation)} annotated",
                expected=f"the annotation of {entry['platform']}",
            )
        clinical = series.samples.copy()
        clinical.index = clinical.index.astype(str)
        provenance = {
            "source": "geo",
            "accession": entry["accession"],
            "platform": entry["platform"],
            "files": [f"{path} sha256:{sha256(path)}" for path in files.values()],
            "log2": log2_note,
            "clinical_file": str(files["matrix"]),
        }
        dropped = pd.DataFrame(
            {"kind": "probe", "id": dropped["probe_id"], "reason": dropped["reason"], "detail": ""}
        )
        return LoadedCohort(genes, clinical, provenance, dropped)


SOURCE = Geo()
