# edgeopt: two-command quick start.  `make run` and `make test` both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: run test setup lint typecheck docs pytest bench clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -e ".[all]"
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/edgeopt reproduce --all --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments models
	$(BIN)/python .ci/lint_imports.py

typecheck: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -b html -q docs docs/_build/html

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck docs pytest

bench: $(STAMP)
	for b in channel aircomp aircomp_scale frequency sweep federated offload shuffle coding; do $(BIN)/python benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) docs/_build out
