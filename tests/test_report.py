"""Figures, report pages and provenance on small made-up inputs (fast; no workflow run)."""

import json
import re
import subprocess
from datetime import UTC, datetime
from html import escape

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from selfseed import files, plots, provenance, report

ENDPOINT = {"name": "LR", "label": "locoregional recurrence"}
SIGNATURES = ("attractor", "invasion")
METHODS = ("zmean", "ssgsea")


@pytest.fixture(scope="module")
def patients():
    """Two signatures x two methods of seeded scores, 80 patients, with competing events."""
    rng = np.random.default_rng(1)
    n = 80
    base = pd.DataFrame(
        {
            "time_months": rng.exponential(40, n).round(1) + 0.5,
            "event": rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2]),
        }
    )
    obs = base.copy()
    for signature in SIGNATURES:
        latent = rng.normal(size=n)
        for method in METHODS:
            obs[f"score:{signature}:{method}"] = latent + rng.normal(scale=0.3, size=n)
    return obs


def km_inputs(obs):
    from selfseed.stats.competing import cumulative_incidence
    from selfseed.survival import km_median_split, median_split

    rows, curves, long, cifs = [], [], [], []
    for signature in SIGNATURES:
        for method in METHODS:
            data = median_split(obs.assign(score=obs[f"score:{signature}:{method}"]))
            summary, km = km_median_split(data)
            rows.append(
                {
                    "signature": signature,
                    "method": method,
                    **summary,
                    "hr": 1.3,
                    "ci_low": 1.01,
                    "ci_high": 1.7,
                }
            )
            curves.append(km.assign(signature=signature, method=method))
            long.append(
                data[["time_months", "event", "score", "group"]].assign(
                    signature=signature, method=method
                )
            )
            cifs.append(
                cumulative_incidence(data["time_months"], data["event"], data["group"]).assign(
                    signature=signature, method=method
                )
            )
    return pd.DataFrame(rows), curves, pd.concat(long), cifs


def svg_texts(path):
    """The text elements of an SVG figure, in drawing order."""
    return re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())


def png_dpi(path):
    with Image.open(path) as image:
        return image.info["dpi"][0], image.size


@pytest.mark.usefixtures("svg_copies_on")
def test_km_grid_writes_png_at_150_dpi_and_svg_with_numbers_at_risk(tmp_path, patients):
    table, curves, long, _ = km_inputs(patients)
    path = tmp_path / "km" / "demo.png"
    plots.km_grid(curves, table, cohort="demo", endpoint=ENDPOINT, path=path, patients=long)
    dpi, (width, height) = png_dpi(path)
    assert dpi == pytest.approx(150, abs=0.5)
    assert width > 900
    assert height > 900
    svg = path.with_suffix(".svg").read_text()
    assert "<svg" in svg
    assert "Date" not in svg
    assert not list(path.parent.glob(".*part"))
    # numbers at risk at 0 months are the group sizes, drawn as text under every panel
    n_low = str(int(table.loc[0, "n_low"]))
    assert svg.count("at risk") == len(SIGNATURES) * len(METHODS)
    assert n_low in svg


def test_a_figure_is_a_png_alone_unless_svg_copies_are_on(tmp_path, patients):
    from selfseed.contracts import svg_copies

    table, curves, long, _ = km_inputs(patients)
    path = tmp_path / "km.png"
    plots.km_grid(curves, table, cohort="demo", endpoint=ENDPOINT, path=path, patients=long)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["km.png"]
    with svg_copies(True):
        plots.km_grid(curves, table, cohort="demo", endpoint=ENDPOINT, path=path, patients=long)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["km.png", "km.svg"]


@pytest.mark.usefixtures("svg_copies_on")
def test_figures_are_byte_identical_on_rerun(tmp_path, patients):
    table, curves, long, _ = km_inputs(patients)
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    for path in (first, second):
        plots.km_grid(curves, table, cohort="demo", endpoint=ENDPOINT, path=path, patients=long)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_suffix(".svg").read_bytes() == second.with_suffix(".svg").read_bytes()


