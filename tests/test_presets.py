"""Locoregional endpoint presets: TCGA-CDR (real file) and Rueda et al. METABRIC (hand-made)."""

import pandas as pd
import pytest

from selfseed.endpoints import endpoint_counts
from selfseed.errors import InputDataError
from selfseed.presets import (
    metabric_locoregional,
    metabric_sensitivity,
    read_tcga_cdr,
    tcga_cdr_locoregional,
    tcga_cdr_sensitivity,
)

HEAD_NECK_SITES = ["Oral Cavity", "Oropharynx", "Larynx", "Hypopharynx", "Cervical Lymph Nodes"]


@pytest.fixture(scope="module")
def cdr(tcga_cdr_sheet):
    return tcga_cdr_sheet


def counts_from_raw_columns(cdr, cancer):
    """The preset's counts, recomputed with plain string matching over the raw CDR columns."""
    x = cdr[(cdr["type"] == cancer) & (cdr["Redaction"] != "Redacted")]
    kind = x["new_tumor_event_type"].fillna("")
    # Only these terms occur in HNSC and BRCA, so the expression below covers every patient.
    terms = set(kind.str.split("|").explode()) - {""}
    assert terms <= {
        "Locoregional Recurrence",
        "Locoregional Disease",
        "Distant Metastasis",
        "New Primary Tumor",
    }
    dated = x["new_tumor_event_dx_days_to"].notna()
    untyped = (kind == "") & dated
    site = x["new_tumor_event_site"]
    local = kind.str.contains("Locoregional") | (
        untyped & site.isin(HEAD_NECK_SITES) & (cancer == "HNSC")
    )
    distant = ~local & (kind.str.contains("Distant") | (untyped & (site == "Distant Metastasis")))
    new_primary = ~local & ~distant & kind.str.contains("New Primary")
    no_event = (kind == "") & ~dated
    days = x["new_tumor_event_dx_days_to"].where(~no_event, x["OS.time"])
    kept = ~(untyped & ~local & ~distant) & (days > 0) & ~(no_event & x["OS"].isna())
    death = no_event & (x["OS"] == 1)
    return {
        "n": int(kept.sum()),
        "events": int((kept & local).sum()),
        "competing": int((kept & (distant | death)).sum()),
        "censored": int((kept & (new_primary | (no_event & (x["OS"] == 0)))).sum()),
        "dropped": int((cdr["type"] == cancer).sum() - kept.sum()),
    }


# Cross-checked with an independent R (readxl) count of the same rules.
@pytest.mark.parametrize(
    ("cancer", "expected"),
    [
        ("TCGA-HNSC", {"n": 521, "events": 83, "competing": 176, "censored": 262, "dropped": 7}),
        ("TCGA-BRCA", {"n": 1067, "events": 19, "competing": 155, "censored": 893, "dropped": 30}),
    ],
)
def test_tcga_cdr_counts(cdr, cancer, expected):
    clinical, dropped = tcga_cdr_locoregional(cdr, cancer)
    measured = endpoint_counts(clinical["event"]) | {"dropped": len(dropped)}
    assert measured == expected
    assert measured == counts_from_raw_columns(cdr, cancer.removeprefix("TCGA-"))
    assert (clinical["time_months"] > 0).all()
    assert set(clinical.index).isdisjoint(dropped["sample_id"])


def test_tcga_cdr_hnsc_breakdown(cdr):
    """40 locoregional events come from the type, 43 from the site of untyped events."""
    clinical, dropped = tcga_cdr_locoregional(cdr, "HNSC")
    typed = (
        clinical["event"].eq(1)
        & cdr.set_index("bcr_patient_barcode")["new_tumor_event_type"]
        .reindex(clinical.index)
        .notna()
    )
    assert typed.sum() == 40
    assert clinical["first_event"].value_counts().to_dict() == {
        "none": 252,
        "death": 130,
        "locoregional": 83,
        "distant": 46,
        "new primary": 10,
    }
    assert dropped["reason"].value_counts().to_dict() == {
        "dated new tumour event without type or informative site": 6,
        "follow-up time (OS.time) missing": 1,
    }


