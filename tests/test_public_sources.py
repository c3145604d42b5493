"""cBioPortal, UCSC Xena (TCGA, with the TCGA-CDR locoregional preset) and h5ad cohorts through
`build_cohort`, on the real files in ../shared/data where they exist."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from selfseed.cohort import build_cohort
from selfseed.errors import InputDataError
from selfseed.sources.xena import primary_tumour_one_per_patient

OS_ENDPOINT = {
    "name": "OS",
    "label": "overall survival",
    "time_column": "OS_MONTHS",
    "time_unit": "months",
    "event_column": "OS_STATUS",
    "event_values": ["1:DECEASED"],
    "censored_values": ["0:LIVING"],
}
COMMON = {"covariates": [], "missing_values": [], "sample_column": "sample_id"}


def test_cbioportal_study_folder(shared_data):
    folder = shared_data / "cbioportal" / "study_es_0"
    entry = {**COMMON, "source": "cbioportal", "study": str(folder), "endpoint": OS_ENDPOINT}
    adata, dropped = build_cohort(entry, "es0", {"study": str(folder)}, max_missing_fraction=0.2)
    # independent count: samples with expression and a usable OS record
    expression = pd.read_csv(folder / "data_expression_median.txt", sep="\t", nrows=1)
    measured = set(expression.columns[2:])
    samples = pd.read_csv(folder / "data_clinical_samples.txt", sep="\t", comment="#")
    patients = pd.read_csv(folder / "data_clinical_patients.txt", sep="\t", comment="#")
    clinical = samples.merge(patients, on="PATIENT_ID")
    clinical = clinical[clinical["SAMPLE_ID"].isin(measured)]
    months = pd.to_numeric(clinical["OS_MONTHS"], errors="coerce")
    usable = clinical[(months > 0) & clinical["OS_STATUS"].isin(["1:DECEASED", "0:LIVING"])]
    assert adata.n_obs == len(usable)
    assert adata.uns["counts"]["events"] == (usable["OS_STATUS"] == "1:DECEASED").sum()
    assert adata.n_vars > 0
    assert adata.uns["provenance"]["source"] == "cbioportal"
    assert (dropped["reason"] == "follow-up time <= 0").sum() == (months == 0).sum()


def kirc_cohort(tmp_path, shared_data):
    """Test-made expression (seeded) for the real KIRC barcodes of the Xena phenotype."""
    phenotype = pd.read_csv(shared_data / "xena" / "KIRC_clinicalMatrix.gz", sep="\t", usecols=[0])
    barcodes = phenotype.iloc[:, 0].tolist()
    genes = ["IL6", "IL8", "MMP1", "FSCN1", "CXCL1"] + [f"GENE{i}" for i in range(5)]
    rng = np.random.default_rng(3)
    matrix = pd.DataFrame(
        rng.normal(8, 1, (len(genes), len(barcodes))), index=genes, columns=barcodes
    )
    matrix.index.name = "sample"
    path = tmp_path / "kirc_expression.tsv"
    matrix.to_csv(path, sep="\t")
    return path, barcodes


def test_xena_cohort_with_the_tcga_cdr_locoregional_preset(tmp_path, shared_data):
    expression, barcodes = kirc_cohort(tmp_path, shared_data)
    phenotype = shared_data / "xena" / "KIRC_clinicalMatrix.gz"
    cdr = shared_data / "tcga_cdr" / "TCGA-CDR-SupplementalTableS1.xlsx"
    entry = {
        **COMMON,
        "source": "xena",
        "expression": str(expression),
        "phenotype": str(phenotype),
        "primary_tumour_only": True,
        "values": "log2",
        "endpoint": {"preset": "tcga_cdr", "table": str(cdr), "cancer_type": "KIRC"},
    }
    files = {"expression": str(expression), "phenotype": str(phenotype)}
    adata, dropped = build_cohort(entry, "kirc", files, max_missing_fraction=0.2)
    primary = {b for b in barcodes if b[13:15] == "01"}
    assert set(adata.obs_names) <= primary
    assert adata.uns["endpoint"]["name"] == "LR"
    assert "TCGA-CDR" in adata.uns["endpoint"]["label"]
    assert set(adata.obs["event"]) <= {0, 1, 2}
    assert (adata.obs["event"] == 2).any()
    assert "CXCL8" in adata.var_names  # IL8 mapped
    not_primary = dropped[dropped["reason"].str.contains("not 01 primary tumour", na=False)]
    assert len(not_primary) == sum(b[13:15] != "01" for b in barcodes)


def test_xena_mirna_matrix_maps_no_gene_and_says_so(shared_data):
    files = {
        "expression": str(shared_data / "xena" / "miRNA_HiSeq_gene.gz"),
        "phenotype": str(shared_data / "xena" / "KIRC_clinicalMatrix.gz"),
    }
    endpoint = {
        "name": "OS",
        "label": "overall survival",
        "time_column": "OS.time",
        "time_unit": "days",
        "event_column": "OS",
        "event_values": [1],
        "censored_values": [0],
    }
    entry = {
        **COMMON,
        "source": "xena",
        **files,
        "primary_tumour_only": True,
        "values": "log2",
        "endpoint": endpoint,
    }
    with pytest.raises(InputDataError, match="no expression row maps to a gene symbol") as error:
        build_cohort(entry, "kirc_mirna", files, max_missing_fraction=0.2)
    assert "MIMAT" in str(error.value)
    assert "kirc_mirna" in str(error.value)


def test_h5ad_cohort(tmp_path, gse1992):
    genes = [c for c in gse1992.columns if c.startswith("num_HS_")]
    source = ad.AnnData(
        X=gse1992[genes].to_numpy(float),
        obs=pd.DataFrame(
            {"rfs": gse1992["time"].to_numpy(), "relapse": gse1992["event"].to_numpy()},
            index=gse1992["pid"].astype(str),
        ),
        var=pd.DataFrame(index=[g[7:] for g in genes]),
    )
    path = tmp_path / "mine.h5ad"
    source.write_h5ad(path)
    endpoint = {
        "name": "RFS",
        "label": "relapse-free survival",
        "time_column": "rfs",
        "time_unit": "months",
        "event_column": "relapse",
        "event_values": [1],
        "censored_values": [0],
    }
    entry = {**COMMON, "source": "h5ad", "path": str(path), "endpoint": endpoint}
    adata, _ = build_cohort(entry, "mine", {"path": str(path)}, max_missing_fraction=0.2)
    assert adata.n_obs == 124
    assert adata.uns["counts"]["events"] == 35
    assert "CXCL8" in adata.var_names


def test_xena_counts_become_log2_cpm(tmp_path, shared_data):
    expression, barcodes = kirc_cohort(tmp_path, shared_data)
    counts = pd.read_csv(expression, sep="\t", index_col=0).round().abs() * 10
    counts.to_csv(expression, sep="\t")
    files = {
        "expression": str(expression),
        "phenotype": str(shared_data / "xena" / "KIRC_clinicalMatrix.gz"),
    }
    endpoint = {
        "name": "OS",
        "label": "overall survival",
        "time_column": "OS.time",
        "time_unit": "days",
        "event_column": "OS",
        "event_values": [1],
        "censored_values": [0],
    }
    entry = {
        **COMMON,
        "source": "xena",
        **files,
        "primary_tumour_only": True,
        "values": "counts",
        "endpoint": endpoint,
    }
    adata, _ = build_cohort(entry, "kirc_counts", files, max_missing_fraction=0.2)
    kept, _ = primary_tumour_one_per_patient(counts.columns)
    mean_library = counts[kept].sum().mean()  # CPM is computed over the primary tumours kept
    sample = adata.obs_names[0]
    raw = counts[sample]
    prior = 2 * raw.sum() / mean_library
    expected = np.log2((raw + prior) / (raw.sum() + 2 * prior) * 1e6)
    assert adata[sample, "IL6"].X[0, 0] == pytest.approx(expected["IL6"], rel=1e-9)
    assert "log2-CPM" in adata.uns["provenance"]["log2"]
