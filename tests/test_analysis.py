"""analysis.analyse: which patients each analysis of one score uses."""

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from selfseed.analysis import analyse
from selfseed.contracts import COMPETING, EVENT, coding_columns

SCHEMA = "workflow/schemas/config.schema.yaml"


@pytest.fixture(scope="module")
def statistics():
    with open("config/config.yaml") as handle:
        config = yaml.safe_load(handle)
    validate(config, SCHEMA)  # fills the schema's defaults
    return config["statistics"]


def cohort(n=120, unknown_site=15, seed=3):
    """A cohort whose first `unknown_site` patients have a first event of unknown site: no primary
    coding, but coded (as LR) by the LR_unknown_as_LR coding; everyone else is coded the same way
    by both."""
    rng = np.random.default_rng(seed)
    score = pd.Series(rng.normal(size=n), index=[f"s{i}" for i in range(n)])
    time = rng.exponential(30, size=n) + 0.5
    event = rng.choice([0, EVENT, COMPETING], size=n, p=[0.5, 0.3, 0.2]).astype(float)
    primary_time, primary_event = time.copy(), event.copy()
    primary_time[:unknown_site] = primary_event[:unknown_site] = np.nan
    event[:unknown_site] = EVENT
    time_column, event_column = coding_columns("LR_unknown_as_LR")
    obs = pd.DataFrame(
        {
            "time_months": primary_time,
            "event": primary_event,
            time_column: time,
            event_column: event,
        },
        index=score.index,
    )
    return score, obs


def test_a_sensitivity_coding_keeps_patients_the_primary_coding_excludes(statistics):
    score, obs = cohort()
    settings = {
        "models": [("univariable", [])],
        "statistics": statistics,
        "treatment": None,
        "variants": ["LR_unknown_as_LR"],
    }
    result = analyse(score, obs, settings)
    primary, sensitivity = result.rows["cox"][0], result.rows["sensitivity"][0]
    assert primary["n"] == 105
    assert sensitivity["n"] == 120
    assert sensitivity["events"] == primary["events"] + 15
    assert len(result.split) == 105  # the KM split is over the primary coding's patients
