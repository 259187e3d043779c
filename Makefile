# Antrian: the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := deploy/local/stack.sh
LINT_PATHS := services tests deploy bench

.PHONY: help venv deps infra-up infra-down up down run status logs observe demo lint fmt test test-unit bench docs clean test-containers helm
.PHONY: cluster-up cluster-down cluster-clean cluster-status test-cluster bench-cluster

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11+ is needed (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed  ## create the virtual environment with pinned packages

deps: venv  ## check (and as root install) Java, Maven, PostgreSQL, espeak-ng
	@$(STACK) deps

infra-up: venv  ## start Kafka and PostgreSQL in the background
	@$(STACK) infra-up

infra-down:  ## stop Kafka and PostgreSQL
	@$(STACK) infra-down

up: venv  ## start everything in the background and wait until ready
	@$(STACK) up

down:  ## stop exactly what `make up` started
	@$(STACK) down

run: venv  ## start everything in the foreground; Ctrl-C stops it all
	@$(STACK) run

status:  ## which of our processes run
	@$(STACK) status

logs:  ## follow every log
	@$(STACK) logs

observe:  ## Prometheus on :9090 scraping the running stack, with the alert rules (after make up)
	@$(STACK) observe

demo: venv  ## drive a living demo hall (after make up)
	@$(PY) -m deploy.local.demo $(DEMO_ARGS)

fmt: venv  ## format the code
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)

lint: venv  ## ruff format --check, ruff check, mypy --strict, pip-audit of the pinned packages
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/mypy --strict services
	$(PY) deploy/local/audit_deps.py

test-unit: venv  ## the pure tests only (no broker, no database)
	$(PY) -m pytest -q tests/unit

test: venv  ## install and start what is needed, lint, run the whole suite
	@$(STACK) test-deps
	@$(MAKE) --no-print-directory lint
	@$(STACK) with-infra $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: venv  ## benchmarks beside their floors: one table, docs/benchmarks.md and plots (BENCH_ARGS=--quick)
	@$(STACK) deps
	@$(STACK) with-infra bash -c 'ulimit -n 200000 2>/dev/null || ulimit -n "$$(ulimit -Hn)"; $(PY) -m bench $(BENCH_ARGS)'

axe: venv  ## fetch the pinned axe-core (npm) into the cache folder the browser tests use
	$(PY) -m tests.browser.axe_core

docs: venv  ## regenerate docs/events.md and docs/events/*.json from the event models
	$(PY) -m services.events.docs

test-containers: venv  ## build the image with podman (as root) and run the compose smoke test
	@deploy/container/podman.sh all

HELM_VERSION := v3.22.0
GOBIN ?= $(HOME)/go/bin
helm:  ## build Helm from the Go module proxy into $(GOBIN) (for tests/deploy); a few minutes, once
	@if [ -x "$(GOBIN)/helm" ] && go version -m "$(GOBIN)/helm" 2>/dev/null | \
	    awk '$$1 == "mod" && $$2 == "helm.sh/helm/v3" {print $$3}' | grep -qx '$(HELM_VERSION)'; then \
	  echo "helm $(HELM_VERSION) is in $(GOBIN)"; \
	else \
	  command -v go >/dev/null || { echo "Go is needed to build Helm (apt-get install golang-go)"; exit 1; }; \
	  echo "building helm $(HELM_VERSION) into $(GOBIN) (a few minutes)"; \
	  GOBIN="$(GOBIN)" go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
	fi

clean: down  ## stop everything and delete .run (data and logs)
	rm -rf .run

# ---- several of everything on one box (docs/scaling.md)
CLUSTER := deploy/cluster/cluster.sh

cluster-up: venv  ## three Kafka nodes, PostgreSQL, two instances per service, HAProxy, Prometheus
	@$(CLUSTER) up

cluster-down:  ## stop exactly what `make cluster-up` started
	@$(CLUSTER) down

cluster-clean:  ## stop the cluster and delete its data and logs (.run-cluster)
	@$(CLUSTER) clean

cluster-status:  ## which of the cluster's processes run
	@$(CLUSTER) status

test-cluster: venv  ## failover and sums tests against the cluster (starts and stops it if it was not up)
	@$(STACK) test-deps
	@bash deploy/cluster/with-cluster.sh $(PY) -m pytest -q -p no:cacheprovider -m cluster tests/cluster $(PYTEST_ARGS)

bench-cluster: venv  ## throughput and latency with 1 and 2 instances of each service (docs/scaling.md)
	@bash deploy/cluster/with-cluster.sh $(PY) -m bench.cluster $(BENCH_ARGS)
