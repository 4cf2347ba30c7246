# The README's commands. Everything installs itself into .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development mode is asked for, never assumed: the settings default to production (DEBUG off, a
# SECRET_KEY required). Every target here is a developer's, so it asks for development mode;
# `make worker PORTAL_ENV=production` overrides it.
PORTAL_ENV ?= development
export PORTAL_ENV

.PHONY: run test lint format bench bench-compliance bench-pipeline bench-explorer bench-pages bench-load seed-scale worker clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

# The demo: development mode with DEMO_MODE=1 (seed_demo refuses to run without it).
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	DEMO_MODE=1 $(PY) manage.py seed_demo
	DEMO_MODE=1 $(PY) manage.py run_portal

test: $(STAMP)
	@sh .ci/ensure-chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# mypy reads its files and strictness from pyproject.toml ([tool.mypy]); its Django plugin loads
# tests.settings, hence development mode (exported above).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: bench-compliance bench-pipeline bench-explorer

bench-compliance: $(STAMP)
	$(PY) -m submissions.compliance.bench $(BENCH_ARGS)

worker: $(STAMP)
	$(VENV)/bin/celery -A consortium worker -l info -Q $${QUEUE:-default}

clean:
	rm -rf var .pytest_cache

bench-pipeline: $(STAMP)
	$(PY) -m submissions.bench_pipeline

bench-explorer: $(STAMP)
	$(PY) -m submissions.results.bench

# Scale data on top of the demo (issue 15): demo mode, like `make run`.
seed-scale: $(STAMP)
	DEMO_MODE=1 $(PY) manage.py seed_scale $(SCALE_ARGS)

bench-pages: $(STAMP)
	$(PY) -m consortium.portal.bench_pages $(BENCH_ARGS)

bench-load: $(STAMP)
	$(PY) -m consortium.portal.bench_load $(BENCH_ARGS)

# The inference checker, as a whole process on one core (docs/benchmarks.md, "Inference checker").
.PHONY: bench-inference
bench-inference: $(STAMP)
	$(PY) -m submissions.compliance.inference.bench --copies 17
