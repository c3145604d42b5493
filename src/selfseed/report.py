"""What the Snakemake report shows beyond the raw outputs: a front page with the question and the primary
result, browsable table pages and the run's provenance (selfseed.provenance makes the record); the
figures are drawn by selfseed.plots.

Snakemake renders the report's front page (workflow/report/workflow.rst) with only the config available,
so the results summary is a page of its own (results/report/summary.html, category "0 Summary"). All
pages are self-contained HTML (inline CSS and a few lines of JavaScript, images as data URIs) and
byte-identical on reruns; the run date is recorded only in results/provenance.json (and the page that
shows it). The markup, CSS and JavaScript are files of selfseed/templates/ (string.Template slots):
every text that fills a slot is escaped by `render`; only markup made here from escaped text is not.
"""

import base64
import json
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import Path
from string import Template

import numpy as np
import pandas as pd

from selfseed import provenance
from selfseed.files import read_table, write_json, write_text

# ---------------------------------------------------------------- HTML


@cache
def resource(name):
    """The text of a file of selfseed/templates/ (package data)."""
    return files("selfseed").joinpath("templates", name).read_text(encoding="utf-8")


def render(name, markup=None, /, **text):
    """Template `name` with its slots filled: each `text` value as escaped text (html.escape), each
    `markup` value (HTML made here from escaped text) as it is. An unfilled slot is an error."""
    slots = {key: escape(str(value)) for key, value in text.items()}
    return Template(resource(name)).substitute(slots, **(markup or {}))