def test_at_risk_counts_patients_still_followed():
    assert plots.at_risk([1, 5, 12, 12, 30], [0, 12, 24, 36]) == [5, 3, 1, 0]


def test_censor_marks_keep_one_per_column_of_the_time_axis_on_the_curve():
    rng = np.random.default_rng(3)
    times = np.r_[0.0, np.sort(rng.uniform(0, 120, 300))]
    survival = np.r_[1.0, np.cumprod(np.full(300, 0.998))]
    censored = rng.uniform(0, 120, 8000)
    x, y = plots.censor_marks(times, survival, censored, span=120)
    columns = np.floor(censored / (120 / plots.MARK_COLUMNS))
    assert len(x) == len(np.unique(columns)) <= plots.MARK_COLUMNS
    assert set(np.floor(x / (120 / plots.MARK_COLUMNS))) == set(columns)
    assert np.array_equal(y, survival[np.searchsorted(times, x, side="right") - 1])
    # few patients: every censored time keeps its own mark
    few = np.array([3.0, 50.0, 7.0])
    assert np.array_equal(plots.censor_marks(times, survival, few, span=120)[0], np.sort(few))


def test_median_split_puts_scores_above_the_median_high(patients):
    from selfseed.survival import km_median_split, median_split

    split = median_split(patients.assign(score=patients["score:attractor:zmean"]))
    cutpoint = split.attrs["cutpoint"]
    assert cutpoint == patients["score:attractor:zmean"].median()
    assert ((split["group"] == "high") == (split["score"] > cutpoint)).all()
    summary, _ = km_median_split(split)
    assert (split["group"] == "high").sum() == summary["n_high"]


def test_cif_title_says_when_no_competing_events(tmp_path, patients, monkeypatch):
    titles = []
    monkeypatch.setattr(plots, "panel_grid", lambda curves, title, *a, **k: titles.append(title))
    table, _, _, cifs = km_inputs(patients)
    plots.cif_grid(cifs, table, cohort="demo", endpoint=ENDPOINT, path=tmp_path / "c.png")
    no_competing = [c.assign(cif=np.where(c["cause"] == 2, 0.0, c["cif"])) for c in cifs]
    plots.cif_grid(no_competing, table, cohort="demo", endpoint=ENDPOINT, path=tmp_path / "d.png")
    assert "competing events dotted" in titles[0]
    assert "no competing events recorded" in titles[1]


def test_forest_rows_group_cohorts_and_pooled_estimate_by_method():
    cox = pd.DataFrame(
        {
            "cohort": ["a", "b", "a", "b"],
            "endpoint": ["LR", "OS", "LR", "OS"],
            "signature": "attractor",
            "method": ["zmean", "zmean", "ssgsea", "ssgsea"],
            "model": "univariable",
            "n": [50, 60, 50, 60],
            "events": [10, 20, 10, 20],
            "hr": [1.2, np.nan, 1.1, 1.4],
            "ci_low": [0.9, np.nan, 0.8, 1.0],
            "ci_high": [1.6, np.nan, 1.5, 1.9],
        }
    )
    meta = pd.DataFrame(
        [
            {
                "signature": "attractor",
                "method": "ssgsea",
                "model": "univariable",
                "pool": "all",
                "analysis": "random_effects",
                "k": 2,
                "hazard": "cause_specific",
                "endpoints": "LR,OS",
                "hr": 1.25,
                "ci_low": 1.0,
                "ci_high": 1.5,
                "i2": 12.0,
            }
        ]
    )
    rows = plots.forest_rows(cox, meta, "attractor")
    assert list(rows["kind"]) == [
        "header",
        "cohort",
        "cohort",
        "header",
        "cohort",
        "cohort",
        "pooled",
    ]
    assert rows.iloc[1]["label"] == "a (LR, n=50, 10 events)"
    assert "I² = 12%" in rows.iloc[-1]["label"]
    assert plots.hr_text(rows.iloc[2].to_dict()) == "not estimable"
    assert plots.hr_text({"hr": 1.25, "ci_low": 1.0, "ci_high": 1.5}) == "1.25 (1.00–1.50)"


