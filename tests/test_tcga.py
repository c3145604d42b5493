"""GDC HTSeq counts and clinical export, TCGA barcodes, log2-CPM, UCSC Xena files (real files)."""

import math

import numpy as np
import pandas as pd
import pytest

from selfseed.errors import InputDataError
from selfseed.sources.tcga import (
    counts_to_log2cpm,
    gdc_overall_survival,
    primary_tumour_one_per_patient,
    read_gdc_clinical,
    read_htseq_counts,
    read_xena_matrix,
    read_xena_phenotype,
    xena_survival,
)

HTSEQ = "dfe06359-c16a-4959-bb04-298f18474a17.htseq.counts.gz"  # case TCGA-A8-A085
DAYS_PER_MONTH = 365.25 / 12


@pytest.fixture(scope="module")
def gdc(shared_data):
    return shared_data / "gdc" / "brca_male_htseq"


@pytest.fixture(scope="module")
def xena(shared_data):
    return shared_data / "xena"


def test_htseq_counts_versions_stripped_and_summary_rows_dropped(gdc):
    counts = read_htseq_counts({"TCGA-A8-A085": gdc / HTSEQ, "copy": gdc / HTSEQ})
    # zcat: 60,488 lines, 5 of them __ summary rows; 50 ENSGR (PAR_Y) genes
    assert counts.shape == (60483, 2)
    assert counts.loc["ENSG00000000003", "TCGA-A8-A085"] == 16108
    assert counts.loc["ENSGR0000280767", "copy"] == 0
    assert not counts.index.str.startswith("__").any()
    assert not counts.index.str.contains(".", regex=False).any()
    assert counts.index.str.startswith("ENSGR").sum() == 50
    assert counts["TCGA-A8-A085"].sum() == 98856823  # awk sum over non-__ rows
    assert counts.dtypes.eq(np.int64).all()
    assert "__no_feature" in counts.attrs["notes"][0]


def test_htseq_files_must_agree_and_have_two_columns(tmp_path, gdc):
    short = tmp_path / "short.htseq.counts"
    short.write_text("ENSG00000000003.13\t5\nENSG00000000005.5\t0\n__no_feature\t9\n")
    with pytest.raises(InputDataError, match="same genes"):
        read_htseq_counts({"a": gdc / HTSEQ, "b": short})
    star = tmp_path / "star.tsv"
    star.write_text("ENSG00000000003.15\tTSPAN6\tprotein_coding\t5\n")
    with pytest.raises(InputDataError, match="not an HTSeq-Counts file"):
        read_htseq_counts({"a": star})


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


def test_gdc_clinical_missing_marker_and_overall_survival(gdc):
    clinical = read_gdc_clinical(gdc / "clinical.tsv")
    assert clinical.shape[0] == 12  # 12 case rows
    assert clinical["year_of_death"].isna().all()  # all "--"
    assert math.isnan(clinical.loc["TCGA-D8-A1XS", "days_to_death"])
    assert clinical.loc["TCGA-AC-A62V", "days_to_last_follow_up"] == 2.0
    survival = gdc_overall_survival(clinical)
    assert len(survival) == 12
    assert survival["event"].sum() == 1
    # the one dead case: days_to_death 348 (its days_to_last_follow_up, 2, is not used)
    assert survival.loc["TCGA-AC-A62V"].tolist() == [pytest.approx(348 / DAYS_PER_MONTH), 1]
    assert survival.loc["TCGA-E2-A14W"].tolist() == [pytest.approx(32.0), 0]  # 974 days


def test_newer_gdc_export_prefixes_quotes_and_repeated_cases(tmp_path):
    path = tmp_path / "clinical.tsv"
    path.write_text(
        "cases.submitter_id\tdemographic.vital_status\tdemographic.days_to_death\t"
        "diagnoses.days_to_last_follow_up\ttreatments.treatment_type\n"
        "TCGA-AA-0001\tDead\t'--\t'--\tRadiation\n"
        "TCGA-AA-0001\tDead\t400\t'--\tSurgery\n"
        "TCGA-AA-0002\tAlive\t'--\t0\tSurgery\n"
    )
    clinical = read_gdc_clinical(path)
    assert list(clinical.index) == ["TCGA-AA-0001", "TCGA-AA-0002"]
    assert clinical.loc["TCGA-AA-0001", "days_to_death"] == 400
    survival = gdc_overall_survival(clinical)
    assert survival.index.tolist() == ["TCGA-AA-0001"]  # follow-up of 0 days dropped
    assert "1 with time <= 0" in survival.attrs["notes"][0]


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


def test_xena_phenotype_and_survival(xena):
    pheno = read_xena_phenotype(xena / "KIRC_clinicalMatrix.gz")
    assert pheno.shape == (945, 120)
    assert pheno.index.name == "sampleID"
    assert pheno.loc["TCGA-A3-3306-11", "sample_type_id"] == "11"  # kept as text
    assert (pheno["sample_type_id"] == "01").sum() == 537
    survival = xena_survival(pheno, "OS.time", "OS")
    assert len(survival) == 943
    assert survival["event"].sum() == 340
    assert survival.loc["TCGA-A3-3313-01"].tolist() == [pytest.approx(735 / DAYS_PER_MONTH), 1]
    recurrence = xena_survival(pheno, "RFS.time", "RFS")
    assert len(recurrence) == 211
    assert recurrence["event"].sum() == 40
    with pytest.raises(InputDataError, match="unit"):
        xena_survival(pheno, "OS.time", "OS", time_unit="months")


def test_xena_matrix_with_many_na(xena):
    matrix = read_xena_matrix(xena / "miRNA_HiSeq_gene.gz")
    assert matrix.shape == (2048, 311)
    assert int(matrix.isna().sum().sum()) == 419061  # "NA" fields counted with zcat | grep
    assert matrix.loc["MIMAT0019868", "TCGA-CZ-4863-01"] == 1.0552
    assert math.isnan(matrix.loc["MIMAT0019868", "TCGA-B0-5700-01"])
    assert matrix.loc["MIMAT0000062", "TCGA-A3-3387-01"] == pytest.approx(15.5097460279)
