"""Lighter imports for the jobs: each job is a fresh Python process that imports the stack.

SciPy 1.17's `xp_capabilities` decorator parses the docstring of each of about 470 functions while
scipy.stats and its dependencies are imported, to add a table of the array libraries it supports,
and writes the docstring back: about 0.3 s of the 1.3-1.4 s that importing scipy.stats and
statsmodels' Cox model takes, and 0.4 s of a cohort job's imports (benchmarks/job_imports.py). The
jobs never show a docstring.
"""

KEEP_DOCSTRINGS_IN = "1.17."  # the SciPy releases whose decorator this was measured on


class UnchangedDoc:
    """Stands in for numpydoc's FunctionDoc in SciPy's `xp_capabilities`: its Notes take the
    support table, and str() gives the docstring as it was (after a signature line, which the
    decorator removes)."""

    def __init__(self, function):
        self.doc, self.notes = function.__doc__ or "", []

    def __getitem__(self, section):
        return self.notes

    def __str__(self):
        return "\n" + self.doc


def keep_scipy_docstrings():
    """Make SciPy's `xp_capabilities` keep each docstring as it is (it still records each
    function's support): call it before SciPy's submodules are imported. Other SciPy releases
    than KEEP_DOCSTRINGS_IN are left alone."""
    import scipy

    if scipy.__version__.startswith(KEEP_DOCSTRINGS_IN):
        from scipy._lib import _array_api

        _array_api.FunctionDoc = UnchangedDoc