def test_tcga_cdr_brca_dropped_reasons(cdr):
    _, dropped = tcga_cdr_locoregional(cdr, "BRCA")
    assert dropped["reason"].value_counts().to_dict() == {
        "time not after diagnosis: 0.0 days": 13,
        "dated new tumour event without type or informative site": 11,
        "redacted by TCGA (Redaction)": 5,
        "follow-up time (OS.time) missing": 1,
    }


def test_read_tcga_cdr_maps_missing_codes(cdr):
    assert len(cdr) == 11160
    assert "Unnamed: 0" not in cdr.columns
    for column in ["ajcc_pathologic_tumor_stage", "histological_grade", "cause_of_death"]:
        assert not cdr[column].astype(str).str.startswith("[").any()
    assert cdr.loc[cdr["type"] == "BRCA", "histological_grade"].isna().all()


def test_read_tcga_cdr_small_file(tmp_path):
    path = tmp_path / "cdr.xlsx"
    frame = cdr_frame(
        [
            ("A", "[Not Available]", None, 100, 0, 200),
            ("B", "#N/A", None, None, 1, 300),
        ]
    )
    frame.insert(0, "Unnamed: 0", [1, 2])
    frame.to_excel(path, sheet_name="TCGA-CDR", index=False)
    read = read_tcga_cdr(path)
    assert read["new_tumor_event_type"].isna().all()
    assert "Unnamed: 0" not in read.columns
    frame.to_excel(path, sheet_name="Other", index=False)
    with pytest.raises(InputDataError, match="TCGA-CDR"):
        read_tcga_cdr(path)


def test_read_tcga_cdr_tsv_extract(tmp_path):
    path = tmp_path / "cdr.tsv"
    frame = cdr_frame(
        [("A", "[Not Available]", "#N/A", 100, 0, 200), ("B", "[Unknown]", None, 5, 1, 9)]
    )
    frame.to_csv(path, sep="\t", index=False)
    read = read_tcga_cdr(path)
    assert read["new_tumor_event_type"].isna().all()
    assert read["new_tumor_event_site"].isna().all()
    assert read["OS.time"].tolist() == [200, 9]
    frame.drop(columns="OS.time").to_csv(path, sep="\t", index=False)
    with pytest.raises(InputDataError, match="OS.time"):
        read_tcga_cdr(path)


