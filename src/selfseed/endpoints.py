"""Clinical endpoint coding: follow-up time in months and event 0 censored / 1 event of interest / 2 competing."""

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError

MONTHS_PER = {"days": 12 / 365.25, "weeks": 12 * 7 / 365.25, "months": 1.0, "years": 12.0}
CENSORED, EVENT, COMPETING = 0, 1, 2

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


def variant_columns(name):
    """The obs columns (time, event) of an endpoint coding; None is the primary one."""
    return ("time_months", "event") if name is None else (f"time_months:{name}", f"event:{name}")


def coded_samples(obs, variant=None):
    """obs rows with a usable `variant` coding (None: the primary endpoint), with that coding in
    time_months and event."""
    time, event = variant_columns(variant)
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
    """Map from code text to 0/1/2 for an endpoint config entry."""
    coding = {}
    for key, code in (
        ("censored_values", CENSORED),
        ("event_values", EVENT),
        ("competing_values", COMPETING),
    ):
        for value in endpoint.get(key, []):
            coding[code_value(value)] = code
    return coding


def check_event_codes(values, endpoint, *, cohort, file):
    """Stop when the configured event or censoring codes occur nowhere in the event column."""
    present = {code_value(v) for v in values} - {None}
    for key in ("event_values", "censored_values"):
        configured = {code_value(v) for v in endpoint.get(key, [])}
        if configured and not configured & present:
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
    event = codes.map(event_coding(endpoint))
    reasons = pd.Series(pd.NA, index=clinical.index, dtype=object)
    reasons[codes.isna()] = "missing event code"
    unknown = codes.notna() & event.isna()
    reasons[unknown] = "event code " + codes[unknown].astype(str) + " is not a configured value"
    reasons[time.isna()] = "missing or non-numeric follow-up time"
    reasons[np.isinf(time)] = "follow-up time is infinite"
    reasons[time <= 0] = "follow-up time <= 0"
    keep = reasons.isna()
    coded = pd.DataFrame(
        {"time_months": time_months[keep].astype(float), "event": event[keep].astype(int)}
    )
    dropped = pd.DataFrame(
        {"sample_id": clinical.index[~keep], "reason": reasons[~keep].to_numpy()}
    )
    return coded, dropped


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
