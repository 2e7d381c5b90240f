# The README's two commands are `make dev` and `make test`; each installs what it
# needs into this checkout (.venv, .cache) before doing its job.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
CACHE := $(CURDIR)/.cache
UV := $(CACHE)/tools/uv/bin/uv
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_CACHE_DIR := $(CACHE)/uv
export UV_PYTHON_DOWNLOADS := never
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install dev dev-monitoring reset-dev prereqs test lint typecheck pytest bench bench-scale bench-report

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(CACHE)/tools/uv
	$(CACHE)/tools/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python "$$(command -v python3)"
	@touch $@

install: $(VENV)/.synced ## Install the project's Python environment (.venv) from uv.lock

dev: install ## Run the whole platform locally on the embedded database, with demo data
	$(BIN)/glosleep-dev

dev-monitoring: install ## `make dev` plus a local Prometheus (Debian package) with the repo's alert rules
	WITH_PROMETHEUS=1 $(BIN)/glosleep-dev

reset-dev: install ## Delete the local development database (.data/dev)
	$(BIN)/glosleep-dev --reset

lint: install ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict over the services, the Pulumi program, its policy pack, ops tools and the tests
	$(BIN)/mypy apps bench platform/glosleep_platform platform/glosleep_ops platform/policy stacks tests

pytest: prereqs install ## The test suite (embedded database unless MONGO_URL is set)
	$(BIN)/pytest

prereqs: ## Check what make test needs beyond Python and make (npm, podman..., root or sudo)
	@PYTHON="$$(command -v python3)" tools/check-test-prereqs.sh

test: prereqs lint typecheck pytest ## Everything CI runs: lint, types, all tests

.PHONY: soak
soak: install ## Mixed workload with a kill -9 of a random service every minute, then invariants and memory (tests/soak); SOAK_SECONDS=600
	SOAK_SECONDS=$${SOAK_SECONDS:-600} $(BIN)/pytest tests/soak -q -s

.PHONY: test-images
test-images: install ## Build every service image and run it with podman, or Docker without podman (tests/images; docs/images.md)
	$(BIN)/pytest tests/images

bench: install ## The order benchmark on the embedded database (docs/benchmarks.md); ARGS="--clients 16 --seconds 30 --rounds 3"
	$(BIN)/python -m bench $(ARGS); status=$$?; $(BIN)/python -m bench.report; exit $$status

bench-scale: install ## Request costs at 1k, 10k, 100k orders (docs/benchmarks.md); ARGS="--sizes 1000,3000"
	$(BIN)/python -m bench.scale $(ARGS); status=$$?; $(BIN)/python -m bench.report --only-scale; exit $$status

bench-report: install ## Redraw the plots of the last `make bench` and `make bench-scale` (docs/bench/*.json)
	$(BIN)/python -m bench.report

ops: install ## Cost and drift reviews: make ops ARGS="cost --stack eks" (docs/operations.md)
	$(BIN)/glosleep-ops $(ARGS)
