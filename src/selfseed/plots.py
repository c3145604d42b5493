"""Figures: per cohort Kaplan-Meier (with numbers at risk), cumulative incidence, spline HR and score
distributions; run-wide forest plot, gene coverage heatmap and score-score correlations.

One style for all: Okabe-Ito colour-blind-safe colours, 8 pt text, every figure names its endpoint.
Each figure is written as PNG at 150 dpi (screens, the report) and, within `svg_copies(True)` (the
config's `figures.svg`), also as SVG beside it (same name, `.svg`; vector, for print), atomically
and byte-identically on reruns (no dates or random ids).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Text from configs and data (endpoint labels, signature, gene and cohort names) is drawn as written:
# never parsed as mathtext, where "$...$" would be maths or an error.
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402
import matplotlib.transforms as transforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from selfseed.contracts import (  # noqa: E402
    COMPETING,
    EVENT,
    SVG_COPIES,
    parse_score_column,
    score_column,
    score_columns,
)
from selfseed.files import replaced  # noqa: E402

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}
GROUP_COLOURS = {"low": OKABE_ITO["blue"], "high": OKABE_ITO["vermillion"]}
EVENT_COLOURS = {"event": OKABE_ITO["vermillion"], "no event": OKABE_ITO["blue"]}
CAUSE_STYLES = {EVENT: "-", COMPETING: ":"}
METHOD_MARKERS = {"zmean": "o", "score_genes": "s", "ssgsea": "^"}
POOLED_COLOUR = OKABE_ITO["vermillion"]
HR_RANGE = (1 / 50, 50)  # hazard-ratio axis of the spline panels
DPI = 150  # PNG for screens and the report; the SVG (svg_copies) is the vector version
STYLE = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 6.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "svg.hashsalt": "selfseed",
    "path.simplify": True,
    "svg.fonttype": "none",  # text as <text> (editable, small, fast), not glyph outlines
}


def save(fig, path):
    """Write `fig` as PNG (150 dpi) to `path` and, where SVG_COPIES is on, as SVG beside it; atomic,
    no timestamps.

    Every figure has fixed margins, titles and axis labels at fixed places (`axes_title`, `axis_labels`):
    tight layouts and matplotlib's automatic title and label placement measure the drawn text,
    which costs about as much as drawing the figure again."""
    path = Path(path)
    # PNG at zlib level 1: files ~25% larger than at the default level 6, encoded several times faster
    targets = [(path, "png", {"metadata": {"Software": None}, "pil_kwargs": {"compress_level": 1}})]
    if SVG_COPIES.get():
        targets.append((path.with_suffix(".svg"), "svg", {"metadata": {"Date": None}}))
    with plt.rc_context(STYLE):
        for target, fmt, options in targets:
            with replaced(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=DPI, **options)
    plt.close(fig)


def axes_title(ax, text, **kwargs):
    """An axes title at a fixed height above the axes."""
    ax.set_title(text, y=1.0, **kwargs)


def axis_labels(ax, xlabel=None, ylabel=None, *, below=0.3, left=0.45):
    """Axis labels `below` / `left` inches from the axes (outside the tick labels)."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
        offset = transforms.offset_copy(ax.transAxes, ax.figure, y=-below, units="inches")
        ax.xaxis.set_label_coords(0.5, 0, transform=offset)
        ax.xaxis.label.set_va("top")
    if ylabel is not None:
        ax.set_ylabel(ylabel)
        offset = transforms.offset_copy(ax.transAxes, ax.figure, x=-left, units="inches")
        ax.yaxis.set_label_coords(0, 0.5, transform=offset)
        ax.yaxis.label.set_va("bottom")


def text_inches(labels, fontsize):
    """About the width of the longest of `labels` at `fontsize` points, in inches."""
    return max((len(str(label)) for label in labels), default=0) * fontsize * 0.55 / 72


def fixed_margins(rows, cols, height, width_per_panel=3.3):
    """Subplot margins in inches (title on top, labels left and below): tight_layout would draw
    the whole figure once more to find them."""
    width = width_per_panel * cols
    return {
        "top": 1 - 0.6 / height,
        "bottom": 0.45 / height,
        "left": 0.6 / width,
        "right": 1 - 0.1 / width,
        "hspace": 0.45,
        "wspace": 0.3,
    }


def figure(*args, **kwargs):
    with plt.rc_context(STYLE):
        return plt.figure(*args, **kwargs)


