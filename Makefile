# JOF: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTANCE := instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint bench loadtest translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -e ".[test]" > $(VENV)/pip.log 2>&1 || (tail -40 $(VENV)/pip.log; exit 1)
	touch $(STAMP)

## make translations: compile the .po catalogues the app serves (run and test do it first)
translations: $(STAMP)
	@$(BIN)/pybabel -q compile --use-fuzzy -d jof/translations

## make run: install, migrate, load the demo and, on a fresh database, DEMO_MONTHS (12)
## months of its history (idempotent), print the demo logins, serve on 127.0.0.1:5000.
## The demo password is generated once into instance/demo-password.
DEMO_MONTHS ?= 12
run: $(STAMP) translations
	@mkdir -p $(INSTANCE)
	@test -s $(INSTANCE)/demo-password || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > $(INSTANCE)/demo-password
	$(BIN)/jof db upgrade
	@$(BIN)/jof demo history --months $(DEMO_MONTHS) --password "$$(cat $(INSTANCE)/demo-password)"
	@echo "Serving JOF at http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(BIN)/jof run --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite, and on PostgreSQL when JOF_TEST_POSTGRES_URL is set
## (e.g. postgresql://postgres@127.0.0.1:5432/test: each pass creates and drops its own
## database there). Both passes run; the target fails if either failed.
## PYTEST_ARGS="-x -k login" passes options to both passes; TEST_WORKERS (default 2, one per
## core) runs each pass in that many pytest-xdist processes, each with its own database.
TEST_WORKERS ?= 2
test: $(STAMP) translations
	@echo "=== JOF tests on SQLite ==="
	@sqlite=0; JOF_TEST_DATABASE=sqlite $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || sqlite=$$?; \
	postgres=0; \
	if [ -n "$$JOF_TEST_POSTGRES_URL" ]; then \
	  echo "=== JOF tests on PostgreSQL ==="; \
	  echo "server: $$JOF_TEST_POSTGRES_URL"; \
	  JOF_TEST_DATABASE=postgresql $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || postgres=$$?; \
	else \
	  echo "JOF_TEST_POSTGRES_URL is not set: the PostgreSQL pass was not run."; \
	fi; \
	echo "=== JOF tests: SQLite exit $$sqlite, PostgreSQL exit $$postgres ==="; \
	[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]

## make lint: ruff, then the architecture contracts in .importlinter (import-linter)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

## make bench: every benchmark against its bare baseline (bench/suite.py) → bench/results.json,
## a table, and the README's table; BENCH_QUICK=1 runs small sizes (CI: proves it still runs).
BENCH_QUICK ?=
bench: $(STAMP) translations
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench

## make loadtest: gunicorn × 4 on a throw-away PostgreSQL database (LOAD_POSTGRES_URL, default
## postgresql://postgres@127.0.0.1:5432/postgres; created and dropped), driven by locust on
## 127.0.0.1 for LOAD_SECONDS (60) with LOAD_USERS (40), at most LOAD_MAX_REQUESTS (20000);
## prints req/s and p50/p95/p99 per endpoint, then fails if an invariant in the database fails.
loadtest: $(STAMP) translations
	@$(BIN)/python -c "import locust" 2>/dev/null || $(BIN)/pip install --quiet -e ".[test,load]"
	$(BIN)/python -m bench.loadtest

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
