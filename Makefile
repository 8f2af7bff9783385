# Every target sets itself up: a fresh machine needs only python3 (3.11+), node and npm.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_READY := $(VENV)/.requirements-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test lint typecheck check clean

$(PY_READY): requirements.txt requirements-dev.txt requirements-cdk.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

setup: $(PY_READY)

demo: $(PY_READY)
	$(PY) -m local_aws.demo

test: $(PY_READY)
	$(PY) -m pytest

lint: $(PY_READY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(PY_READY)
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) cdk.out node_modules .pytest_cache .mypy_cache .ruff_cache