def endpoint_text(endpoint):
    return f"{endpoint['label']} ({endpoint['name']})"


def month_ticks(max_time):
    """Tick positions in months: every 12, 24 or 60 months depending on follow-up."""
    step = 12 if max_time <= 72 else 24 if max_time <= 180 else 60
    return np.arange(0, max_time + 1e-9, step)


def ordered(values):
    return list(dict.fromkeys(values))


def panel_grid(curves, title, path, draw, ylabel, *, risk=None, max_time=None, legend=None):
    """One panel per signature (rows) x method (columns) of curves over months;
    draw(ax, panel_curves, signature, method) draws one panel.

    With `risk(ax, signature, method, ticks, strip)`, a numbers-at-risk strip is drawn under each
    panel, into the panel's axes with `strip_transforms` (no axes of its own: axes cost more to draw
    than their text); `legend` (matplotlib handles) is shown once, under the title.
    """
    data = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    signatures = ordered(data["signature"]) if len(data) else []
    methods = ordered(data["method"]) if len(data) else []
    rows, cols = max(len(signatures), 1), max(len(methods), 1)
    strip = risk is not None
    header = 0.8 + 0.15 * title.count("\n")  # inches for the title and the legend
    height = (2.5 + 0.55 * strip) * rows + header
    width = 3.3 * cols
    fig = figure(figsize=(width, height))
    outer = GridSpec(
        rows,
        cols,
        figure=fig,
        hspace=0.2 if strip else 0.45,
        wspace=0.28,
        top=1 - header / height,
        bottom=(0.2 if strip else 0.45) / height,
        left=0.75 / width,
        right=1 - 0.1 / width,
    )
    if not len(data):
        ax = fig.add_subplot(outer[0, 0])
        ax.text(0.5, 0.5, "no signature could be scored", ha="center", va="center")
        ax.set_axis_off()
    time_column = "time_months" if "time_months" in data else "time"
    if max_time is None:
        max_time = float(data[time_column].max()) if len(data) else 1.0
    ticks = month_ticks(max_time)
    for i, signature in enumerate(signatures):
        for j, method in enumerate(methods):
            with plt.rc_context(STYLE):
                cell = (
                    outer[i, j].subgridspec(2, 1, height_ratios=[2.5, 0.55], hspace=0.4)
                    if strip
                    else None
                )
                ax = fig.add_subplot(cell[0] if strip else outer[i, j])
                panel = data[(data["signature"] == signature) & (data["method"] == method)]
                axes_title(ax, f"{signature} · {method}")
                if panel.empty:  # this method did not score this signature (tables say why)
                    ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
                    ax.set_axis_off()
                    continue
                draw(ax, panel, signature, method)
                ax.set_xlim(0, max_time * 1.02)
                ax.set_xticks(ticks)
                axis_labels(ax, "months", ylabel if j == 0 else None, below=0.21)
                if strip:
                    placement = strip_transforms(ax, cell[1].get_position(fig))
                    risk(ax, signature, method, ticks, placement)
    fig.suptitle(title, fontsize=9, y=1 - 0.12 / height)
    if legend:
        fig.legend(
            handles=legend,
            loc="center",
            ncol=len(legend),
            fontsize=7,
            bbox_to_anchor=(0.5, 1 - (header - 0.38) / height),
        )
    save(fig, path)


STRIP_RANGE = (-0.6, 1.6)  # the vertical units of a numbers-at-risk strip (one row per unit)


def strip_transforms(ax, box):
    """Transforms that place text in the figure-coordinate `box` under `ax`, vertically in
    STRIP_RANGE units: (x in `ax`'s data units, x in `ax`'s axes fraction)."""
    low, high = STRIP_RANGE
    scale = box.height / (high - low)
    rows = transforms.Affine2D().scale(1, scale).translate(0, box.y0 - low * scale)
    rows += ax.figure.transFigure
    return (
        transforms.blended_transform_factory(ax.transData, rows),
        transforms.blended_transform_factory(ax.transAxes, rows),
    )


def at_risk(times, ticks):
    """Number of patients still at risk (time >= tick) at each tick."""
    times = np.asarray(times, float)
    return [int((times >= t).sum()) for t in ticks]


# censoring marks: at most one per 1/200 of the time axis; a mark is 3 pt wide and a panel about
# 180 pt, so marks closer than a third of their width, which overlap anyway, are drawn once
MARK_COLUMNS = 200