def cdr_frame(rows, cancer="HNSC"):
    """A minimal CDR table: (barcode, new_tumor_event_type, site, event days, OS, OS.time)."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "bcr_patient_barcode",
            "new_tumor_event_type",
            "new_tumor_event_site",
            "new_tumor_event_dx_days_to",
            "OS",
            "OS.time",
        ],
    )
    frame.insert(1, "type", cancer)
    frame["Redaction"] = None
    frame["age_at_initial_pathologic_diagnosis"] = 60.0
    return frame


def test_tcga_cdr_rules_on_small_frame():
    frame = cdr_frame(
        [
            ("lr", "Locoregional Recurrence", None, 365.25, 1, 1000),
            ("lr_dm", "Locoregional Recurrence|Distant Metastasis", None, 200, 1, 900),
            ("dm_lr", "Distant Metastasis|Locoregional Recurrence", None, 210, 0, 900),
            ("lr_np", "Locoregional Recurrence|New Primary Tumor", None, 220, 0, 900),
            ("ld", "Locoregional Disease", None, 230, 0, 900),
            ("dm", "Distant Metastasis", None, 300, 1, 400),
            ("dm_np", "Distant Metastasis|New Primary Tumor", None, 310, 0, 900),
            ("np", "New Primary Tumor", None, 320, 1, 900),
            ("death", None, None, None, 1, 500),
            ("alive", None, None, None, 0, 600),
            ("site_local", None, "Oral Cavity", 330, 1, 900),
            ("site_distant", None, "Distant Metastasis", 340, 1, 900),
            # dropped
            ("dm_na", "Distant Metastasis|[Not Available]", None, 350, 0, 900),
            ("recurrence", "Recurrence", None, 360, 0, 900),
            ("biochemical", "Biochemical evidence of disease", None, 370, 0, 900),
            ("untyped", None, None, 380, 0, 900),
            ("no_date", "Locoregional Recurrence", None, None, 0, 900),
            ("no_os_time", None, None, None, 0, None),
            ("no_os", None, None, None, None, 700),
            ("day_zero", "Locoregional Recurrence", None, 0, 0, 900),
            ("negative", None, None, None, 0, -5),
        ]
    )
    clinical, dropped = tcga_cdr_locoregional(frame, "hnsc")
    assert clinical["event"].to_dict() == {
        "lr": 1,
        "lr_dm": 1,
        "dm_lr": 1,
        "lr_np": 1,
        "ld": 1,
        "dm": 2,
        "dm_np": 2,
        "np": 0,
        "death": 2,
        "alive": 0,
        "site_local": 1,
        "site_distant": 2,
    }
    days = clinical["time_months"] * 365.25 / 12
    assert days.round(6).to_dict() == {
        "lr": 365.25,
        "lr_dm": 200,
        "dm_lr": 210,
        "lr_np": 220,
        "ld": 230,
        "dm": 300,
        "dm_np": 310,
        "np": 320,
        "death": 500,
        "alive": 600,
        "site_local": 330,
        "site_distant": 340,
    }
    assert clinical.loc["lr", "time_months"] == pytest.approx(12.0)
    assert clinical.loc["np", "first_event"] == "new primary"
    assert "age_at_initial_pathologic_diagnosis" in clinical.columns
    assert dict(zip(dropped["sample_id"], dropped["reason"], strict=True)) == {
        "dm_na": "new tumour event of unknown site: Distant Metastasis|[Not Available]",
        "recurrence": "new tumour event of unknown site: Recurrence",
        "biochemical": "new tumour event of unknown site: Biochemical evidence of disease",
        "untyped": "dated new tumour event without type or informative site",
        "no_date": "new tumour event without date",
        "no_os_time": "follow-up time (OS.time) missing",
        "no_os": "vital status (OS) missing",
        "day_zero": "time not after diagnosis: 0.0 days",
        "negative": "time not after diagnosis: -5.0 days",
    }
    assert endpoint_counts(clinical["event"]) == {
        "n": 12,
        "events": 6,
        "competing": 4,
        "censored": 2,
    }


def test_tcga_cdr_site_fallback_is_head_and_neck_only():
    frame = cdr_frame([("a", None, "Oral Cavity", 100, 0, 900), ("b", None, None, None, 0, 900)])
    frame["type"] = "BRCA"
    clinical, dropped = tcga_cdr_locoregional(frame, "BRCA")
    assert list(clinical.index) == ["b"]
    assert list(dropped["sample_id"]) == ["a"]


def test_tcga_cdr_redacted_dropped():
    frame = cdr_frame([("a", None, None, None, 0, 900), ("b", None, None, None, 0, 900)])
    frame.loc[0, "Redaction"] = "Redacted"
    clinical, dropped = tcga_cdr_locoregional(frame, "HNSC")
    assert list(clinical.index) == ["b"]
    assert dropped.to_dict("records") == [
        {"sample_id": "a", "reason": "redacted by TCGA (Redaction)"}
    ]


def test_tcga_cdr_input_errors():
    frame = cdr_frame([("a", "Locoregional Recurrence|Pleural Effusion", None, 100, 0, 900)])
    with pytest.raises(InputDataError, match="Pleural Effusion"):
        tcga_cdr_locoregional(frame, "HNSC")
    with pytest.raises(InputDataError, match="cancer type"):
        tcga_cdr_locoregional(frame, "LUAD")
    with pytest.raises(InputDataError, match="OS.time"):
        tcga_cdr_locoregional(frame.drop(columns="OS.time"), "HNSC")
    twice = cdr_frame([("a", None, None, None, 0, 900), ("a", None, None, None, 0, 9)])
    with pytest.raises(InputDataError, match="more than once"):
        tcga_cdr_locoregional(twice, "HNSC")


def rueda_frame(rows):
    """A minimal Rueda et al. table: (id, T, Death, LR, TLR, DR, TDR, Stage, Histological.Type)."""
    return pd.DataFrame(
        rows,
        columns=[
            "METABRIC.ID",
            "T",
            "Death",
            "LR",
            "TLR",
            "DR",
            "TDR",
            "Stage",
            "Histological.Type",
        ],
    ).assign(**{"Age.At.Diagnosis": 55.0, "ER.Status": "pos"})


def test_metabric_rules_on_small_frame():
    frame = rueda_frame(
        [
            ("lr", 3000, 0, 1, 365.25, 0, None, 2, "IDC"),
            ("lr_then_dr", 3000, 1, 1, 400, 1, 900, 1, "IDC"),
            ("same_day", 3000, 1, 1, 500, 1, 500, 2, "IDC"),
            ("dr", 3000, 1, 0, None, 1, 600, 2, "ILC"),
            ("dr_then_lr", 3000, 1, 1, 800, 1, 700, None, "IDC"),
            ("death", 2000, 1, 0, 2000, 0, 2000, 1, "IDC"),
            ("alive", 2500, 0, 0, None, 0, None, 3, "IDC"),
            # dropped
            ("t_zero", 0, 0, 0, None, 0, None, 1, "IDC"),
            ("t_missing", None, 0, 0, None, 0, None, 1, "IDC"),
            ("death_missing", 100, None, 0, None, 0, None, 1, "IDC"),
            ("lr_missing", 100, 0, None, None, 0, None, 1, "IDC"),
            ("stage4", 100, 0, 0, None, 0, None, 4, "IDC"),
            ("benign", 100, 0, 0, None, 0, None, 1, "BENIGN"),
            ("phyllodes", 100, 0, 0, None, 0, None, 1, "PHYL"),
            ("lr_no_time", 100, 0, 1, None, 0, None, 1, "IDC"),
            ("dr_no_time", 100, 0, 1, 50, 1, None, 1, "IDC"),
            ("lr_day_zero", 100, 0, 1, 0, 0, None, 1, "IDC"),
        ]
    )
    clinical, dropped = metabric_locoregional(frame)
    assert clinical["event"].to_dict() == {
        "lr": 1,
        "lr_then_dr": 1,
        "same_day": 1,
        "dr": 2,
        "dr_then_lr": 2,
        "death": 2,
        "alive": 0,
    }
    days = (clinical["time_months"] * 365.25 / 12).round(6)
    assert days.to_dict() == {
        "lr": 365.25,
        "lr_then_dr": 400,
        "same_day": 500,
        "dr": 600,
        "dr_then_lr": 700,
        "death": 2000,
        "alive": 2500,
    }
    assert clinical["first_event"].to_dict()["dr_then_lr"] == "distant"
    assert {"Age.At.Diagnosis", "ER.Status", "Stage"} <= set(clinical.columns)
    assert dict(zip(dropped["sample_id"], dropped["reason"], strict=True)) == {
        "t_zero": "follow-up time T not after diagnosis (excluded by Rueda et al.)",
        "t_missing": "follow-up time T missing",
        "death_missing": "Death missing",
        "lr_missing": "LR or DR missing",
        "stage4": "stage 4 (excluded by Rueda et al.)",
        "benign": "benign or phyllodes histology (excluded by Rueda et al.)",
        "phyllodes": "benign or phyllodes histology (excluded by Rueda et al.)",
        "lr_no_time": "relapse without time",
        "dr_no_time": "relapse without time",
        "lr_day_zero": "relapse not after diagnosis: 0.0 days",
    }


def test_metabric_input_errors():
    frame = rueda_frame([("a", 100, 0, 2, 50, 0, None, 1, "IDC")])
    with pytest.raises(InputDataError, match="LR"):
        metabric_locoregional(frame)
    with pytest.raises(InputDataError, match="TDR"):
        metabric_locoregional(frame.drop(columns="TDR"))
    with pytest.raises(InputDataError, match="'ten'"):
        metabric_locoregional(frame.assign(LR=0, T="ten"))


def history(rows):
    """A new-tumour-event history as tools/build_tcga_data.py writes it: (patient, type, days);
    type None and days None is a patient without any recorded event."""
    return pd.DataFrame(
        [
            {
                "bcr_patient_barcode": p,
                "record": "" if t is None and d is None else "slot",
                "new_neoplasm_event_type": t,
                "days_to_new_tumor_event_after_initial_treatment": None if d is None else str(d),
            }
            for p, t, d in rows
        ]
    )


def test_tcga_cdr_sensitivity_codings_on_small_frame():
    frame = cdr_frame(
        [
            ("lr", "Locoregional Recurrence", None, 100, 1, 1000),
            ("dm_then_lr", "Distant Metastasis", None, 200, 1, 900),
            ("unknown", "Progression of Disease", None, 300, 0, 900),
            ("unknown_then_lr", "Progression of Disease", None, 150, 0, 900),
            ("np_then_lr", "New Primary Tumor", None, 120, 0, 900),
            ("death", None, None, None, 1, 500),
            ("alive", None, None, None, 0, 600),
            ("no_history", None, None, None, 0, 700),
        ]
    )
    events = history(
        [
            ("lr", "locoregional recurrence", 100),
            ("dm_then_lr", "distant metastasis", 200),
            ("dm_then_lr", "locoregional recurrence", 400),
            ("unknown", "progression of disease", 300),
            ("unknown_then_lr", "progression of disease", 150),
            ("unknown_then_lr", "locoregional recurrence", 250),
            ("np_then_lr", "new primary tumor", 120),
            ("np_then_lr", "locoregional recurrence", 500),
            ("death", None, None),
            ("alive", None, None),
        ]
    )
    codings = tcga_cdr_sensitivity(frame, "HNSC", events)
    as_lr, as_competing = codings["LR_unknown_as_LR"][0], codings["LR_unknown_as_competing"][0]
    # the two unknown-site patients enter at their first event, as LR, then as competing
    assert as_lr["event"].to_dict() == {
        "lr": 1,
        "dm_then_lr": 2,
        "unknown": 1,
        "unknown_then_lr": 1,
        "np_then_lr": 0,
        "death": 2,
        "alive": 0,
        "no_history": 0,
    }
    assert as_competing.loc[["unknown", "unknown_then_lr"], "event"].tolist() == [2, 2]
    assert as_lr.loc["unknown", "time_months"] == pytest.approx(300 * 12 / 365.25)
    distant = codings["DM_first"][0]
    assert distant["event"].to_dict() == {
        "lr": 2,
        "dm_then_lr": 1,
        "np_then_lr": 0,
        "death": 2,
        "alive": 0,
        "no_history": 0,
    }
    any_time, dropped = codings["LR_any"]
    # LR after a distant metastasis counts (day 400); a new primary first censors at its date
    assert any_time["event"].to_dict() == {
        "lr": 1,
        "dm_then_lr": 1,
        "np_then_lr": 0,
        "death": 2,
        "alive": 0,
    }
    days = (any_time["time_months"] * 365.25 / 12).round(6).to_dict()
    assert days == {"lr": 100, "dm_then_lr": 400, "np_then_lr": 120, "death": 500, "alive": 600}
    assert dict(zip(dropped["sample_id"], dropped["reason"], strict=True)) == {
        "unknown": "new tumour event of unknown site before any local recurrence",
        "unknown_then_lr": "new tumour event of unknown site before any local recurrence",
        "no_history": "no record in the new-tumour-event history",
    }
    assert "LR_any" not in tcga_cdr_sensitivity(frame, "HNSC")  # without the history


def test_metabric_sensitivity_codings_on_small_frame():
    frame = rueda_frame(
        [
            ("lr", 3000, 0, 1, 365.25, 0, None, 2, "IDC"),
            ("dr_then_lr", 3000, 1, 1, 800, 1, 700, 2, "IDC"),
            ("dr", 3000, 1, 0, None, 1, 600, 2, "ILC"),
            ("death", 2000, 1, 0, None, 0, None, 1, "IDC"),
            ("alive", 2500, 0, 0, None, 0, None, 3, "IDC"),
            ("stage4", 100, 0, 0, None, 0, None, 4, "IDC"),
        ]
    )
    codings = metabric_sensitivity(frame)
    any_time = codings["LR_any"][0]
    assert any_time["event"].to_dict() == {
        "lr": 1,
        "dr_then_lr": 1,
        "dr": 2,
        "death": 2,
        "alive": 0,
    }
    assert (any_time["time_months"] * 365.25 / 12).round(6).to_dict()["dr_then_lr"] == 800
    assert codings["DM_first"][0]["event"].to_dict() == {
        "lr": 2,
        "dr_then_lr": 1,
        "dr": 1,
        "death": 2,
        "alive": 0,
    }
    assert list(codings["LR_any"][1]["sample_id"]) == ["stage4"]


@pytest.mark.parametrize(
    ("cancer", "expected"),
    [
        (
            "UCS",
            {
                "LR_unknown_as_LR": (56, 20, 21),
                "LR_unknown_as_competing": (56, 14, 27),
                "DM_first": (50, 11, 24),
                "LR_any": (50, 16, 18),
            },
        ),
        (
            "ACC",
            {
                "LR_unknown_as_LR": (79, 9, 33),
                "LR_unknown_as_competing": (79, 9, 33),
                "DM_first": (79, 27, 15),
                "LR_any": (79, 10, 20),
            },
        ),
        (
            "CHOL",
            {
                "LR_unknown_as_LR": (36, 12, 7),
                "LR_unknown_as_competing": (36, 12, 7),
                "DM_first": (36, 4, 15),
                "LR_any": (36, 13, 4),
            },
        ),
    ],
)
def test_sensitivity_codings_of_the_shipped_cohorts(cancer, expected):
    """(patients, events, competing) per coding, on the shipped CDR rows and event history."""
    from selfseed.presets import read_new_tumor_events
    from selfseed.sources.tcga_firehose import data_files

    files = data_files(cancer)
    codings = tcga_cdr_sensitivity(
        read_tcga_cdr(files["endpoint_table"]), cancer, read_new_tumor_events(files["events"])
    )
    counts = {name: endpoint_counts(coded["event"]) for name, (coded, _) in codings.items()}
    assert {k: (c["n"], c["events"], c["competing"]) for k, c in counts.items()} == expected


@pytest.mark.parametrize("name", ["rueda.tsv", "rueda.tsv.gz"])
def test_metabric_preset_reads_its_table_gzipped_or_not(tmp_path, name):
    from selfseed.presets import preset_endpoint

    frame = rueda_frame(
        [
            ("MB-1", 3000, 0, 1, 365.25, 0, None, 2, "IDC"),
            ("MB-2", 2500, 0, 0, None, 0, None, 3, "IDC"),
        ]
    )
    frame.to_csv(tmp_path / name, sep="\t", index=False)
    clinical = pd.DataFrame({"PATIENT_ID": ["MB-1", "MB-2", "MB-3"]}, index=["s1", "s2", "s3"])
    spec = {"preset": "metabric_rueda", "table": str(tmp_path / name)}
    coded, dropped, endpoint, _ = preset_endpoint(spec, clinical, cohort="metabric")
    assert coded["event"].to_dict() == {"s1": 1, "s2": 0}
    assert endpoint["name"] == "LR"
    assert dropped["sample_id"].tolist() == ["s3"]
