"""What drives the signal, and what the next study needs (issue 16), as pipeline stages:

- per cohort (inside the cohort job): each signature gene's cause-specific Cox HR and Fine-Gray
  sHR per SD, the signature's HR without the gene and the change in log HR
  (selfseed.stats.gene_effects), and every gene's cause-specific score-test z for the event of
  interest (selfseed.stats.genomewide);
- run-wide, in the summary: the per-gene rows pooled across cohorts and the study planning table
  (selfseed.stats.power) from the primary analysis's pooled HRs;
- run-wide, in a forked process of the summary job (the only step that imports gseapy): the
  weighted Stouffer ranking, `gseapy.prerank` against the gene-set collection with the signatures
  beside it, where the signature genes stand, the plain sentence and the enrichment plot;
- the report page that answers the three questions, last in the summary job.

Degenerate cases (no events, a gene not measured, prerank failing) become rows with a reason.
Heavy modules are imported inside the functions: the summary's process imports gseapy only in the
fork that runs prerank.
"""

import numpy as np
import pandas as pd

from selfseed.files import read_table, write_tsv
from selfseed.logs import log

PREFIX_GENE_ROWS = ["cohort", "k", "cohorts"]


# ---------------------------------------------------------------- per cohort


def cohort_gene_tables(adata, settings, *, genes, ranking):
    """The cohort's per-gene decomposition of each configured signature and its genome-wide
    ranking, written to `genes` and `ranking` (`settings`: config.cohort_settings)."""
    from selfseed.stats.genomewide import cohort_ranking

    write_tsv(decomposition(adata, settings), genes)
    ranked = cohort_ranking(adata, min_expressing=settings["genes"]["min_expressing"])
    log.info(
        "%s: genome-wide ranking of %d genes (%d with a z)",
        adata.uns["cohort"],
        len(ranked),
        ranked["z"].notna().sum(),
    )
    write_tsv(ranked, ranking)


def decomposition(adata, settings):
    """gene_decomposition rows of every signature of `settings["genes"]["decompose"]` by the
    leave-one-out methods that can score this cohort; a signature or method that cannot be
    decomposed is a row with the reason."""
    from selfseed.errors import NotEstimable
    from selfseed.stats.gene_effects import COLUMNS, gene_decomposition

    frames = []
    for name in settings["genes"]["decompose"]:
        label = {"cohort": adata.uns["cohort"], "signature": name}
        methods, unmet = leave_one_out_methods(adata, settings)
        frames += [pd.DataFrame([{**label, **row}]) for row in unmet]
        if not methods:
            continue
        try:
            frames.append(
                gene_decomposition(
                    adata,
                    name,
                    settings["signatures"][name],
                    methods=methods,
                    min_genes=settings["min_genes"],
                    ssgsea_weight=settings["scoring"]["ssgsea_weight"],
                )
            )
        except NotEstimable as error:
            frames.append(pd.DataFrame([{**label, "note": f"not estimable: {error}"}]))
    return pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)


def leave_one_out_methods(adata, settings):
    """The leave-one-out methods (`genes.leave_one_out`) that are scoring methods and can score
    this cohort (ssgsea needs genome-wide data, as in scoring), and a row with the reason for each
    other one, or for none at all."""
    from selfseed.scoring import method_unmet

    wanted = settings["genes"]["leave_one_out"]
    chosen = [m for m in wanted if m in settings["scoring"]["methods"]]
    if not chosen:
        return [], [{"note": f"not run: none of genes.leave_one_out {wanted} is a scoring method"}]
    reasons = {m: method_unmet(m, adata.n_vars, 0, True, ctrl_size=0, n_bins=0) for m in chosen}
    unmet = [{"method": m, "note": f"no leave-one-out: {r}"} for m, r in reasons.items() if r]
    return [m for m in chosen if not reasons[m]], unmet


# ---------------------------------------------------------------- summary: pooled genes, power


def gene_tables(gene_paths, statistics, primary, cohorts, patients, planning):
    """The run-wide gene-level tables: `genes` (every cohort's decomposition rows, then the
    random-effects pools) and `power` (study planning; `planning`: the config's `planning` keys);
    `primary`, `cohorts`: the run's primary and cohorts tables, `patients`: {cohort: its
    patients' time_months and event}."""
    from selfseed.stats.gene_effects import COLUMNS, pooled_gene_rows

    per_cohort = pd.concat([read_table(p) for p in gene_paths], ignore_index=True)
    decomposed = per_cohort[per_cohort["symbol"].notna()]
    pooled = pooled_gene_rows(decomposed, statistics) if len(decomposed) else None
    columns = PREFIX_GENE_ROWS + [c for c in COLUMNS if c != "cohort"]
    genes = pd.concat([per_cohort, pooled], ignore_index=True).reindex(columns=columns)
    return {"genes": genes, "power": power_table(primary, cohorts, patients, planning)}


