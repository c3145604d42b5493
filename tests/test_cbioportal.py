"""cBioPortal study reader and text robustness, on the real study_es_0 and METABRIC files."""

import gzip
import io
import math
import os
import tarfile

import pandas as pd
import pytest

from selfseed.errors import ConfigError, InputDataError
from selfseed.sources.cbioportal import (
    read_cbioportal_clinical,
    read_cbioportal_study,
    read_clinical_file,
)
from selfseed.sources.textio import read_text


@pytest.fixture(scope="module")
def study_folder(shared_data):
    return shared_data / "cbioportal" / "study_es_0"


@pytest.fixture(scope="module")
def metabric(shared_data):
    return shared_data / "metabric" / "brca_metabric"


@pytest.fixture(scope="module")
def study(study_folder):
    return read_cbioportal_study(study_folder)


def test_expression_profile_is_the_continuous_one(study):
    assert study.profile == "mrna"
    assert study.expression.shape == (6, 526)  # 6 gene rows, 528 columns - 2 gene columns
    assert study.expression.index.name == "Hugo_Symbol"
    assert list(study.expression.index) == ["CREB3L1", "RPS11", "PNMA1", "MMP2", "ZHX3", "ERCC5"]
    assert study.expression.loc["CREB3L1", "TCGA-A1-A0SK-01"] == -0.63725
    assert study.expression.loc["MMP2", "TCGA-A1-A0SK-01"] == pytest.approx(-1.23316666666667)
    assert study.meta["study"]["cancer_study_identifier"] == "study_es_0"


def test_samples_joined_with_patients_and_missing_markers_are_nan(study):
    samples = study.samples
    assert samples.shape[0] == 845
    assert samples.index.name == "SAMPLE_ID"
    assert samples["PATIENT_ID"].nunique() == 841  # rows of data_clinical_patients.txt
    assert samples.loc["TCGA-A1-A0SK-01", "OS_MONTHS"] == 31.77
    assert samples.loc["TCGA-A1-A0SK-01", "OS_STATUS"] == "1:DECEASED"
    assert math.isnan(samples.loc["TCGA-A1-A0SK-01", "DFS_MONTHS"])  # [Not Available]
    assert pd.isna(samples.loc["TCGA-A1-A0SK-01", "DFS_STATUS"])  # empty field
    assert pd.isna(samples.loc["TCGA-B6-A0I6-01", "SUBTYPE"])  # NA
    # two samples of one patient both get the patient's values
    assert samples.loc["TCGA-A1-A0SB-02", "OS_MONTHS"] == 8.51
    assert samples["OS_MONTHS"].dtype == float
    column = study.meta["clinical_columns"]["OS_MONTHS"]
    assert column["datatype"] == "NUMBER"
    assert column["description"] == "Overall survival in months since diagnosis"


def test_zscore_profile_chosen_by_stable_id_or_file(study_folder):
    for name in (
        "mrna_median_Zscores",
        "study_es_0_mrna_median_Zscores",
        "data_expression_median_Zscores.txt",
    ):
        chosen = read_cbioportal_study(study_folder, expression_profile=name)
        assert chosen.profile == "mrna_median_Zscores"
        assert chosen.expression.shape == (5, 526)
        assert chosen.expression.loc["RPS11", "TCGA-A1-A0SD-01"] == 0.7393
    with pytest.raises(ConfigError, match="names no mRNA profile"):
        read_cbioportal_study(study_folder, expression_profile="rna_seq_v2_mrna")


def test_tar_gz_archive_reads_like_the_folder(study, tmp_path, study_folder):
    archive = tmp_path / "study_es_0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(study_folder, arcname="study_es_0")
    packed = read_cbioportal_study(archive)
    pd.testing.assert_frame_equal(packed.expression, study.expression)
    pd.testing.assert_frame_equal(packed.samples, study.samples)


def test_metabric_cr_only_patient_file_without_final_newline(metabric):
    patients, columns, _ = read_clinical_file(metabric / "data_clinical_patient.txt", "PATIENT_ID")
    assert len(patients) == 2509
    assert patients.index[0] == "MB-0000"
    assert patients.index[-1] == "MTS-T2432"
    assert patients.loc["MB-0002", "OS_MONTHS"] == pytest.approx(84.63333333)
    assert pd.isna(patients.loc["MB-0000", "CELLULARITY"])  # "null"
    assert columns["LATERALITY"]["description"].startswith('"For tumors in paired organs')


def test_metabric_clinical(metabric):
    samples, _, _ = read_cbioportal_clinical(metabric)
    assert len(samples) == 2509
    assert samples.loc["MB-0000", "TUMOR_SIZE"] == 22  # all-number STRING column made numeric


def test_metabric_expression_file_named_but_absent(metabric):
    with pytest.raises(InputDataError, match="data file named by meta_expression.txt") as error:
        read_cbioportal_study(metabric)
    assert "data_expression.txt" in str(error.value)


