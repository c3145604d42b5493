import numpy as np
import pandas as pd
import pytest

from selfseed.endpoints import code_endpoint, code_value, endpoint_counts
from selfseed.errors import ConfigError

ENDPOINT = {
    "name": "LR",
    "label": "local recurrence",
    "time_column": "days",
    "time_unit": "days",
    "event_column": "status",
    "event_values": ["local"],
    "competing_values": ["distant", "death"],
    "censored_values": ["none"],
}


def clinical():
    return pd.DataFrame(
        {
            "days": [365.25, 730.5, 100, np.nan, 0, 50, 20, 10],
            "status": ["local", "distant", "none", "local", "none", "weird", None, "death"],
        },
        index=[f"p{i}" for i in range(8)],
    )


def test_times_in_months_and_events_coded_0_1_2():
    coded, dropped = code_endpoint(clinical(), ENDPOINT, cohort="c", file="f")
    assert list(coded.index) == ["p0", "p1", "p2", "p7"]
    assert coded["time_months"].tolist() == pytest.approx(
        [12.0, 24.0, 100 * 12 / 365.25, 10 * 12 / 365.25]
    )
    assert coded["event"].tolist() == [1, 2, 0, 2]
    reasons = dict(zip(dropped["sample_id"], dropped["reason"], strict=True))
    assert reasons == {
        "p3": "missing or non-numeric follow-up time",
        "p4": "follow-up time <= 0",
        "p5": "event code weird is not a configured value",
        "p6": "missing event code",
    }
    assert endpoint_counts(coded["event"]) == {"n": 4, "events": 1, "competing": 2, "censored": 1}


@pytest.mark.parametrize(
    ("unit", "factor"), [("years", 12.0), ("months", 1.0), ("weeks", 12 * 7 / 365.25)]
)
def test_time_units(unit, factor):
    endpoint = {**ENDPOINT, "time_unit": unit}
    coded, _ = code_endpoint(clinical(), endpoint, cohort="c", file="f")
    assert coded.loc["p0", "time_months"] == pytest.approx(365.25 * factor)


def test_numeric_codes_match_whatever_their_type():
    assert code_value(1) == code_value("1") == code_value(1.0) == code_value(" 1 ") == "1"
    assert code_value(np.nan) is None
    frame = pd.DataFrame({"t": [1, 2], "e": ["1.0", "0"]})
    endpoint = {
        **ENDPOINT,
        "time_column": "t",
        "event_column": "e",
        "event_values": [1],
        "competing_values": [],
        "censored_values": [0],
        "time_unit": "months",
    }
    coded, _ = code_endpoint(frame, endpoint, cohort="c", file="f")
    assert coded["event"].tolist() == [1, 0]


def test_event_codes_that_match_nothing_stop_with_the_key():
    endpoint = {**ENDPOINT, "event_values": ["Relapse"]}
    with pytest.raises(ConfigError) as error:
        code_endpoint(clinical(), endpoint, cohort="mine", file="clin.tsv")
    message = str(error.value)
    assert "cohorts.mine.endpoint.event_values" in message
    assert "clin.tsv" in message
    assert "Relapse" in message


def test_missing_time_column_names_column_and_key():
    with pytest.raises(ConfigError, match="cohorts.mine.endpoint.time_column"):
        code_endpoint(clinical(), {**ENDPOINT, "time_column": "OS_days"}, cohort="mine", file="x")
