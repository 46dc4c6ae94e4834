# qbsync: every documented command is a target here. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV_SAM := .venv-sam
VENV_313 := .venv-313
PY := $(VENV)/bin/python
SAM := $(VENV_SAM)/bin/sam
# SAM builds python3.13 functions with a python3.13 interpreter; pyenv has one but does not expose it by default.
PYENV_VERSION ?= $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -E '^3\.1[1-3]\.' | sort -V | tr '\n' ':' | sed 's/:$$//')
export PYENV_VERSION
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

STACK ?= qbsync-dev
CONFIG_ENV ?= dev
FUNCTION ?= ApiFunction
EVENT ?= events/api_health.json

.PHONY: help run test lint types template-check unit browser invoke build deploy bench api-key dlq clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -U pip
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

$(VENV_SAM)/.installed:
	$(PYTHON) -m venv $(VENV_SAM)
	$(VENV_SAM)/bin/pip install -q --disable-pip-version-check -U pip
	$(VENV_SAM)/bin/pip install -q --disable-pip-version-check 'aws-sam-cli>=1.130'
	touch $@

run: $(VENV)/.installed ## start the whole service locally (API on $$PORT, default 3000)
	$(PY) -m local

test: ## lint, types, template checks and the whole test suite
	$(MAKE) -j3 --output-sync=target $(VENV)/.installed $(VENV_SAM)/.installed browser  # the installs side by side
	$(MAKE) lint
	$(MAKE) -j2 --output-sync=target types template-check
	$(MAKE) unit

lint: $(VENV)/.installed ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(VENV)/.installed ## mypy --strict on the qbsync package
	$(VENV)/bin/mypy

template-check: $(VENV)/.installed $(VENV_SAM)/.installed ## cfn-lint and sam validate --lint
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

unit: $(VENV)/.installed browser ## the test suite only (unit, adapters, handlers, infra, sandbox, e2e), one worker per core
	$(PY) -m pytest -n auto --dist loadscope --durations=20

browser: ## Chromium for the browser tests, from Debian's packages (needs root to install)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

invoke: $(VENV)/.installed ## run one function on one event, as `sam local invoke` would: FUNCTION=ApiFunction EVENT=events/api_health.json
	$(PY) -m local.invoke $(FUNCTION) $(EVENT)

build: $(VENV_SAM)/.installed ## sam build, then precompile bytecode with the runtime's Python
	$(SAM) build --template template.yaml
	python3.13 -m compileall -q -j 0 --invalidation-mode unchecked-hash .aws-sam/build

deploy: build ## sam deploy (CONFIG_ENV=dev|prod picks the samconfig.toml section)
	$(SAM) deploy --config-env $(CONFIG_ENV)

bench: $(VENV)/.installed ## handler import time and memory (on python3.13 when there is one); sync figures on the local stack; the engine at QuickBooks' limits; automatch
	@if command -v python3.13 >/dev/null 2>&1; then \
	  $(MAKE) --no-print-directory $(VENV_313)/.installed && \
	  $(PY) -m bench --matching full --import-python $(VENV_313)/bin/python; \
	else \
	  echo "bench: no python3.13 here; the import figures are of $$($(PY) --version)"; \
	  $(PY) -m bench --matching full; \
	fi

# Lambda's runtime (python3.13) with the layer's requirements, for `make bench`'s import figures.
$(VENV_313)/.installed: layers/core/requirements.txt
	python3.13 -m venv $(VENV_313)
	$(VENV_313)/bin/pip install -q --disable-pip-version-check -r layers/core/requirements.txt
	touch $@

api-key: $(VENV)/.installed ## create an API key for a deployed stack (STACK=qbsync-dev LABEL=...) and print it once
	$(PY) -m qbsync.cli create-api-key --stack $(STACK) --label "$(or $(LABEL),host-app)"

dlq: $(VENV)/.installed ## the jobs dead-letter queue of STACK: each job's kind, tenant and why it died; REDRIVE=1 sends them back
	$(PY) -m ops.dlq --stack $(STACK) $(if $(REDRIVE),--redrive)

clean: ## remove virtual environments and build output
	rm -rf $(VENV) $(VENV_SAM) $(VENV_313) .aws-sam .pytest_cache .mypy_cache .ruff_cache
