"""Build src/selfseed/data/tcga/, the embedded TCGA local-recurrence cohorts (UCS, ACC, CHOL).

Sources (byte copies in ../shared/data, see its README.md):
  rtcga/{C}.rnaseq.20160128.rda   Bioconductor RTCGA.rnaseq.20160128: TCGA Firehose 2016-01-28 RNA-seq,
                                  RSEM normalised gene values (linear scale), one data.frame per cohort
  rtcga/{C}.clinical.20160128.rda Bioconductor RTCGA.clinical.20160128: Firehose clinical merge
  tcga_cdr/TCGA-CDR-SupplementalTableS1.xlsx  TCGA Pan-Cancer Clinical Data Resource (Liu et al. 2018)

Outputs (byte-identical on re-run with the same package versions):
  {C}.rsem.parquet       genes x primary tumours (sample type 01, one per patient), source values
  cdr.tsv                the CDR sheet's rows for those patients, every cell as the sheet gives it
  new_tumor_events.tsv   every new tumour event slot of those patients' Firehose clinical records
  manifest.json          inputs (sha256, source, licence), outputs (sha256, shape), versions, counts
  README.md

    python tools/build_tcga_data.py [--shared ../shared/data] [--out src/selfseed/data/tcga]
"""

import argparse
import json
import re
from importlib.metadata import version
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import rdata

from selfseed.errors import InputDataError
from selfseed.files import replaced, sha256

REPO = Path(__file__).resolve().parents[1]
COHORTS = ["ACC", "CHOL", "UCS"]
PRIMARY_TUMOUR = "01"
SAMPLE_TYPES = {
    "02": "recurrent solid tumour",
    "06": "metastatic",
    "10": "blood derived normal",
    "11": "solid tissue normal",
}
RNASEQ = "rtcga/{}.rnaseq.20160128.rda"
CLINICAL = "rtcga/{}.clinical.20160128.rda"
CDR = "tcga_cdr/TCGA-CDR-SupplementalTableS1.xlsx"
CDR_SHEET = "TCGA-CDR"
RTCGA_COMMITS = {"rnaseq": "a27dfdb2", "clinical": "6abf602a"}
TCGA_LICENCE = "TCGA open access"
# Fixed writer options: the same pyarrow version writes the same bytes.
PARQUET_OPTIONS = dict(
    compression="zstd",
    compression_level=19,
    use_dictionary=True,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
)
EVENT_FIELDS = [
    "new_neoplasm_event_type",
    "days_to_new_tumor_event_after_initial_treatment",
    "new_neoplasm_event_occurrence_anatomic_site",
    "new_neoplasm_occurrence_anatomic_site_text",
]
# patient.new_tumor_events.new_tumor_event[-k] and
# patient.follow_ups.follow_up[-j].new_tumor_events.new_tumor_event[-k]
EVENT_SLOT = re.compile(
    r"(patient(?:\.follow_ups\.follow_up(?:-\d+)?)?\.new_tumor_events\.new_tumor_event(?:-\d+)?)\."
    r"(new_neoplasm_event_type|days_to_new_tumor_event_after_initial_treatment)"
)


def read_r_frame(path):
    """The one data.frame an RTCGA .rda file holds."""
    (frame,) = rdata.read_rda(path).values()
    return frame


def primary_tumours(expression):
    """genes x samples table of one sample per patient with sample type 01, and the dropped samples."""
    barcodes = expression["bcr_patient_barcode"].astype(str).to_numpy()
    kept, dropped, patients = {}, [], {}
    for row, barcode in sorted(enumerate(barcodes), key=lambda item: item[1]):
        code, patient = barcode[13:15], barcode[:12]
        if code != PRIMARY_TUMOUR:
            kind = SAMPLE_TYPES.get(code, "not a primary tumour")
            reason = f"sample type {code} ({kind}), not a primary tumour (01)"
        elif patient in patients:
            reason = f"second primary-tumour aliquot of {patient}: kept {patients[patient]}"
        else:
            kept[barcode], patients[patient] = row, barcode
            continue
        dropped.append({"sample": barcode, "reason": reason})
    genes = [str(gene) for gene in expression.columns[1:]]
    values = expression[expression.columns[1:]].to_numpy(dtype="float64")
    columns = {"gene": pa.array(genes, pa.string())}
    columns.update({barcode: pa.array(values[row], pa.float64()) for barcode, row in kept.items()})
    return pa.table(columns), dropped


def cdr_rows(cdr_path, patients):
    """The CDR sheet's named columns for these patients, as text, by cancer type then barcode.

    Read with openpyxl rather than pandas, which turns the sheet's #N/A error cells into NaN."""
    book = openpyxl.load_workbook(cdr_path, read_only=True, data_only=True)
    header, *rows = book[CDR_SHEET].iter_rows(values_only=True)
    book.close()
    named = [i for i, name in enumerate(header) if name is not None]
    sheet = pd.DataFrame(
        [[cell_text(row[i], cdr_path) for i in named] for row in rows],
        columns=[header[i] for i in named],
    )
    rows = sheet[sheet["bcr_patient_barcode"].isin(patients)]
    return rows.sort_values(["type", "bcr_patient_barcode"], kind="stable")


