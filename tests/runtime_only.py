"""Run a command of the installed stack as if only requirements.txt had been installed.

`python tests/runtime_only.py snakemake ARGS...` runs snakemake in this process with every module
refused whose distribution is not in requirements.txt (nor what those require, nor selfseed): the
test tools of requirements-dev.txt (pytest, hypothesis, ...) and what only they pull in, such as
pygments, are then "not installed". `make run && make report` from a fresh clone has that stack.
"""

import importlib.metadata as metadata
import importlib.util
import re
import sys
from pathlib import Path

from packaging.requirements import Requirement

REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def normalised(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# what `make install` puts in a new Python 3.11 venv besides requirements.txt: pip and setuptools
# (venv), uv (Makefile), selfseed itself (-e .)
INSTALLED_WITH = ["pip", "setuptools", "uv", "selfseed"]


def runtime_distributions():
    """requirements.txt's distributions, what they require (markers evaluated, no extras), and
    INSTALLED_WITH."""
    todo = [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines()]
    todo = [Requirement(line).name for line in todo if line] + INSTALLED_WITH
    seen = set()
    while todo:
        name = normalised(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return seen


class RefuseOthers:
    """A meta path finder that refuses the top-level modules of other distributions."""

    def __init__(self, refused):
        self.refused = refused

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in self.refused:
            raise ModuleNotFoundError(
                f"No module named {top!r} (not installed by requirements.txt)"
            )
        return None


def refused_modules():
    allowed = runtime_distributions()
    return {
        module
        for module, distributions in metadata.packages_distributions().items()
        if not {normalised(d) for d in distributions} & allowed
    }


if __name__ == "__main__":
    refused = refused_modules()
    for name in [m for m in sys.modules if m.partition(".")[0] in refused]:
        del sys.modules[name]
    sys.meta_path.insert(0, RefuseOthers(refused))
    # as without them: importlib.util.find_spec says None (anndata probes xarray so)
    find_spec = importlib.util.find_spec
    importlib.util.find_spec = lambda name, package=None: (
        None if name.partition(".")[0] in refused else find_spec(name, package)
    )
    command, sys.argv = sys.argv[1], sys.argv[1:]
    entry = next(e for e in metadata.entry_points(group="console_scripts") if e.name == command)
    sys.exit(entry.load()())
