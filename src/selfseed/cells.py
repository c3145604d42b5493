"""Which cells make the signal: a configured single-cell reference, checked before any job and
summarised by its own job (`analyse_reference`, one per reference; it needs no cohort, so it runs
beside the cohort jobs).

The estimators are selfseed.singlecell's (scanpy's normalisation, `score_genes` and
`rank_genes_groups`); this module reads a config entry, runs them once and writes the reference
job's tables (`contracts.REFERENCE_TABLES`) and figures (`contracts.REFERENCE_PLOTS`).
"""

from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from selfseed.errors import ConfigError, InputDataError
from selfseed.files import write_tsv
from selfseed.logs import log

SHIPPED = "shipped"  # `path` of the reference that ships with selfseed
SHIPPED_FILE = ("data", "singlecell", "wu2021_CID4465.h5ad")
COMPARTMENTS = ("malignant", "stromal", "immune")


def reference_path(entry):
    """The reference's h5ad: its `path`, or the shipped Wu et al. 2021 file for `shipped`."""
    if entry["path"] == SHIPPED:
        return str(files("selfseed").joinpath(*SHIPPED_FILE))
    return entry["path"]


def marker_level(entry):
    """The cell-type column whose types get marker sets (the first column when not named)."""
    return entry["marker_level"] or entry["cell_type_columns"][0]


def compartment_of(entry):
    """{cell type: compartment} of the types the entry names (malignant, stromal, immune)."""
    named = {entry["malignant"]: "malignant"} if entry["malignant"] else {}
    for compartment in ("stromal", "immune"):
        named.update(dict.fromkeys(entry[compartment], compartment))
    return named


def open_configured(entry, name):
    """The checked reference of a config entry (selfseed.singlecell.open_reference)."""
    from selfseed.singlecell import open_reference

    return open_reference(
        reference_path(entry),
        entry["cell_type_columns"],
        counts=entry["counts"],
        gene_column=entry["gene_column"],
        name=name,
    )


def check_reference(entry, name):
    """Before any job: the file, its counts, cell-type columns and gene ids (open_reference), the
    marker level among the cell-type columns, and the compartments' cell types among its labels,
    each in one compartment. Errors name the config key."""
    key = f"singlecell.references.{name}"
    level = marker_level(entry)
    if level not in entry["cell_type_columns"]:
        raise ConfigError(
            "the marker level is not one of the cell-type columns",
            key=f"{key}.marker_level",
            found=level,
            expected=f"one of cell_type_columns {entry['cell_type_columns']}",
        )
    if not Path(reference_path(entry)).is_file():
        raise ConfigError(
            "single-cell reference file not found",
            file=reference_path(entry),
            key=f"{key}.path",
            expected="an .h5ad file (relative to the directory snakemake runs in), or shipped",
        )
    labels = shipped_labels(entry)
    if labels is None:
        try:
            read = open_configured(entry, name).labels
        except InputDataError as error:
            error.key = entry_key(error, entry, key)
            raise
        labels = {column: read[column].cat.categories for column in read}
    check_compartments(entry, pd.Index(labels[level]), key)


def shipped_labels(entry):
    """{cell-type column: labels} of the shipped reference as its build checked it (manifest.json
    `checked`), when `entry` reads that file as it was checked (same file, counts, gene ids and
    columns); else None and the file is opened."""
    import json

    from selfseed.files import sha256

    if entry["path"] != SHIPPED:
        return None
    manifest = json.loads(
        files("selfseed").joinpath(*SHIPPED_FILE[:-1], "manifest.json").read_text()
    )
    checked = manifest["checked"]
    same = (
        entry["counts"] == checked["counts"]
        and entry["gene_column"] == checked["gene_column"]
        and set(entry["cell_type_columns"]) <= set(checked["labels"])
        and sha256(reference_path(entry)) == manifest["output"]["sha256"]
    )
    return checked["labels"] if same else None


def check_compartments(entry, labels, key):
    """Each named malignant, stromal and immune cell type is a label of the marker level (`labels`),
    and in one compartment only."""
    level = marker_level(entry)
    seen = {}
    for compartment in COMPARTMENTS:
        named = entry[compartment] if compartment != "malignant" else [entry["malignant"]]
        for cell_type in [t for t in named if t is not None]:
            if cell_type not in labels:
                raise ConfigError(
                    f"the {compartment} cell type is not a label of the marker level",
                    key=f"{key}.{compartment}",
                    file=reference_path(entry),
                    column=level,
                    found=repr(cell_type),
                    expected=f"one of {', '.join(map(str, labels))}",
                )
            if cell_type in seen:
                raise ConfigError(
                    "a cell type is named in two compartments",
                    key=f"{key}.{compartment}",
                    found=f"{cell_type!r} in {seen[cell_type]} and {compartment}",
                    expected="each cell type in one of malignant, stromal, immune",
                )
            seen[cell_type] = compartment


def entry_key(error, entry, key):
    """The config key of a reference error: the entry's key that names what is wrong."""
    if error.key:
        return f"{key}.{error.key}"
    if error.column in entry["cell_type_columns"]:
        return f"{key}.cell_type_columns"
    if error.column is not None and error.column == entry["gene_column"]:
        return f"{key}.gene_column"
    if "gene" in error.problem:
        return f"{key}.gene_column"
    return f"{key}.path"


def symbol_signatures(signatures):
    """{signature: [current symbols]} (IL8 -> CXCL8), as the bulk scores use them."""
    from selfseed.signatures import signature_genes

    table = signature_genes(signatures)
    return {
        name: list(dict.fromkeys(part["symbol"]))
        for name, part in table.groupby("signature", sort=False)
    }