def skipped_gene_rows(genes):
    """The gene rows with a note, as rows of skipped.tsv (analysis `genes`, the gene named)."""
    noted = genes[genes["note"].fillna("").ne("")]
    reason = noted["symbol"].fillna("signature").astype(str) + ": " + noted["note"]
    rows = noted[["cohort", "signature", "method"]].assign(analysis="genes", reason=reason)
    return rows[["cohort", "signature", "method", "analysis", "reason"]]


def primary_hazards(primary):
    """{hazard: (hr, ci_low, ci_high)} of the primary analysis: its cause-specific pooled HR and
    the Fine-Gray sHR of the same pool (primary.tsv's first two rows)."""
    first = primary.iloc[0]
    same_pool = primary[(primary["pool"] == first["pool"]) & (primary["role"] != "locality")]
    hazards = {}
    for hazard in ("cause_specific", "subdistribution"):
        row = same_pool[same_pool["hazard"] == hazard].head(1)
        values = row[["hr", "ci_low", "ci_high"]].to_numpy(float).ravel()
        hazards[hazard] = tuple(values) if len(values) else (np.nan,) * 3
    return hazards


def power_table(primary, cohorts, patients, planning):
    """Events and patients needed (pooled HR and its CI bound nearer 1; Schoenfeld and Latouche)
    with the observed cumulative incidence at the horizon among the patients the primary analysis
    pools, then the minimum detectable HR per SD of each cohort's size; formulas in `formula`."""
    from selfseed.stats.power import detectable_table, incidence_at, planning_table

    first = primary.iloc[0]
    pooled = str(first["cohorts"]).split(",") if pd.notna(first["cohorts"]) else []
    chosen = [patients[c] for c in pooled if c in patients] or list(patients.values())
    both = pd.concat(chosen, ignore_index=True)
    horizon, alpha, levels = (
        planning[k] for k in ("cif_horizon_months", "two_sided_alpha", "power_levels")
    )
    p_event, p_competing = incidence_at(both["time_months"], both["event"], horizon)
    planning = planning_table(
        primary_hazards(primary),
        p_event,
        p_competing,
        powers=tuple(levels),
        alpha=alpha,
        horizon_months=horizon,
    )
    planning.insert(0, "question", "events and patients needed")
    planning.insert(1, "cohort", "pooled: " + ",".join(pooled))
    sizes = cohorts[["cohort", "n", "events"]]
    detectable = detectable_table(sizes, powers=tuple(levels), alpha=alpha)
    detectable.insert(0, "question", "minimum detectable HR per SD")
    detectable.insert(2, "hazard", "cause_specific and subdistribution")
    return pd.concat([planning, detectable], ignore_index=True)


# ---------------------------------------------------------------- the pathway context


def pathway_context(ranking_paths, signatures, settings, *, tables, plot):
    """The run-wide ranking (weighted Stouffer z over the cohorts' rankings), prerank of it against
    the collection with `signatures` ({name: genes}) as sets beside it, where each signature's
    genes stand, and the enrichment plot; `settings`: the config's `pathways` keys; `tables`:
    {"ranking", "pathways", "standing"} -> paths."""
    from selfseed.pathways import collection, enrichment_plot, gene_standing
    from selfseed.stats.genomewide import stouffer

    combined = stouffer(pd.concat([read_table(p) for p in ranking_paths], ignore_index=True))
    write_tsv(combined, tables["ranking"])
    z = combined.set_index("gene")["z"]
    sets, sources = collection(signatures, settings["collection"])
    enrichment, result = run_prerank(z, sets, sources, settings)
    standing = pd.concat(
        [gene_standing(z, genes).assign(signature=name) for name, genes in signatures.items()],
        ignore_index=True,
    )
    enrichment["statement"] = [
        statement(enrichment, standing, name) if collection == "signature" else ""
        for name, collection in zip(enrichment["set"], enrichment["collection"], strict=True)
    ]
    write_tsv(enrichment, tables["pathways"])
    write_tsv(standing[["signature", *standing.columns[:-1]]], tables["standing"])
    enrichment_plot(
        result,
        enrichment,
        plot,
        title=f"Prerank of {len(z)} genes by combined cause-specific score-test z",
        highlight=tuple(signatures),
        top=settings["top_sets"],
    )


