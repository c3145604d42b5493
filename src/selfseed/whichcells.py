"""The run-wide "Which cells" step, in the summarise job (no process of its own): the single-cell
references' tables merged into results/tables/cell_*.tsv, the bulk models adjusted for
composition (selfseed.composition) in composition.tsv and skipped.tsv, their forest plot, and the
report's "Which cells" page (templates cells.html, cells_reference.html; every text escaped)."""

import pandas as pd

from selfseed.contracts import CELL_TABLES
from selfseed.files import read_table, write_text, write_tsv
from selfseed.logs import log

# results/tables/cell_{name}.tsv <- results/singlecell/{reference}/{name}.tsv of every reference
MERGED = {"cell_expression": "expression", "cell_scores": "scores"}
MERGED |= {"cell_dominance": "dominance", "cell_markers": "markers"}


def merged_reference_tables(references):
    """Each reference table over all references ({reference: {table: path}})."""
    merged = {}
    for name, table in MERGED.items():
        frames = [read_table(files[table]) for files in references.values()]
        merged[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return merged


def adjusted_models(references, cohorts, singlecell, settings):
    """composition.tsv: the models adjusted with `singlecell.adjust_with`'s marker sets."""
    from selfseed.composition import composition_table, not_run_table

    name = singlecell["adjust_with"]
    if name is None:
        return not_run_table("not run: singlecell.adjust_with names no reference")
    markers = read_table(references[name]["markers"])
    entry = singlecell["references"][name]
    return composition_table(cohorts, markers, entry, settings, name)


def composition_skipped(composition):
    """The composition rows not run or not fitted, as skipped.tsv rows."""
    noted = composition[composition["note"].fillna("").str.startswith("not ")]
    return pd.DataFrame(
        {
            "cohort": noted["cohort"],
            "signature": noted["signature"],
            "method": noted["method"],
            "reason": [
                f"{hazard} {model}: {note}" if isinstance(hazard, str) else note
                for hazard, model, note in zip(
                    noted["hazard"], noted["model"], noted["note"], strict=True
                )
            ],
            "analysis": "composition",
        }
    )


def job_files(inputs, names):
    """The summarise job's inputs by reference and by cohort: ({reference: {kind: path}},
    {cohort: {"h5ad", "patients", "record"}}); `inputs` has one list per kind
    (`singlecell_{kind}` in the order of `names`, `cohort_h5ad`, `patients`, `record` in the
    order of the cohorts)."""
    import json
    from pathlib import Path

    kinds = [k.removeprefix("singlecell_") for k in inputs if k.startswith("singlecell_")]
    references = {
        name: {kind: inputs[f"singlecell_{kind}"][i] for kind in kinds}
        for i, name in enumerate(names)
    }
    cohorts = {
        json.loads(Path(record).read_text())["cohort"]: {
            "h5ad": h5ad,
            "patients": patients,
            "record": record,
        }
        for h5ad, patients, record in zip(
            inputs["cohort_h5ad"], inputs["patients"], inputs["record"], strict=True
        )
    }
    return references, cohorts


def which_cells(inputs, config, *, tables, outputs, parallel=False):
    """The step, from the summarise job's `inputs` (`job_files`) and the `config`: writes
    `tables` (CELL_TABLES) and `outputs` {"forest", "page"}, in a forked process when `parallel`
    (`pipeline.aside`: it needs nothing the summary writes, so it runs beside it). Returns a
    function that waits for it and then appends the composition rows not run to skipped.tsv
    (`tables["skipped"]`, which the summary writes meanwhile): call it after the summary."""
    from selfseed.pipeline import aside

    drawn = aside(parallel, lambda: cell_outputs(inputs, config, tables, outputs))

    def done():
        drawn()
        skipped = composition_skipped(read_table(tables["composition"]))
        if len(skipped):
            before = read_table(tables["skipped"])
            write_tsv(pd.concat([before, skipped], ignore_index=True), tables["skipped"])

    return done


def cell_outputs(inputs, config, tables, outputs):
    """The cell tables, composition.tsv, its forest plot and the "Which cells" page."""
    from selfseed.plots import composition_forest

    singlecell = config["singlecell"]
    references, cohorts = job_files(inputs, sorted(singlecell["references"]))
    settings = {key: config[key] for key in ("min_genes", "statistics", "primary")}
    frames = merged_reference_tables(references)
    frames["composition"] = adjusted_models(references, cohorts, singlecell, settings)
    for name in CELL_TABLES:
        write_tsv(frames[name], tables[name])
    primary = settings["primary"]
    signature, method = primary["signature"], primary["method"]
    composition_forest(frames["composition"], outputs["forest"], signature=signature, method=method)
    page = cells_page(frames, references, singlecell, primary, outputs["forest"])
    write_text(page, outputs["page"])
    log.info("composition.tsv: %d rows", len(frames["composition"]))


# ---------------------------------------------------------------- the page


def reference_section(name, frames, files, entry):
    """One reference: its cell types, sentences, figures, where each gene is highest, markers."""
    from selfseed.cells import marker_level
    from selfseed.report import html_table, png_data_uri, render

    level = marker_level(entry)
    expression = frames["cell_expression"]
    mine = expression[(expression["reference"] == name) & (expression["level"] == level)]
    types = mine.drop_duplicates("cell_type")[
        ["cell_type", "n_cells", "median_umis", "median_genes", "few_cells"]
    ]
    dominance = frames["cell_dominance"]
    dominance = dominance[dominance["reference"] == name]
    sentences = [s for s in dominance["statement"].fillna("") if s] + [
        n for n in dominance["note"].fillna("") if n
    ]
    markers = frames["cell_markers"]
    markers = markers[markers["reference"] == name]
    markup = {
        "cell_types": html_table(types.sort_values("n_cells", ascending=False)),
        "sentences": "".join(render("sentence.html", text=s) for s in sentences),
        "highest": html_table(
            mine[mine["highest"].astype(str) == "True"][
                ["gene", "cell_type", "n_cells", "mean_log1p_cp10k", "fraction_expressing"]
            ]
        ),
        "markers": html_table(marker_summary(markers)),
        "dotplot": png_data_uri(files["dotplot"]),
        "violins": png_data_uri(files["violins"]),
    }
    return render(
        "cells_reference.html",
        markup,
        name=name,
        description=entry["description"],
        cells=f"{int(types['n_cells'].sum()):,} labelled cells in {len(types)} cell types ({level}); rows marked "
        "few_cells have fewer than 20 cells, and median_umis shows each type's sequencing depth.",
        level=level,
        rule=next((r for r in markers["rule"].fillna("") if r), ""),
    )


def marker_summary(markers):
    """One row per cell type: compartment, cells tested, the marker set (or why none)."""
    rows = []
    for cell_type, part in markers.groupby("cell_type", sort=False, dropna=False):
        genes = part["gene"].dropna().astype(str)
        rows.append(
            {
                "cell_type": cell_type,
                "compartment": part["compartment"].iloc[0],
                "cells tested": part["n_cells"].max(),
                "markers": len(genes),
                "genes": " ".join(genes) or "; ".join(part["note"].fillna("")),
            }
        )
    return pd.DataFrame(rows)


def side_by_side(composition, primary):
    """The primary signature and method: per cohort and pooled, each hazard's HR per SD
    unadjusted and adjusted, with the share of the log HR explained."""
    chosen = composition[
        (composition["signature"] == primary["signature"])
        & (composition["method"] == primary["method"])
    ]

    def estimate(row):
        if pd.isna(row["hr"]):
            return row["note"]
        text = f"{row['hr']:.2f} ({row['ci_low']:.2f}–{row['ci_high']:.2f})"
        share = row["share_explained"]
        if pd.isna(share):
            return text
        if share < 0:
            return text + f"; stronger after adjustment (share explained {share:.0%})"
        return text + f"; {share:.0%} of the log HR explained"

    wide = chosen.assign(estimate=chosen.apply(estimate, axis=1)).pivot_table(
        index=["hazard", "cohort"], columns="model", values="estimate", aggfunc="first", sort=False
    )
    counts = chosen[chosen["model"] == "unadjusted"].set_index(["hazard", "cohort"])
    wide.insert(0, "events", counts["events"].reindex(wide.index))
    wide.insert(0, "n", counts["n"].reindex(wide.index))
    return wide.reset_index()


def cells_page(frames, references, singlecell, primary, forest_png):
    """The report's "Which cells" page."""
    from selfseed.composition import MIN_EVENTS_PER_TERM
    from selfseed.report import html_table, page, png_data_uri, render

    sections = [
        reference_section(name, frames, files, singlecell["references"][name])
        for name, files in references.items()
    ]
    composition = frames["composition"]
    table = side_by_side(composition, primary) if composition["hr"].notna().any() else None
    markup = {
        "references": "".join(sections) or "<p>No single-cell reference is configured.</p>",
        "composition": html_table(table) if table is not None else "",
        "forest": render("figure.html", alt="forest plot", src=png_data_uri(forest_png)),
    }
    method = (
        f"{primary['signature']} signature, {primary['method']} score. Each compartment's marker "
        "score is the zmean (mean of within-cohort z-scores) of its marker genes measured in the "
        f"cohort, from reference {singlecell['adjust_with']}: stromal and immune pool the marker "
        "sets of the types named so; the malignant cells' set is the purity proxy. Models: "
        "unadjusted, stroma_immune (adjusted for the stromal and immune scores) and purity "
        "(adjusted for the malignant score), on the same patients; HR per SD of the signature "
        "score; share explained = 1 - adjusted/unadjusted log HR (not a mediation proportion)."
    )
    caveat = (
        f"Small samples: a model is fitted only with at least {MIN_EVENTS_PER_TERM} events of "
        "interest per term, and with so few events the adjusted estimates are imprecise; marker "
        "sets come from one reference tumour, whose tissue and dissociation differ from the "
        "bulk cohorts. The malignant set comes from a t-test against the other cells of the "
        "same sample, so it holds genes high in any deeply sequenced cell (read the cells' "
        "median UMIs above): a rough purity proxy."
    )
    body = render("cells.html", markup, method=method, caveat=caveat)
    return page("selfseed: which cells", body)
