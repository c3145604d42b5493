"""TCGA barcodes, log2-CPM, UCSC Xena files (real files)."""

import math

import numpy as np
import pandas as pd
import pytest

from selfseed.sources.xena import (
    counts_to_log2cpm,
    primary_tumour_one_per_patient,
    read_xena_matrix,
    read_xena_phenotype,
)


@pytest.fixture(scope="module")
def xena(shared_data):
    return shared_data / "xena"


def test_log2cpm_by_hand():
    counts = pd.DataFrame({"s1": [0, 10], "s2": [30, 10]}, index=["g1", "g2"])
    # libraries 10 and 40, mean 25; priors 2 * 10/25 = 0.8 and 2 * 40/25 = 3.2
    expected = [
        [math.log2(0.8 / 11.6 * 1e6), math.log2(33.2 / 46.4 * 1e6)],
        [math.log2(10.8 / 11.6 * 1e6), math.log2(13.2 / 46.4 * 1e6)],
    ]
    assert counts_to_log2cpm(counts).to_numpy() == pytest.approx(np.array(expected), abs=1e-12)
    # prior_count = 0.5: priors 0.2 and 0.8
    assert counts_to_log2cpm(counts, prior_count=0.5).loc["g1", "s1"] == pytest.approx(
        math.log2(0.2 / 10.4 * 1e6)
    )


def test_primary_tumour_one_per_patient():
    kept, dropped = primary_tumour_one_per_patient(
        [
            "TCGA-A1-A0SB-01B-11R-A144-07",
            "TCGA-A1-A0SB-01A-21R-A144-07",
            "TCGA-A1-A0SB-11A-11R-A144-07",
            "TCGA-A2-A04P-06A-11R-A034-07",
            "TCGA-A1-A0SK-01",
            "TCGA-A1-A0SK-01",
            "MB-0001",
        ]
    )
    assert kept == ["TCGA-A1-A0SB-01A-21R-A144-07", "TCGA-A1-A0SK-01"]
    reasons = dict(zip(dropped["sample_id"], dropped["reason"], strict=True))
    assert set(reasons) == {
        "TCGA-A1-A0SB-01B-11R-A144-07",
        "TCGA-A1-A0SB-11A-11R-A144-07",
        "TCGA-A2-A04P-06A-11R-A034-07",
        "MB-0001",
        "TCGA-A1-A0SK-01",
    }
    assert reasons["TCGA-A1-A0SB-01B-11R-A144-07"].endswith("kept: TCGA-A1-A0SB-01A-21R-A144-07")
    assert "Solid Tissue Normal" in reasons["TCGA-A1-A0SB-11A-11R-A144-07"]
    assert "Metastatic" in reasons["TCGA-A2-A04P-06A-11R-A034-07"]
    assert reasons["MB-0001"] == "not a TCGA sample barcode"
    assert reasons["TCGA-A1-A0SK-01"] == "repeated sample id"


def test_xena_phenotype(xena):
    pheno = read_xena_phenotype(xena / "KIRC_clinicalMatrix.gz")
    assert pheno.shape == (945, 120)
    assert pheno.index.name == "sampleID"
    assert pheno.loc["TCGA-A3-3306-11", "sample_type_id"] == "11"  # kept as text
    assert (pheno["sample_type_id"] == "01").sum() == 537


def test_xena_matrix_with_many_na(xena):
    matrix = read_xena_matrix(xena / "miRNA_HiSeq_gene.gz")
    assert matrix.shape == (2048, 311)
    assert int(matrix.isna().sum().sum()) == 419061  # "NA" fields counted with zcat | grep
    assert matrix.loc["MIMAT0019868", "TCGA-CZ-4863-01"] == 1.0552
    assert math.isnan(matrix.loc["MIMAT0019868", "TCGA-B0-5700-01"])
    assert matrix.loc["MIMAT0000062", "TCGA-A3-3387-01"] == pytest.approx(15.5097460279)
