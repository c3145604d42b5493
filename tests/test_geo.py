"""GEO series matrix / platform annotation parsing on real GEO files, probe -> gene collapsing and
GEO2R's log2 rule on small frames with known answers."""

import gzip

import numpy as np
import pandas as pd
import pytest

from selfseed.errors import ConfigError, InputDataError
from selfseed.sources.geo import (
    log2_if_unlogged,
    probes_to_genes,
    read_platform_annotation,
    read_series_matrix,
)


@pytest.fixture(scope="module")
def geo(shared_data):
    return shared_data / "geo"


# --- series matrices (values read off the files with zcat | grep) ---------------------------


def test_gse26471_single_sample_gpl570_quoted_ids(geo):
    matrix = read_series_matrix(geo / "GSE26471_series_matrix.txt.gz")
    expression = matrix.expression
    assert expression.shape == (54675, 1)
    assert list(expression.columns) == ["GSM650992"]
    assert expression.loc["1007_s_at", "GSM650992"] == 433.901
    assert expression.loc["235982_at", "GSM650992"] == 1.48077
    assert expression.loc["AFFX-TrpnX-M_at", "GSM650992"] == 4.06012
    assert expression.index.str.startswith("AFFX").sum() == 62
    assert expression.dtypes.eq(np.float64).all()
    assert expression.index.is_unique
    assert matrix.platform == "GPL570"
    assert matrix.series["geo_accession"] == "GSE26471"
    assert matrix.series["contributor"] == ["Anindya,,Dutta", "Neerja,,Karnani", "Ankit,,Malhotra"]
    assert matrix.samples.loc["GSM650992", "cell line:ch1"] == "HeLa (ATCC CCL-2)"
    assert matrix.samples.loc["GSM650992", "source_name_ch1"] == "HeLa (ATCC CCL-2)"
    assert matrix.samples.loc["GSM650992", "supplementary_file.1"].endswith("GSM650992.CHP.gz")


def test_gse42872_numeric_probe_ids_are_strings(geo):
    matrix = read_series_matrix(geo / "GSE42872_series_matrix.txt.gz")
    expression = matrix.expression
    assert expression.shape == (33297, 6)
    assert list(expression.columns) == [f"GSM105261{i}" for i in range(5, 10)] + ["GSM1052620"]
    assert all(isinstance(probe, str) for probe in expression.index[:5])
    assert expression.loc["7892501"].tolist() == [
        7.24559,
        6.80686,
        7.73301,
        6.18961,
        7.05335,
        7.20371,
    ]
    assert expression.loc["8180418", "GSM1052620"] == 12.0653
    assert expression.loc["7896736", "GSM1052618"] == 7.04462
    assert matrix.platform == "GPL6244"
    assert matrix.samples["title"].iloc[3] == "A375 cells 24h Vemurafenib rep1"
    assert (matrix.samples["cell type:ch1"] == "Melanoma cell line").all()
    assert (matrix.samples["cell line:ch1"] == "A375").all()


def test_gse14520_two_platform_lines_and_missing_characteristics(geo):
    matrix = read_series_matrix(geo / "GSE14520-GPL571_series_matrix.txt.gz")
    assert matrix.expression.shape == (22268, 43)
    assert matrix.series["platform_id"] == ["GPL571", "GPL3921"]
    assert matrix.series["pubmed_id"] == ["21159642", "22202459"]
    assert matrix.platform == "GPL571"  # the platform of the samples in this file
    assert matrix.expression.loc["1007_s_at", "GSM362947"] == 6.471
    assert matrix.expression.loc["AFFX-TrpnX-M_at"].iloc[-1] == 3.059
    samples = matrix.samples
    keys = [c for c in samples.columns if c.endswith(":ch1")]
    assert keys == ["Tissue:ch1", "Disease state:ch1", "Individual:ch1"]
    assert samples.loc["GSM362947", "Individual:ch1"] == "02-407A"
    # the two healthy-donor pools give only "Tissue:", no disease state or individual
    healthy = ["GSM363450", "GSM363451"]
    assert samples.loc[healthy, "Tissue:ch1"].tolist() == [
        "Liver tissue of six healthy donors",
        "Liver tissue of six healthy liver donors",
    ]
    assert samples.loc[healthy, ["Disease state:ch1", "Individual:ch1"]].isna().all().all()
    assert samples["Disease state:ch1"].notna().sum() == 41