@pytest.mark.usefixtures("svg_copies_on")
def test_run_wide_figures(tmp_path, patients):
    coverage = pd.DataFrame(
        {
            "cohort": ["a", "a", "b", "b"],
            "signature": "attractor",
            "gene": ["IL6", "CXCL8"] * 2,
            "symbol": ["IL6", "CXCL8", "IL6", "CXCL8"],
            "present": [True, True, True, False],
            "note": ["", "", "", "not measured"],
        }
    )
    plots.coverage_heatmap(coverage, tmp_path / "coverage.png")
    plots.score_correlation({"a": patients, "b": patients.iloc[:40]}, tmp_path / "corr.png")
    plots.score_distributions(patients, cohort="a", endpoint=ENDPOINT, path=tmp_path / "s.png")
    for name in ("coverage", "corr", "s"):
        assert png_dpi(tmp_path / f"{name}.png")[0] == pytest.approx(150, abs=0.5)
    # what the SVGs show (their text is kept as text): the coverage cells in cohort x gene order
    coverage_text = svg_texts(tmp_path / "coverage.svg")
    assert [t for t in coverage_text if t in ("present", "missing")] == ["present"] * 3 + [
        "missing"
    ]
    correlation = svg_texts(tmp_path / "corr.svg")
    assert {"a (n=80)", "b (n=40)"} <= set(correlation)
    assert correlation.count("1.00") >= 2 * len(SIGNATURES) * len(METHODS)  # each diagonal
    distributions = svg_texts(tmp_path / "s.svg")
    events = int((patients["event"] == 1).sum())
    for signature in SIGNATURES:
        for method in METHODS:
            assert f"{signature} · {method}" in distributions
    assert distributions.count(f"event (n={events})") == 1  # one legend, the same in every panel


# ---------------------------------------------------------------- provenance


def test_git_state_outside_a_repository_is_unknown(tmp_path):
    assert provenance.git_state(tmp_path) == ("unknown", None)


