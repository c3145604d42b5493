"""A GEO cohort end to end through the real download path: a local HTTP server on 127.0.0.1 serves a
series matrix in GEO's format and the real GPL97 annotation; snakemake downloads, parses, maps and models.

The series matrix carries real expression values (GEO GDS507, HG-U133B, 17 samples); its survival
characteristics are made by this test (seeded), since no shipped GEO fixture has an endpoint.
"""

import functools
import gzip
import http.server
import shutil
import threading

import numpy as np
import pandas as pd
import pytest
from test_workflow import config_with, snakemake, workdir

from selfseed.download import cache_path, geo_series_matrix_url


def gds_values(path):
    """Probe x GSM values of a GDS SOFT file."""
    lines = gzip.open(path, "rt").read().splitlines()
    start = lines.index("!dataset_table_begin") + 1
    end = lines.index("!dataset_table_end")
    rows = [line.split("\t") for line in lines[start:end]]
    table = pd.DataFrame(rows[1:], columns=rows[0]).set_index("ID_REF").drop(columns="IDENTIFIER")
    return table.apply(pd.to_numeric, errors="coerce")


def series_matrix_text(values, months, status):
    quoted = lambda items: "\t".join(f'"{item}"' for item in items)  # noqa: E731
    samples = list(values.columns)
    header = [
        '!Series_title\t"selfseed test series (GDS507 values, test-made follow-up)"',
        '!Series_geo_accession\t"GSE999001"',
        '!Series_platform_id\t"GPL97"',
        "!Sample_title\t" + quoted(f"tumour {i}" for i in range(len(samples))),
        "!Sample_geo_accession\t" + quoted(samples),
        "!Sample_platform_id\t" + quoted(["GPL97"] * len(samples)),
        "!Sample_characteristics_ch1\t" + quoted(f"rfs months: {m}" for m in months),
        "!Sample_characteristics_ch1\t" + quoted(f"relapse: {s}" for s in status),
        "!series_matrix_table_begin",
        quoted(["ID_REF", *samples]),
    ]
    body = [
        "\t".join([f'"{probe}"', *("null" if np.isnan(v) else f"{v:g}" for v in row)])
        for probe, row in zip(values.index, values.to_numpy(), strict=True)
    ]
    return "\n".join(header + body + ["!series_matrix_table_end", ""])


@pytest.fixture
def geo_server(tmp_path, shared_data):
    """GEO's folder layout under tmp/server, served on a free port of 127.0.0.1."""
    values = gds_values(shared_data / "geo" / "GDS507.soft.gz")
    rng = np.random.default_rng(507)
    months = np.round(rng.uniform(3, 90, values.shape[1]), 1)
    status = np.where(rng.uniform(size=values.shape[1]) < 0.5, "yes", "no")
    root = tmp_path / "server" / "geo"
    matrix = root / "series" / "GSE999nnn" / "GSE999001" / "matrix"
    matrix.mkdir(parents=True)
    with gzip.open(matrix / "GSE999001_series_matrix.txt.gz", "wt") as handle:
        handle.write(series_matrix_text(values, months, status))
    annot = root / "platforms" / "GPLnnn" / "GPL97" / "annot"
    annot.mkdir(parents=True)
    shutil.copy(shared_data / "geo" / "GPL97.annot.gz", annot / "GPL97.annot.gz")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=tmp_path / "server")
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/geo", values, status
    server.shutdown()


@pytest.mark.workflow
def test_geo_cohort_from_download_to_cox_table(tmp_path, geo_server):
    base_url, values, status = geo_server
    config = config_with({})
    # none of the five self-seeding genes is on HG-U133B: a test signature of three genes that are
    config["signatures"] = {**config["signatures"], "u133b_test": ["KLHL13", "ZNF280D", "EIF4G2"]}
    config["primary"] = {"signature": "u133b_test"}
    config["download"] = {"cache_dir": "cache", "geo_base_url": base_url}
    config["cohorts"] = {
        "gds507": {
            "source": "geo",
            "accession": "GSE999001",
            "platform": "GPL97",
            "endpoint": {
                "name": "RFS",
                "label": "relapse-free survival (test-made)",
                "time_column": "rfs months:ch1",
                "time_unit": "months",
                "event_column": "relapse:ch1",
                "event_values": ["yes"],
                "censored_values": ["no"],
            },
        }
    }
    (tmp_path / "run").mkdir()
    path = workdir(tmp_path / "run", config)
    result = snakemake(path)
    assert result.returncode == 0, result.stderr[-3000:]
    matrix = cache_path(geo_series_matrix_url("GSE999001", base_url=base_url), path / "cache")
    assert matrix.with_name(matrix.name + ".manifest.json").exists()  # <host>/<URL path>
    cox = pd.read_csv(path / "results" / "tables" / "cox.tsv", sep="\t")
    fitted = cox[cox["signature"] == "u133b_test"]
    assert len(fitted) == 3
    assert fitted["hr"].notna().all()
    assert (fitted["n"] == values.shape[1]).all()
    assert (fitted["events"] == (status == "yes").sum()).all()
    skipped = cox[cox["signature"] == "attractor"]
    assert skipped["note"].str.contains("0 of 2 genes present").all()
    dropped = pd.read_csv(path / "results" / "qc" / "gds507.dropped.tsv", sep="\t")
    assert (dropped["reason"] == "multi-gene probe (///)").any()
    # rerun: everything is cached and up to date, no request is needed
    again = snakemake(path, "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr
