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
    times = clinical().assign(days=lambda frame: frame["days"] / 365.25)  # p0: 1 unit
    coded, _ = code_endpoint(times, endpoint, cohort="c", file="f")
    assert coded.loc["p0", "time_months"] == pytest.approx(factor)


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


def test_event_codes_match_regardless_of_case_and_the_log_says_so(caplog):
    frame = pd.DataFrame(
        {"days": [100, 200, 300, 400, 500], "status": ["Local", "LOCAL", "local", "None", "Death"]},
        index=[f"p{i}" for i in range(5)],
    )
    with caplog.at_level("INFO", logger="selfseed"):
        coded, dropped = code_endpoint(frame, ENDPOINT, cohort="mine", file="f")
    assert coded["event"].tolist() == [1, 1, 1, 0, 2]
    assert dropped.empty
    line = next(r.getMessage() for r in caplog.records if "regardless of case" in r.getMessage())
    assert line.startswith("mine:")
    assert "'LOCAL' (1 rows)" in line
    assert "'Death' (1 rows)" in line
    assert "'local'" not in line  # listed as written: not reported


def test_codes_equal_up_to_case_in_two_lists_stop_before_any_job():
    from selfseed.config import check_names

    entry = {"covariates": [], "endpoint": {**ENDPOINT, "censored_values": ["LOCAL"]}}
    with pytest.raises(ConfigError, match="regardless of case") as error:
        check_names(entry, "mine")
    assert "cohorts.mine.endpoint.censored_values" in str(error.value)
    assert "LOCAL" in str(error.value)


def test_an_unlisted_code_shared_by_many_rows_stops_a_few_are_dropped():
    frame = pd.DataFrame(
        {
            "days": np.arange(1, 13) * 100.0,
            "status": ["local"] * 3 + ["none"] * 3 + ["relapsed"] * 5 + ["odd"],
        },
        index=[f"p{i}" for i in range(12)],
    )
    with pytest.raises(ConfigError, match="none of the configured lists") as error:
        code_endpoint(frame, ENDPOINT, cohort="mine", file="clin.tsv")
    message = str(error.value)
    assert "'relapsed' in 5 rows" in message
    assert "odd" not in message
    assert "missing_values" in message
    assert "cohorts.mine.endpoint.event_values" in message
    coded, dropped = code_endpoint(
        frame.iloc[[0, 3, 6, 7, 8, 9, 11]], ENDPOINT, cohort="mine", file="clin.tsv"
    )
    assert len(dropped) == 5
    assert len(coded) == 2


@pytest.mark.parametrize(
    ("unit", "days", "stops", "hint"),
    [
        ("months", 3650.0, True, "as days: at most 10.0 years"),  # 10 years in days, as months
        ("weeks", 3650.0, False, ""),  # 70 years: long, but not impossible
        ("days", 36000.0, False, ""),  # 98.6 years
        ("days", 36600.0, True, "the longest 100 years (36600 days)"),  # 100.2 years
        ("years", 3650.0, True, "as days: at most 10.0 years; as weeks: at most 70.0 years"),
    ],
)
def test_follow_up_longer_than_a_century_stops_naming_time_unit(unit, days, stops, hint):
    frame = pd.DataFrame({"days": [12.0, days], "status": ["local", "none"]}, index=["p0", "p1"])
    endpoint = {**ENDPOINT, "time_unit": unit}
    if not stops:
        code_endpoint(frame, endpoint, cohort="mine", file="f")
        return
    with pytest.raises(ConfigError, match="longer than 100 years") as error:
        code_endpoint(frame, endpoint, cohort="mine", file="f")
    message = str(error.value)
    assert "cohorts.mine.endpoint.time_unit" in message
    assert f"time_unit {unit}" in message
    assert hint in message
    assert "column 'days'" in message
