"""Clinical endpoint coding: follow-up time in months and event 0 censored / 1 event of interest / 2 competing."""

import numpy as np
import pandas as pd

from selfseed.contracts import CENSORED, COMPETING, EVENT, coding_columns
from selfseed.errors import ConfigError
from selfseed.logs import log

MONTHS_PER = {"days": 12 / 365.25, "weeks": 12 * 7 / 365.25, "months": 1.0, "years": 12.0}
# No one is followed up for a century after a cancer diagnosis: a longer time is a wrong time_unit
# (days declared as months: 10 years of follow-up read as 304 years) or a wrong value.
MAX_FOLLOW_UP_YEARS = 100
# An event code in none of the lists that this many rows share is a category the config forgot
# (e.g. "relapsed" beside event_values [relapse]), not a stray value: dropping those rows would
# bias the estimates, so it stops the run.
UNLISTED_CODE_ROWS = 5

# Codings of a preset's local-recurrence endpoint beside the primary one (LR as first event), for the
# sensitivity analyses and the competing cause: name -> what event 1 and event 2 are, and the role.
ENDPOINT_VARIANTS = {
    "LR_unknown_as_LR": {
        "label": "LR as first event, first events of unknown site counted as LR",
        "role": "sensitivity (a): bound, unknown-site first events as LR",
    },
    "LR_unknown_as_competing": {
        "label": "LR as first event, first events of unknown site counted as competing",
        "role": "sensitivity (a): bound, unknown-site first events as competing",
    },
    "LR_any": {
        "label": "LR at any time (also after distant metastasis); death without LR competing",
        "role": "sensitivity (b): estimand changes to the hazard of a first LR whenever it occurs",
    },
    "DM_first": {
        "label": "distant metastasis as first event; LR first and death competing",
        "role": "competing cause: distant metastasis as its own endpoint",
    },
}


def coded_samples(obs, variant=None):
    """obs rows with a usable `variant` coding (None: the primary endpoint), with that coding in
    time_months and event."""
    time, event = coding_columns(variant)
    used = obs[obs[event].notna()]
    return used.assign(time_months=used[time].astype(float), event=used[event].astype(int))


def code_value(value):
    """Comparable text for an event code: 1, 1.0, '1' and ' 1 ' are the same code."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def code_key(value):
    """An event code as compared with the config's lists: `code_value`, regardless of case
    ('Relapse', 'RELAPSE' and 'relapse' are the same code)."""
    text = code_value(value)
    return None if text is None else text.casefold()


def to_number(value):
    """A float from a number or a text (' 12.5 '), correctly rounded as Python's float() (pandas'
    own text parser may differ in the last digit); anything else NaN."""
    if isinstance(value, str):
        value = value.strip()
        if "_" in value:  # float() would read 1_000 as 1000
            return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def event_coding(endpoint):
    """Map from code key (`code_key`) to 0/1/2 for an endpoint config entry."""
    coding = {}
    for key, code in (
        ("censored_values", CENSORED),
        ("event_values", EVENT),
        ("competing_values", COMPETING),
    ):
        for value in endpoint.get(key, []):
            coding[code_key(value)] = code
    return coding


def check_event_codes(values, endpoint, *, cohort, file):
    """Stop when the configured event or censoring codes occur nowhere in the event column."""
    present = {code_value(v) for v in values} - {None}
    present_keys = {code.casefold() for code in present}
    for key in ("event_values", "censored_values"):
        configured = {code_value(v) for v in endpoint.get(key, [])}
        if configured and not {code.casefold() for code in configured} & present_keys:
            raise ConfigError(
                f"none of the configured {key} occurs in the event column",
                cohort=cohort,
                file=file,
                column=endpoint["event_column"],
                key=f"cohorts.{cohort}.endpoint.{key}",
                found=f"values {sorted(present)}",
                expected=f"at least one of {sorted(configured)}",
            )


def code_endpoint(clinical, endpoint, *, cohort, file):
    """Return (DataFrame[time_months, event] on the clinical index, dropped DataFrame[sample_id, reason]).

    Samples with a missing, infinite or non-positive time, or a missing or unlisted event code, are
    dropped with their reason.
    """
    for key in ("time_column", "event_column"):
        if endpoint[key] not in clinical.columns:
            raise ConfigError(
                f"endpoint {key.replace('_', ' ')} not found in the clinical table",
                cohort=cohort,
                file=file,
                column=endpoint[key],
                key=f"cohorts.{cohort}.endpoint.{key}",
                found=f"columns {list(clinical.columns)[:20]}",
                expected="one of the clinical columns",
            )
    raw_event = clinical[endpoint["event_column"]]
    check_event_codes(raw_event, endpoint, cohort=cohort, file=file)
    time = clinical[endpoint["time_column"]].map(to_number).astype(float)
    time_months = time * MONTHS_PER[endpoint["time_unit"]]
    codes = raw_event.map(code_value)
    coding = event_coding(endpoint)
    event = codes.map(lambda code: coding.get(code.casefold()) if isinstance(code, str) else None)
    log_case_matches(codes[event.notna()], endpoint, cohort)
    reasons = pd.Series(pd.NA, index=clinical.index, dtype=object)
    reasons[codes.isna()] = "missing event code"
    unknown = codes.notna() & event.isna()
    reasons[unknown] = "event code " + codes[unknown].astype(str) + " is not a configured value"
    reasons[time.isna()] = "missing or non-numeric follow-up time"
    reasons[np.isinf(time)] = "follow-up time is infinite"
    reasons[(time <= 0) | (time_months <= 0)] = "follow-up time <= 0"  # also one too small to count
    keep = reasons.isna()
    check_unlisted_codes(codes[unknown], endpoint, cohort=cohort, file=file)
    check_follow_up(time[keep], endpoint, cohort=cohort, file=file)
    coded = pd.DataFrame(
        {"time_months": time_months[keep].astype(float), "event": event[keep].astype(int)}
    )
    dropped = pd.DataFrame(
        {"sample_id": clinical.index[~keep], "reason": reasons[~keep].to_numpy()}
    )
    return coded, dropped


def log_case_matches(codes, endpoint, cohort):
    """One INFO line naming the data's codes that match a configured code only regardless of case."""
    configured = {
        code_value(v)
        for key in ("event_values", "competing_values", "censored_values")
        for v in endpoint.get(key, [])
    }
    differ = codes[~codes.isin(configured)].value_counts()
    if len(differ):
        log.info(
            "%s: event codes matched to the configured lists regardless of case: %s",
            cohort,
            ", ".join(f"{code!r} ({n} rows)" for code, n in differ.items()),
        )