def test_git_state_reads_the_commit_and_dirty_flag(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("one")
    git("add", "f.txt")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    commit, dirty = provenance.git_state(tmp_path)
    assert len(commit) == 40
    assert dirty is False
    (tmp_path / "f.txt").write_text("two")
    assert provenance.git_state(tmp_path) == (commit, True)


def test_cohort_inputs_record_size_and_sha256_or_the_package(tmp_path):
    data = tmp_path / "expr.tsv"
    data.write_bytes(b"gene\ts1\nIL6\t1.5\n")
    recorded = {
        "source": "table",
        "files": [f"{data} sha256:{files.sha256(data)}", f"{tmp_path / 'gone.tsv'} sha256:abc"],
    }
    entry = provenance.cohort_inputs("mine", recorded)
    assert entry["files"][0] == {"path": str(data), "size_bytes": 16, "sha256": files.sha256(data)}
    assert entry["files"][1]["size_bytes"] is None
    assert entry["files"][1]["sha256"] == "abc"
    survset = provenance.cohort_inputs(
        "vdv",
        {
            "source": "survset",
            "package": "SurvSet 0.2.11",
            "dataset": "vdv",
            "dropped_genes": np.int64(3),
        },
    )
    assert survset == {
        "cohort": "vdv",
        "source": "survset",
        "files": [],
        "package": "SurvSet 0.2.11",
        "dataset": "vdv",
    }


def test_input_rows_list_each_file_or_the_package(tmp_path):
    data = tmp_path / "expr.tsv"
    data.write_bytes(b"gene\ts1\nIL6\t1.5\n")
    record = {
        "inputs": [
            provenance.cohort_inputs("mine", {"source": "table", "files": [str(data)]}),
            provenance.cohort_inputs("vdv", {"source": "survset", "package": "SurvSet 0.2.11"}),
        ]
    }
    rows = provenance.input_rows(record)
    assert rows.drop(columns="size (bytes)").to_dict("records") == [
        {
            "cohort": "mine",
            "source": "table",
            "file": str(data),
            "sha256": files.sha256(data),
            "note": "",
        },
        {
            "cohort": "vdv",
            "source": "survset",
            "file": "SurvSet 0.2.11: dataset ? (no file)",
            "sha256": None,
            "note": "",
        },
    ]
    assert rows["size (bytes)"].iloc[0] == 16
    assert np.isnan(rows["size (bytes)"].iloc[1])


def rewrite_keeping_mtime(path, data):
    """New content with the old modification time, as `cp -p` and `rsync -a` leave a file (later
    than the kernel's coarse clock step, so the change time moves on)."""
    import os
    import time

    before = path.stat()
    time.sleep(0.05)
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_a_file_changed_since_ingest_keeps_both_sha256_and_is_a_warning(tmp_path, caplog):
    data = tmp_path / "expr.tsv"
    data.write_bytes(b"gene\ts1\nIL6\t1.5\n")
    recorded = {
        "source": "table",
        "files": [f"{data} sha256:{files.sha256(data)}"],
        "file_stats": [provenance.file_stat(data)],
    }
    at_ingest = files.sha256(data)
    rewrite_keeping_mtime(data, b"gene\ts1\nIL6\t9.5\n")  # same size, same mtime
    with caplog.at_level("WARNING", logger="selfseed"):
        (item,) = provenance.cohort_inputs("mine", recorded)["files"]
    assert item["sha256_at_ingest"] == at_ingest != item["sha256"] == files.sha256(data)
    assert item["changed_since_ingest"] is True
    assert "touch the file" in item["note"]
    (warning,) = caplog.messages
    assert warning.startswith(f"mine: input file {data}: content changed since the cohort's")
    assert at_ingest in warning
    assert item["sha256"] in warning
    record = {"inputs": [{"cohort": "mine", "files": [item]}]}
    changed = provenance.changed_inputs(record)
    assert changed.to_dict("records") == [
        {
            "cohort": "mine",
            "file": str(data),
            "sha256 at ingest": at_ingest,
            "sha256 now": item["sha256"],
        }
    ]
    pipeline = {"version": "0.1.0", "git_commit": "abc123", "git_dirty": False}
    html = report.front_page(
        primary_table(), cohorts_frame(), pd.DataFrame(), pd.DataFrame(), pipeline, changed=changed
    )
    assert 'id="changed-inputs"' in html
    assert at_ingest in html
    assert str(data) in html


def test_a_file_with_its_recorded_size_and_change_time_is_not_hashed_again(tmp_path, monkeypatch):
    data = tmp_path / "expr.tsv"
    data.write_bytes(b"gene\ts1\nIL6\t1.5\n")
    recorded = {
        "files": [f"{data} sha256:{files.sha256(data)}"],
        "file_stats": [provenance.file_stat(data)],
    }

    def never(path):
        raise AssertionError(f"{path} hashed again")

    monkeypatch.setattr(provenance, "sha256", never)
    (item,) = provenance.cohort_inputs("mine", recorded)["files"]
    assert "changed_since_ingest" not in item
    assert item["size_bytes"] == 16


def test_provenance_record_is_json_with_date_config_and_versions(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("min_genes: 2\n")
    versions = pd.DataFrame({"software": ["python", "snakemake"], "version": ["3.11.7", "9.27.1"]})
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    record = provenance.run_record(
        {"min_genes": np.int64(2), "x": [np.float64(0.5)]},
        versions,
        {"vdv": {"source": "survset", "package": "SurvSet 0.2.11"}},
        [config],
        now=now,
    )
    files.write_json(record, tmp_path / "provenance.json")
    loaded = json.loads((tmp_path / "provenance.json").read_text())
    assert loaded["date"] == "2026-01-02T03:04:05+00:00"
    assert loaded["config"] == {"min_genes": 2, "x": [0.5]}
    assert loaded["software"] == {"python": "3.11.7", "snakemake": "9.27.1"}
    assert loaded["config_files"][0]["sha256"] == files.sha256(config)
    assert loaded["pipeline"]["name"] == "selfseed"
    assert loaded["pipeline"]["git_commit"]
    assert "2026-01-02" in report.provenance_page(loaded)


# ---------------------------------------------------------------- pages


def primary_table(hr=1.38):
    return pd.DataFrame(
        [
            {
                "role": "primary",
                "label": "primary: declared in the config",
                "signature": "self_seeding",
                "method": "zmean",
                "model": "univariable",
                "hazard": "cause_specific",
                "pool": "all",
                "endpoints": "DMFS,OS",
                "cohorts": "a,b",
                "k": 2,
                "estimator": "REML",
                "hr": hr,
                "ci_low": 1.17,
                "ci_high": 1.63,
                "pi_low": 1.1,
                "pi_high": 1.75,
                "p": 0.000152,
                "tau2": 0.0,
                "i2": 0.0,
                "n": 200,
                "events": 60,
                "note": "",
                "statement": "self_seeding signature ...: pooled HR per SD 1.38 (95% CI 1.17-1.63) <b>",
            }
        ]
    )


def cohorts_frame():
    return pd.DataFrame(
        {
            "cohort": ["a", "b"],
            "source": ["survset", "geo"],
            "description": ["Study A", "Study B"],
            "endpoint": ["DMFS", "OS"],
            "endpoint_label": ["metastasis", "overall survival"],
            "censored": [30, 70],
            "competing": [0, 0],
            "events": [20, 40],
            "n": [50, 110],
        }
    )


def test_front_page_states_primary_result_cohorts_and_skipped_reasons():
    skipped = pd.DataFrame(
        {
            "cohort": ["a", "b", "b"],
            "signature": ["attractor", "attractor", "invasion"],
            "method": "zmean",
            "reason": ["not run: no competing events"] * 2 + ["too few genes"],
            "analysis": ["competing", "competing", "cox"],
        }
    )
    pipeline = {"version": "0.1.0", "git_commit": "abc123", "git_dirty": True}
    html = report.front_page(primary_table(), cohorts_frame(), skipped, pd.DataFrame(), pipeline)
    assert 'id="primary-statement">self_seeding signature ...: pooled HR per SD 1.38' in html
    assert "&lt;b&gt;" in html  # escaped
    assert (
        "<td>pooled HR per SD</td><td>1.38</td><td>1.17–1.63</td><td>1.10–1.75</td>"
        "<td>0.00015</td><td>0%</td>"
    ) in html
    assert "<td>a</td><td>survset</td><td>Study A</td><td>DMFS (metastasis)</td>" in html
    assert "None of these cohorts records local recurrence" in html
    assert "3 analyses were not run" in html
    assert '<td>competing</td><td>not run: no competing events</td><td class="num"' in html
    assert "abc123 (with uncommitted changes)" in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}", html)  # no run date: reruns give the same page


def test_front_page_when_primary_not_estimable():
    primary = pd.DataFrame(
        [
            {
                "role": "primary",
                "signature": "s",
                "method": "m",
                "model": "univariable",
                "pool": "LR",
                "hr": np.nan,
                "statement": "s: not estimable",
            }
        ]
    )
    pipeline = {"version": "0.1.0", "git_commit": "unknown", "git_dirty": None}
    html = report.front_page(
        primary,
        cohorts_frame(),
        pd.DataFrame(columns=["cohort", "signature", "method", "reason", "analysis"]),
        pd.DataFrame(),
        pipeline,
    )
    assert "s: not estimable" in html
    assert "Nothing was skipped" in html


def test_table_page_is_sortable_by_value_and_escaped():
    frame = pd.DataFrame({"cohort": ["<x>", "b"], "hr": [1.23456789, np.nan], "p": [3e-7, 0.04]})
    html = report.table_page("cox", frame, "Cox models")
    assert '<table class="sortable">' in html
    assert "&lt;x&gt;" in html
    assert '<td class="num" data-v="1.23456789">1.235</td>' in html
    assert ">3.0e-07</td>" in html
    assert ">0.04</td>" in html
    assert "<td></td>" in html  # NaN shown empty
    assert "<script>" in html
    assert "http" not in html


# Markup that would run or break the page if any text reached it unescaped; "${body}" would be a
# slot of the page template if a filled slot were read as a template again.
PAYLOAD = (
    '"></td></table></script><script>window.pwned=1</script><img src=x onerror=alert(1)> ${body}'
)


def assert_escaped(html, *, scripts=0, images=0):
    """`html` shows PAYLOAD only as text: its escaped form is there, its markup never is."""
    assert escape(PAYLOAD) in html
    assert PAYLOAD not in html
    assert "window.pwned" not in html.replace(escape(PAYLOAD), "")
    assert html.count("<script") == scripts  # the page's own scripts only
    assert html.count("<img") == images
    assert html.count("</html>") == 1


def test_every_text_on_the_summary_page_is_escaped(tmp_path):
    """Config and data text in every field the summary page shows: cohort names, descriptions,
    endpoint labels, signatures, statements, skipped reasons, changed file paths, the version."""
    from PIL import Image

    primary = primary_table().assign(signature=PAYLOAD, method=PAYLOAD, statement=PAYLOAD)
    primary = pd.concat(
        [primary, primary.assign(role="locality", label=PAYLOAD, cohorts=PAYLOAD)],
        ignore_index=True,
    )
    cohorts = cohorts_frame().assign(
        cohort=PAYLOAD, source=PAYLOAD, description=PAYLOAD, endpoint_label=PAYLOAD
    )
    skipped = pd.DataFrame(
        {"cohort": [PAYLOAD], "signature": PAYLOAD, "method": "m", "reason": PAYLOAD}
    ).assign(analysis=PAYLOAD)
    meta = pd.DataFrame(
        [
            {
                "analysis": "random_effects",
                "model": "univariable",
                "pool": "all",
                "hazard": "cause_specific",
                "signature": PAYLOAD,
                "method": PAYLOAD,
                "k": 2,
                "endpoints": PAYLOAD,
                "hr": 1.2,
                "ci_low": 1.0,
                "ci_high": 1.4,
                "p": 0.03,
                "i2": 10.0,
            }
        ]
    )
    changed = pd.DataFrame(
        [{"cohort": PAYLOAD, "file": PAYLOAD, "sha256 at ingest": "a", "sha256 now": "b"}]
    )
    forest = tmp_path / "forest.png"
    Image.new("RGB", (2, 2)).save(forest)
    pipeline = {"version": PAYLOAD, "git_commit": PAYLOAD, "git_dirty": False}
    html = report.front_page(primary, cohorts, skipped, meta, pipeline, forest, changed=changed)
    assert_escaped(html, images=1)  # the forest plot
    assert 'id="locality-statement">' in html
    assert 'id="changed-inputs"' in html


def test_every_text_on_table_and_provenance_pages_is_escaped():
    frame = pd.DataFrame({PAYLOAD: [PAYLOAD, "b"], "hr": [1.2, 1.3]})
    assert_escaped(report.table_page(PAYLOAD, frame, PAYLOAD), scripts=1)  # sort and filter
    record = {
        "pipeline": {"name": PAYLOAD, "version": PAYLOAD, "git_commit": PAYLOAD, "git_dirty": True},
        "date": PAYLOAD,
        "platform": PAYLOAD,
        "config_files": [{"path": PAYLOAD, "size_bytes": 1, "sha256": PAYLOAD}],
        "config": {"cohorts": {PAYLOAD: {"description": PAYLOAD}}},
        "software": {PAYLOAD: PAYLOAD},
        "inputs": [
            {
                "cohort": PAYLOAD,
                "source": PAYLOAD,
                "files": [{"path": PAYLOAD, "size_bytes": 1, "sha256": PAYLOAD, "note": PAYLOAD}],
            },
            {"cohort": PAYLOAD, "source": PAYLOAD, "files": [], "package": PAYLOAD},
        ],
    }
    html = report.provenance_page(record)
    assert_escaped(html)
    assert "(uncommitted changes)" in html
    assert f"<pre>{escape(json.dumps(record['config'], indent=2))}</pre>" in html  # as used


def test_render_escapes_text_fills_markup_and_refuses_an_unfilled_slot():
    assert report.render("locality.html", statement="<b>") == (
        '<p class="statement" id="locality-statement">&lt;b&gt;</p>\n'
    )
    assert report.render("skipped.html", {"reasons": "<table></table>"}, sentence="a & b") == (
        "<p>a &amp; b</p>\n<table></table>\n"
    )
    with pytest.raises(KeyError, match="statement"):
        report.render("locality.html")


def test_templates_are_package_data():
    """Every file of selfseed/templates/ is in pyproject's package-data (globbed as setuptools
    does, so an installed package has them), and a page made from them is whole."""
    import tomllib

    from conftest import REPO

    package = REPO / "src" / "selfseed"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["selfseed"]
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    templates = [p for p in (package / "templates").rglob("*") if p.is_file()]
    assert package / "templates" / "page.html" in templates
    assert set(templates) <= shipped
    html = report.page("t", "<p>x</p>")
    assert html.startswith("<!doctype html>\n")
    assert "table.sortable th:after" in html
    assert html.endswith("<p>x</p></body></html>\n")


@pytest.mark.usefixtures("svg_copies_on")
def test_build_writes_every_output(tmp_path):
    tables = {}
    frames = {
        "primary": primary_table(),
        "cohorts": cohorts_frame(),
        "skipped": pd.DataFrame(columns=["cohort", "signature", "method", "reason", "analysis"]),
        "meta": pd.DataFrame(
            columns=["signature", "method", "model", "pool", "analysis", "hazard"]
        ),
        "versions": pd.DataFrame({"software": ["python"], "version": ["3.11"]}),
        "coverage": pd.DataFrame(
            {
                "cohort": "a",
                "signature": "attractor",
                "gene": ["IL6"],
                "symbol": ["IL6"],
                "present": [True],
                "note": [""],
            }
        ),
        "cox": pd.DataFrame(
            {
                "cohort": "a",
                "endpoint": "LR",
                "signature": "attractor",
                "method": "zmean",
                "model": "univariable",
                "n": [80],
                "events": [20],
                "hr": [1.2],
                "ci_low": [1.0],
                "ci_high": [1.5],
            }
        ),
    }
    for name, frame in frames.items():
        tables[name] = tmp_path / f"{name}.tsv"
        frame.to_csv(tables[name], sep="\t", index=False)
    cohort_provenance = {"a": {"source": "survset", "package": "SurvSet 0.2.11"}}
    out = tmp_path / "out"
    outputs = {
        "summary": out / "summary.html",
        "provenance": out / "provenance.json",
        "provenance_html": out / "provenance.html",
        "tables": {n: out / f"{n}.html" for n in tables},
        "forest": {"attractor": out / "forest_a.png"},
    }
    config = {"primary": {"signature": "attractor"}}
    report.build(
        tables,
        cohort_provenance,
        config=config,
        configfiles=[],
        descriptions={"cox": "Cox models"},
        outputs=outputs,
    )
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 3 + len(tables) + 1 * 2  # pages, table pages, forest as PNG and SVG
    summary = (out / "summary.html").read_text()
    assert "data:image/png;base64," in summary  # the primary signature's forest plot, inline
    assert json.loads((out / "provenance.json").read_text())["inputs"][0]["package"] == (
        "SurvSet 0.2.11"
    )