def censor_marks(times, survival, censored, span):
    """Where a group's censoring marks go on its step curve (`times`, `survival`): one mark per
    1/MARK_COLUMNS of the time axis `span` that holds a censored time (at its first such time), so
    the cost of a panel does not grow with the number of patients."""
    censored = np.sort(np.asarray(censored, float))
    column = np.floor(censored / (span / MARK_COLUMNS))
    marks = censored[np.r_[True, column[1:] != column[:-1]]] if len(censored) else censored
    idx = np.searchsorted(times, marks, side="right") - 1
    return marks, survival[np.clip(idx, 0, None)]


def km_curve(ax, line, members, colour, span):
    """One group's Kaplan-Meier step curve (event times only) and, given its `members` (time_months,
    event), its censoring marks (`censor_marks` over the axis `span`) as one line of markers; the
    curve runs on to the last follow-up."""
    times, survival = line["time_months"].to_numpy(), line["survival"].to_numpy()
    if members is not None:
        last = members["time_months"].max()
        if last > times[-1]:
            times, survival = np.r_[times, last], np.r_[survival, survival[-1]]
        censored = members.loc[members["event"] != EVENT, "time_months"]
        marks = censor_marks(times, survival, censored, span)
        ax.plot(*marks, "|", color=colour, ms=3, mew=0.6)
    ax.step(times, survival, where="post", color=colour)


def km_grid(curves, summaries, *, cohort, endpoint, path, patients=None):
    """Kaplan-Meier curves of the endpoint for high vs low score (median split), with log-rank p, the
    Cox HR per SD (95% CI) and, given `patients` (survival.median_split's time_months, event,
    group per signature and method), censoring marks and numbers at risk under each panel."""
    stats = summaries.set_index(["signature", "method"]) if len(summaries) else None
    split = {}
    if patients is not None and len(patients):
        for (signature, method), part in patients.groupby(["signature", "method"], sort=False):
            split[(signature, method)] = part
    max_time = max(float(g["time_months"].max()) for g in split.values()) if split else None

    def draw(ax, panel, signature, method):
        groups = split.get((signature, method))
        for group, colour in GROUP_COLOURS.items():
            line = panel[panel["group"] == group]
            if not line.empty:
                members = None if groups is None else groups[groups["group"] == group]
                km_curve(ax, line, members, colour, span=max_time)
        row = stats.loc[(signature, method)]
        note = row["note"] if isinstance(row["note"], str) else ""
        text = note or f"log-rank p = {row['p']:.2g}\nHR per SD {hr_text(row)}"
        ax.text(0.03, 0.04, text, transform=ax.transAxes, fontsize=6.5)
        ax.set_ylim(0, 1.03)

    def risk(ax, signature, method, ticks, strip):
        groups = split[(signature, method)]
        on_time, at_left = strip
        for y, (group, colour) in enumerate(reversed(GROUP_COLOURS.items())):
            counts = at_risk(groups.loc[groups["group"] == group, "time_months"], ticks)
            for tick, count in zip(ticks, counts, strict=True):
                ax.text(
                    tick,
                    y,
                    str(count),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color=colour,
                    transform=on_time,
                )
            ax.text(
                -0.1, y, group, ha="right", va="center", fontsize=6, color=colour, transform=at_left
            )
        ax.text(
            -0.1,
            STRIP_RANGE[1],
            "at risk",
            ha="right",
            va="bottom",
            fontsize=6,
            fontweight="bold",
            transform=at_left,
        )

    title = (
        f"{cohort}: Kaplan-Meier, {endpoint_text(endpoint)}, median split of score "
        "(competing events censored)"
    )
    legend = [
        Line2D(
            [],
            [],
            color=colour,
            label=f"{group} score (above median)"
            if group == "high"
            else f"{group} score (at or below median)",
        )
        for group, colour in GROUP_COLOURS.items()
    ] + [Line2D([], [], color=OKABE_ITO["black"], marker="|", ls="", label="censored")]
    panel_grid(
        curves,
        title,
        path,
        draw,
        f"free of {endpoint['name']}",
        risk=risk if split else None,
        max_time=max_time,
        legend=legend,
    )


def hr_text(row):
    """'1.38 (1.17-1.63)' from hr, ci_low, ci_high (CI left out when not given)."""
    if not np.isfinite(row.get("hr", np.nan)):
        return "not estimable"
    low, high = row.get("ci_low", np.nan), row.get("ci_high", np.nan)
    if np.isfinite(low) and np.isfinite(high):
        return f"{row['hr']:.2f} ({low:.2f}–{high:.2f})"
    return f"{row['hr']:.2f}"