def check_unlisted_codes(codes, endpoint, *, cohort, file):
    """Stop when an event code in none of the lists is shared by UNLISTED_CODE_ROWS rows or more."""
    counts = codes.value_counts()
    frequent = counts[counts >= UNLISTED_CODE_ROWS]
    if len(frequent):
        raise ConfigError(
            "event codes in none of the configured lists occur in many rows",
            cohort=cohort,
            file=file,
            column=endpoint["event_column"],
            key=f"cohorts.{cohort}.endpoint.event_values",
            found=", ".join(f"{code!r} in {n} rows" for code, n in frequent.items()),
            expected=f"every code shared by {UNLISTED_CODE_ROWS} or more rows in event_values, "
            "competing_values or censored_values (dropping those rows would bias the estimates)",
            fix="list each code in event_values, competing_values or censored_values; to drop "
            "those rows on purpose, list the code in the cohort's missing_values",
        )


def check_follow_up(time, endpoint, *, cohort, file):
    """Stop when a follow-up time is longer than MAX_FOLLOW_UP_YEARS, naming time_unit and the
    smaller units that would make every time plausible."""
    unit = endpoint["time_unit"]
    years = time * MONTHS_PER[unit] / 12
    too_long = years > MAX_FOLLOW_UP_YEARS
    if not too_long.any():
        return
    longest = float(time.max())
    plausible = [
        f"as {other}: at most {longest * MONTHS_PER[other] / 12:.1f} years"
        for other, factor in MONTHS_PER.items()
        if factor < MONTHS_PER[unit] and longest * factor / 12 <= MAX_FOLLOW_UP_YEARS
    ]
    raise ConfigError(
        f"follow-up longer than {MAX_FOLLOW_UP_YEARS} years: is time_unit right?",
        cohort=cohort,
        file=file,
        column=endpoint["time_column"],
        key=f"cohorts.{cohort}.endpoint.time_unit",
        found=f"time_unit {unit}: {int(too_long.sum())} of {len(time)} samples followed for more "
        f"than {MAX_FOLLOW_UP_YEARS} years, the longest {years.max():.0f} years ({longest:g} "
        f"{unit})" + (f"; {'; '.join(plausible)}" if plausible else ""),
        expected=f"follow-up times under {MAX_FOLLOW_UP_YEARS} years",
        fix="set time_unit to the unit of the time column (days, weeks, months, years), or "
        "correct those rows",
    )


def endpoint_counts(event):
    """Numbers of samples, events of interest, competing events and censored samples (samples
    without this coding, NaN, are not counted)."""
    event = pd.Series(event).dropna()
    return {
        "n": int(event.size),
        "events": int((event == EVENT).sum()),
        "competing": int((event == COMPETING).sum()),
        "censored": int((event == CENSORED).sum()),
    }


def no_usable_endpoint(error_class, dropped, n_rows, *, cohort, file):
    """The error for a cohort whose every row was dropped while coding the endpoint."""
    reasons = dropped["reason"].value_counts()
    return error_class(
        "no sample has a usable endpoint",
        cohort=cohort,
        file=file,
        key=f"cohorts.{cohort}.endpoint",
        found=f"all {n_rows} rows dropped: "
        + "; ".join(f"{n} x {reason}" for reason, n in reasons.head(5).items()),
        expected="numeric follow-up times > 0 and the configured event codes",
        fix="check time_column, time_unit and the event code lists",
    )
