"""Figures: KM, cumulative incidence and spline HR panels per cohort, and the forest plot.

Every figure names its endpoint. Colours are the Okabe-Ito colour-blind-safe palette.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

GROUP_COLOURS = {"low": "#0072B2", "high": "#D55E00"}
CAUSE_STYLES = {1: "-", 2: ":"}
METHOD_MARKERS = {"zmean": "o", "score_genes": "s", "ssgsea": "D"}


def panel_grid(curves, title, path, draw, xlabel, ylabel):
    """One panel per signature (rows) x method (columns); draw(ax, panel_curves, signature, method)."""
    data = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    signatures = list(dict.fromkeys(data["signature"])) if len(data) else []
    methods = list(dict.fromkeys(data["method"])) if len(data) else []
    rows, cols = max(len(signatures), 1), max(len(methods), 1)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.7 * rows), squeeze=False,
                             sharex=True, sharey=True)  # fmt: skip
    if not len(data):
        axes[0][0].text(0.5, 0.5, "no signature could be scored", ha="center", va="center")
    for i, signature in enumerate(signatures):
        for j, method in enumerate(methods):
            ax = axes[i][j]
            panel = data[(data["signature"] == signature) & (data["method"] == method)]
            draw(ax, panel, signature, method)
            ax.set_title(f"{signature} · {method}", fontsize=9)
            if i == rows - 1:
                ax.set_xlabel(xlabel)
            if j == 0:
                ax.set_ylabel(ylabel, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def km_grid(curves, summaries, *, cohort, endpoint, path):
    """Kaplan-Meier curves of the endpoint for high vs low score (median split), with log-rank p."""
    stats = summaries.set_index(["signature", "method"]) if len(summaries) else None

    def draw(ax, panel, signature, method):
        row = stats.loc[(signature, method)]
        for group, colour in GROUP_COLOURS.items():
            line = panel[panel["group"] == group]
            n = int(row[f"n_{group}"])
            ax.step(line["time_months"], line["survival"], where="post", color=colour,
                    label=f"{group} score (n={n})")  # fmt: skip
        text = row["note"] if isinstance(row["note"], str) and row["note"] else (
            f"log-rank p={row['p']:.3g}\nHR/SD={row['hr']:.2f}")  # fmt: skip
        ax.text(0.03, 0.04, text, transform=ax.transAxes, fontsize=7)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6, loc="upper right", frameon=False)

    title = (f"{cohort}: Kaplan-Meier, {endpoint['label']} ({endpoint['name']}), "
             "median split of score")  # fmt: skip
    panel_grid(curves, title, path, draw, "months", f"free of {endpoint['name']} event")


def cif_grid(curves, summaries, *, cohort, endpoint, path):
    """Aalen-Johansen cumulative incidence of the event of interest (solid) and competing events
    (dotted) for high vs low score."""

    def draw(ax, panel, signature, method):
        for (group, cause), line in panel.groupby(["group", "cause"]):
            if cause == 2 and not (line["cif"] > 0).any():
                continue
            name = endpoint["name"] if cause == 1 else "competing"
            ax.step(line["time"], line["cif"], where="post", color=GROUP_COLOURS[group],
                    ls=CAUSE_STYLES[cause], label=f"{group}: {name}")  # fmt: skip
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6, loc="upper left", frameon=False)

    title = (f"{cohort}: cumulative incidence, {endpoint['label']} ({endpoint['name']}) and "
             "competing events, median split")  # fmt: skip
    panel_grid(curves, title, path, draw, "months", "cumulative incidence")


def spline_grid(curves, summaries, *, cohort, endpoint, path):
    """Log HR of the endpoint against the score (restricted cubic spline, 95% CI), vs the median."""

    def draw(ax, panel, signature, method):
        ax.fill_between(panel["score"], np.exp(panel["ci_low"]), np.exp(panel["ci_high"]),
                        color="#56B4E9", alpha=0.3, lw=0)  # fmt: skip
        ax.plot(panel["score"], np.exp(panel["log_hr"]), color="#000000")
        ax.axhline(1, color="#999999", lw=0.8, ls="--")
        ax.set_yscale("log")

    title = (f"{cohort}: HR of {endpoint['label']} ({endpoint['name']}) by score "
             "(restricted cubic spline, reference = median)")  # fmt: skip
    panel_grid(curves, title, path, draw, "score (SD units)", "hazard ratio")


def forest(cox, meta, path):
    """HR per SD (95% CI) of univariable Cox models per cohort and method, with pooled estimates."""
    table = cox[cox["model"] == "univariable"].copy()
    table["label"] = table["cohort"] + " (" + table["endpoint"] + ") · " + table["method"]
    pooled = meta[(meta["model"] == "univariable") & (meta["analysis"] == "random_effects")
                  & (meta["pool"] == "all")] if len(meta) else meta  # fmt: skip
    if len(pooled):
        pooled = pooled.assign(label="pooled (" + pooled["endpoints"] + ") · " + pooled["method"])
        table = pd.concat([table, pooled.assign(pooled=True)], ignore_index=True)
    signatures = list(dict.fromkeys(table["signature"]))
    height = max(2.5, 0.28 * table.groupby("signature").size().max() + 1.5) if len(table) else 2.5
    fig, axes = plt.subplots(1, max(len(signatures), 1), figsize=(4.6 * max(len(signatures), 1), height),
                             squeeze=False)  # fmt: skip
    for ax, signature in zip(axes[0], signatures, strict=False):
        rows = table[table["signature"] == signature].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        for yi, r in zip(y, rows.itertuples(), strict=True):
            is_pooled = getattr(r, "pooled", False) is True
            if np.isfinite(r.hr):
                ax.errorbar(r.hr, yi, xerr=[[r.hr - r.ci_low], [r.ci_high - r.hr]],
                            fmt="D" if is_pooled else METHOD_MARKERS.get(r.method, "o"),
                            color="#D55E00" if is_pooled else "#000000", ms=5 if is_pooled else 4,
                            capsize=2)  # fmt: skip
            else:
                ax.text(1, yi, "not fitted", fontsize=6, va="center", ha="center")
        ax.axvline(1, color="#999999", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(ticker.FixedLocator([0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6]))
        ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set_yticks(y)
        ax.set_yticklabels(rows["label"], fontsize=7)
        ax.set_xlabel("hazard ratio per SD of score (95% CI)")
        ax.set_title(signature, fontsize=10)
    fig.suptitle("Univariable Cox models per cohort (endpoint in brackets) and random-effects pooled "
                 "estimates (orange); pooled rows may mix endpoints", fontsize=8)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