def cif_grid(curves, summaries, *, cohort, endpoint, path):
    """Aalen-Johansen cumulative incidence of the event of interest (solid) and competing events
    (dotted) for high vs low score; says so when the cohort records no competing events."""
    data = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    competing = bool(len(data)) and bool((data.loc[data["cause"] == COMPETING, "cif"] > 0).any())

    def draw(ax, panel, signature, method):
        for (group, cause), line in panel.groupby(["group", "cause"]):
            if cause == COMPETING and not competing:
                continue
            ax.step(
                np.r_[0, line["time"]],
                np.r_[0, line["cif"]],
                where="post",
                color=GROUP_COLOURS[group],
                ls=CAUSE_STYLES[cause],
            )
        ax.set_ylim(0, 1.03)

    note = (
        "competing events dotted"
        if competing
        else "no competing events recorded: curves equal 1 - Kaplan-Meier"
    )
    title = (
        f"{cohort}: cumulative incidence of {endpoint['name']} events ({endpoint['label']}), "
        f"median split of score\n{note}"
    )
    legend = [
        Line2D([], [], color=colour, label=f"{group} score")
        for group, colour in GROUP_COLOURS.items()
    ]
    legend.append(Line2D([], [], color=OKABE_ITO["black"], label=f"{endpoint['name']} event"))
    if competing:
        legend.append(Line2D([], [], color=OKABE_ITO["black"], ls=":", label="competing events"))
    panel_grid(curves, title, path, draw, "cumulative incidence", legend=legend)


def spline_grid(curves, summaries, *, cohort, endpoint, path):
    """HR of the endpoint against the score (restricted cubic spline, 95% CI), vs the median; the
    HR axis shows 1/50 to 50 (a wider CI, as with few events, runs off the panel and says so)."""

    def draw(ax, panel, signature, method):
        low, high = np.exp(panel["ci_low"]), np.exp(panel["ci_high"])
        ax.fill_between(panel["score"], low, high, color=OKABE_ITO["sky"], alpha=0.35, lw=0)
        ax.plot(panel["score"], np.exp(panel["log_hr"]), color=OKABE_ITO["black"])
        ax.axhline(1, color=OKABE_ITO["grey"], lw=0.6, ls="--")
        ax.set_yscale("log")
        ax.set_ylim(*HR_RANGE)
        ax.yaxis.set_major_locator(ticker.FixedLocator([0.02, 0.1, 0.5, 1, 2, 10, 50]))
        ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_locator(ticker.NullLocator())  # minor log ticks are slow to draw
        ax.set_xlim(panel["score"].min(), panel["score"].max())
        if low.min() < HR_RANGE[0] or high.max() > HR_RANGE[1]:
            ax.text(0.03, 0.04, "95% CI beyond the axis", transform=ax.transAxes, fontsize=6.5)

    title = (
        f"{cohort}: HR of {endpoint_text(endpoint)} by score "
        "(restricted cubic spline, 95% CI, reference = median)"
    )
    data = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    signatures = ordered(data["signature"]) if len(data) else []
    methods = ordered(data["method"]) if len(data) else []
    rows, cols = max(len(signatures), 1), max(len(methods), 1)
    height = 2.5 * rows + 0.5
    fig = figure(figsize=(3.3 * cols, height))
    with plt.rc_context(STYLE):
        axes = fig.subplots(
            rows, cols, squeeze=False, gridspec_kw=fixed_margins(rows, cols, height)
        )
        if not len(data):
            axes[0][0].text(0.5, 0.5, "no spline could be fitted", ha="center", va="center")
            axes[0][0].set_axis_off()
        for i, signature in enumerate(signatures):
            for j, method in enumerate(methods):
                ax = axes[i][j]
                panel = data[(data["signature"] == signature) & (data["method"] == method)]
                if panel.empty:
                    ax.text(
                        0.5, 0.5, "not fitted", ha="center", va="center", transform=ax.transAxes
                    )
                else:
                    draw(ax, panel, signature, method)
                axes_title(ax, f"{signature} · {method}")
                axis_labels(
                    ax,
                    "score (SD units)" if i == rows - 1 else None,
                    "hazard ratio" if j == 0 else None,
                    below=0.21,
                )
        fig.suptitle(title, fontsize=9, y=1 - 0.12 / height)
    save(fig, path)