def analyse_reference(config, name, *, outputs):
    """The reference job of reference `name`: per cell type and signature gene the expression
    table, every cell scored (score_genes, the config's scoring settings) with the scores'
    distribution by type, which compartment dominates each signature (a sentence), marker sets of
    the marker level's types (signature genes excluded), the dotplot and the violins. `outputs`:
    the rule's named files."""
    from selfseed.signatures import load_signatures
    from selfseed.singlecell import cell_type_summary

    entry, scoring = config["singlecell"]["references"][name], config["scoring"]
    signatures = load_signatures(config["signatures"], config["signatures_gmt"])
    reference = open_configured(entry, name)
    level = marker_level(entry)
    wanted = symbol_signatures(signatures)
    known = set(reference.genes["name"])
    measured = {s: genes for s, genes in wanted.items() if set(genes) & known}
    summary = cell_type_summary(
        reference,
        measured,
        ctrl_size=scoring["ctrl_size"],
        n_bins=scoring["n_bins"],
        random_state=scoring["random_state"],
    )
    write_tsv(expression_rows(summary, name), outputs["expression"])
    write_tsv(summary.distribution.assign(reference=name), outputs["scores"])
    write_tsv(dominance_rows(summary, wanted, measured, entry, name), outputs["dominance"])
    exclude = [g for genes in wanted.values() for g in genes]
    write_tsv(marker_rows(reference, level, exclude, entry, name), outputs["markers"])
    write_tsv(summary.dropped.assign(reference=name), outputs["dropped"])
    draw_reference(summary, measured, level, entry["malignant"], outputs)
    log.info(
        "%s: %d cells, %d cell types (%s); %d signatures summarised",
        name,
        len(reference.labels),
        len(reference.labels[level].cat.categories),
        level,
        len(measured),
    )


def expression_rows(summary, name):
    """Per level, cell type and signature gene: cells, depth, mean log1p(CP10k), fraction
    expressing, UMIs and whether it is the type where the gene is highest."""
    table = summary.expression.merge(
        summary.cell_types, on=["level", "cell_type", "n_cells"], how="left"
    )
    highest = summary.highest
    top = set(zip(highest["level"], highest["gene"], highest["cell_type"], strict=True))
    keys = zip(table["level"], table["gene"], table["cell_type"], strict=True)
    return table.assign(reference=name, highest=[k in top for k in keys])[
        [
            "reference",
            "level",
            "cell_type",
            "gene",
            "n_cells",
            "median_umis",
            "median_genes",
            "few_cells",
            "mean_log1p_cp10k",
            "fraction_expressing",
            "umis",
            "highest",
        ]
    ]


def dominance_rows(summary, wanted, measured, entry, name):
    """Each cell type's share of each signature's pseudo-bulk expression at the marker level, with
    the sentence on the signature's first row; a signature without genes in the reference says so."""
    from selfseed.singlecell import compartment_shares, dominance_sentences

    level = marker_level(entry)
    shares = compartment_shares(summary, measured, level=level)
    sentences = dominance_sentences(shares, reference=name, malignant=entry["malignant"])
    shares = shares.sort_values(["signature", "share"], ascending=[True, False], kind="stable")
    shares = shares.assign(
        rank=shares.groupby("signature", sort=False).cumcount() + 1,
        compartment=shares["cell_type"].map(compartment_of(entry)).fillna("other"),
    )
    shares["statement"] = np.where(shares["rank"] == 1, shares["signature"].map(sentences), "")
    absent = [
        {"signature": s, "note": f"not summarised: none of {', '.join(g)} is in the reference"}
        for s, g in wanted.items()
        if s not in measured
    ]
    rows = pd.concat([shares.assign(note=""), pd.DataFrame(absent)], ignore_index=True)
    return rows.assign(reference=name, level=level)[
        ["reference", "level", "signature", "rank", "cell_type", "compartment", "share"]
        + ["n_cells", "cell_fraction", "genes", "statement", "note"]
    ]


def marker_rows(reference, level, exclude, entry, name):
    """Marker sets of the level's cell types (selfseed.singlecell.marker_genes, signature genes
    excluded) with each type's compartment; the rule on the first row; types left out (too few
    cells) or no markers at all say why."""
    from selfseed.singlecell import MARKERS, marker_genes, marker_rule

    try:
        markers, left_out = marker_genes(reference, level=level, exclude=exclude)
    except InputDataError as error:
        markers, left_out = pd.DataFrame([{"note": f"no marker sets: {error.problem}"}]), []
    too_few = f"no marker set: fewer than {MARKERS['min_cells']} cells"
    rows = pd.concat(
        [markers, pd.DataFrame([{"cell_type": t, "note": too_few} for t in left_out])],
        ignore_index=True,
    )
    rows = rows.reindex(
        columns=["cell_type", "rank", "gene", "score", "logfoldchange", "pval_adj"]
        + ["pct_in", "pct_out", "n_cells", "note"]
    )
    rows["note"] = rows["note"].fillna("")
    rows.insert(0, "compartment", rows["cell_type"].map(compartment_of(entry)).fillna("other"))
    rows.insert(0, "level", level)
    rows.insert(0, "reference", name)
    rows["rule"] = [marker_rule(exclude)] + [""] * (len(rows) - 1) if len(rows) else []
    return rows


def draw_reference(summary, signatures, level, malignant, outputs):
    """The dotplot of the signature genes and the score violins (plots.save: PNG, SVG on request)."""
    from selfseed.singlecell import expression_dotplot, score_violins

    expression_dotplot(summary, signatures, outputs["dotplot"], level=level, malignant=malignant)
    score_violins(summary, outputs["violins"], level=level, malignant=malignant)
