# Two commands for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean test-prerequisites

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-base

demo: $(VENV)/.installed-base  ## run the main job on the embedded SQLite default
	$(BIN)/payledger demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/lint-imports
	$(BIN)/mypy

test-prerequisites:  ## PostgreSQL and Chromium from Debian when missing (as root)
	scripts/test-prerequisites

test: test-prerequisites lint  ## installs what the tests need, lint, import contracts, the suite
	$(BIN)/pytest

bench: $(VENV)/.installed-dev
	$(BIN)/payledger bench queue

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