def forest_rows(cox, meta, signature):
    """Rows of one signature's forest panel: per method a header, the cohorts and the pooled estimate."""
    table = cox[(cox["model"] == "univariable") & (cox["signature"] == signature)]
    pooled = (
        meta[
            (meta["model"] == "univariable")
            & (meta["analysis"] == "random_effects")
            & (meta["pool"] == "all")
            & (meta["signature"] == signature)
            & (meta["hazard"] == "cause_specific")
        ]
        if len(meta)
        else meta
    )
    rows = []
    for method in ordered(table["method"]):
        rows.append({"kind": "header", "label": method, "method": method})
        for r in table[table["method"] == method].itertuples():
            n = "" if pd.isna(r.n) else f", n={int(r.n)}, {int(r.events)} events"
            rows.append(
                {
                    "kind": "cohort",
                    "label": f"{r.cohort} ({r.endpoint}{n})",
                    "method": method,
                    "hr": r.hr,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                }
            )
        for r in pooled[pooled["method"] == method].itertuples() if len(pooled) else []:
            rows.append(
                {
                    "kind": "pooled",
                    "method": method,
                    "hr": r.hr,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "label": f"pooled RE, k={r.k} ({r.endpoints}); I² = {r.i2:.0f}%",
                }
            )
    return pd.DataFrame(rows)


def forest(cox, meta, path, signatures=None):
    """HR per SD (95% CI) of univariable Cox models per cohort, grouped by method, with the
    random-effects pooled estimate (diamond) of each method; one panel per signature."""
    signatures = signatures or ordered(cox["signature"])
    panels = [(s, forest_rows(cox, meta, s)) for s in signatures]
    sizes = [max(len(rows), 1) for _, rows in panels] or [1]
    row_inches, gap, header, footer = 0.2, 0.8, 0.65, 0.55
    height = sum(sizes) * row_inches + gap * (len(sizes) - 1) + header + footer
    labels = [label for _, rows in panels for label in rows.get("label", [])]
    left = text_inches(labels, 6.5) + 0.25
    width = max(7.0, left + 4.6)
    fig = figure(figsize=(width, height))
    with plt.rc_context(STYLE):
        axes = fig.subplots(
            len(sizes),
            1,
            squeeze=False,
            gridspec_kw={
                "height_ratios": sizes,
                "top": 1 - header / height,
                "bottom": footer / height,
                "left": left / width,
                "right": 1 - 1.25 / width,
                "hspace": gap / (sum(sizes) * row_inches / len(sizes)),
            },
        )[:, 0]
        finite = pd.concat([rows for _, rows in panels if len(rows)] or [pd.DataFrame()])
        bounds = [0.5, 2.0]
        if "ci_low" in finite:
            values = finite[["ci_low", "ci_high"]].to_numpy(float)
            values = values[np.isfinite(values) & (values > 0)]
            if values.size:
                bounds = [min(values.min(), 0.5) / 1.1, max(values.max(), 2.0) * 1.1]
        for ax, (signature, rows) in zip(axes, panels, strict=False):
            forest_panel(ax, rows, bounds)
            axes_title(ax, f"{signature} signature", fontsize=9, loc="left", fontweight="bold")
        fig.suptitle(
            "Hazard ratio per SD of score: univariable Cox per cohort (endpoint in brackets)\n"
            "and random-effects pooled estimate (diamond); pooled rows may mix endpoints",
            fontsize=8.5,
            y=1 - 0.08 / height,
            va="top",
        )
    save(fig, path)


def forest_per_signature(cox, meta, paths):
    """One forest plot per signature, `paths`: {signature: png path}."""
    for signature, path in paths.items():
        forest(cox, meta, path, signatures=[signature])