def cell_text(value, path):
    """A sheet cell as text: text and error codes (#N/A) as they are, integers in decimal."""
    if isinstance(value, str | int):
        return str(value)
    raise InputDataError(
        "TCGA-CDR cell of a kind this extract does not write",
        file=path,
        found=f"{type(value).__name__} {value!r}",
        expected="text or an integer (the 2018 sheet has only these)",
    )


def new_tumour_events(clinical, cohort, patients):
    """One row per recorded new tumour event slot; one empty row for a patient with none."""
    clinical = clinical.set_index("patient.bcr_patient_barcode")
    records = sorted({m.group(1) for c in clinical.columns if (m := EVENT_SLOT.fullmatch(c))})
    rows = []
    for patient in sorted(patients):
        record_of_patient = clinical.loc[patient.lower()]
        events = []
        for record in records:
            fields = {f: record_of_patient.get(f"{record}.{f}") for f in EVENT_FIELDS}
            fields = {f: "" if pd.isna(v) else str(v) for f, v in fields.items()}
            if fields["new_neoplasm_event_type"] or fields[EVENT_FIELDS[1]]:
                events.append({"record": record, **fields})
        for event in events or [{"record": "", **dict.fromkeys(EVENT_FIELDS, "")}]:
            rows.append({"bcr_patient_barcode": patient, "cancer_type": cohort, **event})
    return pd.DataFrame(rows)


def write_atomic(path, write):
    """Write through `files.replaced`, so that no half-written output is left behind."""
    with replaced(path) as part:
        write(part)


def write_tsv(frame, path):
    write_atomic(path, lambda part: frame.to_csv(part, sep="\t", index=False, lineterminator="\n"))


def description(path):
    """Package, Version and License of an R DESCRIPTION file."""
    fields = dict(re.findall(r"^(\w+): *(.*)$", Path(path).read_text(), flags=re.M))
    return {
        "package": fields["Package"],
        "version": fields["Version"],
        "licence": fields["License"],
    }


def inputs_manifest(shared):
    """Every input file: path, what it is, source, licence, size and sha256."""
    packages = {kind: description(shared / f"rtcga/DESCRIPTION.{kind}") for kind in RTCGA_COMMITS}

    def rtcga(kind, what):
        package = packages[kind]
        return {
            "what": what,
            "source": {
                "repository": f"RTCGA/{package['package']}",
                "commit": RTCGA_COMMITS[kind],
                **package,
            },
            "licence": f"{TCGA_LICENCE}; {package['package']} is {package['licence']}",
        }

    entries = {}
    for cohort in COHORTS:
        entries[RNASEQ.format(cohort)] = rtcga(
            "rnaseq",
            f"TCGA-{cohort} Firehose 2016-01-28 RNA-seq, RSEM normalised gene values (linear scale)",
        )
        entries[CLINICAL.format(cohort)] = rtcga(
            "clinical", f"TCGA-{cohort} Firehose 2016-01-28 clinical merge, one row per patient"
        )
    for kind in RTCGA_COMMITS:
        entries[f"rtcga/DESCRIPTION.{kind}"] = rtcga(
            kind, f"DESCRIPTION of {packages[kind]['package']}"
        )
    entries[CDR] = {
        "what": f"TCGA Pan-Cancer Clinical Data Resource, sheet '{CDR_SHEET}' (11,160 patients)",
        "source": {"publication": "Liu et al., Cell 2018, Supplemental Table S1 (TCGA-CDR)"},
        "licence": f"{TCGA_LICENCE}; cite Liu et al., Cell 2018",
    }
    return [
        {
            "path": path,
            **entry,
            "size": (shared / path).stat().st_size,
            "sha256": sha256(shared / path),
        }
        for path, entry in sorted(entries.items())
    ]


