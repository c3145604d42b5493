"""Reference time-dependent AUCs from scikit-survival's cumulative_dynamic_auc.

timeROC is not packaged for Debian, so scikit-survival (a test-time-free dependency: only this
script needs it) is the reference. Reads coxdiag_<cohort>.tsv (made by coxdiag_inputs.py) and
writes discrimination_sksurv.json. Run with a Python that has scikit-survival, e.g.
  uv venv /tmp/sksurv && uv pip install -p /tmp/sksurv/bin/python scikit-survival pandas
  /tmp/sksurv/bin/python tests/reference/discrimination_sksurv.py
"""

import json
from pathlib import Path

import pandas as pd
import sksurv
from sksurv.metrics import cumulative_dynamic_auc
from sksurv.util import Surv

HERE = Path(__file__).resolve().parent
HORIZONS = {"gse1992": [6, 12, 24, 36, 60], "gse3143": [24, 36, 48, 60, 96]}

reference = {"versions": {"scikit-survival": sksurv.__version__}}
for cohort, horizons in HORIZONS.items():
    data = pd.read_csv(HERE / f"coxdiag_{cohort}.tsv", sep="\t")
    y = Surv.from_arrays(event=data["event"] == 1, time=data["time"])
    # events after the last horizon are neither cases nor needed: censoring them in the test set
    # keeps the AUCs unchanged and avoids sksurv's weight for an event where G reaches 0
    y_test = Surv.from_arrays(
        event=(data["event"] == 1) & (data["time"] <= max(horizons)), time=data["time"]
    )
    for risk in ("score", "score_round1"):
        auc, _ = cumulative_dynamic_auc(y, y_test, data[risk].to_numpy(), horizons)
        reference[f"{cohort}_{risk}"] = {"horizons": horizons, "auc": auc.tolist()}
(HERE / "discrimination_sksurv.json").write_text(json.dumps(reference, indent=2) + "\n")
