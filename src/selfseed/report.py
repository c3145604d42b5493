"""What the Snakemake report shows beyond the raw outputs: a front page with the question and the primary
result, browsable table pages and the run's provenance (selfseed.provenance makes the record); the
figures are drawn by selfseed.plots.

Snakemake renders the report's front page (workflow/report/workflow.rst) with only the config available,
so the results summary is a page of its own (results/report/summary.html, category "0 Summary"). All
pages are self-contained HTML (inline CSS and a few lines of JavaScript, images as data URIs) and
byte-identical on reruns; the run date is recorded only in results/provenance.json (and the page that
shows it).
"""

import base64
import json
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed import provenance
from selfseed.files import read_table, write_json, write_text

# cohort.py still imports these two from here (until it imports them from selfseed.provenance)
from selfseed.provenance import file_stat, input_files  # noqa: F401

QUESTION = (
    "Do tumour <b>self-seeding</b> signatures in the primary tumour go with <b>local "
    "(locoregional) recurrence</b>? Circulating tumour cells can return to and re-infiltrate their "
    "tumour of origin (Kim et al., <i>Cell</i> 2009): the tumour attracts them with IL6 and CXCL8 "
    "(IL8) (<i>attractor</i> signature), and the returning cells invade with MMP1 and FSCN1 and "
    "speed regrowth with CXCL1 (<i>invasion</i> signature); <i>self_seeding</i> has all five genes. "
    "Each tumour is scored per signature and method, and the scores are related to local "
    "recurrence as first event, with distant metastasis and death as competing events, by "
    "cause-specific Cox and Fine-Gray models (hazard ratio per SD of score); cohorts without a "
    "local-recurrence endpoint keep the endpoint they measure."
)
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a;
       margin: 1.5rem auto; max-width: 72rem; padding: 0 1.5rem; line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.45rem; margin-bottom: .3rem; } h2 { font-size: 1.1rem; margin-top: 1.8rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.primary { border-left: 5px solid #D55E00; background: #fdf3ec; padding: .8rem 1rem; margin: 1rem 0; }
.primary .statement { font-size: 1.05rem; font-weight: 600; }
.note { color: #555; font-size: .9rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; position: sticky; top: 0; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:after { content: " \\2195"; color: #aaa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img.figure { max-width: 100%; height: auto; border: 1px solid #eee; }
input#filter { font-size: .9rem; padding: .3rem .5rem; width: 22rem; margin: .4rem 0; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: .8rem; }
code { font-size: .85em; }
"""
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var body = table.tBodies[0];
  table.querySelectorAll("th").forEach(function (th, i) {
    th.addEventListener("click", function () {
      var asc = th.dataset.order !== "asc";
      th.dataset.order = asc ? "asc" : "desc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].dataset.v || a.cells[i].textContent;
        var y = b.cells[i].dataset.v || b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
var filter = document.getElementById("filter");
if (filter) {
  filter.addEventListener("input", function () {
    var query = filter.value.toLowerCase();
    document.querySelectorAll("table.sortable tbody tr").forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().indexOf(query) >= 0 ? "" : "none";
    });
  });
}
"""


# ---------------------------------------------------------------- HTML


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


def page(title, body, script=""):
    script = f"<script>{script}</script>" if script else ""
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{STYLE}</style></head><body>{body}{script}</body></html>\n"
    )


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


def front_page(primary, cohorts, skipped, meta, pipeline, forest_png=None, changed=None):
    """The report's summary page: question, primary result in one sentence with its numbers, inputs
    changed since their cohort's ingest (`changed`, as `provenance.changed_inputs` gives them), cohorts, what
    was skipped and why, the pooled estimates of every signature and method, and the version."""
    row = primary.iloc[0]
    declared = (
        f"{row['signature']} signature, {row['method']} score, {row['model']} Cox model, "
        f"pooled over {row['pool']} cohorts"
    )
    numbers = primary_table(primary)
    locality = primary.loc[primary["role"] == "locality", "statement"]
    locality_html = (
        f'<p class="statement" id="locality-statement">{escape(locality.iloc[0])}</p>'
        if len(locality)
        else ""
    )
    lr = cohorts["endpoint"].eq("LR")
    endpoints_note = (
        f"{int(lr.sum())} of {len(cohorts)} cohorts measure local recurrence (LR)."
        if lr.any()
        else "None of these cohorts records local recurrence: each keeps the endpoint it really "
        "measures, so the pooled estimate answers a neighbouring question (recurrence, metastasis or "
        "death), not the local-recurrence question itself."
    )
    summary = skipped_summary(skipped)
    skipped_html = (
        "<p>Nothing was skipped.</p>"
        if summary.empty
        else f"<p>{int(summary['analyses'].sum())} analyses were not run or not fitted; by reason:</p>"
        + html_table(summary)
    )
    forest = (
        f'<h2>Forest plot: {escape(str(row["signature"]))}</h2><img class="figure" alt="forest plot" '
        f'src="{png_data_uri(forest_png)}">'
        if forest_png
        else ""
    )
    changed_html = (
        '<div class="primary" id="changed-inputs"><p class="statement">Input files changed since '
        "their cohort was read: these results come from the old content.</p>"
        f"<p>{escape(provenance.CHANGED_SINCE_INGEST)}.</p>{html_table(changed)}</div>"
        if changed is not None and len(changed)
        else ""
    )
    commit = pipeline["git_commit"] + (
        " (with uncommitted changes)" if pipeline["git_dirty"] else ""
    )
    body = f"""
<h1>selfseed: self-seeding signatures and local recurrence</h1>
<p>{QUESTION}</p>
<div class="primary"><div class="note">Primary analysis, declared in the config before results:
{escape(declared)}</div>
<p class="statement" id="primary-statement">{escape(str(row["statement"]))}</p>
{locality_html}
{html_table(numbers) if len(numbers) else ""}
<div class="note">{escape(endpoints_note)} Everything else in this report is secondary.</div></div>
{changed_html}
<h2>Cohorts</h2>
{html_table(cohorts_table(cohorts))}
<h2>Skipped analyses</h2>
{skipped_html}
<p class="note">Every row is in the table of skipped analyses (Tables).</p>
<h2>Secondary: every signature and scoring method</h2>
<p class="note">Random-effects pooled HR per SD of score, univariable Cox, all cohorts; not corrected
for the multiple comparisons (see the FDR columns of the Cox and group tables).</p>
{html_table(secondary_table(meta))}
{forest}
<h2>How to read this report</h2>
<p>Results on the left: <b>Kaplan-Meier</b> and <b>Cumulative incidence</b> per cohort (one panel per
signature and method), <b>Forest plot</b> (all cohorts and pooled), <b>Scores</b> (distributions, agreement
between methods, gene coverage), <b>Tables</b> (sortable; raw TSV files under <b>Downloads (TSV)</b>)
and <b>Provenance</b> (config, inputs with sha256, software, date). Each item's caption says what it
shows and how to read it.</p>
<p class="note">selfseed {escape(pipeline["version"])}, git commit {escape(commit)}.</p>
"""
    return page("selfseed: summary", body)


def table_page(name, frame, description=""):
    """A browsable (sortable, filterable) HTML view of one result table."""
    body = (
        f"<h1>{escape(name)}</h1><p class='note'>{escape(description)}</p>"
        f"<p class='note'>{len(frame)} rows. Click a column header to sort; type to filter "
        "rows.</p><input id='filter' type='search' placeholder='filter rows'>"
        + html_table(frame, sortable=True)
    )
    return page(name, body, SORT_SCRIPT)


def provenance_page(record):
    """The provenance record as a page: version, date, software, inputs, config."""
    pipeline = record["pipeline"]
    software = pd.DataFrame(list(record["software"].items()), columns=["software", "version"])
    configs = pd.DataFrame(record["config_files"]).reindex(columns=["path", "size_bytes", "sha256"])
    body = f"""
<h1>Provenance</h1>
<table><tbody>
<tr><th>pipeline</th><td>{escape(pipeline["name"])} {escape(pipeline["version"])}</td></tr>
<tr><th>git commit</th><td><code>{escape(pipeline["git_commit"])}</code>
{" (uncommitted changes)" if pipeline["git_dirty"] else ""}</td></tr>
<tr><th>date</th><td>{escape(record["date"])}</td></tr>
<tr><th>platform</th><td>{escape(record["platform"])}</td></tr>
</tbody></table>
<h2>Inputs</h2>{html_table(provenance.input_rows(record))}
<h2>Software</h2>{html_table(software)}
<h2>Config files</h2>{html_table(configs)}
<h2>Config as used</h2><pre>{escape(json.dumps(record["config"], indent=2))}</pre>
"""
    return page("selfseed: provenance", body)


# ---------------------------------------------------------------- the figures rule


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
    primary_signature = config["primary"]["signature"]
    write_text(
        front_page(
            frames["primary"],
            frames["cohorts"],
            frames["skipped"],
            frames["meta"],
            record["pipeline"],
            outputs["forest"].get(primary_signature),
            changed=provenance.changed_inputs(record),
        ),
        outputs["summary"],
    )
