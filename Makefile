# topcontact-mail: one command for the demo, one for the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml sandbox/pyproject.toml | cksum | cut -d' ' -f1)
BACKEND ?= ews

.PHONY: demo test check check-sandbox lint typecheck unit fast bench bench-scale-out reliability screening-report clean

$(STAMP): pyproject.toml sandbox/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./sandbox -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/topcontact-mail demo --backend $(BACKEND)

lint: $(STAMP)
	$(BIN)/ruff check topcontact_mail tests bench reliability sandbox tools
	$(BIN)/ruff format --check topcontact_mail tests bench reliability sandbox tools

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite, tests spread over three workers (most of them wait on servers and processes).
unit: $(STAMP)
	$(BIN)/pytest -q -n 3 --dist worksteal

# The inner loop: the product's unit and contract tests, without the ones that drive real
# processes (integration), wait for Exchange's transport or run a whole corpus (slow).
# The sandbox's own suite: `make check-sandbox`. `make test` runs all of them.
fast: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist worksteal -m "not integration and not slow" tests/unit tests/contract

check-sandbox: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist worksteal -m "not integration and not slow" sandbox/tests

# CI runs this: lint, types and every test.
test: lint typecheck unit

# A developer's quick check (under a minute): lint, types and the fast tests.
check: lint typecheck fast

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The proving ground (issue 9): six scenarios on both backends, a table and JSON (about 25 min;
# not part of `make test`, which runs their short versions). RELIABILITY_ARGS="--quick" etc.
reliability: $(STAMP)
	$(BIN)/python reliability/run.py $(RELIABILITY_ARGS)

# 50 mailboxes shared by 3 instances through leases in PostgreSQL, one killed (docs/scale-out.md).
bench-scale-out: $(STAMP)
	$(BIN)/python bench/scale_out.py $(BENCH_ARGS)

# Screening figures per fixture class and every disagreement (not part of `make test`).
screening-report: $(STAMP)
	$(BIN)/python tools/screening_report.py $(REPORT_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
