"""What the Snakemake report shows beyond the raw outputs: a front page with the question and the primary
result, browsable table pages, the run's provenance and the run-wide figures.

Snakemake renders the report's front page (workflow/report/workflow.rst) with only the config available,
so the results summary is a page of its own (results/report/summary.html, category "0 Summary"). All
pages are self-contained HTML (inline CSS and a few lines of JavaScript, images as data URIs) and
byte-identical on reruns; the run date is recorded only in results/provenance.json (and the page that
shows it).
"""

import base64
import json
import platform
import subprocess
from datetime import UTC, datetime
from html import escape
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.files import plain, read_table, sha256, write_json, write_text
from selfseed.logs import log

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


# ---------------------------------------------------------------- provenance


CHANGED_SINCE_INGEST = (
    "content changed since the cohort's ingest, with a modification time that did not make "
    "Snakemake rerun it (as cp -p and rsync -a leave it): the cohort's results come from the old "
    "content; touch the file and run again"
)


def file_stat(path):
    """[size in bytes, inode change time in ns] of a file: every write changes the change time,
    also one that keeps the modification time (cp -p, rsync -a)."""
    stat = Path(path).stat()
    return [stat.st_size, stat.st_ctime_ns]


def input_files(files):
    """(path, sha256 or None) of each file of a provenance record's `files` ("path sha256:hex")."""
    files = [] if files is None else [files] if isinstance(files, str) else list(files)
    return [
        (path, digest or None)
        for path, _, digest in (str(item).partition(" sha256:") for item in files)
    ]


def file_record(path, recorded_sha256=None, recorded_stat=None):
    """Path, size in bytes and sha256 of a file now. The sha256 recorded at ingest is compared
    with the file's (hashed again unless its size and change time are those recorded,
    `recorded_stat`); a file whose content changed keeps both and says so. A file that is gone
    has size None and says so."""
    path = Path(path)
    if not path.is_file():
        return {
            "path": str(path),
            "size_bytes": None,
            "sha256": recorded_sha256,
            "note": "file not found when the report was built",
        }
    same_file = recorded_stat is not None and [int(v) for v in recorded_stat] == file_stat(path)
    digest = recorded_sha256 if recorded_sha256 and same_file else sha256(path)
    record = {"path": str(path), "size_bytes": path.stat().st_size, "sha256": digest}
    if recorded_sha256 and digest != recorded_sha256:
        record.update(
            sha256_at_ingest=recorded_sha256, changed_since_ingest=True, note=CHANGED_SINCE_INGEST
        )
    return record


def git_state(directory):
    """(commit, dirty) of the git work tree holding `directory`; ("unknown", None) without one."""

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, dirty


def pipeline_version():
    """selfseed's version and the git commit of its source tree ("unknown" if not a git checkout)."""
    import selfseed

    source = Path(selfseed.__file__).resolve().parent
    commit, dirty = git_state(source)
    try:
        installed = version("selfseed")
    except PackageNotFoundError:
        installed = "unknown"
    return {"name": "selfseed", "version": installed, "git_commit": commit, "git_dirty": dirty}


def cohort_inputs(cohort, recorded):
    """A cohort's input record from its h5ad `uns["provenance"]`: files with size and sha256 (a
    file changed since the ingest is a warning in the log), or the package and dataset for data
    that ship in a package (SurvSet)."""
    entry = {"cohort": cohort, "source": recorded.get("source", "unknown")}
    files = input_files(recorded.get("files"))
    stats = list(recorded.get("file_stats", [None] * len(files)))
    entry["files"] = [
        file_record(path, digest, stat) for (path, digest), stat in zip(files, stats, strict=True)
    ]
    for item in entry["files"]:
        if item.get("changed_since_ingest"):
            log.warning(
                "%s: input file %s: %s (sha256 at ingest %s, now %s)",
                cohort,
                item["path"],
                CHANGED_SINCE_INGEST,
                item["sha256_at_ingest"],
                item["sha256"],
            )
    for key in ("package", "dataset", "series", "platform", "reference", "gene_table"):
        if key in recorded:
            entry[key] = plain(recorded[key])
    return entry


def provenance(config, versions, cohort_provenance, configfiles=(), now=None):
    """Everything needed to say how a run was made: pipeline version, date, config (as used and the
    files it came from), software versions and every input with its size and sha256."""
    now = now or datetime.now(UTC)
    return {
        "pipeline": pipeline_version(),
        "date": now.isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "config_files": [file_record(path) for path in configfiles],
        "config": plain(config),
        "software": dict(zip(versions["software"], versions["version"].astype(str), strict=True)),
        "inputs": [cohort_inputs(c, p) for c, p in cohort_provenance.items()],
    }


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


def changed_inputs(record):
    """The input files of a provenance record whose content changed since their cohort's ingest."""
    return pd.DataFrame(
        [
            {
                "cohort": entry["cohort"],
                "file": item["path"],
                "sha256 at ingest": item["sha256_at_ingest"],
                "sha256 now": item["sha256"],
            }
            for entry in record["inputs"]
            for item in entry["files"]
            if item.get("changed_since_ingest")
        ],
        columns=["cohort", "file", "sha256 at ingest", "sha256 now"],
    )


def front_page(primary, cohorts, skipped, meta, pipeline, forest_png=None, changed=None):
    """The report's summary page: question, primary result in one sentence with its numbers, inputs
    changed since their cohort's ingest (`changed`, as `changed_inputs` gives them), cohorts, what
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
        f"<p>{escape(CHANGED_SINCE_INGEST)}.</p>{html_table(changed)}</div>"
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
    files = []
    for entry in record["inputs"]:
        if entry["files"]:
            for item in entry["files"]:
                files.append(
                    {
                        "cohort": entry["cohort"],
                        "source": entry["source"],
                        "file": item["path"],
                        "size (bytes)": item["size_bytes"],
                        "sha256": item["sha256"],
                        "note": item.get("note", ""),
                    }
                )
        else:
            files.append(
                {
                    "cohort": entry["cohort"],
                    "source": entry["source"],
                    "file": f"{entry.get('package', 'package')}: dataset "
                    f"{entry.get('dataset', '?')} (no file)",
                    "size (bytes)": None,
                    "sha256": None,
                    "note": "",
                }
            )
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
<h2>Inputs</h2>{html_table(pd.DataFrame(files))}
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
    for signature, path in outputs["forest"].items():
        plots.forest(frames["cox"], frames["meta"], path, signatures=[signature])
    record = provenance(config, frames["versions"], cohort_provenance, configfiles)
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
            changed=changed_inputs(record),
        ),
        outputs["summary"],
    )
