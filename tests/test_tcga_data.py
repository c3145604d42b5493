"""The embedded TCGA cohorts (src/selfseed/data/tcga): rebuilt byte for byte from ../shared/data, and
faithful to the RTCGA expression and clinical files and to the TCGA-CDR sheet."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import REPO, load_tool
from selfseed.presets import read_tcga_cdr, tcga_cdr_locoregional

EMBEDDED = REPO / "src" / "selfseed" / "data" / "tcga"
COHORTS = ["ACC", "CHOL", "UCS"]
# Patients with a primary-tumour expression profile: (LR first, competing first, censored, dropped).
ENDPOINT_COUNTS = {"ACC": (9, 33, 37, 0), "CHOL": (12, 7, 17, 0), "UCS": (14, 21, 15, 7)}
EVENT_ROWS = {"ACC": 116, "CHOL": 47, "UCS": 80}
EVENT_FIELDS = [
    "new_neoplasm_event_type",
    "days_to_new_tumor_event_after_initial_treatment",
    "new_neoplasm_event_occurrence_anatomic_site",
    "new_neoplasm_occurrence_anatomic_site_text",
]


@pytest.fixture(scope="module")
def shared_cdr(tcga_cdr_sheet):
    return tcga_cdr_sheet


@pytest.fixture(scope="module")
def embedded_cdr():
    return read_tcga_cdr(EMBEDDED / "cdr.tsv")


@pytest.fixture(scope="module")
def events():
    return pd.read_csv(
        EMBEDDED / "new_tumor_events.tsv", sep="\t", dtype=str, keep_default_na=False
    )


def test_rebuild_gives_the_committed_bytes(shared_data, rtcga, tmp_path, monkeypatch):
    """tools/build_tcga_data.py's build, reading each .rda file through the session's copy (the
    same rdata.read_rda; the other tests here read the same files)."""
    tool = load_tool("build_tcga_data")
    monkeypatch.setattr(tool, "read_r_frame", lambda path: rtcga(path.name).copy())
    tool.build(shared_data, tmp_path)
    committed = sorted(p.name for p in EMBEDDED.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    assert len(committed) == 7
    for name in committed:
        assert (tmp_path / name).read_bytes() == (EMBEDDED / name).read_bytes(), name


def test_embedded_data_stays_small():
    assert sum(p.stat().st_size for p in EMBEDDED.iterdir()) < 12e6


@pytest.mark.parametrize("cohort", COHORTS)
def test_expression_is_the_source_primary_tumours(rtcga, cohort):
    table = pq.read_table(EMBEDDED / f"{cohort}.rsem.parquet")
    source = rtcga(f"{cohort}.rnaseq.20160128.rda")
    barcodes = table.column_names[1:]
    assert table.column_names[0] == "gene"
    assert barcodes == sorted(barcodes)
    assert all(barcode[13:15] == "01" for barcode in barcodes)
    patients = [barcode[:12] for barcode in barcodes]
    assert len(set(patients)) == len(patients)
    source_barcodes = source["bcr_patient_barcode"].astype(str)
    source_primary = source_barcodes[source_barcodes.str[13:15] == "01"]
    assert set(patients) == set(source_primary.str[:12])
    genes = table.column("gene").to_pylist()
    assert len(genes) == 20531
    assert genes == [str(gene) for gene in source.columns[1:]]
    assert "IL8|3576" in genes
    assert "?|100130426" in genes
    source_rows = pd.Series(range(len(source)), index=source_barcodes.to_numpy())
    values = source[source.columns[1:]].to_numpy()
    for barcode in barcodes:
        embedded = table.column(barcode).to_numpy()
        assert embedded.dtype == np.float64
        assert np.array_equal(
            embedded.view(np.uint64), values[source_rows[barcode]].view(np.uint64)
        )


def test_cdr_extract_reads_as_the_sheet(embedded_cdr, shared_cdr):
    sheet = shared_cdr.set_index("bcr_patient_barcode").loc[embedded_cdr["bcr_patient_barcode"]]
    pd.testing.assert_frame_equal(embedded_cdr, sheet.reset_index(), check_dtype=False)
    text = (EMBEDDED / "cdr.tsv").read_text()
    assert "#N/A" in text
    assert "[Not Available]" in text
    assert ".0\t" not in text


@pytest.mark.parametrize("cohort", COHORTS)
def test_cdr_extract_gives_the_sheet_endpoint(embedded_cdr, shared_cdr, cohort):
    patients = embedded_cdr.loc[embedded_cdr["type"] == cohort, "bcr_patient_barcode"]
    expression = pq.read_schema(EMBEDDED / f"{cohort}.rsem.parquet").names[1:]
    assert sorted(patients) == sorted(barcode[:12] for barcode in expression)
    embedded, embedded_dropped = tcga_cdr_locoregional(embedded_cdr, cohort)
    shared, shared_dropped = tcga_cdr_locoregional(shared_cdr, cohort)
    shared = shared[shared.index.isin(patients)]
    shared_dropped = shared_dropped[shared_dropped["sample_id"].isin(patients)]
    endpoint = ["time_months", "event", "first_event"]
    pd.testing.assert_frame_equal(embedded[endpoint], shared[endpoint])
    pd.testing.assert_frame_equal(embedded_dropped, shared_dropped.reset_index(drop=True))

    def counts(clinical, dropped):
        return (*(int((clinical["event"] == code).sum()) for code in (1, 2, 0)), len(dropped))

    assert counts(embedded, embedded_dropped) == ENDPOINT_COUNTS[cohort]
    assert counts(shared, shared_dropped) == ENDPOINT_COUNTS[cohort]


@pytest.mark.parametrize("cohort", COHORTS)
def test_new_tumour_events_are_the_clinical_records(rtcga, embedded_cdr, events, cohort):
    rows = events[events["cancer_type"] == cohort]
    assert len(rows) == EVENT_ROWS[cohort]
    cdr = embedded_cdr[embedded_cdr["type"] == cohort].set_index("bcr_patient_barcode")
    assert sorted(rows["bcr_patient_barcode"].unique()) == sorted(cdr.index)
    recorded = rows[rows["record"] != ""]
    empty = rows[rows["record"] == ""]
    assert (empty[EVENT_FIELDS] == "").all(axis=None)
    assert not empty["bcr_patient_barcode"].duplicated().any()
    assert not set(empty["bcr_patient_barcode"]) & set(recorded["bcr_patient_barcode"])
    assert ((recorded["new_neoplasm_event_type"] != "") | (recorded[EVENT_FIELDS[1]] != "")).all()

    clinical = rtcga(f"{cohort}.clinical.20160128.rda")
    clinical = clinical.set_index("patient.bcr_patient_barcode")
    for row in recorded.itertuples(index=False):
        source = clinical.loc[row.bcr_patient_barcode.lower()]
        for field in EVENT_FIELDS:
            value = source.get(f"{row.record}.{field}")
            assert getattr(row, field) == ("" if pd.isna(value) else value)

    days = pd.to_numeric(recorded[EVENT_FIELDS[1]])
    earliest = days.groupby(recorded["bcr_patient_barcode"]).min()
    cdr_days = cdr["new_tumor_event_dx_days_to"].dropna()
    assert len(cdr_days) > 0
    assert earliest.reindex(cdr_days.index).tolist() == cdr_days.tolist()
    assert set(empty["bcr_patient_barcode"]) == set(cdr.index) - set(earliest.index)