def forest_panel(ax, rows, bounds):
    y = np.arange(len(rows))[::-1]
    ax.set_xscale("log")
    ax.set_xlim(*bounds)
    labels = []
    for yi, r in zip(y, rows.itertuples(), strict=True):
        labels.append(r.label)
        if r.kind == "header":
            continue
        right = "not estimable"
        if np.isfinite(r.hr):
            right = hr_text(r._asdict())
            if r.kind == "pooled":
                ax.fill(
                    [r.ci_low, r.hr, r.ci_high, r.hr],
                    [yi, yi + 0.35, yi, yi - 0.35],
                    color=POOLED_COLOUR,
                    lw=0,
                )
            else:
                ax.plot([r.ci_low, r.ci_high], [yi, yi], color=OKABE_ITO["black"], lw=0.9)
                ax.plot(r.hr, yi, METHOD_MARKERS.get(r.method, "s"), color=OKABE_ITO["black"], ms=4)
        ax.text(
            1.02,
            yi,
            right,
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=6.5,
            fontweight="bold" if r.kind == "pooled" else "normal",
        )
    ax.axvline(1, color=OKABE_ITO["grey"], lw=0.6, ls="--")
    ax.xaxis.set_major_locator(ticker.FixedLocator([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8]))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=6.5)
    for tick, r in zip(ax.get_yticklabels(), rows.itertuples(), strict=True):
        if r.kind == "header":
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    axis_labels(ax, "hazard ratio per SD (95% CI)", below=0.2)


def score_distributions(obs, *, cohort, endpoint, path):
    """Histogram of each score (signature rows x method columns) in patients with and without the
    event of interest, with the median (the KM split) dashed."""
    columns = score_columns(obs.columns)
    signatures = ordered(parse_score_column(c)[0] for c in columns)
    methods = ordered(parse_score_column(c)[1] for c in columns)
    rows, cols = max(len(signatures), 1), max(len(methods), 1)
    height = 2.1 * rows + 0.75  # and the legend under the title
    fig = figure(figsize=(3.0 * cols, height))
    event = obs["event"] == EVENT
    margins = fixed_margins(rows, cols, height, width_per_panel=3.0) | {"top": 1 - 0.85 / height}
    with plt.rc_context(STYLE):
        axes = fig.subplots(rows, cols, squeeze=False, gridspec_kw=margins)
        if not columns:
            axes[0][0].text(0.5, 0.5, "no signature could be scored", ha="center", va="center")
            axes[0][0].set_axis_off()
        for i, signature in enumerate(signatures):
            for j, method in enumerate(methods):
                ax = axes[i][j]
                column = score_column(signature, method)
                axes_title(ax, f"{signature} · {method}")
                if column not in obs:
                    ax.set_axis_off()
                    continue
                score = obs[column].astype(float)
                bins = np.histogram_bin_edges(score.dropna(), bins=20)
                for label, mask in (("no event", ~event), ("event", event)):
                    counts, _ = np.histogram(score[mask].dropna(), bins=bins)
                    ax.stairs(counts, bins, lw=1.1, color=EVENT_COLOURS[label])
                ax.axvline(score.median(), color=OKABE_ITO["grey"], ls="--", lw=0.7)
                ax.xaxis.set_major_locator(ticker.MaxNLocator(5))
                ax.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
                axis_labels(
                    ax,
                    "score" if i == rows - 1 else None,
                    "patients" if j == 0 else None,
                    below=0.21,
                )
        legend = [
            Line2D([], [], color=EVENT_COLOURS[label], label=f"{label} (n={int(mask.sum())})")
            for label, mask in (("no event", ~event), ("event", event))
        ] + [
            Line2D(
                [],
                [],
                color=OKABE_ITO["grey"],
                ls="--",
                lw=0.7,
                label="median (the Kaplan-Meier split)",
            )
        ]
        fig.legend(
            handles=legend,
            loc="center",
            ncol=3,
            fontsize=7,
            bbox_to_anchor=(0.5, 1 - 0.36 / height),
        )
        fig.suptitle(
            f"{cohort}: score distributions by {endpoint_text(endpoint)} event",
            fontsize=9,
            y=1 - 0.12 / height,
        )
    save(fig, path)