def run_prerank(z, sets, sources, settings):
    """prerank's table and result; when gseapy fails, every set is a row saying so (and the result
    an empty stand-in the enrichment plot draws as 'no gene set was tested')."""
    from types import SimpleNamespace

    from selfseed.pathways import COLUMNS, prerank

    options = {k: settings[k] for k in ("permutations", "min_size", "max_size")}
    options["seed"] = settings["permutation_seed"]
    try:
        return prerank(z, sets, sources, **options)
    except Exception as error:  # gseapy's own failures (e.g. no set of allowed size) too
        log.warning("prerank failed: %s", error)
        note = f"not tested: prerank failed ({type(error).__name__}: {error})"
        rows = [
            {"set": name, "collection": sources[name], "genes": len(set(genes)), "note": note}
            for name, genes in sets.items()
        ]
        table = pd.DataFrame(rows).reindex(columns=COLUMNS)
        table[["permutations", "seed"]] = options["permutations"], options["seed"]
        return table, SimpleNamespace(ranking=[], results={})


def statement(enrichment, standing, name):
    """The plain sentence for signature `name` (pathways.signature_sentence)."""
    from selfseed.pathways import signature_sentence

    rows = standing[standing["signature"] == name].drop(columns="signature")
    return signature_sentence(enrichment, rows, name)


# ---------------------------------------------------------------- figures and the report page


def gene_forest_rows(genes, signature):
    """Forest rows of one signature: per gene a header (with the pooled change in log HR when it
    is left out, per method), its cohorts' cause-specific HR per SD and the pooled estimate."""
    part = genes[(genes["signature"] == signature) & genes["symbol"].notna()]
    rows = []
    for symbol, gene in part.groupby("symbol", sort=False):
        pooled = gene[gene["cohort"] == "pooled"]
        changes = ", ".join(
            f"{r.method} {r.log_hr_change_without_gene:+.2f}"
            for r in pooled.itertuples()
            if np.isfinite(r.log_hr_change_without_gene)
        )
        header = f"{symbol}" + (f" (without it, pooled log HR {changes})" if changes else "")
        rows.append({"kind": "header", "label": header, "method": ""})
        first = gene.drop_duplicates("cohort")  # the gene's own HR is the same for every method
        for r in first.itertuples():
            kind = "pooled" if r.cohort == "pooled" else "cohort"
            label = f"pooled RE, k={r.k:.0f}" if kind == "pooled" else f"{r.cohort} ({r.endpoint})"
            rows.append(
                {"kind": kind, "label": label, "method": "zmean", "hr": r.hr}
                | {"ci_low": r.ci_low, "ci_high": r.ci_high}
            )
    return pd.DataFrame(rows, columns=["kind", "label", "method", "hr", "ci_low", "ci_high"])


def gene_forest(genes, path):
    """Per decomposed signature, a panel of each gene's cause-specific Cox HR per SD of its
    expression per cohort and pooled (random effects); PNG, and SVG within svg_copies (plots.save)."""
    import matplotlib.pyplot as plt

    from selfseed.plots import STYLE, axes_title, figure, forest_panel, save, text_inches

    names = list(dict.fromkeys(genes.loc[genes["symbol"].notna(), "signature"]))
    panels = [(name, gene_forest_rows(genes, name)) for name in names]
    sizes = [max(len(rows), 1) for _, rows in panels] or [1]
    height = sum(sizes) * 0.2 + 0.8 * (len(sizes) - 1) + 1.2
    labels = [label for _, rows in panels for label in rows["label"]]
    left = 1.15 * text_inches(labels, 6.5) + 0.3  # headers are bold
    width = max(7.0, left + 4.6)
    fig = figure(figsize=(width, height))
    grid = {"height_ratios": sizes, "top": 1 - 0.65 / height, "bottom": 0.55 / height}
    grid |= {"left": left / width, "right": 1 - 1.25 / width, "hspace": 0.8 * len(sizes) / height}
    values = genes[["ci_low", "ci_high"]].to_numpy(float)
    values = values[np.isfinite(values) & (values > 0)]
    bounds = [min(values.min(initial=0.5), 0.5) / 1.1, max(values.max(initial=2.0), 2.0) * 1.1]
    with plt.rc_context(STYLE):
        axes = fig.subplots(len(sizes), 1, squeeze=False, gridspec_kw=grid)[:, 0]
        for ax, (name, rows) in zip(axes, panels, strict=False):
            forest_panel(ax, rows, bounds)
            title = f"{name} signature, gene by gene"
            axes_title(ax, title, fontsize=9, loc="left", fontweight="bold")
        if not panels:
            axes[0].text(0.5, 0.5, "no signature was decomposed", ha="center", va="center")
            axes[0].set_axis_off()
        fig.suptitle(
            "Cause-specific Cox HR per SD of each gene's expression, per cohort and "
            "random-effects pooled (diamond)",
            fontsize=8.5,
            y=1 - 0.08 / height,
            va="top",
        )
    save(fig, path)


