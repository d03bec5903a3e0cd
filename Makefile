# JOF: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INSTANCE := instance
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres lint bench translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install -e ".[test]" > $(VENV)/pip.log 2>&1 || (tail -40 $(VENV)/pip.log; exit 1)
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d jof/translations >/dev/null

## make run: install, migrate, load the demo (first time), serve on 127.0.0.1:5000
run: $(STAMP) translations
	@mkdir -p $(INSTANCE)
	@test -s $(INSTANCE)/demo-password || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > $(INSTANCE)/demo-password
	$(BIN)/jof db upgrade
	@$(BIN)/jof demo load --password "$$(cat $(INSTANCE)/demo-password)"
	@echo "Serving JOF at http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(BIN)/jof run --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite, and on PostgreSQL when JOF_TEST_POSTGRES_URL is set
test: $(STAMP) translations
	@echo "=== JOF tests on SQLite ==="
	JOF_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$JOF_TEST_POSTGRES_URL" ]; then \
	  echo "=== JOF tests on PostgreSQL ($$JOF_TEST_POSTGRES_URL) ==="; \
	  JOF_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_ARGS); \
	else \
	  echo "JOF_TEST_POSTGRES_URL is not set: the PostgreSQL pass was not run."; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
