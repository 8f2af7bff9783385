# Every target sets itself up: a fresh machine needs only python3 (3.11+), node and npm.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_READY := $(VENV)/.requirements-installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: setup demo test bench chaos lint typecheck check clean

$(PY_READY): requirements.txt requirements-dev.txt requirements-cdk.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $@

setup: $(PY_READY)

# The action tour (one command per action), then the HR lifecycle demo on a generated roster.
DEMO_JOINERS ?= 150
demo: $(PY_READY)
	$(PY) -m local_aws.demo
	$(VENV)/bin/cognito-lifecycle demo --joiners $(DEMO_JOINERS)

# One worker per core (pytest-xdist); each worker starts its own local AWS.
test: $(PY_READY)
	$(PY) -m pytest -n auto

# Prints every figure of docs/benchmarks.md with its goal; figures are measured, never asserted.
bench: $(PY_READY)
	$(PY) -m pytest -q -m bench tests/bench
	$(PY) -m benchmarks

# Fault injection: every scenario on a 400-joiner roster (10,000+ commands), then the full fuzzing run
# (10,000+ cases); prints the invariants and fails on any broken one. `make test` runs both at a small size.
chaos: $(PY_READY)
	$(PY) -m chaos
	HYPOTHESIS_PROFILE=chaos $(PY) -m pytest tests/fuzz

lint: $(PY_READY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(PY_READY)
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) cdk.out .local-synth node_modules .pytest_cache .mypy_cache .ruff_cache $(MINISTACK_VENV)

# --- Infrastructure (app.py, infra/): synthesized offline, checked by cdk-nag and cfn-lint -------------------
NODE_READY := node_modules/.package-lock.json
# cfn-lint checks ignored on the synthesized template, each with its reason:
#   W3005 (redundant DependsOn): aws-cdk-lib's Function adds DependsOn its execution role although its Role
#         property's GetAtt already orders the two; harmless, and not ours to remove. tests/infra asserts that
#         every W3005 finding is exactly that and nothing else.
CFN_LINT_IGNORE := W3005

.PHONY: synth lint-infra test-infra

# The CDK CLI comes from package-lock.json (npm ci), never from a global install.
$(NODE_READY): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# cdk.out/ from app.py with cdk.json's context; cdk-nag (AwsSolutions) fails the synth on any finding that is
# not acknowledged on its resource.
synth: $(PY_READY) $(NODE_READY)
	npx --no-install cdk synth --quiet

lint-infra: synth
	$(VENV)/bin/cfn-lint --ignore-checks $(CFN_LINT_IGNORE) -- cdk.out/*.template.json

# The infra tests alone (template properties, cdk-nag, cfn-lint); `make test` runs them with the rest.
test-infra: $(PY_READY)
	$(PY) -m pytest tests/infra

# --- The real template on a local AWS: MiniStack (no Docker, no network) ------------------------------------
# MiniStack pins an older botocore than ours, so it gets a venv of its own (also holding the Powertools stand-in
# layer and MiniStack's log, under deploy-check/).
MINISTACK_VENV := .venv-ministack
MINISTACK_READY := $(MINISTACK_VENV)/.ministack-installed

.PHONY: deploy-check

$(MINISTACK_READY):
	$(PYTHON) -m venv $(MINISTACK_VENV)
	$(MINISTACK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ministack==1.5.33
	touch $@

# cdk.out's template (a copy, every edit printed with its reason) deployed through MiniStack's CloudFormation,
# then the action tour and a small HR roster through the bus, the queues and the real handlers; prints a
# table of checks and fails on any difference (see the README).
deploy-check: synth $(MINISTACK_READY)
	$(PY) -m deploy_check --ministack $(MINISTACK_VENV)/bin/ministack