def fmt(value, column=""):
    """Display form of a table value: p-values in 2 significant digits, other floats in 4."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        if column in ("p", "fdr", "q_p", "p_corrected", "gray_p", "ph_p", "ph_global_p") or (
            column.endswith("_p")
        ):
            return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"
        return f"{value:.4g}"
    return str(value)


def html_table(frame, *, sortable=False):
    """A DataFrame as an HTML table (escaped); numeric cells right-aligned and sortable by value."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool | np.bool_
            )
            if number and not pd.isna(value):
                cells.append(
                    f'<td class="num" data-v="{float(value)!r}">{escape(fmt(value, column))}</td>'
                )
            else:
                cells.append(f"<td>{escape(fmt(value, column))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cls = ' class="sortable"' if sortable else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page(title, body):
    """A whole self-contained page: the `body` markup under the report's style sheet."""
    return render("page.html", {"body": body, "style": resource("report.css")}, title=title)


def png_data_uri(path):
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def skipped_summary(skipped):
    """skipped.tsv grouped by analysis and reason: how many analyses, which cohorts and signatures."""
    columns = ["analysis", "reason", "analyses", "cohorts", "signatures"]
    if skipped.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (analysis, reason), part in skipped.groupby(["analysis", "reason"], sort=True):
        rows.append(
            {
                "analysis": analysis,
                "reason": reason,
                "analyses": len(part),
                "cohorts": ", ".join(sorted(part["cohort"].astype(str).unique())),
                "signatures": ", ".join(sorted(part["signature"].astype(str).unique())),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def primary_table(primary):
    """The primary result and the rows beside it (sensitivity analyses, competing cause, locality
    test), each with its numbers; empty when nothing was estimable."""
    rows = primary[primary["hr"].notna()]
    if rows.empty:
        return pd.DataFrame()

    def interval(low, high):
        return f"{low:.2f}–{high:.2f}" if np.isfinite(low) and np.isfinite(high) else ""

    return pd.DataFrame(
        {
            "analysis": rows["label"],
            "estimate": [
                "ratio distant/LR"
                if role == "locality"
                else "pooled HR per SD"
                if hazard == "cause_specific"
                else "pooled sHR per SD"
                for role, hazard in zip(rows["role"], rows["hazard"], strict=True)
            ],
            "value": [f"{hr:.2f}" for hr in rows["hr"]],
            "95% CI": [
                interval(a, b) for a, b in zip(rows["ci_low"], rows["ci_high"], strict=True)
            ],
            "95% prediction interval": [
                interval(a, b) for a, b in zip(rows["pi_low"], rows["pi_high"], strict=True)
            ],
            "p": [fmt(float(v), "p") for v in rows["p"]],
            "I²": [f"{v:.0f}%" if np.isfinite(v) else "" for v in rows["i2"]],
            "cohorts (k)": [
                f"{c} ({int(k)})" for c, k in zip(rows["cohorts"], rows["k"], strict=True)
            ],
            "patients": rows["n"].astype(int),
            "events": rows["events"].astype(int),
        }
    )


def secondary_table(meta):
    """Pooled random-effects HR per SD of every signature x method (univariable, all cohorts)."""
    if meta.empty:
        return pd.DataFrame()
    chosen = meta[
        (meta["analysis"] == "random_effects")
        & (meta["model"] == "univariable")
        & (meta["pool"] == "all")
        & (meta["hazard"] == "cause_specific")
    ]
    return pd.DataFrame(
        {
            "signature": chosen["signature"],
            "method": chosen["method"],
            "k": chosen["k"],
            "endpoints": chosen["endpoints"],
            "pooled HR per SD (95% CI)": [
                f"{r.hr:.2f} ({r.ci_low:.2f}–{r.ci_high:.2f})" for r in chosen.itertuples()
            ],
            "p": chosen["p"],
            "I² (%)": chosen["i2"].round(0),
        }
    )


def cohorts_table(cohorts):
    return pd.DataFrame(
        {
            "cohort": cohorts["cohort"],
            "source": cohorts["source"],
            "study": cohorts["description"],
            "endpoint": cohorts["endpoint"] + " (" + cohorts["endpoint_label"] + ")",
            "patients": cohorts["n"],
            "events": cohorts["events"],
            "competing": cohorts["competing"],
            "censored": cohorts["censored"],
        }
    )


def primary_box(primary, cohorts):
    """The primary analysis as declared, its result in one sentence, the locality sentence, the
    numbers of the primary and the rows beside it, and which cohorts measure local recurrence."""
    row = primary.iloc[0]
    locality = primary.loc[primary["role"] == "locality", "statement"]
    numbers = primary_table(primary)
    lr = cohorts["endpoint"].eq("LR")
    endpoints_note = (
        f"{int(lr.sum())} of {len(cohorts)} cohorts measure local recurrence (LR)."
        if lr.any()
        else "None of these cohorts records local recurrence: each keeps the endpoint it really "
        "measures, so the pooled estimate answers a neighbouring question (recurrence, metastasis or "
        "death), not the local-recurrence question itself."
    )
    markup = {
        "locality": render("locality.html", statement=locality.iloc[0]) if len(locality) else "",
        "numbers": html_table(numbers) if len(numbers) else "",
    }
    return render(
        "primary.html",
        markup,
        declared=f"{row['signature']} signature, {row['method']} score, {row['model']} Cox "
        f"model, pooled over {row['pool']} cohorts",
        statement=row["statement"],
        endpoints_note=endpoints_note,
    )


def skipped_section(skipped):
    """How many analyses were not run or not fitted, by analysis and reason."""
    summary = skipped_summary(skipped)
    if summary.empty:
        return render("skipped.html", {"reasons": ""}, sentence="Nothing was skipped.")
    sentence = f"{int(summary['analyses'].sum())} analyses were not run or not fitted; by reason:"
    return render("skipped.html", {"reasons": html_table(summary)}, sentence=sentence)


def changed_section(changed):
    """The input files changed since their cohort was read (`changed_inputs`), or nothing."""
    if changed is None or not len(changed):
        return ""
    return render(
        "changed_inputs.html", {"files": html_table(changed)}, note=provenance.CHANGED_SINCE_INGEST
    )


def front_page(primary, cohorts, skipped, meta, pipeline, forest_png=None, changed=None):
    """The report's summary page: question, primary result in one sentence with its numbers, inputs
    changed since their cohort's ingest (`changed`, as `provenance.changed_inputs` gives them),
    cohorts, what was skipped and why, the pooled estimates of every signature and method, and the
    version."""
    signature = primary.iloc[0]["signature"]
    markup = {
        "primary": primary_box(primary, cohorts),
        "changed": changed_section(changed),
        "cohorts": html_table(cohorts_table(cohorts)),
        "skipped": skipped_section(skipped),
        "secondary": html_table(secondary_table(meta)),
        "forest": render("forest.html", signature=signature, src=png_data_uri(forest_png))
        if forest_png
        else "",
    }
    dirty = " (with uncommitted changes)" if pipeline["git_dirty"] else ""
    body = render(
        "summary.html",
        markup,
        version=pipeline["version"],
        commit=pipeline["git_commit"] + dirty,
    )
    return page("selfseed: summary", body)


def table_page(name, frame, description=""):
    """A browsable (sortable, filterable) HTML view of one result table."""
    markup = {"table": html_table(frame, sortable=True), "script": resource("report.js")}
    body = render("table.html", markup, name=name, description=description, rows=len(frame))
    return page(name, body)


def provenance_page(record):
    """The provenance record as a page: version, date, software, inputs, config."""
    pipeline = record["pipeline"]
    software = pd.DataFrame(list(record["software"].items()), columns=["software", "version"])
    configs = pd.DataFrame(record["config_files"]).reindex(columns=["path", "size_bytes", "sha256"])
    markup = {
        "inputs": html_table(provenance.input_rows(record)),
        "software": html_table(software),
        "configs": html_table(configs),
    }
    body = render(
        "provenance.html",
        markup,
        name=pipeline["name"],
        version=pipeline["version"],
        commit=pipeline["git_commit"],
        dirty=" (uncommitted changes)" if pipeline["git_dirty"] else "",
        date=record["date"],
        platform=record["platform"],
        config=json.dumps(record["config"], indent=2),
    )
    return page("selfseed: provenance", body)


# ---------------------------------------------------------------- the summarise rule


def build(tables, cohort_provenance, *, config, configfiles, descriptions, outputs):
    """Write the report pages, provenance and forest plot per signature of one run.

    tables: {name: tsv path}; cohort_provenance: {cohort: provenance record of its scores file, as
    `pipeline.summarise` returns it}; descriptions: {table name: text};
    outputs: {"summary", "provenance", "provenance_html", "tables": {name: html},
    "forest": {signature: png}}.
    """
    from selfseed import plots

    frames = {name: read_table(path) for name, path in tables.items()}
    for name, frame in frames.items():
        write_text(table_page(name, frame, descriptions.get(name, "")), outputs["tables"][name])
    plots.forest_per_signature(frames["cox"], frames["meta"], outputs["forest"])
    record = provenance.run_record(config, frames["versions"], cohort_provenance, configfiles)
    write_json(record, outputs["provenance"])
    write_text(provenance_page(record), outputs["provenance_html"])
    summary = front_page(
        frames["primary"],
        frames["cohorts"],
        frames["skipped"],
        frames["meta"],
        record["pipeline"],
        outputs["forest"].get(config["primary"]["signature"]),
        changed=provenance.changed_inputs(record),
    )
    write_text(summary, outputs["summary"])
