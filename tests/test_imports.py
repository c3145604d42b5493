"""selfseed.imports: in a job, SciPy keeps its docstrings as they are, and nothing else changes."""

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import scipy
from scipy._lib import _array_api

from selfseed import imports

REPO = Path(__file__).resolve().parents[1]
PROBE = textwrap.dedent(
    """
    import json, sys
    from selfseed.imports import keep_scipy_docstrings
    if sys.argv[1] == "keep":
        keep_scipy_docstrings()
    import scipy.stats
    from scipy._lib._array_api import xp_capabilities_table
    doc = scipy.stats.zmap.__doc__
    print(json.dumps({
        "recorded": len(xp_capabilities_table),
        "first_line": doc.strip().splitlines()[0],
        "table": "Array API Standard Support" in doc,
        "examples": "zmap(a, b)" in doc,
        "zmap": scipy.stats.zmap([0.5, 2.0, 2.5, 3], [0, 1, 2, 3, 4]).tolist(),
    }))
    """
)


def probe(mode):
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def test_scipy_keeps_its_docstrings_and_still_records_what_each_function_supports():
    as_is, kept = probe("as_is"), probe("keep")
    assert scipy.__version__.startswith(imports.KEEP_DOCSTRINGS_IN)  # the pinned release
    assert as_is["table"]
    assert not kept["table"]
    assert kept["recorded"] == as_is["recorded"] > 400
    assert kept["first_line"] == as_is["first_line"] == "Calculate the relative z-scores."
    assert kept["examples"]
    assert as_is["examples"]
    assert kept["zmap"] == as_is["zmap"]


def test_other_scipy_releases_are_left_alone(monkeypatch):
    decorators_doc = _array_api.FunctionDoc
    monkeypatch.setattr(_array_api, "FunctionDoc", decorators_doc)  # restored after the test
    monkeypatch.setattr(scipy, "__version__", "1.18.0")
    imports.keep_scipy_docstrings()
    assert _array_api.FunctionDoc is decorators_doc
    monkeypatch.setattr(scipy, "__version__", "1.17.1")
    imports.keep_scipy_docstrings()
    assert _array_api.FunctionDoc is imports.UnchangedDoc


def test_no_rule_script_imports_scipy_before_its_job_log():
    """job_log makes SciPy keep its docstrings; that only helps if SciPy is not imported yet."""
    modules = set()
    for script in sorted((REPO / "workflow" / "scripts").glob("*.py")):
        for node in ast.parse(script.read_text()).body:
            if isinstance(node, ast.ImportFrom):
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
    assert {"selfseed.logs", "selfseed.pipeline", "selfseed.cells"} <= modules
    code = f"import sys\nfor m in {sorted(modules)!r}: __import__(m)\n"
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
