# Marginalia — `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test lint format migrate demo test-sqlite test-postgres clean serve worker

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	  || { echo "Marginalia needs Python 3.11 or newer (make PYTHON=/path/to/python3.11 …)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install Marginalia with its dev tools

migrate: install ## Apply database migrations
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput

demo: migrate ## Load the demo library and the demo user (harmless to repeat)
	$(BIN)/python manage.py load_demo

run: demo ## Install, migrate, load the demo and serve http://127.0.0.1:8000/
	@echo ""
	@echo "  Marginalia is at http://$(HOST):$(PORT)/"
	@echo "  Sign in as demo / demo-marginalia"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

lint: install ## ruff check, ruff format --check, the layering (lint-imports), makemigrations --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# `make serve` and `make worker`: the production configuration on this machine (docs/deploy.md).
SERVE_DATABASE_URL := postgres://postgres@127.0.0.1:5432/marginalia
PROD_ENV = DEBUG=false \
	SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" \
	DATABASE_URL="$${DATABASE_URL:-$(SERVE_DATABASE_URL)}" \
	TASK_QUEUE="$${TASK_QUEUE:-celery}" \
	SECURE_COOKIES="$${SECURE_COOKIES:-false}" \
	SECURE_HSTS_SECONDS="$${SECURE_HSTS_SECONDS:-0}" \
	GUNICORN_BIND="$${GUNICORN_BIND:-$(HOST):$(PORT)}"

var/secret_key:
	@mkdir -p var
	@umask 077 && $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp
	@mv $@.tmp $@

serve: install var/secret_key ## Production setup locally: PostgreSQL, DEBUG=false, collectstatic, gunicorn
	@if [ -z "$$DATABASE_URL" ]; then \
	  psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'marginalia'" \
	    | grep -q 1 || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE marginalia"; \
	fi
	$(PROD_ENV) $(BIN)/python manage.py migrate --noinput
	$(PROD_ENV) $(BIN)/python manage.py collectstatic --noinput -v0
	@echo ""
	@echo "  Marginalia (production settings) is at http://$(HOST):$(PORT)/"
	@echo "  Background jobs need a worker: run 'make worker' in another terminal (Redis)."
	@echo ""
	$(PROD_ENV) $(BIN)/gunicorn -c config/gunicorn.conf.py config.wsgi

worker: install var/secret_key ## A Celery worker for background jobs (Redis at CELERY_BROKER_URL)
	$(PROD_ENV) $(BIN)/celery -A config.celery worker --loglevel=INFO \
	  --concurrency=$${WORKER_CONCURRENCY:-2}

# With a PostgreSQL run to follow, the browser tests and the tests that use no database
# run once, there (the database that is deployed); SQLite runs every test that uses a
# database. BROWSER_ON_SQLITE=1 runs the whole suite on both.
test-sqlite: install
	@if [ -n "$$TEST_DATABASE_URL" ] && [ -z "$$BROWSER_ON_SQLITE" ]; then \
	  echo "== the suite on SQLite, without the browser tests and the tests that use no database"; \
	  echo "   (both run in the PostgreSQL run next)"; \
	  MARGINALIA_DATABASE_TESTS_ONLY=1 DATABASE_URL=sqlite:///:memory: $(BIN)/pytest -p no:cacheprovider \
	    -n $${PYTEST_WORKERS:-2} -m "not browser" $(PYTEST_ARGS); \
	else \
	  echo "== the suite on SQLite"; \
	  DATABASE_URL=sqlite:///:memory: $(BIN)/pytest -p no:cacheprovider -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS); \
	fi

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the suite on PostgreSQL ($$TEST_DATABASE_URL)"; \
	  DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest -p no:cacheprovider -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS); \
	else \
	  echo "== PostgreSQL run skipped: TEST_DATABASE_URL is not set"; \
	fi

test: lint test-sqlite test-postgres ## Install, lint, check migrations, run the suite (SQLite, then PostgreSQL)

HYPOTHESIS_VERSION ?= 1.1766.0
HYPOTHESIS_DIR := static/vendor/hypothesis
vendor-hypothesis: ## Vendor the Hypothesis client from npm (HYPOTHESIS_VERSION=…; needs npm, never at run time)
	rm -rf var/hypothesis-pack && mkdir -p var/hypothesis-pack
	cd var/hypothesis-pack && npm pack --silent hypothesis@$(HYPOTHESIS_VERSION) >/dev/null && tar xzf hypothesis-*.tgz
	rm -rf $(HYPOTHESIS_DIR)/build && mkdir -p $(HYPOTHESIS_DIR)/build/scripts $(HYPOTHESIS_DIR)/build/styles
	cd var/hypothesis-pack/package && cp LICENSE package.json ../../../$(HYPOTHESIS_DIR)/ \
	  && cp build/boot-template.js build/manifest.json ../../../$(HYPOTHESIS_DIR)/build/ \
	  && cp build/scripts/annotator.bundle.js build/scripts/sidebar.bundle.js ../../../$(HYPOTHESIS_DIR)/build/scripts/ \
	  && cp build/styles/annotator.css build/styles/highlights.css build/styles/katex.min.css \
	     build/styles/pdfjs-overrides.css build/styles/sidebar.css ../../../$(HYPOTHESIS_DIR)/build/styles/ \
	  && cp -r build/styles/fonts ../../../$(HYPOTHESIS_DIR)/build/styles/
	sed -i 's/^Version: .*/Version: $(HYPOTHESIS_VERSION)/' $(HYPOTHESIS_DIR)/VENDORED.md
	rm -rf var/hypothesis-pack
	@echo "Vendored hypothesis@$(HYPOTHESIS_VERSION) into $(HYPOTHESIS_DIR); run make test."

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var/*.sqlite3 var/static