def test_gse99709_header_without_rows_is_a_clear_error(geo):
    path = geo / "phantasus/GSE99709_series_matrix.txt.gz"
    with pytest.raises(InputDataError) as caught:
        read_series_matrix(path)
    message = str(caught.value)
    assert "GSE99709_series_matrix.txt.gz" in message
    assert "no expression rows" in message
    assert "supplementary files" in message
    assert "GSE99709_Stat3RNA-Seq-counts.csv.gz" in message


def test_a_platform_file_is_not_a_series_matrix(geo):
    with pytest.raises(InputDataError, match="no !series_matrix_table_begin"):
        read_series_matrix(geo / "GPL97.annot.gz")


def test_truncated_download_is_an_error(tmp_path, geo):
    raw = gzip.decompress((geo / "GSE42872_series_matrix.txt.gz").read_bytes())
    cut = tmp_path / "GSE42872_series_matrix.txt.gz"
    cut.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(InputDataError, match="cannot parse the expression table|ends without"):
        read_series_matrix(cut)
    cut.write_bytes(gzip.compress(raw[: raw.rindex(b"\n", 0, len(raw) - 2) + 1]))
    with pytest.raises(InputDataError, match="ends without its !series_matrix_table_end"):
        read_series_matrix(cut)


HAND_MADE = """\
!Series_title\t"two-colour test"
!Series_geo_accession\t"GSE1"
!Series_platform_id\t"GPL1"
!Series_platform_id\t"GPL2"
!Series_supplementary_file\t"ftp://x/GSE1_RAW.tar"

!Sample_title\t"a"\t"b"\t"c"
!Sample_geo_accession\t"GSM1"\t"GSM2"\t"GSM3"
!Sample_source_name_ch1\t"tumour"\t"tumour"\t""
!Sample_characteristics_ch1\t"tissue: breast"\t"tissue: breast"\t"grade: 3"
!Sample_characteristics_ch1\t"grade: 2"\t"relapse"\t"tissue: lung"
!Sample_characteristics_ch1\t"time: 10:30"\t""\t"grade: 1"
!Sample_characteristics_ch2\t"tissue: reference"\t"tissue: reference"\t"tissue: reference"
!Sample_platform_id\t"GPL1"\t"GPL1"\t"GPL1"
!series_matrix_table_begin
"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"
"p1"\t1.5\tnull\t-2
"p2"\t\t3e2\t4
7\t0.1\tNA\t5.25
!series_matrix_table_end
"""


def test_hand_made_matrix_channels_keys_and_missing_values(tmp_path):
    path = tmp_path / "GSE1_series_matrix.txt"  # plain text, not gzipped
    path.write_text(HAND_MADE)
    matrix = read_series_matrix(path)
    expected = pd.DataFrame(
        [[1.5, np.nan, -2.0], [np.nan, 300.0, 4.0], [0.1, np.nan, 5.25]],
        index=pd.Index(["p1", "p2", "7"], name="probe_id"),
        columns=["GSM1", "GSM2", "GSM3"],
    )
    pd.testing.assert_frame_equal(matrix.expression, expected)
    samples = matrix.samples
    assert samples["tissue:ch1"].tolist() == ["breast", "breast", "lung"]
    assert samples["grade:ch1"].tolist() == ["2", None, "3;1"]  # key twice for GSM3: joined
    assert samples["time:ch1"].tolist() == ["10:30", None, None]
    assert samples["tissue:ch2"].tolist() == ["reference"] * 3
    assert samples["characteristics_ch1.1"].tolist() == ["grade: 2", "relapse", "tissue: lung"]
    assert samples["source_name_ch1"].tolist() == ["tumour", "tumour", None]
    assert matrix.series["platform_id"] == ["GPL1", "GPL2"]
    assert matrix.platform == "GPL1"


