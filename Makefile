# Settld finance data platform. Every target creates .venv/ from requirements.lock when it is missing
# or older than the lock, so `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE :=
LANDING ?= data/landing
WAREHOUSE ?= warehouse/settld.duckdb
# The operator API's database: `make demo` publishes the mismatch queue into it, `make api` serves it.
API_DATABASE_URL ?= sqlite:///$(CURDIR)/warehouse/settld-api.sqlite3

.PHONY: venv demo demo-postgres test test-fast lint format ui api bench clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@test -x $(PY) || uv venv --quiet --python 3.11 $(VENV)
	UV_COMPILE_BYTECODE=1 uv pip install --quiet --python $(PY) -r requirements.lock
	uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

$(DAGSTER_HOME):
	@mkdir -p $(DAGSTER_HOME) && printf 'telemetry:\n  enabled: false\n' > $(DAGSTER_HOME)/dagster.yaml

demo: venv $(DAGSTER_HOME)
	$(VENV)/bin/settld generate --out $(LANDING)
	$(VENV)/bin/settld api migrate --database-url $(API_DATABASE_URL)
	SETTLD_LANDING_DIR=$(LANDING) SETTLD_WAREHOUSE_URL=$(WAREHOUSE) SETTLD_API_DATABASE_URL=$(API_DATABASE_URL) \
	  $(VENV)/bin/settld run --as-of manifest

# The same demo on PostgreSQL: a throwaway server (devtools/postgres_server.py) holds the warehouse in
# database `settld` and the operator API in its schema `operator_api`; it is deleted when the run ends.
# With your own server, set SETTLD_WAREHOUSE_URL=postgresql://... and run `settld api migrate` then `settld run`.
demo-postgres: venv $(DAGSTER_HOME)
	$(VENV)/bin/settld generate --out $(LANDING)
	SETTLD_LANDING_DIR=$(LANDING) $(PY) -m devtools.postgres_server \
	  bash -c '$(VENV)/bin/settld api migrate && $(VENV)/bin/settld run --as-of manifest'

test: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 2 --dist loadgroup -q --ignore=tests/api/test_api_schemathesis.py
	@# schemathesis generates one test per API operation under a single test id, which xdist collapses:
	@# run it in one process so every operation is fuzzed.
	env -u DAGSTER_HOME $(PY) -m pytest -q tests/api/test_api_schemathesis.py

# The quick subset while editing: everything not marked slow (no dbt build, no pipeline run); make test
# still runs it all.
test-fast: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 2 --dist loadgroup -q -m "not slow" --ignore=tests/api/test_api_schemathesis.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ui: venv $(DAGSTER_HOME)
	$(VENV)/bin/settld api migrate --database-url $(API_DATABASE_URL)
	SETTLD_LANDING_DIR=$(LANDING) SETTLD_WAREHOUSE_URL=$(WAREHOUSE) SETTLD_API_DATABASE_URL=$(API_DATABASE_URL) \
	  env --default-signal=INT,TERM $(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# `settld api migrate` is the deploy step: the API refuses to start on a database that is not at head.
api: venv
	$(VENV)/bin/settld api migrate --database-url $(API_DATABASE_URL)
	SETTLD_API_DATABASE_URL=$(API_DATABASE_URL) env --default-signal=INT,TERM $(VENV)/bin/settld api serve

bench: venv
	$(VENV)/bin/settld bench --instructions $(or $(BENCH_INSTRUCTIONS),1000000) --out artifacts/bench/reconciliation.json
	$(VENV)/bin/settld bench-api --out artifacts/bench/api.json

clean:
	rm -rf $(VENV) .dagster_home data warehouse dbt_project/target dbt_project/logs
