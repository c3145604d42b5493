"""TCGA cohorts shipped with selfseed, so that the default run answers the local-recurrence question
offline: TCGA Firehose 2016-01-28 RNA-seq (RSEM normalised gene values, primary tumours, one per
patient; Bioconductor RTCGA.rnaseq.20160128) of uterine carcinosarcoma (UCS), adrenocortical
carcinoma (ACC) and cholangiocarcinoma (CHOL), with their patients' TCGA-CDR rows and full
new-tumour-event history (RTCGA.clinical.20160128). Built by tools/build_tcga_data.py; sources,
commits, licences and sha256 in data/tcga/manifest.json.
"""

from importlib.resources import files

import numpy as np
import pandas as pd

from selfseed.files import sha256
from selfseed.sources.common import LoadedCohort, Source

DATA = files("selfseed") / "data" / "tcga"
CANCER_TYPES = {
    "UCS": "uterine carcinosarcoma",
    "ACC": "adrenocortical carcinoma",
    "CHOL": "cholangiocarcinoma",
}


def data_files(cancer_type):
    """Paths of a cancer type's shipped files: expression, CDR rows, new-tumour-event history."""
    return {
        "expression": str(DATA / f"{cancer_type}.rsem.parquet"),
        "endpoint_table": str(DATA / "cdr.tsv"),
        "events": str(DATA / "new_tumor_events.tsv"),
    }


def read_rsem(path):
    """genes x samples log2(RSEM + 1) from a shipped parquet (first column the Firehose gene ids)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    values = np.column_stack([column.to_numpy() for column in table.columns[1:]])
    return pd.DataFrame(
        np.log2(values + 1.0),
        index=pd.Index(table.column(0).to_pylist(), name="gene"),
        columns=table.column_names[1:],
    )


class TcgaFirehose(Source):
    """A shipped TCGA cohort (`cancer_type`); its CDR rows and event history are the tcga_cdr
    preset's tables unless the endpoint names others."""

    def inputs(self, entry):
        return {"expression": data_files(entry["cancer_type"])["expression"]}

    def endpoint_defaults(self, entry):
        shipped = data_files(entry["cancer_type"])
        return {
            "cancer_type": entry["cancer_type"],
            "table": shipped["endpoint_table"],
            "events": shipped["events"],
        }

    def load(self, entry, files, *, cohort):
        """log2(RSEM + 1) genes x samples; clinical = the patients' rows of the preset's CDR table
        by sample, with patient_id."""
        from selfseed.presets import read_tcga_cdr

        endpoint = {**self.endpoint_defaults(entry), **entry["endpoint"]}
        path = files.get("expression", data_files(entry["cancer_type"])["expression"])
        expression = read_rsem(path)
        cdr = read_tcga_cdr(endpoint["table"]).set_index("bcr_patient_barcode")
        patients = pd.Index(expression.columns.str[:12], name="patient_id")
        clinical = cdr.reindex(patients).reset_index().set_index(expression.columns)
        used = [path, endpoint["table"], endpoint["events"]]
        provenance = {
            "source": "tcga_firehose",
            "dataset": f"TCGA-{entry['cancer_type']}, Firehose 2016-01-28 RNA-seq (RTCGA)",
            "files": [f"{file} sha256:{sha256(file)}" for file in used],
            "clinical_file": endpoint["table"],
            "expression_file": path,
            "log2": "log2(RSEM normalised value + 1)",
        }
        return LoadedCohort(expression, clinical, provenance)


SOURCE = TcgaFirehose()