def test_non_numeric_cells_become_nan_and_quoted_numbers_are_read(tmp_path):
    path = tmp_path / "GSE1_series_matrix.txt.gz"
    text = HAND_MADE.replace("3e2", "n/a").replace("\t4\n", '\t"4"\n')
    path.write_bytes(gzip.compress(text.encode()))
    expression = read_series_matrix(path).expression
    assert np.isnan(expression.loc["p2", "GSM2"])
    assert expression.loc["p2", "GSM3"] == 4.0
    assert expression.loc["7", "GSM3"] == 5.25
    assert expression.dtypes.eq(np.float64).all()


def test_wrong_number_of_cells_names_the_file(tmp_path):
    path = tmp_path / "GSE1_series_matrix.txt"
    path.write_text(HAND_MADE.replace("\t-2\n", "\n"))
    with pytest.raises(InputDataError, match="GSE1_series_matrix.txt"):
        read_series_matrix(path)


# --- platform annotations -------------------------------------------------------------------


def gpl97(geo):
    return read_platform_annotation(geo / "GPL97.annot.gz")


def test_gpl97_annot_symbols_and_multi_gene_probes(geo):
    annotation = gpl97(geo)
    assert list(annotation.columns) == ["probe_id", "gene_symbol"]
    assert len(annotation) == 22645
    symbols = annotation.set_index("probe_id")["gene_symbol"]
    assert symbols["200000_s_at"] == "PRPF8"
    assert symbols["200067_x_at"] == "SNX3///NR2E1"
    assert pd.isna(symbols["232999_at"])
    assert symbols.str.contains("///", regex=False).sum() == 754
    assert symbols.isna().sum() == 9466


def test_gpl97_probes_to_genes_drops_multi_gene_and_controls(geo):
    annotation = gpl97(geo)
    rng = np.random.default_rng(3)
    expression = pd.DataFrame(
        rng.normal(8, 2, (len(annotation), 4)), index=annotation["probe_id"], columns=list("abcd")
    )
    genes, dropped = probes_to_genes(expression, annotation, multi_gene="drop", collapse="max_mean")
    reasons = dropped["reason"].str.replace(r"collapsed: .*", "collapsed", regex=True)
    assert reasons.value_counts().to_dict() == {
        "no gene symbol": 9398,
        "collapsed": 4014,
        "multi-gene probe (///)": 754,
        "AFFX control probe": 68,
    }
    assert genes.shape == (8411, 4)
    why = dict(zip(dropped["probe_id"], dropped["reason"], strict=True))
    assert why["200067_x_at"] == "multi-gene probe (///)"
    assert why["232999_at"] == "no gene symbol"
    genes_first, dropped_first = probes_to_genes(
        expression, annotation, multi_gene="first", collapse="max_mean"
    )
    assert genes_first.shape == (8863, 4)
    assert not dropped_first["reason"].str.startswith("multi-gene").any()


def test_full_platform_table_gene_symbol_column(geo):
    annotation = read_platform_annotation(geo / "geoparse_tests/GPL4133.txt")
    assert annotation["probe_id"].tolist() == [str(i) for i in range(1, 14)]
    assert annotation["gene_symbol"].notna().sum() == 1
    assert annotation.loc[annotation["probe_id"] == "12", "gene_symbol"].item() == "APOBEC3B"


