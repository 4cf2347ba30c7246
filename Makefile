# The README's commands. Everything installs itself into .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench bench-compliance bench-pipeline worker clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py run_portal

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

bench: bench-compliance bench-pipeline

bench-compliance: $(STAMP)
	$(PY) -m submissions.compliance.bench

worker: $(STAMP)
	$(VENV)/bin/celery -A consortium worker -l info -Q $${QUEUE:-default}

clean:
	rm -rf var .pytest_cache

bench-pipeline: $(STAMP)
	$(PY) -m submissions.bench_pipeline
