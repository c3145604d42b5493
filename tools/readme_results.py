"""The answer on the shipped data, as README.md's first screen shows it, from a default run's tables.

    python tools/readme_results.py [--results results] [--write]

prints the block (with --write: replaces it in README.md between its markers and copies the three
figures it shows into docs/). tests/test_workflow.py checks that README.md holds the block of a fresh
default run, so the numbers on the first screen are the pipeline's.
"""

import argparse
import re
import shutil
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- results: start -->", "<!-- results: end -->"
FIGURES = {
    "forest.png": "forest.png",
    "cif/tcga_ucs.png": "cif_tcga_ucs.png",
    "km/tcga_ucs.png": "km_tcga_ucs.png",
}
ROWS = [
    ("primary", "LR", "cause_specific", "**primary**: cause-specific Cox, LR as first event"),
    ("sensitivity", "LR", "subdistribution", "Fine–Gray subdistribution HR, LR as first event"),
    (
        "sensitivity",
        "LR_unknown_as_LR",
        "cause_specific",
        "bound: first events of unknown site as LR",
    ),
    (
        "sensitivity",
        "LR_unknown_as_competing",
        "cause_specific",
        "bound: first events of unknown site as competing",
    ),
    (
        "sensitivity",
        "LR_any",
        "cause_specific",
        "LR at any time, also after distant metastasis (another estimand)",
    ),
    ("competing cause", "DM_first", "cause_specific", "distant metastasis as first event"),
]


def interval(low, high):
    return f"{low:.2f}–{high:.2f}"


def results_block(results):
    """README's block: the primary analysis and the rows beside it, the locality sentence, the
    caveat and the three figures, from `results` (a default run's results/ folder)."""
    tables = Path(results) / "tables"
    primary = pd.read_csv(tables / "primary.tsv", sep="\t").set_index(["role", "pool", "hazard"])
    cohorts = pd.read_csv(tables / "cohorts.tsv", sep="\t")
    first = primary.loc[("primary", "LR", "cause_specific")]
    lines = [
        START,
        f"**The answer on the shipped data** ({len(cohorts)} TCGA cohorts, "
        f"{cohorts['n'].sum()} patients, {cohorts['events'].sum()} local recurrences as first "
        f"event, {cohorts['competing'].sum()} competing first events: distant metastasis or death; "
        f"`make run`). {first['signature']} signature, {first['method']} score, hazard ratio per SD "
        f"of score, random effects over the {int(first['k'])} cohorts:",
        "",
        "| analysis | HR per SD | 95% CI | 95% prediction interval | p | events |",
        "|---|---|---|---|---|---|",
    ]
    for role, pool, hazard, label in ROWS:
        if (role, pool, hazard) not in primary.index:
            continue
        row = primary.loc[(role, pool, hazard)]
        lines.append(
            f"| {label} | {row['hr']:.2f} | {interval(row['ci_low'], row['ci_high'])} | "
            f"{interval(row['pi_low'], row['pi_high'])} | {row['p']:.2g} | {int(row['events'])} |"
        )
    locality = primary.xs("locality", level="role").iloc[0]
    verdict = re.sub(r"^Is it local\? ", "", locality["statement"])
    lines += [
        "",
        f"**Is it local?** {verdict[0].upper()}{verdict[1:]}",
        "",
        f"*Caveat:* {cohorts['events'].sum()} local recurrences in three small cohorts of rare "
        "tumours (uterine carcinosarcoma, adrenocortical carcinoma, cholangiocarcinoma), not the "
        "breast cancers in which self-seeding was described, so every estimate is imprecise and the "
        "between-cohort variance is barely identified.",
        "",
        "![forest plot](docs/forest.png)",
        "",
        "![cumulative incidence by score group, TCGA-UCS](docs/cif_tcga_ucs.png)",
        "",
        "![Kaplan-Meier by score group, TCGA-UCS](docs/km_tcga_ucs.png)",
        END,
    ]
    return "\n".join(lines)


def readme_block(readme):
    """The block as README.md holds it."""
    text = Path(readme).read_text()
    return text[text.index(START) : text.index(END) + len(END)]


def write(results, readme):
    text = Path(readme).read_text()
    block = readme_block(readme)
    Path(readme).write_text(text.replace(block, results_block(results)))
    for source, name in FIGURES.items():
        shutil.copyfile(Path(results) / "plots" / source, REPO / "docs" / name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.write:
        write(args.results, REPO / "README.md")
    print(results_block(args.results))
