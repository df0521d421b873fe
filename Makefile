# RareDerm — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install run test lint format bench worker beat lock clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-9s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "RareDerm needs Python 3.11 or newer ($(PYTHON) is older)."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "RareDerm needs Node.js 20+ and npm to build its static files."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.built: node_modules/.package-lock.json scripts/build-static.mjs
	npm run --silent build
	touch $@

install: $(VENV)/.installed static/vendor/.built ## Create .venv, install pinned packages, build static assets (idempotent)

run: install ## Migrate, load the demo data and serve on http://127.0.0.1:8000/
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	@echo ""
	@echo "RareDerm is at http://$(HOST):$(PORT)/  (stop with Ctrl-C)"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install ## Run the whole test suite (fails if no test ran)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests ran - that is a failure."; exit 1; fi; exit $$rc

lint: install ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## Format and autofix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install ## Benchmarks (PostgreSQL): prints figures as ratios to a baseline
	@if [ -f benchmarks/run.py ]; then $(PY) -m benchmarks.run $(BENCH_ARGS); else echo "no benchmarks yet"; fi

worker: install ## Run a Celery worker (needs CELERY_BROKER_URL)
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install ## Run Celery beat, the periodic-task scheduler (needs CELERY_BROKER_URL)
	mkdir -p data
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=data/celerybeat-schedule

lock: $(VENV)/.installed ## Re-pin every transitive dependency into requirements.lock
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean: ## Remove .venv, node_modules and built static files (keeps data/)
	rm -rf $(VENV) node_modules static/vendor *.egg-info
