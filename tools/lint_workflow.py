"""`snakemake --lint` without the one lint this workflow answers otherwise.

    python tools/lint_workflow.py

runs `snakemake --lint --cores 1` in the project folder and fails on every lint but "Specify a conda
environment or container for each rule": the rules run in the environment snakemake itself runs in
(the venv of `make install`, or the conda environment users create from environment.yml), so they
carry no `conda:` directive (README "Development"). Any other lint, or snakemake failing without
lints (a syntax error), fails as before.
"""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
ANSWERED = "Specify a conda environment or container for each rule."
BLOCK = re.compile(r"^Lints for (?:rule|snakefile) ")
TITLE = re.compile(r"^ {4}\* (.+):$")


def lints(output):
    """(block heading, lint title, lint text) for every lint in snakemake's text output."""
    found, heading = [], None
    for line in output.splitlines():
        if BLOCK.match(line):
            heading = line
        elif heading and (title := TITLE.match(line)):
            found.append([heading, title.group(1), [line]])
        elif heading and found and line.startswith("      "):
            found[-1][2].append(line)
    return found


def main():
    done = subprocess.run(
        [SNAKEMAKE, "--lint", "--cores", "1"], cwd=REPO, capture_output=True, text=True
    )
    output = done.stdout + done.stderr
    found = lints(output)
    if done.returncode != 0 and not found:
        sys.exit(output)
    remaining = [lint for lint in found if lint[1] != ANSWERED]
    for heading, _, text in remaining:
        print(heading, *text, sep="\n")
    answered = len(found) - len(remaining)
    print(
        f"snakemake --lint: {len(remaining)} lints ({answered} rules without conda:, as intended)"
    )
    sys.exit(1 if remaining else 0)


if __name__ == "__main__":
    main()