def test_folder_without_meta_files(tmp_path):
    with pytest.raises(InputDataError, match="meta_"):
        read_cbioportal_study(tmp_path)


def write_study(folder, expression_files):
    """A minimal study: meta_study, one sample clinical file, CONTINUOUS mRNA files."""
    folder.mkdir()
    (folder / "meta_study.txt").write_text("cancer_study_identifier: mini\n")
    (folder / "meta_clinical_sample.txt").write_text(
        "genetic_alteration_type: CLINICAL\ndatatype: SAMPLE_ATTRIBUTES\n"
        "data_filename: data_clinical_sample.txt\n"
    )
    (folder / "data_clinical_sample.txt").write_text("PATIENT_ID\tSAMPLE_ID\nP1\tS1\nP2\tS2\n")
    for name, text in expression_files.items():
        (folder / f"meta_{name}").write_text(
            "genetic_alteration_type: MRNA_EXPRESSION\ndatatype: CONTINUOUS\n"
            f"stable_id: {name[:-4]}\ndata_filename: {name}\n"
        )
        (folder / name).write_text(text)
    return folder


def test_entrez_only_duplicated_symbols_and_several_profiles(tmp_path):
    entrez = write_study(tmp_path / "a", {"e.txt": "Entrez_Gene_Id\tS1\tS2\n3569\t5.5\tNA\n"})
    study = read_cbioportal_study(entrez)
    assert study.expression.index.name == "Entrez_Gene_Id"
    assert study.expression.loc["3569", "S1"] == 5.5
    assert pd.isna(study.expression.loc["3569", "S2"])
    assert "genes are Entrez_Gene_Id" in " ".join(study.notes)
    repeated = "Hugo_Symbol\tEntrez_Gene_Id\tS1\tS2\nIL6\t3569\t1\t2\nIL6\t3569\t3\t4\n"
    study = read_cbioportal_study(write_study(tmp_path / "b", {"r.txt": repeated}))
    assert study.expression.shape == (2, 2)
    assert "occur on several rows (kept all): IL6" in " ".join(study.notes)
    two = write_study(tmp_path / "c", {"r.txt": repeated, "s.txt": repeated})
    with pytest.raises(ConfigError, match="several mRNA profiles"):
        read_cbioportal_study(two)
    assert read_cbioportal_study(two, expression_profile="s").profile == "s"
    bad = write_study(tmp_path / "d", {"x.txt": "Hugo_Symbol\tS1\nIL6\thigh\n"})
    with pytest.raises(InputDataError, match="non-numeric") as error:
        read_cbioportal_study(bad)
    assert "'S1'" in str(error.value)
    assert "x.txt" in str(error.value)


CLINICAL = "#Patient Identifier\tAge\n#Patient id\tAge\n#STRING\tNUMBER\n#1\t1\n"


ROWS = CLINICAL + "PATIENT_ID\tAGE\nP1\t40\nP\u00e9\t[Not Available]"


@pytest.mark.parametrize(
    ("encoded", "latin1"),
    [
        (ROWS.encode("utf-8-sig"), False),
        ((ROWS + "\n").replace("\n", "\r\n").encode(), False),
        (ROWS.replace("\n", "\r").encode(), False),
        ((ROWS + "\n").encode("latin-1"), True),
    ],
    ids=["utf8-bom", "crlf", "cr-only", "latin-1"],
)
def test_text_encodings_and_line_ends(tmp_path, encoded, latin1):
    path = tmp_path / "data_clinical_patient.txt"
    path.write_bytes(encoded)
    patients, columns, notes = read_clinical_file(path, "PATIENT_ID")
    assert list(patients.index) == ["P1", "P\u00e9"]
    assert patients["AGE"].tolist()[0] == 40
    assert math.isnan(patients["AGE"].tolist()[1])
    assert columns["AGE"]["datatype"] == "NUMBER"
    assert ("read as latin-1" in " ".join(notes)) == latin1


def test_html_and_empty_files_are_refused(tmp_path):
    page = b"\n  <!DOCTYPE html><html><body>Service unavailable</body></html>"
    (tmp_path / "page.txt").write_bytes(page)
    (tmp_path / "page.txt.gz").write_bytes(gzip.compress(page))
    (tmp_path / "empty.txt").write_bytes(b"")
    for name in ("page.txt", "page.txt.gz"):
        with pytest.raises(InputDataError, match="web page") as error:
            read_text(tmp_path / name)
        assert name in str(error.value)
    with pytest.raises(InputDataError, match="empty") as error:
        read_text(tmp_path / "empty.txt")
    assert "empty.txt" in str(error.value)


def add_to_tar(archive, name, data=b"", **changes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in changes.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    ("member", "changes"),
    [
        ("mini/../../elsewhere.txt", {}),
        ("mini/link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"}),
        ("mini/up", {"type": tarfile.SYMTYPE, "linkname": "../../.."}),
        ("mini/device", {"type": tarfile.CHRTYPE}),
    ],
    ids=["dot-dot", "absolute-link", "link-up", "device"],
)
def test_unsafe_archive_member_is_an_input_error_naming_it(tmp_path, member, changes):
    """tar's `data` filter refuses these members (an absolute member name it extracts inside the
    folder); the user gets the project message, not OutsideDestinationError's traceback as
    'unexpected failure'."""
    study = write_study(tmp_path / "mini", {"e.txt": "Hugo_Symbol\tS1\nIL6\t1.5\n"})
    archive = tmp_path / "mini.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(study, arcname="mini")
        add_to_tar(tar, member, **changes)
    with pytest.raises(InputDataError, match="would be written outside its folder") as raised:
        read_cbioportal_study(archive)
    assert repr(member) in str(raised.value)
    assert "mini.tar.gz" in str(raised.value)


def test_meta_file_naming_a_file_outside_the_study_is_refused(tmp_path):
    (tmp_path / "elsewhere").write_text("Hugo_Symbol\tS1\nIL6\t1.5\n")  # outside the study
    study = write_study(tmp_path / "mini", {"e.txt": "Hugo_Symbol\tS1\nIL6\t1.5\n"})
    for name in ("../elsewhere", "../../../elsewhere", str(tmp_path / "elsewhere")):
        (study / "meta_e.txt").write_text(
            "genetic_alteration_type: MRNA_EXPRESSION\ndatatype: CONTINUOUS\n"
            f"stable_id: e\ndata_filename: {name}\n"
        )
        with pytest.raises(InputDataError, match="lies outside the study folder") as raised:
            read_cbioportal_study(study)
        assert "meta_e.txt" in str(raised.value)
        assert repr(name) in str(raised.value)
    (study / "meta_e.txt").write_text(
        "genetic_alteration_type: MRNA_EXPRESSION\ndatatype: CONTINUOUS\n"
        "stable_id: e\ndata_filename: e.txt\n"
    )
    assert read_cbioportal_study(study).expression.loc["IL6", "S1"] == 1.5


READ_STUDY = """
import os, sys
from selfseed.errors import SelfseedError
from selfseed.inflate import Limits, limited
from selfseed.sources.cbioportal import read_cbioportal_study
try:
    with limited(Limits(max_members=100)):
        read_cbioportal_study({path!r})
except SelfseedError as error:
    print(type(error).__name__, error, file=sys.stderr)
print(os.listdir({tmp!r}))
"""


@pytest.mark.parametrize("kind", ["big member", "many members"])
def test_tar_bomb_placed_locally_is_refused_in_bounded_memory(tmp_path, kind):
    """A study archive with a 1 GB data file in 1 MB (extracted whole, it filled the disk), or
    with 300 members (limit 100): refused while extracting, in bounded memory, and the temporary
    folder is removed."""
    from conftest import gzip_bomb, run_measured

    archive = tmp_path / "bomb.tar.gz"
    if kind == "big member":
        info = tarfile.TarInfo("study/data_mrna.txt")
        info.size = 10**9
        archive.write_bytes(gzip_bomb(b"\0" * 512, info.size, head=info.tobuf(), tail=b"\0" * 1024))
    else:
        with tarfile.open(archive, "w:gz") as tar:
            for i in range(300):
                add_to_tar(tar, f"study/meta_{i}.txt", b"x: y\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    child = run_measured(
        READ_STUDY.format(path=str(archive), tmp=str(tmp)), env={**os.environ, "TMPDIR": str(tmp)}
    )
    problem = "inflates to more than the limit" if kind == "big member" else "more members than"
    assert child["stderr"].startswith("InflationError")
    assert problem in child["stderr"]
    assert "bomb.tar.gz" in child["stderr"]
    assert child["stdout"].strip() == "[]"  # the extracted part is gone
    assert child["peak_mb"] < 250, child["peak_mb"]


def test_full_disk_while_extracting_an_archive_is_an_environment_failure(tmp_path, study_folder):
    from conftest import run_on_small_disk, small_disk_available

    if not small_disk_available():
        pytest.skip("cannot mount a private tmpfs here (unshare -rm)")
    archive = tmp_path / "study_es_0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(study_folder, arcname="study_es_0")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = (
        f"import os, sys, tempfile\ntempfile.tempdir = {str(tmp)!r}\n"
        "from selfseed.errors import EnvironmentFailure\n"
        "from selfseed.sources.cbioportal import read_cbioportal_study\ntry:\n"
        f"    read_cbioportal_study({str(archive)!r})\nexcept EnvironmentFailure as error:\n"
        f"    print(error, file=sys.stderr)\nprint(os.listdir({str(tmp)!r}))\n"
    )
    child = run_on_small_disk(code, tmp)
    assert child.stderr.startswith("the disk is full"), child.stderr
    assert child.stdout.strip() == "[]"  # the partial extraction is removed
