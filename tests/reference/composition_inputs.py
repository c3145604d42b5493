"""Write composition_ucs.tsv, the input of composition.R: per patient of the shipped TCGA-UCS cohort
(default config) with the primary endpoint, time, event (0/1/2), the self-seeding zmean score and
the stromal, immune and malignant marker scores (zmean of the shipped Wu et al. 2021 reference's
marker sets, as selfseed.composition computes them).
Run: python tests/reference/composition_inputs.py"""

from pathlib import Path

import pandas as pd
import yaml

from selfseed.cells import marker_rows, open_configured, symbol_signatures
from selfseed.cohort import build_cohort
from selfseed.composition import marker_scores, marker_sets
from selfseed.endpoints import coded_samples
from selfseed.scoring import zmean

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "config" / "config.yaml"


def composition_inputs(cohort="tcga_ucs"):
    config = yaml.safe_load(CONFIG.read_text())
    entry = config["singlecell"]["references"]["wu2021_CID4465"]
    reference = open_configured(entry, "wu2021_CID4465")
    signatures = symbol_signatures(config["signatures"])
    exclude = [g for genes in signatures.values() for g in genes]
    markers = marker_rows(reference, entry["marker_level"], exclude, entry, "wu2021_CID4465")
    defaults = {"covariates": [], "missing_values": [], "sample_column": "sample_id"}
    adata, _ = build_cohort(
        {**defaults, **config["cohorts"][cohort]}, cohort, max_missing_fraction=0.2
    )
    expression = pd.DataFrame(adata.X, index=adata.obs_names, columns=adata.var_names)
    scores, _ = marker_scores(expression, marker_sets(markers, entry), config["min_genes"])
    primary = coded_samples(adata.obs)
    frame = pd.DataFrame(
        {
            "sample_id": primary.index,
            "time_months": primary["time_months"],
            "event": primary["event"],
            "score": zmean(expression, signatures["self_seeding"]).reindex(primary.index),
        }
    )
    return frame.join(scores.reindex(primary.index))


if __name__ == "__main__":
    composition_inputs().to_csv(
        HERE / "composition_ucs.tsv", sep="\t", index=False, float_format="%.17g"
    )
