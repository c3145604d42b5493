# Two commands from a fresh clone: `make run` (install + default analysis), `make test` (install + tests).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
CORES ?= all
UV_INSTALL = $(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet

.PHONY: install dev run report fast test lint clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

# src/ is installed editable: its bytecode is compiled here too (uv compiles only site-packages), so
# no job recompiles the package when PYTHONDONTWRITEBYTECODE is set.
$(VENV)/.installed: requirements.txt pyproject.toml | $(BIN)/uv
	$(UV_INSTALL) -r requirements.txt -e .
	$(BIN)/python -m compileall -q src
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(UV_INSTALL) -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	$(BIN)/snakemake --cores $(CORES)

report: run
	$(BIN)/snakemake --cores 1 --report report.html

# The inner loop: no test that starts snakemake (marker `workflow`), no simulation study (`slow`),
# on every core (pytest-xdist; a test file stays in one process, so its fixtures are built once).
fast: dev
	$(BIN)/pytest -q -n auto --dist loadfile -m "not workflow and not slow"

test: dev
	$(BIN)/pytest -q

# snakemake --lint through tools/lint_workflow.py: every lint fails but "no conda: directive" (by design).
lint: dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/snakefmt --check . && $(BIN)/python tools/lint_workflow.py

clean:
	rm -rf results logs .snakemake report.html
