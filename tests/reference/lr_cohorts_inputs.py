"""Write lr_cohorts.tsv, the input of lr_cohorts.R: per shipped TCGA cohort of the default config and
patient, the primary endpoint (LR as first event), the distant-metastasis-first coding and the
self-seeding zmean score, as the pipeline computes them. Run: python tests/reference/lr_cohorts_inputs.py"""

from pathlib import Path

import pandas as pd
import yaml

from selfseed.cohort import build_cohort
from selfseed.endpoints import coded_samples
from selfseed.scoring import score_cohort

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "config.yaml"


def cohort_inputs(name, entry, config):
    """time_months, event, event_dm, score of one cohort's patients with the primary coding."""
    defaults = {"covariates": [], "missing_values": [], "sample_column": "sample_id"}
    adata, _ = build_cohort({**defaults, **entry}, name, max_missing_fraction=0.2)
    scoring = config["scoring"]
    long, _, _ = score_cohort(
        adata,
        {"self_seeding": config["signatures"]["self_seeding"]},
        methods=["zmean"],
        min_genes=2,
        ctrl_size=scoring["ctrl_size"],
        n_bins=scoring["n_bins"],
        random_state=scoring["random_state"],
        weight=scoring["ssgsea_weight"],
    )
    score = long.set_index("sample_id")["score"]
    primary = coded_samples(adata.obs)
    return pd.DataFrame(
        {
            "cohort": name,
            "sample_id": primary.index,
            "time_months": primary["time_months"],
            "event": primary["event"],
            "event_dm": primary["event:DM_first"].astype(int),
            "score": score.reindex(primary.index),
        }
    )


def lr_cohorts():
    config = yaml.safe_load(CONFIG.read_text())
    return pd.concat(
        [cohort_inputs(name, entry, config) for name, entry in sorted(config["cohorts"].items())],
        ignore_index=True,
    )


if __name__ == "__main__":
    lr_cohorts().to_csv(HERE / "lr_cohorts.tsv", sep="\t", index=False, float_format="%.17g")
