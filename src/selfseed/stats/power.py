"""Study planning for a continuous score per SD: events and patients for a given power, the power of
a number of events, and the smallest HR per SD a cohort can detect; two-sided test at level alpha.

Cause-specific hazard, Schoenfeld (1983), for a covariate of variance sigma^2:

    D = (z_{1-alpha/2} + z_{1-beta})^2 / (sigma^2 (log HR)^2),   N = D / P(event of interest)

Subdistribution hazard, Latouche, Porcher & Chevret (2004): the same D with the subdistribution HR,
N = D / CIF(horizon) of the event of interest. The score is per SD, so sigma^2 = 1: HR per SD is
exp(sigma beta) for the HR exp(beta) per unit, and sigma^2 (log HR per unit)^2 = (log HR per SD)^2.
With competing events, the probability of observing the event of interest is its cumulative
incidence (Aalen-Johansen), for both hazards; 1 - Kaplan-Meier (competing events censored) would
overstate it and undersize the study. N assumes every patient is followed to the horizon (or that
the CIF at the horizon is the chance of observing the event in the planned study). These are
powerSurvEpi's ssizeEpiCont.default (psi = 1 for D, psi = the CIF for N; rho2 = 0: no adjustment)
and powerEpiCont.default, whose power Phi(sqrt(D sigma^2) |log HR| - z_{1-alpha/2}) leaves out the
far tail (tests/reference/power.R).
"""

import numpy as np
import pandas as pd
from scipy.stats import norm

SCHOENFELD = (
    "Schoenfeld (1983): D = (z_{1-a/2} + z_{1-b})^2 / (log HR per SD)^2 (covariate variance 1 "
    "per SD); N = D / CIF_LR(horizon)"
)
LATOUCHE = (
    "Latouche, Porcher & Chevret (2004): D = (z_{1-a/2} + z_{1-b})^2 / (log sHR per SD)^2 "
    "(covariate variance 1 per SD); N = D / CIF_LR(horizon)"
)
FORMULAS = {"cause_specific": SCHOENFELD, "subdistribution": LATOUCHE}
PLANNING_COLUMNS = [
    "hazard",
    "formula",
    "assumed",
    "hr_per_sd",
    "power",
    "alpha",
    "horizon_months",
    "cif_event",
    "cif_competing",
    "events_exact",
    "events",
    "patients_exact",
    "patients",
    "note",
]
MINIMUM_HR = "minimum detectable HR per SD = exp((z_{1-a/2} + z_{1-b}) / sqrt(D)), D = LR events"


def events_needed(hr, power=0.8, alpha=0.05, variance=1.0):
    """Events of interest for `power` at two-sided `alpha` (not rounded up)."""
    return (norm.ppf(1 - alpha / 2) + norm.ppf(power)) ** 2 / (variance * np.log(hr) ** 2)


def patients_needed(hr, p_event, power=0.8, alpha=0.05, variance=1.0):
    """Patients for `power`: the events needed over the probability of the event of interest."""
    return events_needed(hr, power, alpha, variance) / p_event


def power_of_events(events, hr, alpha=0.05, variance=1.0):
    """Power of the test with `events` events of interest when the true HR per SD is `hr`."""
    return norm.cdf(np.sqrt(events * variance) * np.abs(np.log(hr)) - norm.ppf(1 - alpha / 2))


def minimum_detectable_hr(events, power=0.8, alpha=0.05, variance=1.0):
    """The HR per SD (> 1) detected with `power` from `events` events of interest; its inverse
    is the HR below 1 detected with the same power."""
    return np.exp((norm.ppf(1 - alpha / 2) + norm.ppf(power)) / np.sqrt(events * variance))


def incidence_at(time, event, horizon):
    """Aalen-Johansen cumulative incidence of the event of interest (1) and of competing events
    (2) at `horizon` (same unit as `time`), or NaN when no patient is followed that long."""
    from selfseed.stats.competing import cumulative_incidence

    curves = cumulative_incidence(time, event)
    if np.max(time) < horizon:
        return np.nan, np.nan
    return tuple(
        float(np.r_[0.0, part.loc[part["time"] <= horizon, "cif"]][-1])
        for _, part in curves.groupby("cause")
    )


def planning_table(
    hazards, p_event, p_competing, *, powers=(0.8, 0.9), alpha=0.05, horizon_months=60
):
    """Events and patients needed per hazard, assumed HR and power.

    `hazards`: {"cause_specific" / "subdistribution": (hr, ci_low, ci_high)}, pooled per SD;
    `p_event`, `p_competing`: CIF of the event of interest and of competing events at the horizon
    (the second is context: it enters through the first). Each HR is used as estimated and as its
    conservative value, the CI bound nearer 1 (the lower bound for HR > 1); when the CI includes 1
    that value is 1, which no study has power to detect."""
    rows = []
    for hazard, (hr, ci_low, ci_high) in hazards.items():
        bound = 1.0 if ci_low <= 1 <= ci_high else ci_low if hr > 1 else ci_high
        for assumed, value in (("pooled estimate", hr), ("CI bound nearer 1", bound)):
            for power in powers:
                row = {
                    "hazard": hazard,
                    "formula": FORMULAS[hazard],
                    "assumed": assumed,
                    "hr_per_sd": value,
                    "power": power,
                    "alpha": alpha,
                    "horizon_months": horizon_months,
                    "cif_event": p_event,
                    "cif_competing": p_competing,
                }
                if not np.isfinite(value) or value == 1:
                    rows.append({**row, "note": "not estimable: no power against an HR of 1"})
                    continue
                events = events_needed(value, power, alpha)
                row.update(events_exact=events, events=int(np.ceil(events)))
                if not p_event > 0:
                    note = (
                        f"no patient number: no cumulative incidence at {horizon_months:g} months"
                    )
                    rows.append({**row, "note": note})
                    continue
                patients = events / p_event
                rows.append(
                    {
                        **row,
                        "patients_exact": patients,
                        "patients": int(np.ceil(patients)),
                        "note": "",
                    }
                )
    return pd.DataFrame(rows).reindex(columns=PLANNING_COLUMNS)


def detectable_table(cohorts, *, powers=(0.8, 0.9), alpha=0.05):
    """Minimum detectable HR per SD for each cohort's events of interest (`cohorts`: DataFrame
    [cohort, n, events]); the same number bounds the cause-specific HR and the sHR (the two
    formulas differ only in which HR they are about)."""
    rows = []
    for cohort in cohorts.itertuples():
        for power in powers:
            row = {
                "cohort": cohort.cohort,
                "n": cohort.n,
                "events": cohort.events,
                "power": power,
                "alpha": alpha,
                "formula": MINIMUM_HR,
            }
            if cohort.events > 0:
                row.update(hr_per_sd=minimum_detectable_hr(cohort.events, power, alpha), note="")
            else:
                row.update(hr_per_sd=np.nan, note="no events of interest")
            rows.append(row)
    return pd.DataFrame(rows)
