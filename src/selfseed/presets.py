"""Locoregional-recurrence endpoints with competing events for public cohorts.

Both presets return ``(clinical, dropped)``: ``clinical`` is indexed by patient id with
``time_months`` (days / (365.25 / 12), > 0), ``event`` (0 censored, 1 locoregional recurrence as
the first event, 2 competing first event), ``first_event`` (what ended the patient's time at risk)
and covariates; ``dropped`` has one row per excluded patient: ``sample_id``, ``reason``.

TCGA Pan-Cancer Clinical Data Resource (Liu et al., Cell 2018), ``tcga_cdr_locoregional``.
The CDR keeps, per patient, the earliest new tumour event (``new_tumor_event_dx_days_to``) and
the type(s) recorded for it (``new_tumor_event_type``, several joined by ``|``).

1. Patients flagged ``Redaction == "Redacted"`` are dropped.
2. Each ``|``-separated part of ``new_tumor_event_type`` is classified (``EVENT_TYPES``):
   locoregional - "Locoregional Recurrence", "Locoregional Disease" (the TCGA form's term for the
   same thing: chest wall/axilla in BRCA, tongue/floor of mouth/neck nodes in HNSC),
   "Locoregional (Urothelial tumor event)" (BLCA), "Regional lymph node" (SKCM),
   "Intrahepatic Recurrence" (LIHC/CHOL: in the treated organ), "Intrapleural Progression" (MESO);
   distant - "Distant Metastasis", "Metastatic", "Extrahepatic Recurrence";
   site unknown - "Recurrence", "Progression of Disease" (GBM, OV, UCS), "Biochemical evidence of
   disease" (rising PSA/markers, mostly PRAD), "[Not Available]";
   new primary - "New Primary Tumor", "New primary melanoma" (a second cancer, not a recurrence).
   A term not in the table stops the run (InputDataError) rather than being guessed.
3. Any locoregional part -> event 1 at ``new_tumor_event_dx_days_to``. This includes pipe-joined
   combinations with distant metastasis ("Locoregional Recurrence|Distant Metastasis", in either
   order): the CDR gives only the earliest date for the joined entry and not which came first;
   the local relapse happened, so it counts as the event of interest.
4. Otherwise any site-unknown part -> dropped: the first relapse may or may not have been local,
   and counting it as competing or censored would misclassify it either way.
5. Otherwise any distant part -> competing event 2 at ``new_tumor_event_dx_days_to``.
6. Otherwise a new primary only -> censored (0) at ``new_tumor_event_dx_days_to``: the CDR records
   only the earliest new tumour event, so a later recurrence would be invisible (as the CDR's own
   DFI, which censors new primaries).
7. A dated new tumour event with no type: in HNSC ``new_tumor_event_site`` then tells the site
   ("Oral Cavity", "Oropharynx", "Larynx", "Hypopharynx", "Cervical Lymph Nodes" -> locoregional;
   "Distant Metastasis" -> distant, any cancer type); otherwise the patient is dropped. When both
   type and site are given, the type wins.
8. A typed new tumour event without a date -> dropped.
9. No new tumour event: death (``OS == 1``) -> competing event 2 at ``OS.time``; alive
   (``OS == 0``) -> censored at ``OS.time`` (last contact). Missing ``OS`` or ``OS.time`` ->
   dropped.
10. Times of 0 or fewer days -> dropped: a new tumour event on the day of diagnosis is not a
    recurrence after treatment, and 0 days of follow-up add no time at risk.

METABRIC as published by Rueda et al., Nature 2019 (their supplementary clinical table with
``METABRIC.ID``, ``T``, ``LR``, ``TLR``, ``DR``, ``TDR``, ``Death``; times in days),
``metabric_locoregional``:

11. Dropped as in Rueda et al.: ``T`` missing or 0, ``Death`` missing, ``Stage == 4``,
    ``Histological.Type`` "BENIGN" or "PHYL".
12. A relapse flag (``LR`` or ``DR`` = 1) without its time, or missing ``LR``/``DR`` -> dropped.
13. ``LR == 1`` and (``DR == 0`` or ``TLR <= TDR``) -> event 1 at ``TLR``. A local and a distant
    relapse on the same day count as local first (Rueda et al. likewise move the distant one 0.1
    day later).
14. ``DR == 1`` and (``LR == 0`` or ``TDR < TLR``) -> competing event 2 at ``TDR``; a local relapse
    after a distant one is not a first local relapse (Rueda et al. discard it too).
15. No relapse and ``Death == 1`` (any cause: breast cancer or other) -> competing event 2 at
    ``T``. Both death transitions compete with local relapse in Rueda's multistate model; a death
    from breast cancer without a recorded relapse also rules out a later first local relapse.
16. Otherwise censored at ``T``.
17. A relapse at 0 days (``TLR``/``TDR`` = 0) -> dropped (Rueda et al. keep it at 0.1 day; here
    as rule 10).

Other codings of the same patients, for the sensitivity analyses and the competing cause
(``tcga_cdr_sensitivity``, ``metabric_sensitivity``; ``results/tables/sensitivity.tsv``):

18. ``LR_unknown_as_LR`` and ``LR_unknown_as_competing`` (tcga_cdr): the patients rule 4 drops, when their
    first event is dated after day 0, enter at that date with the event counted as locoregional (1),
    then as competing (2): the two bounds for first events of unknown site; every other patient as
    in rules 1-10. Their scores are computed with the cohort's (scores do not depend on the endpoint).
19. ``LR_any``, local recurrence at any time: the first dated locoregional event of the full
    new-tumour-event history (tcga_cdr with ``events``: every slot of the Firehose clinical record, the
    same classification as rule 2, case-insensitive; metabric_rueda: ``LR == 1`` at ``TLR``, also when
    ``TDR < TLR``) is event 1, also after a distant metastasis; otherwise death is competing (2) and the
    others are censored at last contact (``OS.time``, ``T``). A new primary tumour before any local
    recurrence censors at its date (a later local tumour may be the new primary's). Dropped: an event
    of unknown site before the first local recurrence (or with none; on its date unless that is the
    local recurrence), a local recurrence without date, no record in the history, and rules 1, 9, 10
    (11, 12, 17). The estimand changes: the hazard of a first local recurrence whenever it occurs, not
    of local recurrence as the first event.
20. ``DM_first``, distant metastasis as first event: the patients and times of rules 1-10 (11-17), with
    distant metastasis first as event 1 and local recurrence first or death as competing (2): the
    competing cause as its own endpoint. With the primary coding it gives the Lunn-McNeil test
    (``results/tables/locality.tsv``): each patient's time stacked once per cause, status 1 where that
    cause came first, one Cox model stratified by cause with a score x cause interaction; the
    interaction is the log of (HR for distant metastasis / HR for local recurrence) and its Wald test
    the test that the two are equal.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.contracts import CENSORED, COMPETING, EVENT
from selfseed.errors import InputDataError

DAYS_PER_MONTH = 365.25 / 12

CDR_SHEET = "TCGA-CDR"
CDR_MISSING_CODES = [
    "[Not Available]",
    "[Not Applicable]",
    "[Not Evaluated]",
    "[Unknown]",
    "[Discrepancy]",
    "#N/A",
]
CDR_ENDPOINT_COLUMNS = [
    "bcr_patient_barcode",
    "type",
    "new_tumor_event_type",
    "new_tumor_event_site",
    "new_tumor_event_dx_days_to",
    "OS",
    "OS.time",
    "Redaction",
]
CDR_COVARIATES = [
    "age_at_initial_pathologic_diagnosis",
    "gender",
    "race",
    "ajcc_pathologic_tumor_stage",
    "clinical_stage",
    "histological_type",
    "histological_grade",
    "treatment_outcome_first_course",
    "margin_status",
    "residual_tumor",
]

LOCOREGIONAL, DISTANT, SITE_UNKNOWN, NEW_PRIMARY = (
    "locoregional",
    "distant",
    "site unknown",
    "new primary",
)
EVENT_TYPES = {
    "Locoregional Recurrence": LOCOREGIONAL,
    "Locoregional Disease": LOCOREGIONAL,
    "Locoregional (Urothelial tumor event)": LOCOREGIONAL,
    "Regional lymph node": LOCOREGIONAL,
    "Intrahepatic Recurrence": LOCOREGIONAL,
    "Intrapleural Progression": LOCOREGIONAL,
    "Distant Metastasis": DISTANT,
    "Metastatic": DISTANT,
    "Extrahepatic Recurrence": DISTANT,
    "Recurrence": SITE_UNKNOWN,
    "Progression of Disease": SITE_UNKNOWN,
    "Biochemical evidence of disease": SITE_UNKNOWN,
    "New Primary Tumor": NEW_PRIMARY,
    "New primary melanoma": NEW_PRIMARY,
}
EVENT_TYPES.update(dict.fromkeys(CDR_MISSING_CODES, SITE_UNKNOWN))
# The endpoint's event codes of the first events: LR as first event (rules 3-9, 13-16), and
# distant metastasis as first event (rule 20).
FIRST_EVENT_CODES = {LOCOREGIONAL: EVENT, DISTANT: COMPETING, "death": COMPETING}
DISTANT_FIRST_CODES = {DISTANT: EVENT, LOCOREGIONAL: COMPETING, "death": COMPETING}
# Precedence within one pipe-joined entry (rules 3-6).
KIND_PRECEDENCE = [LOCOREGIONAL, SITE_UNKNOWN, DISTANT, NEW_PRIMARY]
# Rule 7: sites that classify a dated new tumour event recorded without a type.
LOCOREGIONAL_SITES = {
    "HNSC": {"Oral Cavity", "Oropharynx", "Larynx", "Hypopharynx", "Cervical Lymph Nodes"}
}
DISTANT_SITES = {"Distant Metastasis"}

RUEDA_ENDPOINT_COLUMNS = [
    "METABRIC.ID",
    "T",
    "Death",
    "LR",
    "TLR",
    "DR",
    "TDR",
    "Stage",
    "Histological.Type",
]
RUEDA_COVARIATES = [
    "Age.At.Diagnosis",
    "ER.Status",
    "Grade",
    "Size",
    "Lymph.Nodes.Positive",
    "Stage",
    "Histological.Type",
    "Breast.Surgery",
    "HT",
    "CT",
    "RT",
]
RUEDA_EXCLUDED_HISTOLOGY = {"BENIGN", "PHYL"}


def read_tcga_cdr(path):
    """The per-patient TCGA-CDR table, TCGA missing codes as NaN: the sheet of
    TCGA-CDR-SupplementalTableS1.xlsx, or a tab-separated extract of it (``.tsv``, as the embedded
    ``selfseed/data/tcga/cdr.tsv``)."""
    try:
        if Path(path).suffix == ".tsv":
            cdr = pd.read_csv(path, sep="\t", na_values=CDR_MISSING_CODES)
        else:
            cdr = pd.read_excel(path, sheet_name=CDR_SHEET, na_values=CDR_MISSING_CODES)
    except (OSError, ValueError, KeyError) as error:
        raise InputDataError(
            f"cannot read the TCGA-CDR table: {error}",
            file=path,
            expected=f"the Liu et al. 2018 TCGA-CDR .xlsx with a sheet named '{CDR_SHEET}', "
            "or a .tsv extract of that sheet",
        ) from error
    _require_columns(cdr, CDR_ENDPOINT_COLUMNS, file=path)
    return cdr.drop(columns=[c for c in cdr.columns if str(c).startswith("Unnamed:")])


def tcga_cdr_locoregional(cdr, cancer_type):
    """Locoregional recurrence (1) vs competing first events (2) for one TCGA cancer type."""
    first, rows = _cdr_first_events(cdr, cancer_type)
    clinical = _endpoint_frame(
        first["days"], first["first_event"], first["reason"], rows, CDR_COVARIATES
    )
    return clinical, _dropped(first["reason"])


def _cdr_first_events(cdr, cancer_type):
    """Per patient of one cancer type: kind and date of the first new tumour event, vital status,
    the time and first event the endpoint uses (rules 1-10) and the reason a patient is dropped;
    returns (that frame, the cancer type's CDR rows by patient)."""
    _require_columns(cdr, CDR_ENDPOINT_COLUMNS)
    cancer = cancer_type.upper().removeprefix("TCGA-")
    known = sorted(cdr["type"].dropna().unique())
    if cancer not in known:
        raise InputDataError(
            "cancer type not in the TCGA-CDR table",
            column="type",
            found=cancer_type,
            expected=", ".join(known),
        )
    rows = cdr[cdr["type"] == cancer].set_index("bcr_patient_barcode")
    _require_unique(rows.index, "bcr_patient_barcode")
    types, sites = rows["new_tumor_event_type"], rows["new_tumor_event_site"]
    event_days = _numeric(rows["new_tumor_event_dx_days_to"], "new_tumor_event_dx_days_to")
    os_event, os_days = _binary(rows["OS"], "OS"), _numeric(rows["OS.time"], "OS.time")
    kind = pd.Series(
        [_event_kind(t, s, d, cancer) for t, s, d in zip(types, sites, event_days, strict=True)],
        index=rows.index,
        dtype=object,
    )
    has_event = kind.notna()
    has_event_type = kind.isin([LOCOREGIONAL, DISTANT, NEW_PRIMARY])
    days = event_days.where(has_event, os_days)
    redacted = rows["Redaction"] == "Redacted"
    reason = _first_reason(
        [
            (redacted, "redacted by TCGA (Redaction)"),
            (kind == SITE_UNKNOWN, "new tumour event of unknown site: " + types.astype(str)),
            (kind == "untyped", "dated new tumour event without type or informative site"),
            (has_event_type & event_days.isna(), "new tumour event without date"),
            (~has_event & os_event.isna(), "vital status (OS) missing"),
            (days.isna(), "follow-up time (OS.time) missing"),
            (days <= 0, "time not after diagnosis: " + days.astype(str) + " days"),
        ]
    )
    first_event = kind.where(has_event, np.where(os_event == 1, "death", "none"))
    first = pd.DataFrame(
        {
            "kind": kind,
            "event_days": event_days,
            "os_event": os_event,
            "os_days": os_days,
            "days": days,
            "first_event": first_event,
            "reason": reason,
            "redacted": redacted,
        }
    )
    return first, rows


def tcga_cdr_sensitivity(cdr, cancer_type, events=None):
    """The codings beside LR as first event (`LR_VARIANTS`) that the CDR (and, for `LR_any`, the
    full new-tumour-event history `events`) allow: {name: (coded by patient, dropped)}.

    Unknown-site bounds: the patients rule 4 drops (a dated first event of unknown site, after
    day 0) enter with that event counted as locoregional (1), then as competing (2); the others as
    in the primary coding. `DM_first`: distant metastasis as first event (1), locoregional first or
    death (2), the same patients and times as the primary coding."""
    first, _ = _cdr_first_events(cdr, cancer_type)
    kept = first["reason"].isna()
    primary = first["first_event"].map(FIRST_EVENT_CODES).fillna(CENSORED)
    unknown = (first["kind"] == SITE_UNKNOWN) & ~first["redacted"] & (first["event_days"] > 0)
    bound_reason = first["reason"].where(~unknown)
    variants = {}
    for name, code in (("LR_unknown_as_LR", EVENT), ("LR_unknown_as_competing", COMPETING)):
        event = primary.where(~unknown, code)
        variants[name] = (_coded(first["days"], event, kept | unknown), _dropped(bound_reason))
    distant_first = first["first_event"].map(DISTANT_FIRST_CODES).fillna(CENSORED)
    variants["DM_first"] = (_coded(first["days"], distant_first, kept), _dropped(first["reason"]))
    if events is not None:
        variants["LR_any"] = _lr_any_time(first, events)
    return variants


def _lr_any_time(first, events):
    """LR at any time from the full event history: the first dated locoregional event (also after
    a distant metastasis) is event 1; otherwise death (OS) is competing (2) and alive patients are
    censored at OS.time. A new primary tumour before any local recurrence censors at its date (a
    later local tumour may be the new primary's); an event of unknown site before the first local
    recurrence (or with none), an undated local recurrence or no clinical record drops the patient."""
    history = events[events["bcr_patient_barcode"].isin(first.index)]
    recorded = first.index.isin(history["bcr_patient_barcode"])
    history = history[history["record"].fillna("").ne("")]
    text = history["new_neoplasm_event_type"]
    kind = text.str.strip().str.lower().map({k.lower(): v for k, v in EVENT_TYPES.items()})
    unclassified = text.notna() & kind.isna()
    if unclassified.any():
        raise InputDataError(
            "unclassified new tumour event type in the event history",
            column="new_neoplasm_event_type",
            found=", ".join(sorted(text[unclassified].unique())),
            expected=", ".join(sorted(EVENT_TYPES)),
            fix="classify the term in selfseed.presets.EVENT_TYPES",
        )
    kind = kind.fillna(SITE_UNKNOWN)  # a dated slot without type: site unknown
    days = _numeric(
        history["days_to_new_tumor_event_after_initial_treatment"],
        "days_to_new_tumor_event_after_initial_treatment",
    )
    patient = history["bcr_patient_barcode"]

    def earliest(mask):
        return days[mask].groupby(patient[mask]).min().reindex(first.index)

    def any_of(mask):
        return mask.groupby(patient).any().reindex(first.index, fill_value=False)

    local = kind == LOCOREGIONAL
    lr_days = earliest(local & days.notna())
    new_primary = earliest((kind == NEW_PRIMARY) & days.notna())
    unknown = kind == SITE_UNKNOWN
    unknown_days = earliest(unknown & days.notna())
    lr_first = lr_days.notna() & ~(new_primary < lr_days)
    death = first["os_event"] == 1
    time = lr_days.where(lr_first, new_primary.where(new_primary.notna(), first["os_days"]))
    event = pd.Series(
        np.select([lr_first, new_primary.isna() & death], [EVENT, COMPETING], CENSORED), first.index
    )
    # an event of unknown site before the time (on it, unless that is a local recurrence) may have
    # been the first local recurrence
    unknown_first = (
        any_of(unknown & days.isna()) | (unknown_days < time) | (~lr_first & (unknown_days == time))
    )
    reason = _first_reason(
        [
            (first["redacted"], "redacted by TCGA (Redaction)"),
            (pd.Series(~recorded, first.index), "no record in the new-tumour-event history"),
            (any_of(local & days.isna()), "local recurrence without date"),
            (unknown_first, "new tumour event of unknown site before any local recurrence"),
            (
                ~lr_first & new_primary.isna() & first["os_event"].isna(),
                "vital status (OS) missing",
            ),
            (time.isna(), "follow-up time (OS.time) missing"),
            (time <= 0, "time not after diagnosis: " + time.astype(str) + " days"),
        ]
    )
    return _coded(time, event, reason.isna()), _dropped(reason)


def _coded(days, event, keep):
    """time_months and event (0, 1, 2) of the patients kept."""
    return pd.DataFrame(
        {"time_months": days[keep] / DAYS_PER_MONTH, "event": event[keep].astype(int)}
    )


def metabric_locoregional(rueda):
    """First local relapse (1) vs distant relapse first or death (2), Rueda et al. 2019 table."""
    first, rows = _rueda_first_events(rueda)
    clinical = _endpoint_frame(
        first["days"], first["first_event"], first["reason"], rows, RUEDA_COVARIATES
    )
    return clinical, _dropped(first["reason"])


def _rueda_first_events(rueda):
    """Per patient of Rueda et al.'s table: relapse flags and times, the time and first event of the
    endpoint (rules 11-17) and the reason a patient is dropped; returns (that frame, rows)."""
    _require_columns(rueda, RUEDA_ENDPOINT_COLUMNS)
    rows = rueda.set_index("METABRIC.ID")
    _require_unique(rows.index, "METABRIC.ID")
    t, tlr, tdr = (_numeric(rows[c], c) for c in ("T", "TLR", "TDR"))
    lr, dr, death = (_binary(rows[c], c) for c in ("LR", "DR", "Death"))
    local_first = (lr == 1) & ((dr == 0) | (tlr <= tdr))
    distant_first = (dr == 1) & ((lr == 0) | (tdr < tlr))
    first_event = pd.Series(
        np.select(
            [local_first, distant_first, (lr == 0) & (dr == 0) & (death == 1)],
            [LOCOREGIONAL, DISTANT, "death"],
            "none",
        ),
        index=rows.index,
    )
    days = tlr.where(local_first, tdr.where(distant_first, t))
    excluded = [
        (t.isna(), "follow-up time T missing"),
        (t <= 0, "follow-up time T not after diagnosis (excluded by Rueda et al.)"),
        (death.isna(), "Death missing"),
        (lr.isna() | dr.isna(), "LR or DR missing"),
        (
            pd.to_numeric(rows["Stage"], errors="coerce") == 4,
            "stage 4 (excluded by Rueda et al.)",
        ),
        (
            rows["Histological.Type"].isin(RUEDA_EXCLUDED_HISTOLOGY),
            "benign or phyllodes histology (excluded by Rueda et al.)",
        ),
        (((lr == 1) & tlr.isna()) | ((dr == 1) & tdr.isna()), "relapse without time"),
    ]
    reason = _first_reason(
        [*excluded, (days <= 0, "relapse not after diagnosis: " + days.astype(str) + " days")]
    )
    first = pd.DataFrame(
        {
            "t": t,
            "tlr": tlr,
            "lr": lr,
            "death": death,
            "days": days,
            "first_event": first_event,
            "reason": reason,
            "excluded": _first_reason(excluded),
        }
    )
    return first, rows


def metabric_sensitivity(rueda):
    """The codings beside first local relapse that Rueda et al.'s table allows: `LR_any` (local
    relapse at any time, also after a distant one, at TLR; death without local relapse competing,
    at T) and `DM_first` (distant relapse first (1); local relapse first or death (2)):
    {name: (coded by patient, dropped)}."""
    first, _ = _rueda_first_events(rueda)
    kept = first["reason"].isna()
    distant_first = first["first_event"].map(DISTANT_FIRST_CODES).fillna(CENSORED)
    local = first["lr"] == 1
    time = first["tlr"].where(local, first["t"])
    event = pd.Series(
        np.select([local, first["death"] == 1], [EVENT, COMPETING], CENSORED), first.index
    )
    any_reason = first["excluded"].where(
        first["excluded"].notna() | (time > 0),
        "local relapse not after diagnosis: " + time.astype(str) + " days",
    )
    return {
        "LR_any": (_coded(time, event, any_reason.isna()), _dropped(any_reason)),
        "DM_first": (_coded(first["days"], distant_first, kept), _dropped(first["reason"])),
    }


def _event_kind(event_type, site, days, cancer):
    """Kind of the earliest new tumour event (rules 2-7); None when there is none."""
    if isinstance(event_type, str):
        parts = {part.strip() for part in event_type.split("|")}
        unknown = sorted(parts - EVENT_TYPES.keys())
        if unknown:
            raise InputDataError(
                "unclassified new tumour event type",
                cohort=f"TCGA-{cancer}",
                column="new_tumor_event_type",
                found=", ".join(unknown),
                expected=", ".join(sorted(EVENT_TYPES)),
                fix="classify the term in selfseed.presets.EVENT_TYPES",
            )
        kinds = {EVENT_TYPES[part] for part in parts}
        return next(kind for kind in KIND_PRECEDENCE if kind in kinds)
    if pd.isna(days):
        return None
    if site in LOCOREGIONAL_SITES.get(cancer, ()):
        return LOCOREGIONAL
    if site in DISTANT_SITES:
        return DISTANT
    return "untyped"


def _endpoint_frame(days, first_event, reason, rows, covariates):
    """time_months, event, first_event and the covariates present, for the patients kept."""
    kept = reason.isna()
    event = first_event.map(FIRST_EVENT_CODES).fillna(CENSORED).astype(int)
    present = [c for c in covariates if c in rows.columns and rows.loc[kept, c].notna().any()]
    clinical = pd.DataFrame(
        {"time_months": days / DAYS_PER_MONTH, "event": event, "first_event": first_event}
    ).join(rows[present])
    return clinical[kept]


def _first_reason(rules):
    """Per patient, the text of the first rule whose condition holds (None when none holds)."""
    index = rules[0][0].index
    conditions = [condition.to_numpy(dtype=bool) for condition, _ in rules]
    texts = [np.broadcast_to(np.asarray(text, dtype=object), len(index)) for _, text in rules]
    return pd.Series(np.select(conditions, texts, None), index=index, dtype=object)


def _dropped(reason):
    """The excluded patients as a [sample_id, reason] frame."""
    dropped = reason.dropna()
    return pd.DataFrame({"sample_id": dropped.index.astype(str), "reason": dropped.to_numpy()})


def _numeric(column, name):
    """A numeric column (NaN where missing); text that is not a number is an input error."""
    values = pd.to_numeric(column, errors="coerce")
    _refuse(column[values.isna() & column.notna()], name, "a number (or missing)")
    return values


def _binary(column, name):
    """A 0/1 indicator column as floats (NaN where missing)."""
    values = _numeric(column, name)
    _refuse(column[values.notna() & ~values.isin([0, 1])], name, "0 or 1 (or missing)")
    return values


def _refuse(bad, name, expected):
    """Raise InputDataError on the first offending value, if any."""
    if len(bad):
        raise InputDataError(
            f"{len(bad)} value(s) of the wrong kind",
            column=name,
            found=f"{bad.iloc[0]!r} for patient {bad.index[0]}",
            expected=expected,
        )


def _require_columns(frame, columns, file=None):
    """Raise InputDataError naming the columns the endpoint needs but the table lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            "clinical table lacks columns the endpoint needs",
            file=file,
            column=", ".join(missing),
            expected=", ".join(columns),
        )


def _require_unique(index, name):
    """Raise InputDataError on a repeated patient id."""
    repeated = index[index.duplicated()]
    if len(repeated):
        raise InputDataError(
            "patient id occurs more than once", column=name, found=", ".join(map(str, repeated[:5]))
        )


PRESET_LABELS = {
    "tcga_cdr": "locoregional recurrence as first event (TCGA-CDR preset)",
    "metabric_rueda": "first local relapse (Rueda et al. 2019 preset)",
}


def read_new_tumor_events(path):
    """The full new-tumour-event history (tools/build_tcga_data.py's new_tumor_events.tsv): one row
    per recorded event and patient, an empty `record` for a patient without any."""
    columns = [
        "bcr_patient_barcode",
        "record",
        "new_neoplasm_event_type",
        "days_to_new_tumor_event_after_initial_treatment",
    ]
    try:
        events = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as error:
        raise InputDataError(
            f"cannot read the new-tumour-event history: {error}",
            file=path,
            expected="a tab-separated table written by tools/build_tcga_data.py",
        ) from error
    _require_columns(events, columns, file=path)
    return events


def preset_endpoint(spec, clinical, *, cohort):
    """Code a cohort's samples with a preset: (coded [time_months, event, first_event] by sample,
    dropped [sample_id, reason], endpoint description, the other codings {name: (coded, dropped)}
    of `tcga_cdr_sensitivity` / `metabric_sensitivity`). Samples are matched to the preset's
    patients through `patient_column` (default patient_id for xena and tcga_firehose, PATIENT_ID
    for cBioPortal)."""
    from selfseed.errors import ConfigError

    if spec["preset"] == "tcga_cdr":
        if "cancer_type" not in spec:
            raise ConfigError(
                "the tcga_cdr preset needs the TCGA cancer type",
                cohort=cohort,
                key=f"cohorts.{cohort}.endpoint.cancer_type",
                expected="e.g. HNSC",
            )
        cdr = read_tcga_cdr(spec["table"])
        patients, dropped = tcga_cdr_locoregional(cdr, spec["cancer_type"])
        events = read_new_tumor_events(spec["events"]) if spec.get("events") else None
        variants = tcga_cdr_sensitivity(cdr, spec["cancer_type"], events)
    else:
        from selfseed.inflate import open_inflated

        with open_inflated(spec["table"]) as table:  # gzipped or not, within the inflation limits
            rueda = pd.read_csv(table, sep="\t")
        patients, dropped = metabric_locoregional(rueda)
        variants = metabric_sensitivity(rueda)
    column = spec.get("patient_column") or next(
        (c for c in ("patient_id", "PATIENT_ID") if c in clinical.columns), None
    )
    if column not in clinical.columns:
        raise ConfigError(
            "no patient id column to match the preset's patients to the samples",
            cohort=cohort,
            key=f"cohorts.{cohort}.endpoint.patient_column",
            found=f"columns {list(clinical.columns)[:15]}",
            expected="a clinical column of patient ids",
        )
    patient = clinical[column].astype(str)

    def by_sample(coded, dropped, columns=("time_months", "event")):
        known = patient.isin(coded.index)
        by_patient = dropped.set_index("sample_id")["reason"]
        reasons = (
            patient[~known].map(by_patient).fillna(f"patient not in the {spec['preset']} table")
        )
        return (
            coded.loc[patient[known], list(columns)].set_axis(patient.index[known]),
            pd.DataFrame({"sample_id": reasons.index, "reason": reasons.to_numpy()}),
        )

    coded, sample_dropped = by_sample(patients, dropped, ("time_months", "event", "first_event"))
    endpoint = {"name": "LR", "label": PRESET_LABELS[spec["preset"]], "preset": spec["preset"]}
    return coded, sample_dropped, endpoint, {name: by_sample(*v) for name, v in variants.items()}