def test_soft_family_platform_table_only(geo):
    annotation = read_platform_annotation(geo / "geoparse_tests/soft_ex_family.txt")
    assert len(annotation) == 20  # the platform table, not the sample tables after it
    symbols = annotation.set_index("probe_id")["gene_symbol"]
    assert symbols["1"] == "Nfatc2"
    assert symbols["20"] == "Gnb1l"
    assert symbols[["17", "19"]].isna().all()


def test_platform_without_symbol_column_is_a_clear_error(geo):
    with pytest.raises(InputDataError) as caught:
        read_platform_annotation(geo / "geoparse_tests/GPL20814_family.soft")
    message = str(caught.value)
    assert "no gene symbol column" in message
    assert "miRNA_ID" in message
    assert "GPL20814_family.soft" in message


def test_gene_assignment_and_spaced_multi_gene_symbols(tmp_path):
    hugene = tmp_path / "GPL6244-17930.txt"
    hugene.write_text(
        "# comment line of a full GEO platform table\n"
        "ID\tGB_LIST\tgene_assignment\n"
        "7896736\t\tNM_001005240 // OR4F17 // olfactory receptor // 19p13.3 // 81099 /// "
        "ENST00000318050 // OR4F17 // olfactory receptor // 19p13.3 // 81099\n"
        "7896740\t\tNR_024005 // DDX11L2 // helicase like 2 // 2q13 // 84771 /// "
        "NR_046018 // DDX11L1 // helicase like 1 // 1p36.33 // 100287102\n"
        "7896742\t\t---\n"
    )
    symbols = read_platform_annotation(hugene).set_index("probe_id")["gene_symbol"]
    assert symbols["7896736"] == "OR4F17"
    assert symbols["7896740"] == "DDX11L2///DDX11L1"
    assert pd.isna(symbols["7896742"])
    gpl570 = tmp_path / "GPL570-55999.txt"
    gpl570.write_text(
        "#ID = Affymetrix Probe Set ID\nID\tGene Title\tGene Symbol\n"
        "1552256_a_at\tscavenger receptor\tSCARB1\n"
        "1552257_a_at\ttubulin\tTTLL12 /// TUBA1\n"
        "1552258_at\t\t\n"
    )
    symbols = read_platform_annotation(gpl570).set_index("probe_id")["gene_symbol"]
    assert symbols.tolist()[:2] == ["SCARB1", "TTLL12///TUBA1"]
    assert pd.isna(symbols.iloc[2])


# --- probes -> genes on a hand-made frame ---------------------------------------------------

EXPRESSION = pd.DataFrame(
    {
        "s1": [1.0, 4.0, 9.0, 5.0, 3.0, 7.0, 1.0, 2.0, 2.0, 1.0, 10.0, 100.0],
        "s2": [2.0, 5.0, 9.0, 5.0, 3.0, 8.0, 1.0, 2.0, 2.0, 2.0, 20.0, 200.0],
        "s3": [3.0, 6.0, 9.0, 5.0, 3.0, 9.0, 1.0, 2.0, 2.0, 3.0, 30.0, 300.0],
    },
    index=["p1", "p2", "p3", "p4", "AFFX-x", "p5", "p6", "p7", "p8", "p9", "p10", "p11"],
)
DEFAULTS = {"multi_gene": "drop", "collapse": "max_mean"}  # the schema's
ANNOTATION = pd.DataFrame(
    {
        "probe_id": ["p1", "p2", "p3", "p4", "AFFX-x", "p5", "p7", "p8", "p9", "p10", "p11"],
        "gene_symbol": ["A", "A", "B///C", None, "GAPDH", "B", "C", "C", "D", "D", "D"],
    }
)


