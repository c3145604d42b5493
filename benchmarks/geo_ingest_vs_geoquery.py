"""Benchmark: selfseed.sources.geo.read_series_matrix vs R's GEOquery::getGEO(filename=...).

Writes a seeded GPL570-like series matrix in GEO's format (default 500 samples x 54,675 probes,
gzipped), parses it in a fresh Python process and in a fresh Rscript process (each run `--repeats`
times), checks both give the same probe x sample values (|difference| <= 1e-9, same missing
cells) and prints parse time, process wall time and peak RSS for both, and the speed-up.

Needs R with GEOquery (`apt-get install -y --no-install-recommends r-bioc-geoquery`) and
/usr/bin/time (peak RSS).
Run: .venv/bin/python benchmarks/geo_ingest_vs_geoquery.py [--samples 500] [--repeats 3]
"""

import argparse
import gzip
import io
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from selfseed.sources.geo import read_series_matrix

OUT = Path(__file__).resolve().parent / "out"
N_AFFX = 62  # GPL570 has 62 AFFX control probes
R_PARSE = r"""
suppressPackageStartupMessages(library(GEOquery))
args <- commandArgs(trailingOnly = TRUE)
parse <- system.time(eset <- getGEO(filename = args[1], getGPL = FALSE))
values <- exprs(eset)
storage.mode(values) <- "double"
writeBin(as.vector(values), args[2])
writeLines(rownames(values), args[3])
writeLines(colnames(values), args[4])
cat(sprintf("PARSE %.3f %.3f\n", parse[["elapsed"]], parse[["user.self"]] + parse[["sys.self"]]))
"""
PY_PARSE = """
import sys, time
from selfseed.sources.geo import read_series_matrix
wall, cpu = time.perf_counter(), time.process_time()
matrix = read_series_matrix(sys.argv[1])
print(f"PARSE {time.perf_counter() - wall:.3f} {time.process_time() - cpu:.3f}")
"""


def gpl570_like_ids(n_probes: int) -> list[str]:
    """Affymetrix HG-U133 Plus 2-style probe set ids: numbered _at/_s_at/_x_at, then AFFX."""
    suffixes = ["_at", "_s_at", "_at", "_x_at", "_at", "_a_at"]
    ids = [f"{1552256 + i}{suffixes[i % len(suffixes)]}" for i in range(n_probes - N_AFFX)]
    return ids + [f"AFFX-Ctrl{i:02d}-{'5M3'[i % 3]}_at" for i in range(N_AFFX)]


def header_lines(gsm: list[str], n_probes: int, rng) -> list[str]:
    """!Series_* and !Sample_* lines as GEO writes them (tab-separated, quoted)."""

    def line(name, values):
        return name + "\t" + "\t".join(f'"{v}"' for v in values)

    n = len(gsm)
    series = [
        '!Series_title\t"Breast tumour expression profiles (benchmark)"',
        '!Series_geo_accession\t"GSE999999"',
        '!Series_status\t"Public on Jan 01 2020"',
        '!Series_summary\t"Primary breast tumours with follow-up for locoregional recurrence."',
        '!Series_overall_design\t"Fresh-frozen primary tumours hybridised to HG-U133 Plus 2."',
        '!Series_type\t"Expression profiling by array"',
        f'!Series_sample_id\t"{" ".join(gsm)} "',
        '!Series_contact_name\t"Jane,,Doe"',
        '!Series_supplementary_file\t"ftp://ftp.ncbi.nlm.nih.gov/geo/series/GSE999nnn/'
        'GSE999999/suppl/GSE999999_RAW.tar"',
        '!Series_platform_id\t"GPL570"',
        '!Series_platform_taxid\t"9606"',
        '!Series_sample_taxid\t"9606"',
        "",
    ]
    grade = rng.integers(1, 4, n)
    age = rng.integers(28, 90, n)
    er = rng.choice(["positive", "negative"], n)
    recurrence = rng.choice(["0", "1"], n, p=[0.85, 0.15])
    months = np.round(rng.exponential(60, n), 1)
    samples = [
        line("!Sample_title", [f"Primary breast tumour {i + 1}" for i in range(n)]),
        line("!Sample_geo_accession", gsm),
        line("!Sample_status", ["Public on Jan 01 2020"] * n),
        line("!Sample_submission_date", ["Dec 01 2019"] * n),
        line("!Sample_last_update_date", ["Jan 01 2020"] * n),
        line("!Sample_type", ["RNA"] * n),
        line("!Sample_channel_count", ["1"] * n),
        line("!Sample_source_name_ch1", ["primary breast tumour"] * n),
        line("!Sample_organism_ch1", ["Homo sapiens"] * n),
        line("!Sample_characteristics_ch1", ["tissue: breast tumour"] * n),
        line("!Sample_characteristics_ch1", [f"age: {a}" for a in age]),
        line("!Sample_characteristics_ch1", [f"er status: {e}" for e in er]),
        line("!Sample_characteristics_ch1", [f"grade: {g}" for g in grade]),
        line("!Sample_characteristics_ch1", [f"local recurrence: {r}" for r in recurrence]),
        line("!Sample_characteristics_ch1", [f"time to recurrence (months): {m}" for m in months]),
        line("!Sample_molecule_ch1", ["total RNA"] * n),
        line("!Sample_extract_protocol_ch1", ["RNeasy (Qiagen) per the manufacturer."] * n),
        line("!Sample_label_ch1", ["biotin"] * n),
        line("!Sample_label_protocol_ch1", ["Affymetrix IVT labelling protocol."] * n),
        line("!Sample_taxid_ch1", ["9606"] * n),
        line("!Sample_hyb_protocol", ["Affymetrix standard protocol."] * n),
        line("!Sample_scan_protocol", ["GeneChip Scanner 3000."] * n),
        line("!Sample_description", ["Gene expression data from a primary tumour."] * n),
        line("!Sample_data_processing", ["RMA (affy), log2 scale."] * n),
        line("!Sample_platform_id", ["GPL570"] * n),
        line("!Sample_contact_name", ["Jane,,Doe"] * n),
        line("!Sample_supplementary_file", [f"ftp://ftp.example/{g}.CEL.gz" for g in gsm]),
        line("!Sample_data_row_count", [str(n_probes)] * n),
    ]
    return series + samples


