"""Figures: Kaplan-Meier panels by score group and a forest plot of hazard ratios. Every figure names its endpoint."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OKABE_ITO = {"low": "#0072B2", "high": "#D55E00"}
METHOD_MARKERS = {"zmean": "o", "score_genes": "s", "ssgsea": "D"}


def km_grid(curves, summaries, *, cohort, endpoint, path):
    """One panel per signature (rows) and method (columns): KM curves of the score groups.

    curves: DataFrame[signature, method, group, time_months, survival]; summaries: DataFrame[signature,
    method, p, hr, n_low, n_high, note]. endpoint: dict with name and label.
    """
    signatures = list(dict.fromkeys(summaries["signature"]))
    methods = list(dict.fromkeys(summaries["method"]))
    fig, axes = plt.subplots(
        max(len(signatures), 1),
        max(len(methods), 1),
        figsize=(3.2 * max(len(methods), 1), 2.6 * max(len(signatures), 1)),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for i, signature in enumerate(signatures):
        for j, method in enumerate(methods):
            ax = axes[i][j]
            row = summaries[(summaries["signature"] == signature) & (summaries["method"] == method)]
            panel = curves[(curves["signature"] == signature) & (curves["method"] == method)]
            for group, colour in OKABE_ITO.items():
                line = panel[panel["group"] == group]
                if len(line):
                    n = int(row[f"n_{group}"].iloc[0])
                    ax.step(
                        line["time_months"],
                        line["survival"],
                        where="post",
                        color=colour,
                        label=f"{group} score (n={n})",
                    )
            if len(row):
                r = row.iloc[0]
                text = r["note"] or f"log-rank p={r['p']:.3g}\nHR/SD={r['hr']:.2f}"
                ax.text(0.03, 0.04, text, transform=ax.transAxes, fontsize=7, va="bottom")
            ax.set_title(f"{signature} · {method}", fontsize=9)
            ax.set_ylim(0, 1.02)
            if i == len(signatures) - 1:
                ax.set_xlabel("months")
            if j == 0:
                ax.set_ylabel(f"{endpoint['name']}: free of event")
            ax.legend(fontsize=6, loc="upper right", frameon=False)
    fig.suptitle(
        f"{cohort}: Kaplan-Meier, {endpoint['label']} ({endpoint['name']}), median split of score",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def forest(cox, path):
    """Forest plot of univariable HR per SD (95% CI), one panel per signature, rows cohort x method."""
    table = cox[cox["model"] == "univariable"]
    signatures = list(dict.fromkeys(table["signature"]))
    height = max(2.5, 0.28 * table.groupby("signature").size().max() + 1.5) if len(table) else 2.5
    fig, axes = plt.subplots(
        1, max(len(signatures), 1), figsize=(4.2 * max(len(signatures), 1), height), squeeze=False
    )
    for ax, signature in zip(axes[0], signatures, strict=False):
        rows = table[table["signature"] == signature].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
            if np.isfinite(r["hr"]):
                ax.errorbar(
                    r["hr"],
                    yi,
                    xerr=[[r["hr"] - r["ci_low"]], [r["ci_high"] - r["hr"]]],
                    fmt=METHOD_MARKERS.get(r["method"], "o"),
                    color="#000000",
                    ms=4,
                    capsize=2,
                )
            else:
                ax.text(1, yi, "not fitted", fontsize=6, va="center", ha="center")
        ax.axvline(1, color="#999999", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(
            [f"{r.cohort} ({r.endpoint}) · {r.method}" for r in rows.itertuples()], fontsize=7
        )
        ax.set_xlabel("hazard ratio per SD of score (95% CI)")
        ax.set_title(signature, fontsize=10)
    fig.suptitle("Univariable Cox models; each row's endpoint in brackets", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