PAGE_GENE_COLUMNS = {
    "signature": "signature",
    "symbol": "gene",
    "method": "score",
    "k": "cohorts",
    "events": "events",
    "hr": "HR per SD",
    "ci_low": "95% CI low",
    "ci_high": "high",
    "p": "p",
    "shr": "Fine-Gray sHR per SD",
    "signature_hr": "signature HR",
    "loo_hr": "HR without the gene",
    "log_hr_change_without_gene": "change in log HR",
    "note": "note",
}
PAGE_SET_COLUMNS = ["set", "collection", "in_ranking", "nes", "nominal_p", "fdr", "leading_edge"]


def genes_page(tables, figures):
    """The report page that answers which genes carry the association, whether it is part of a
    broader programme, and how many patients a confirmatory study needs (`tables`: {genes, power,
    pathways, standing} -> DataFrame; `figures`: {gene_forest, enrichment} -> PNG path)."""
    from selfseed.report import html_table, page, png_data_uri, render

    genes, sets, power = tables["genes"], tables["pathways"], tables["power"]
    pooled = genes[genes["cohort"] == "pooled"]
    signatures = sets[sets["collection"] == "signature"]
    tested = sets[(sets["collection"] != "signature") & sets["nes"].notna()]

    def statements(texts):
        return "".join(render("genes_statement.html", statement=text) for text in texts)

    def figure(name, alt):
        return render("genes_figure.html", alt=alt, src=png_data_uri(figures[name]))

    markup = {
        "gene_statements": statements(gene_sentences(pooled)),
        "genes": html_table(pooled[list(PAGE_GENE_COLUMNS)].rename(columns=PAGE_GENE_COLUMNS)),
        "gene_forest": figure("gene_forest", "per-gene forest plot"),
        "set_statements": statements(signatures["statement"]),
        "standing": html_table(tables["standing"]),
        "sets": html_table(pd.concat([signatures, tested.head(10)])[PAGE_SET_COLUMNS]),
        "enrichment": figure("enrichment", "enrichment plot"),
        "power_statements": statements(power_sentences(power)),
        "power": html_table(power.drop(columns=["formula"])),
        "formulas": html_table(power[["formula"]].drop_duplicates()),
    }
    counts = sets[["permutations", "seed"]].dropna()
    body = render(
        "genes.html",
        markup,
        permutations=f"{counts.iloc[0, 0]:.0f}" if len(counts) else "no",
        seed=f"{counts.iloc[0, 1]:.0f}" if len(counts) else "none",
        sets=len(sets[sets["collection"] != "signature"]),
    )
    return page("selfseed: genes, pathways, power", body)


def gene_sentences(pooled):
    """Per decomposed signature and method: which gene's removal weakens the pooled signature log
    HR most, and each gene's own pooled HR per SD."""
    sentences = []
    for (signature, method), part in pooled.groupby(["signature", "method"], sort=False):
        fitted = part[np.isfinite(part["log_hr_change_without_gene"])]
        if fitted.empty:
            sentences.append(f"{signature} ({method}): no gene could be left out and pooled.")
            continue
        order = fitted.sort_values("log_hr_change_without_gene")
        changes = ", ".join(
            f"{r.symbol} {r.log_hr_change_without_gene:+.3f}" for r in order.itertuples()
        )
        own = ", ".join(
            f"{r.symbol} {r.hr:.2f} ({r.ci_low:.2f}-{r.ci_high:.2f})"
            for r in part.itertuples()
            if np.isfinite(r.hr)
        )
        sentences.append(
            f"{signature} signature, {method} score: leaving a gene out changes the pooled log "
            f"HR per SD by {changes} (negative: the association weakens without the gene, so the "
            f"gene carries it; {order['symbol'].iloc[0]} carries the most). Each gene alone, "
            f"pooled cause-specific HR per SD (95% CI): {own}."
        )
    return sentences


def power_sentences(power):
    """The events and patients needed at each planned power, by hazard and assumed HR."""
    planned = power[(power["question"] == "events and patients needed")]
    sentences = []
    for row in planned.itertuples():
        what = f"{row.hazard.replace('_', '-')} HR per SD {row.hr_per_sd:.2f} ({row.assumed})"
        if row.note:
            sentences.append(f"{what}, power {row.power:.0%}: {row.note}.")
            continue
        patients = f"{row.patients:.0f} patients" if np.isfinite(row.patients) else "patients"
        sentences.append(
            f"{what}, power {row.power:.0%} at two-sided alpha {row.alpha:g}: "
            f"{row.events:.0f} LR events, {patients} at an observed {row.horizon_months:g}-month "
            f"cumulative incidence of LR of {row.cif_event:.1%} (competing events "
            f"{row.cif_competing:.1%})."
        )
    return sentences


def write_genes_page(tables, figures, path):
    """Read the tables and write the page (the summary job's last step)."""
    from selfseed.files import write_text

    tables = {name: read_table(table).fillna({"note": ""}) for name, table in tables.items()}
    write_text(genes_page(tables, figures), path)
