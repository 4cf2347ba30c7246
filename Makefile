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

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
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

.PHONY: run test lint format bench bench-compliance bench-pipeline bench-explorer bench-pages bench-load seed-scale worker clean
