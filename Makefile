# Settld finance data platform. Every target creates .venv/ from requirements.lock when it is missing
# or older than the lock, so `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE :=
# No setting is decided here: the landing zone, the warehouse, the artifacts and the operator API's database
# take their one default from settld/settings.py (data/landing, warehouse/settld.duckdb, artifacts/,
# warehouse/settld-api.sqlite3: folders of SETTLD_HOME, the repository unless set), as every command does;
# SETTLD_* variables in the environment override them for make and for the commands alike.
SETTLD := $(VENV)/bin/settld
# `make demo-postgres` keeps its own state (landing zone, artifacts, run log, Dagster home) under postgres/.
POSTGRES_HOME := $(CURDIR)/postgres

.PHONY: screenshots test-drills test-spark venv demo demo-postgres test test-fast lint format ui api bench go-live clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@test -x $(PY) || uv venv --quiet --python 3.11 $(VENV)
	UV_COMPILE_BYTECODE=1 uv pip install --quiet --python $(PY) -r requirements.lock
	uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

$(DAGSTER_HOME) $(POSTGRES_HOME)/.dagster_home:
	@mkdir -p $@ && printf 'telemetry:\n  enabled: false\n' > $@/dagster.yaml

demo: venv $(DAGSTER_HOME)
	$(SETTLD) generate
	$(SETTLD) api migrate
	$(SETTLD) api seed-policies
	$(SETTLD) run --as-of manifest

# The same demo on PostgreSQL: a throwaway server (devtools/postgres_server.py) holds the warehouse in
# database `settld` and the operator API in its schema `operator_api`; it is deleted when the run ends.
# Its landing zone, artifacts, run log and Dagster runs (tagged settld/warehouse=postgres) stay in postgres/.
# With your own server, set SETTLD_WAREHOUSE_URL=postgresql://... and run `settld api migrate` then `settld run`.
demo-postgres: export SETTLD_HOME := $(POSTGRES_HOME)
demo-postgres: export DAGSTER_HOME := $(POSTGRES_HOME)/.dagster_home
demo-postgres: venv $(POSTGRES_HOME)/.dagster_home
	$(SETTLD) generate
	$(PY) -m devtools.postgres_server bash -c '$(SETTLD) api migrate && $(SETTLD) api seed-policies && $(SETTLD) run --as-of manifest'

test: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 2 --dist loadgroup -q -m "not drill and not spark" --ignore=tests/api/test_api_schemathesis.py --durations=40

# The quick subset while editing: everything not marked slow (no dbt build, no pipeline run); make test
# still runs it all.
test-fast: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 2 --dist loadgroup -q -m "not slow and not spark" --ignore=tests/api/test_api_schemathesis.py

# The slow drills (each reruns the pipeline or a dbt build, or walks every route on Postgres) and schemathesis:
# CI runs them after make test.
test-drills: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 2 --dist loadgroup -q -m drill --durations=20
	@# schemathesis (every operation of the OpenAPI document, about a minute) generates one test per operation
	@# under a single test id, which xdist collapses: run it in one process so every operation is fuzzed.
	env -u DAGSTER_HOME $(PY) -m pytest -q tests/api/test_api_schemathesis.py

# The Spark tests (marker spark): the demo landing zone on DuckDB and a Spark session with identical marts,
# reports and close bundles, and the Spark cluster drill. They need Java 17+ (.ci/run installs it).
test-spark: venv
	env -u DAGSTER_HOME $(PY) -m pytest -n 0 -q -m spark --durations=10

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ui: venv $(DAGSTER_HOME)
	$(SETTLD) api migrate
	env --default-signal=INT,TERM $(VENV)/bin/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

# `settld api migrate` is the deploy step: the API refuses to start on a database that is not at head.
api: venv
	$(SETTLD) api migrate
	env --default-signal=INT,TERM $(SETTLD) api serve

bench: venv
	$(SETTLD) bench-sweep --sizes 10000,100000,$(or $(BENCH_INSTRUCTIONS),1000000) --out-dir artifacts/bench
	$(SETTLD) bench-api --out artifacts/bench/api.json

# The go-live gate (docs/go-live.md): critical tests, throughput drill and incident rehearsal on Postgres,
# pipeline drill at 10x, lighthouse tracker; exit 1 unless every check passed. Reports in artifacts/drills/.
go-live: venv
	$(SETTLD) gate go-live --out artifacts/drills

# Everything runs produce (the venv too): the next `make demo` starts from nothing, as on a fresh clone.
clean:
	rm -rf $(VENV) .dagster_home* $(POSTGRES_HOME) data warehouse dbt_project/target dbt_project/logs
	find artifacts -mindepth 1 -maxdepth 1 -not -name README.md -exec rm -rf {} +

# The Dagster UI's answers as PNGs in docs/screenshots/ (after `make demo`; needs Debian's chromium).
screenshots: venv
	$(PY) -m devtools.screenshots docs/screenshots
