# RareDerm — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROD_VENV := .venv-prod
HOST ?= 127.0.0.1
PORT ?= 8000
BACKUP_DIR ?= data/backups

.PHONY: help install install-production run test lint format bench worker beat preflight backup restore lock clean audit

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# A first install downloads and builds for a minute or two: each step says what
# it does, and pip shows its progress.
$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "RareDerm needs Python 3.11 or newer ($(PYTHON) is older)."; exit 1; }
	@echo "==> [1/3] Python packages into $(VENV) (pinned in requirements.lock; a first install takes a minute or two)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar on -c requirements.lock -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "RareDerm needs Node.js 20+ and npm to build its static files."; exit 1; }
	@echo "==> [2/3] Front-end packages into node_modules (npm ci: htmx, Chart.js, OpenSeadragon)"
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.built: node_modules/.package-lock.json scripts/build-static.mjs
	@echo "==> [3/3] Static assets into static/vendor"
	npm run --silent build
	touch $@

# Production's packages (the Dockerfile installs the same): psycopg2 is built
# from source against the system's libpq, as its authors advise for production.
# pip keeps the wheel it builds in its cache, so a second venv compiles nothing.
$(PROD_VENV)/.installed: pyproject.toml requirements.lock scripts/requirements.py
	@command -v pg_config >/dev/null || { echo "install-production builds psycopg2 from source: it needs pg_config and a C compiler (apt-get install libpq-dev gcc)."; exit 1; }
	@echo "==> Production packages into $(PROD_VENV) (psycopg2 built against the system's libpq)"
	test -x $(PROD_VENV)/bin/python || $(PYTHON) -m venv $(PROD_VENV)
	$(PROD_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PROD_VENV)/bin/python -m pip install --quiet -c requirements.lock --no-binary psycopg2 $$($(PYTHON) scripts/requirements.py)
	touch $@

install-production: $(PROD_VENV)/.installed ## Create .venv-prod: production packages only, psycopg2 built from source

install: $(VENV)/.installed static/vendor/.built ## Create .venv, install pinned packages, build static assets (idempotent)

run: install ## Migrate, load the demo data and serve on http://127.0.0.1:8000/ (PORT=8001: another port)
	@$(PY) -c 'import socket; socket.create_server(("$(HOST)", $(PORT))).close()' 2>/dev/null \
	  || { echo "make run: $(HOST):$(PORT) is already in use (another RareDerm?). Stop it, or choose another port: make run PORT=8001"; exit 1; }
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	@echo ""
	@echo "RareDerm is at http://$(HOST):$(PORT)/  (stop with Ctrl-C)"
	@echo ""
	SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py runserver $(HOST):$(PORT)

test: install install-production ## Run the whole test suite, the production check included (fails if no test ran)
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

# Without a broker Celery would quietly try a local AMQP server; tasks then run
# inline in the web process, and no worker or beat is needed.
need-broker = @test -n "$$CELERY_BROKER_URL" || { echo "make $@ needs CELERY_BROKER_URL (for example redis://127.0.0.1:6379/0). Without it, tasks run inline in the web process and no $@ is needed."; exit 2; }

worker: install ## Run a Celery worker (needs CELERY_BROKER_URL)
	$(need-broker)
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: install ## Run Celery beat, the periodic-task scheduler (needs CELERY_BROKER_URL)
	$(need-broker)
	$(VENV)/bin/celery -A config beat --loglevel=INFO

preflight: install-production ## Is this environment ready for production? Every problem at once (see README)
	$(PROD_VENV)/bin/python manage.py preflight

backup: ## pg_dump DATABASE_URL into BACKUP_DIR (data/backups), then run BACKUP_COPY if set
	@$(PYTHON) scripts/backup.py backup --dir "$(BACKUP_DIR)"

restore: ## Replace DATABASE_URL's database with FILE=data/backups/rarederm-....dump (stop the app first)
	@$(PYTHON) scripts/backup.py restore "$(FILE)"

audit: $(VENV)/.installed ## Known vulnerabilities in requirements.lock (pip-audit) and package-lock.json (npm audit); exit 2 when the services cannot be reached
	$(PY) scripts/audit.py

lock: $(VENV)/.installed ## Re-pin every transitive dependency into requirements.lock
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean: ## Remove .venv, .venv-prod, node_modules and built static files (keeps data/)
	rm -rf $(VENV) $(PROD_VENV) node_modules static/vendor staticfiles *.egg-info