def coverage_heatmap(coverage, path):
    """Which signature genes each cohort measures (rows cohorts, columns genes)."""
    genes = coverage.drop_duplicates(["cohort", "gene"])
    order = ordered(genes["gene"])
    cohorts = ordered(genes["cohort"])
    present = (
        genes.assign(present=genes["present"].astype(bool))
        .pivot(index="cohort", columns="gene", values="present")
        .reindex(index=cohorts, columns=order)
        .fillna(False)
        .astype(bool)
    )
    symbols = genes.pivot(index="cohort", columns="gene", values="symbol").reindex(
        index=cohorts, columns=order
    )
    left = text_inches(cohorts, 7) + 0.2
    width, height = left + 0.2 + 0.85 * len(order), 0.8 + 0.38 * len(cohorts)
    fig = figure(figsize=(width, height))
    with plt.rc_context(STYLE):
        ax = fig.subplots(
            gridspec_kw={
                "left": left / width,
                "right": 1 - 0.2 / width,
                "top": 1 - 0.4 / height,
                "bottom": 0.35 / height,
            }
        )
        cmap = ListedColormap(["#DDDDDD", OKABE_ITO["blue"]])
        ax.imshow(present.to_numpy(int), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for i in range(len(cohorts)):
            for j, gene in enumerate(order):
                ok = present.iloc[i, j]
                symbol = symbols.iloc[i, j]
                text = ("present" if ok else "missing") + (
                    f"\nas {symbol}" if isinstance(symbol, str) and symbol != gene else ""
                )
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if ok else OKABE_ITO["black"],
                )
        ax.set_xticks(range(len(order)), order)
        ax.set_yticks(range(len(cohorts)), cohorts)
        ax.set_xticks(np.arange(len(order) + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(len(cohorts) + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", lw=2)
        ax.tick_params(which="both", length=0)
        ax.spines[:].set_visible(False)
        axes_title(ax, "Signature genes measured per cohort (after identifier mapping)")
    save(fig, path)


def score_correlation(frames, path):
    """Spearman correlation between every signature x method score, one panel per cohort: how far
    the scoring methods (and the signatures) agree."""
    cohorts = list(frames)
    cols = min(max(len(cohorts), 1), 3)
    rows = -(-max(len(cohorts), 1) // cols)
    labels = {
        c: c.removeprefix("score:").replace(":", " · ")
        for frame in frames.values()
        for c in score_columns(frame.columns)
    }
    margin = text_inches(labels.values(), 6) + 0.15  # tick labels left of and below each panel
    panel, gap, right, top = 3.6, 0.3, 1.1, 0.65
    width = cols * (margin + panel) + (cols - 1) * gap + right
    height = rows * (panel + margin * 0.87 + 0.35) + top
    fig = figure(figsize=(width, height))
    with plt.rc_context(STYLE):
        axes = fig.subplots(
            rows,
            cols,
            squeeze=False,
            gridspec_kw={
                "left": margin / width,
                "right": 1 - right / width,
                "top": 1 - top / height,
                "bottom": (margin * 0.87 + 0.1) / height,
                "wspace": (margin + gap) / panel,
                "hspace": (margin * 0.87 + 0.35) / panel,
            },
        ).ravel()
        for ax in axes[len(cohorts) :]:
            ax.set_axis_off()
        image = None
        for ax, cohort in zip(axes, cohorts, strict=False):
            columns = score_columns(frames[cohort].columns)
            if len(columns) < 2:
                ax.text(0.5, 0.5, "fewer than two scores", ha="center", va="center")
                ax.set_axis_off()
                continue
            rho = frames[cohort][columns].astype(float).corr(method="spearman").to_numpy()
            image = ax.imshow(rho, cmap="RdBu_r", vmin=-1, vmax=1)
            for i in range(len(columns)):
                for j in range(len(columns)):
                    ax.text(
                        j,
                        i,
                        f"{rho[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=5,
                        color="white" if abs(rho[i, j]) > 0.6 else OKABE_ITO["black"],
                    )
            names = [labels[c] for c in columns]
            ax.set_xticks(
                range(len(columns)),
                names,
                rotation=60,
                ha="right",
                fontsize=6,
                rotation_mode="anchor",
            )
            ax.set_yticks(range(len(columns)), names, fontsize=6)
            ax.tick_params(length=0)
            ax.spines[:].set_visible(False)
            axes_title(ax, f"{cohort} (n={len(frames[cohort])})")
        if image is not None:
            bar = fig.add_axes((1 - (right - 0.25) / width, 0.3, 0.12 / width, 0.4))
            fig.colorbar(image, cax=bar, label="Spearman correlation")
        fig.suptitle(
            "Agreement of scores: Spearman correlation between signatures and scoring methods",
            fontsize=9,
            y=1 - 0.12 / height,
            va="top",
        )
    save(fig, path)


# adjusted-model series of the composition forest plot: colour, marker, vertical offset
ADJUSTMENT_SERIES = {
    "unadjusted": (OKABE_ITO["black"], "o", -0.25, "unadjusted"),
    "stroma_immune": (OKABE_ITO["blue"], "s", 0.0, "adjusted for stromal + immune scores"),
    "purity": (OKABE_ITO["orange"], "^", 0.25, "adjusted for malignant-cell score (purity)"),
}


def composition_forest(composition, path, *, signature, method):
    """HR per SD of one signature score per cohort and pooled (random effects), unadjusted and
    adjusted for composition (a series per model, composition.tsv), one panel per hazard
    (cause-specific Cox, Fine-Gray); rows without an estimate say so."""
    table = composition[(composition["signature"] == signature) & (composition["method"] == method)]
    cohorts = ordered(table.loc[table["cohort"] != "pooled", "cohort"]) + ["pooled"]
    labels = composition_labels(table, cohorts)
    left, height = text_inches(labels, 7) + 0.3, 0.45 * len(cohorts) + 1.5
    width = left + 2 * 2.6 + 0.5
    fig = figure(figsize=(width, height))
    with plt.rc_context(STYLE):
        axes = fig.subplots(
            1,
            2,
            squeeze=False,
            gridspec_kw={"left": left / width, "right": 1 - 0.2 / width, "wspace": 0.15}
            | {"top": 1 - 0.9 / height, "bottom": 0.5 / height},
        )[0]
        finite = table[["ci_low", "ci_high"]].to_numpy(float)
        finite = finite[np.isfinite(finite) & (finite > 0)]
        bounds = [min([0.5, *finite]) / 1.1, max([2.0, *finite]) * 1.1]
        for ax, hazard, title in zip(
            axes,
            ("cause_specific", "subdistribution"),
            ("cause-specific Cox", "Fine-Gray"),
            strict=True,
        ):
            composition_panel(ax, table[table["hazard"] == hazard], cohorts, bounds)
            axes_title(ax, title)
            ax.set_yticks(range(len(cohorts)), labels if ax is axes[0] else [""] * len(cohorts))
        composition_header(fig, height, f"{signature} · {method}")
    save(fig, path)


def composition_header(fig, height, score):
    """Title and legend (one entry per model) of `composition_forest`."""
    handles = [
        Line2D([], [], color=c, marker=m, ms=4, label=text)
        for c, m, _, text in ADJUSTMENT_SERIES.values()
    ]
    fig.legend(handles=handles, loc="upper left", ncol=3, bbox_to_anchor=(0.02, 1 - 0.35 / height))
    title = f"{score}: hazard ratio per SD of score before and after adjustment for composition"
    fig.suptitle(title, fontsize=8.5, x=0.02, ha="left", y=1 - 0.08 / height, va="top")


def composition_labels(table, cohorts):
    """Row labels of `composition_forest`: each cohort (and the pool) with its patients and events."""
    counts = table[(table["model"] == "unadjusted") & (table["hazard"] == "cause_specific")]
    counts = counts.set_index("cohort").reindex(cohorts)
    return [
        f"{'pooled (random effects)' if c == 'pooled' else c}"
        + ("" if pd.isna(r.n) else f" (n={int(r.n)}, {int(r.events)} events)")
        for c, r in zip(cohorts, counts.itertuples(), strict=True)
    ]


def composition_panel(ax, rows, cohorts, bounds):
    """One hazard's panel of `composition_forest`: each cohort's row with a point and CI per
    adjustment; 'not estimable' where no model of the row has an estimate."""
    ax.set_xscale("log")
    ax.set_xlim(*bounds)
    ax.set_ylim(len(cohorts) - 0.5, -0.5)
    for y, cohort in enumerate(cohorts):
        part = rows[rows["cohort"] == cohort].set_index("model")
        drawn = False
        for model, (colour, marker, offset, _) in ADJUSTMENT_SERIES.items():
            if model not in part.index or not np.isfinite(part.loc[model, "hr"]):
                continue
            r = part.loc[model]
            ax.plot([r["ci_low"], r["ci_high"]], [y + offset] * 2, color=colour, lw=0.9)
            ax.plot(r["hr"], y + offset, marker, color=colour, ms=4)
            drawn = True
        if not drawn:
            ax.text(1, y, "not estimable", ha="center", va="center", fontsize=6.5)
    ax.axvline(1, color=OKABE_ITO["grey"], lw=0.6, ls="--")
    ax.xaxis.set_major_locator(ticker.FixedLocator([0.25, 0.5, 1, 2, 4, 8]))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.tick_params(axis="y", length=0)
    axis_labels(ax, "HR per SD (95% CI)", below=0.3)
