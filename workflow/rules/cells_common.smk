# The single-cell references (config `singlecell`): their names, input files, digests, what the
# summarise job reads of the reference jobs (workflow/rules/singlecell.smk) and its "Which cells"
# outputs.

from selfseed.cells import reference_path
from selfseed.contracts import REFERENCE_PLOTS, REFERENCE_TABLES

REFERENCES = sorted(config["singlecell"]["references"])


wildcard_constraints:
    reference="|".join(re.escape(name) for name in REFERENCES) or "(?!)",


def reference_file(wildcards):
    """The reference's h5ad (the shipped file for `path: shipped`)."""
    return reference_path(config["singlecell"]["references"][wildcards.reference])


def reference_digest(wildcards):
    """A digest of what the reference job reads of the config and of its file's size and change
    time (no config text as a rule parameter; the job reads the config itself)."""
    return digest(
        {
            "entry": config["singlecell"]["references"][wildcards.reference],
            "signatures": SIGNATURES,
            "scoring": config["scoring"],
            "inputs": input_stats([reference_file(wildcards)]),
        }
    )


def cell_inputs(wildcards):
    """What the summarise job reads for the "Which cells" step: every reference job's tables and
    figures (one list per kind, references in sorted order) and each cohort's expression.
    """
    kinds = [*REFERENCE_TABLES, *REFERENCE_PLOTS]
    return {
        f"singlecell_{kind}": expand(
            rules.singlecell.output[kind], reference=REFERENCES
        )
        for kind in kinds
    } | {"cohort_h5ad": expand("results/cohorts/{cohort}.h5ad", cohort=COHORTS)}


# the "Which cells" tables (CELL_TABLES, in TABLES): label in the report, subcategory
CELL_TABLE_INFO = {
    "cell_expression": (
        "Signature genes by cell type (single-cell reference)",
        "which cells",
    ),
    "cell_scores": (
        "Signature scores by cell type (single-cell reference)",
        "which cells",
    ),
    "cell_dominance": ("Which compartment dominates each signature", "which cells"),
    "cell_markers": ("Marker sets of the reference's cell types", "which cells"),
    "composition": (
        "Models adjusted for composition (stroma, immune, purity)",
        "which cells",
    ),
}
# the summarise job's outputs of the "Which cells" step (besides the cell tables in TABLES)
COMPOSITION_FOREST = "results/plots/composition_forest.png"
CELL_OUTPUTS = {
    "cells_page": report(
        "results/report/cells.html",
        caption="../report/cells_page.rst",
        category="Which cells",
        labels={"page": "which cells make the signal"},
    ),
    "composition_forest": report(
        COMPOSITION_FOREST,
        caption="../report/composition_forest.rst",
        category="Which cells",
        subcategory="bulk models adjusted for composition",
        labels={"figure": "forest plot, unadjusted and adjusted"},
    ),
}