def test_probes_to_genes_max_mean():
    genes, dropped = probes_to_genes(EXPRESSION, ANNOTATION, **DEFAULTS)
    assert genes.index.tolist() == ["A", "B", "C", "D"]
    assert genes.loc["A"].tolist() == [4.0, 5.0, 6.0]  # p2 (mean 5) beats p1 (mean 2)
    assert genes.loc["C"].tolist() == [2.0, 2.0, 2.0]  # p7 and p8 tie: the first is kept
    assert genes.loc["D"].tolist() == [100.0, 200.0, 300.0]
    assert dict(zip(dropped["probe_id"], dropped["reason"], strict=True)) == {
        "p1": "collapsed: lower mean than p2 for A",
        "p3": "multi-gene probe (///)",
        "p4": "no gene symbol",
        "AFFX-x": "AFFX control probe",
        "p6": "not in the platform annotation",
        "p8": "collapsed: lower mean than p7 for C",
        "p9": "collapsed: lower mean than p11 for D",
        "p10": "collapsed: lower mean than p11 for D",
    }


def test_probes_to_genes_first_symbol_mean_and_median():
    genes, dropped = probes_to_genes(
        EXPRESSION, ANNOTATION, multi_gene="first", collapse="max_mean"
    )
    assert genes.loc["B"].tolist() == [9.0, 9.0, 9.0]  # p3 (B///C, mean 9) beats p5 (mean 8)
    assert "p3" not in dropped["probe_id"].tolist()
    mean, dropped_mean = probes_to_genes(EXPRESSION, ANNOTATION, multi_gene="drop", collapse="mean")
    assert mean.loc["A"].tolist() == [2.5, 3.5, 4.5]
    assert mean.loc["D"].tolist() == [37.0, 74.0, 111.0]
    assert not dropped_mean["reason"].str.startswith("collapsed").any()
    median, _ = probes_to_genes(EXPRESSION, ANNOTATION, multi_gene="drop", collapse="median")
    assert median.loc["D"].tolist() == [10.0, 20.0, 30.0]


def test_probes_to_genes_rejects_unknown_options():
    with pytest.raises(ConfigError, match="collapse"):
        probes_to_genes(EXPRESSION, ANNOTATION, multi_gene="drop", collapse="sum")
    with pytest.raises(ConfigError, match="multi_gene"):
        probes_to_genes(EXPRESSION, ANNOTATION, multi_gene="all", collapse="max_mean")


# --- GEO2R log2 rule ------------------------------------------------------------------------


def frame(values):
    values = np.asarray(values, dtype=float)
    return pd.DataFrame(values.reshape(-1, 2), columns=["s1", "s2"])


def test_log2_applied_when_99th_percentile_above_100():
    # q25 = -1 <= 0 and q75 = 4: only the 99th percentile (1024) calls for log2
    data = frame([-1.0] * 28 + [0.0] * 2 + [4.0] * 66 + [1024.0] * 4)
    logged, note = log2_if_unlogged(data)
    assert "(1024 > 100) or (1025 > 50 and -1 > 0) = True" in note
    assert note.endswith("30 values <= 0 set to NaN, log2 applied")
    assert logged.isna().sum().sum() == 30
    assert logged.iloc[15].tolist() == [2.0, 2.0]
    assert logged.iloc[49].tolist() == [10.0, 10.0]


def test_log2_applied_for_wide_range_with_positive_lower_quartile():
    data = frame(np.linspace(1, 90, 100))  # q99 = 89.11 < 100, max - min = 89 > 50, q25 > 0
    logged, note = log2_if_unlogged(data)
    assert "(89.11 > 100) or (89 > 50 and 23.25 > 0) = True" in note
    np.testing.assert_allclose(logged.to_numpy(), np.log2(data.to_numpy()))


def test_log2_not_applied_to_log_scale_or_centred_data():
    log_scale = frame(np.linspace(2, 14, 100))
    same, note = log2_if_unlogged(log_scale)
    assert same is log_scale
    assert note.endswith("left unchanged")
    assert "= False" in note
    centred = frame(np.linspace(-40, 60, 100))  # range 100 > 50 but q25 = -15 <= 0
    same, note = log2_if_unlogged(centred)
    assert same is centred
    assert "= False" in note