def readme(cohorts):
    lines = [
        "# Embedded TCGA local-recurrence cohorts",
        "",
        "Written by `tools/build_tcga_data.py` (do not edit by hand); `manifest.json` lists every input with",
        "its sha256, source and licence, every output with its sha256 and shape, and the package versions.",
        "",
        "| file | what |",
        "|---|---|",
        "| `{ACC,CHOL,UCS}.rsem.parquet` | genes x samples: column `gene` (Firehose id `SYMBOL\\|Entrez`, "
        "`?\\|Entrez` without symbol, CXCL8 as `IL8\\|3576`), then one float64 column per primary tumour "
        "(sample type 01, one per patient) named by its aliquot barcode; RSEM normalised values (linear scale) "
        "exactly as in the source |",
        "| `cdr.tsv` | the TCGA-CDR sheet's rows for those patients, every cell as the sheet gives it "
        "(TCGA missing codes such as `[Not Available]` kept); `selfseed.presets.read_tcga_cdr` reads it |",
        "| `new_tumor_events.tsv` | every new tumour event of those patients in the Firehose clinical "
        "records (patient and follow-up slots; `record` names the slot); a patient without one has one "
        "row with `record` empty |",
        "",
        "| cohort | samples in source | primary tumours kept | dropped |",
        "|---|---|---|---|",
        *(
            f"| TCGA-{c} | {n['samples_in_source']} | {n['primary_tumours_kept']} | "
            f"{len(n['dropped'])} |"
            for c, n in cohorts.items()
        ),
        "",
        "Sources: Bioconductor RTCGA.rnaseq.20160128 (GitHub RTCGA/RTCGA.rnaseq.20160128 @ "
        f"{RTCGA_COMMITS['rnaseq']}) and RTCGA.clinical.20160128 (RTCGA/RTCGA.clinical.20160128 @ "
        f"{RTCGA_COMMITS['clinical']}), TCGA Firehose 2016-01-28; TCGA-CDR, Liu et al., Cell 2018, "
        "Supplemental Table S1.",
        "Licences: TCGA open-access data; the RTCGA packages are GPL-2; cite Liu et al., Cell 2018 for the "
        "CDR.",
        "",
        "Rebuild from the byte copies in `../shared/data`:",
        "",
        "    python tools/build_tcga_data.py [--shared ../shared/data] [--out DIR]",
        "",
    ]
    return "\n".join(lines)


def build(shared, out):
    out.mkdir(parents=True, exist_ok=True)
    cohorts, outputs, patients = {}, [], {}
    events = []
    for cohort in COHORTS:
        expression = read_r_frame(shared / RNASEQ.format(cohort))
        table, dropped = primary_tumours(expression)
        path = out / f"{cohort}.rsem.parquet"
        write_atomic(path, lambda part, table=table: pq.write_table(table, part, **PARQUET_OPTIONS))
        outputs.append((path, [table.num_rows, table.num_columns]))
        patients[cohort] = [barcode[:12] for barcode in table.column_names[1:]]
        clinical = read_r_frame(shared / CLINICAL.format(cohort))
        known = set(clinical["patient.bcr_patient_barcode"].str.upper())
        events.append(
            new_tumour_events(clinical, cohort, [p for p in patients[cohort] if p in known])
        )
        cohorts[cohort] = {
            "samples_in_source": len(expression),
            "primary_tumours_kept": table.num_columns - 1,
            "dropped": dropped,
            "patients_without_clinical_record": sorted(set(patients[cohort]) - known),
        }
    cdr = cdr_rows(shared / CDR, {p for ps in patients.values() for p in ps})
    write_tsv(cdr, out / "cdr.tsv")
    events = pd.concat(events, ignore_index=True)
    days = pd.to_numeric(events[EVENT_FIELDS[1]], errors="coerce")
    order = ["cancer_type", "bcr_patient_barcode", "days", "record"]
    events = events.assign(days=days).sort_values(order, kind="stable").drop(columns="days")
    write_tsv(events, out / "new_tumor_events.tsv")
    outputs += [
        (out / "cdr.tsv", list(cdr.shape)),
        (out / "new_tumor_events.tsv", list(events.shape)),
    ]
    for cohort, counts in cohorts.items():
        counts["patients_not_in_cdr"] = sorted(
            set(patients[cohort]) - set(cdr["bcr_patient_barcode"])
        )
        counts["cdr_rows"] = int((cdr["type"] == cohort).sum())
        counts["new_tumor_event_rows"] = int((events["cancer_type"] == cohort).sum())
    manifest = {
        "build_command": "python tools/build_tcga_data.py --shared ../shared/data",
        "versions": {p: version(p) for p in ("rdata", "pandas", "pyarrow", "openpyxl")},
        "inputs": inputs_manifest(shared),
        "outputs": [
            {"name": path.name, "sha256": sha256(path), "shape": shape} for path, shape in outputs
        ],
        "cohorts": cohorts,
    }
    text = json.dumps(manifest, indent=2) + "\n"
    write_atomic(out / "manifest.json", lambda part: part.write_text(text))
    write_atomic(out / "README.md", lambda part: part.write_text(readme(cohorts)))
    return cohorts, outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "src" / "selfseed" / "data" / "tcga")
    args = parser.parse_args()
    cohorts, outputs = build(args.shared, args.out)
    for cohort, counts in cohorts.items():
        print(
            f"TCGA-{cohort}: {counts['samples_in_source']} samples in source, "
            f"{counts['primary_tumours_kept']} primary tumours kept, {len(counts['dropped'])} dropped"
        )
        for drop in counts["dropped"]:
            print(f"  dropped {drop['sample']}: {drop['reason']}")
        for key in ("patients_without_clinical_record", "patients_not_in_cdr"):
            if counts[key]:
                print(f"  {key.replace('_', ' ')}: {', '.join(counts[key])}")
    sizes = {path.name: path.stat().st_size for path in sorted(args.out.iterdir())}
    for name, size in sizes.items():
        print(f"{name}: {size / 1e6:.2f} MB")
    print(f"{args.out}: {sum(sizes.values()) / 1e6:.2f} MB in {len(sizes)} files")


if __name__ == "__main__":
    main()