def write_series_matrix(path: Path, n_samples: int, n_probes: int, seed: int) -> None:
    """A GEO-format series matrix of RMA-like log2 values (5 decimals), a few 'null' cells."""
    rng = np.random.default_rng(seed)
    gsm = [f"GSM{7000000 + i}" for i in range(n_samples)]
    ids = gpl570_like_ids(n_probes)
    probe_mean = rng.uniform(2.5, 13.0, n_probes)
    values = np.round(probe_mean[:, None] + rng.normal(0, 0.6, (n_probes, n_samples)), 5)
    values[rng.random(values.shape) < 1e-4] = np.nan
    table = pa.table({g: pa.array(values[:, j], from_pandas=True) for j, g in enumerate(gsm)})
    block = io.BytesIO()
    options = pacsv.WriteOptions(
        include_header=False, delimiter="\t", quoting_style="none", null_string="null"
    )
    pacsv.write_csv(table, block, options)
    rows = block.getvalue().decode().split("\n")[:-1]
    text = "\n".join(header_lines(gsm, n_probes, rng)) + "\n!series_matrix_table_begin\n"
    text += "\t".join(['"ID_REF"'] + [f'"{g}"' for g in gsm]) + "\n"
    text += "\n".join(f'"{i}"\t{row}' for i, row in zip(ids, rows, strict=True))
    text += "\n!series_matrix_table_end\n"
    path.write_bytes(gzip.compress(text.encode(), compresslevel=6))


def run(command: list[str]) -> dict[str, float]:
    """Run a parse under /usr/bin/time: parse wall and CPU seconds (as the process reports them),
    process wall and CPU seconds, peak RSS (MiB).

    /usr/bin/time forks the command from a small process, so the peak RSS is the command's own
    (a child forked straight from this large process would start from this one's high-water mark).
    """
    report = OUT / "time.txt"
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(report), *command],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{done.stderr[-3000:]}")
    rss, user, system = report.read_text().split()[-3:]
    parse = next(line.split()[1:] for line in done.stdout.splitlines() if line.startswith("PARSE"))
    return {
        "parse wall s": float(parse[0]),
        "parse CPU s": float(parse[1]),
        "process wall s": wall,
        "process CPU s": float(user) + float(system),
        "peak RSS MiB": int(rss) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--probes", type=int, default=54675)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    matrix = OUT / f"GSE999999-s{args.samples}-p{args.probes}-seed{args.seed}_series_matrix.txt.gz"
    if not matrix.exists():
        start = time.perf_counter()
        write_series_matrix(matrix, args.samples, args.probes, args.seed)
        print(f"wrote {matrix.name} in {time.perf_counter() - start:.1f} s")
    size = matrix.stat().st_size / 2**20
    print(f"input: {args.probes} probes x {args.samples} samples, {size:.1f} MiB gzipped")
    r_script, r_values = OUT / "getgeo_parse.R", OUT / "geoquery_exprs.f64"
    r_rows, r_cols = OUT / "geoquery_rownames.txt", OUT / "geoquery_colnames.txt"
    r_script.write_text(R_PARSE)

    py, r = [], []
    for _ in range(args.repeats):
        py.append(run([sys.executable, "-c", PY_PARSE, str(matrix)]))
        r.append(
            run(["Rscript", str(r_script), str(matrix), str(r_values), str(r_rows), str(r_cols)])
        )

    ours = read_series_matrix(matrix).expression
    probes, samples = r_rows.read_text().split("\n")[:-1], r_cols.read_text().split("\n")[:-1]
    theirs = np.fromfile(r_values, dtype="<f8").reshape(len(samples), len(probes)).T
    same_labels = probes == list(ours.index) and samples == list(ours.columns)
    same_missing = np.array_equal(np.isnan(theirs), np.isnan(ours.to_numpy()))
    difference = np.nanmax(np.abs(np.nan_to_num(theirs) - np.nan_to_num(ours.to_numpy())))
    print(
        f"same probe ids and GSM order: {same_labels}; same missing cells: {same_missing} "
        f"({int(np.isnan(theirs).sum())}); max |difference| = {difference:.3g}"
    )
    if not (same_labels and same_missing and difference <= 1e-9):
        sys.exit("FAIL: read_series_matrix and GEOquery disagree")

    measures = list(py[0])
    median = {
        name: {k: statistics.median(one[k] for one in runs) for k in measures}
        for name, runs in (("selfseed read_series_matrix", py), ("GEOquery::getGEO", r))
    }
    print(f"median of {args.repeats} runs".ljust(29) + "".join(f"{k:>16s}" for k in measures))
    for name, row in median.items():
        print(f"{name:29s}" + "".join(f"{row[k]:16.2f}" for k in measures))
    py_median, r_median = median.values()
    ratios = ", ".join(f"{k} {r_median[k] / py_median[k]:.1f}x" for k in measures if "RSS" not in k)
    print(f"speed-up (GEOquery / selfseed): {ratios}; goal >= 5x on parse wall")
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
