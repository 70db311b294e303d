# Concord: build, run and check the warehouse. GNU make; recipes are POSIX sh.
# Every target works from a fresh clone: the virtual environment is created on demand.

SHELL := /bin/sh
.DEFAULT_GOAL := help

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Public environment (see docs/interfaces.md). Override on the command line or in the environment.
export CONCORD_LANDING_DIR ?= data/landing
export CONCORD_WAREHOUSE ?= data/warehouse.duckdb
export CONCORD_SERVED_WAREHOUSE ?= data/served.duckdb
# CONCORD_PII_SALT: required for any landing zone but the default simulated world, which uses
# the documented development salt when it is unset (ingestion/pii.py).
export DBT_PROFILES_DIR := profiles
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

# The default world. `python -m simulation --out DIR` writes DIR/landing and DIR/truth, so
# generating into `data` fills the default landing zone `data/landing` (truth in `data/truth`).
DEFAULT_LANDING_DIR := data/landing
WORLD_OUT := data
WORLD_SEED ?= 42
WORLD_SF ?= 0.05
WORLD_DAYS ?= 60
WORLD_START ?= 2026-01-01

# Tools of the virtual environment come first on PATH: `dagster dev` re-parses the dbt project
# by running `dbt`, which must be the pinned one.
export PATH := $(CURDIR)/$(BIN):$(PATH)

DBT_FLAGS := --project-dir . --profiles-dir $(DBT_PROFILES_DIR)
# pytest workers (pytest-xdist): tests sharing a world run on one worker (tests/python/conftest.py).
TEST_WORKERS ?= 2
# macros/ is not listed: the dbt templater can only render nodes and skips macro files.
SQL_PATHS := models tests

.PHONY: FORCE help install world dirs parse lint lint-python lint-sql run serve ui test clean distclean \
	versions postgres postgres-stop semantic dashboard chromium test-spark

help:
	@echo "make run        set up, generate the default world if the landing zone is empty, run the pipeline"
	@echo "make serve      Concord as a service: the Dagster webserver and daemon on http://127.0.0.1:3000;"
	@echo "                new landing files are ingested, built and published by themselves"
	@echo "make ui         the same processes as make serve (the UI needs the daemon for its sensors)"
	@echo "make test       set up, then every check (dbt parse, mf validate-configs, sqlfluff, ruff, pytest)"
	@echo "make versions   the published versions of the served copy (the current one starred)"
	@echo "make dashboard  the control tower (Streamlit) on the served copy, http://127.0.0.1:$(DASHBOARD_PORT)"
	@echo "make chromium   install Debian's chromium (headless browser of the dashboard test) if missing"
	@echo "make postgres   install (if needed) and start a local PostgreSQL on 127.0.0.1 for BI tools"
	@echo "make test-spark the spark dbt target proven equal to DuckDB on two small worlds (needs Java 17)"
	@echo "make lint       ruff and sqlfluff only"
	@echo "make semantic   validate the semantic layer (mf validate-configs; no warehouse needed)"
	@echo "make clean      remove data/, target/, logs/, dbt_packages/ (distclean also removes .venv)"

# ---- environment -----------------------------------------------------------------------------

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "install: $(PY) is older than Python 3.11; run e.g. make PY=python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

dirs:
	@mkdir -p "$(DAGSTER_HOME)" "$(dir $(CONCORD_WAREHOUSE))" "$(dir $(CONCORD_SERVED_WAREHOUSE))"
	@[ -f "$(DAGSTER_HOME)/dagster.yaml" ] || cp orchestration/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml"
	@cmp -s orchestration/dagster.yaml "$(DAGSTER_HOME)/dagster.yaml" || \
		echo "dirs: $(DAGSTER_HOME)/dagster.yaml differs from orchestration/dagster.yaml (kept as it is; copy the latter over it for this version's settings)"

# ---- data ------------------------------------------------------------------------------------

# Generate the default world only when the landing zone is the default one and holds no files.
# A landing zone the user points elsewhere is never written to.
world: install
	@if [ "$(abspath $(CONCORD_LANDING_DIR))" != "$(abspath $(DEFAULT_LANDING_DIR))" ]; then \
		echo "world: CONCORD_LANDING_DIR=$(CONCORD_LANDING_DIR) is not the default; generating nothing"; \
	elif [ -d "$(CONCORD_LANDING_DIR)" ] && \
		[ -n "$$(find "$(CONCORD_LANDING_DIR)" -type f | head -n 1)" ]; then \
		echo "world: $(CONCORD_LANDING_DIR) already holds files; generating nothing"; \
	else \
		echo "world: generating the default world into $(WORLD_OUT)"; \
		$(BIN)/python -m simulation --seed $(WORLD_SEED) --scale-factor $(WORLD_SF) \
			--days $(WORLD_DAYS) --start-date $(WORLD_START) --out $(WORLD_OUT); \
	fi

# ---- pipeline --------------------------------------------------------------------------------

parse: install dirs
	$(BIN)/dbt --quiet parse $(DBT_FLAGS)

# The parse `make run` reads, made again only when something dbt parses changed since: a file of
# the project or a folder's entries (a file added or removed), the installed packages, or the
# environment (every CONCORD_ and DBT_ variable but the salt, which a DuckDB parse never renders;
# kept in target/.parse-env). So a run with nothing new does not wait for dbt's start-up.
PARSED := target/manifest.json
DBT_INPUTS := $(shell find models macros seeds tests/dbt -print 2>/dev/null) dbt_project.yml \
	profiles/profiles.yml

target/.parse-env: FORCE
	@mkdir -p target
	@env | grep -E '^(CONCORD|DBT)_' | grep -v '^CONCORD_PII_SALT=' | sort > $@.new; \
		if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

$(PARSED): $(DBT_INPUTS) $(VENV)/.installed target/.parse-env
	$(BIN)/dbt --quiet parse $(DBT_FLAGS)

FORCE:

# Ends by printing the version it published (or why it published nothing) and the served KPIs.
# orchestration.run exits 1 when files of the run need attention; in the default simulated
# world they are the simulator's injected defects (data/truth/defects.csv), caught by design.
run: install world dirs $(PARSED)
	@$(BIN)/python -m orchestration.run $(if $(FULL_REFRESH),--full-refresh)

versions: install
	$(BIN)/python -m publishing versions

# A local PostgreSQL server (Debian's package, installed by apt-get when missing) on 127.0.0.1,
# data in CONCORD_PG_DATA (default data/postgres). Publishing to it is enabled by CONCORD_PG_DSN.
postgres: install
	$(BIN)/python -m publishing.pg_cluster start

postgres-stop: install
	$(BIN)/python -m publishing.pg_cluster stop

# No -m: `dagster dev` then reads [tool.dagster] in pyproject.toml (module
# orchestration.definitions, code location "concord"); with -m the location would be named
# after the module instead.
ui: install world parse
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

# Concord as a service (README.md): `dagster dev` runs the webserver and the daemon
# together, on 127.0.0.1 only. The landing sensor, the transform-after-ingest sensor (which
# publishes) and the daily close are on by default (orchestration/automation.py); the freshness
# policies of the raw tables and KPI marts are evaluated by the same daemon. Run history and
# sensor cursors live in DAGSTER_HOME (data/dagster_home), shared with `make run` and `make ui`.
serve: install world parse
	@echo "serve: Concord on http://127.0.0.1:3000 watching $(CONCORD_LANDING_DIR) (Ctrl-C stops)"
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

# The control tower reads only the served copy (CONCORD_SERVED_WAREHOUSE; `make run` publishes
# it); parse writes target/semantic_manifest.json, from which it compiles the metrics' SQL.
# Settings (127.0.0.1, headless, no usage statistics): .streamlit/config.toml.
DASHBOARD_PORT ?= 8501
dashboard: install dirs parse
	$(BIN)/streamlit run dashboard/app.py --server.port $(DASHBOARD_PORT)

# The browser test drives Debian's chromium (never a downloaded browser); as root apt-get runs
# directly, otherwise through sudo.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends chromium; }

# ---- checks ----------------------------------------------------------------------------------

lint-python: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# --processes 0: one process per core (dbt compiles once, the files are linted in parallel; the
# findings are the same): 5m51 -> 3m22 on a two-core machine (docs/benchmarks.md).
lint-sql: install dirs
	@paths=""; for d in $(SQL_PATHS); do [ -d "$$d" ] && paths="$$paths $$d"; done; \
	if [ -n "$$paths" ] && [ -n "$$(find $$paths -name '*.sql' -type f | head -n 1)" ]; then \
		echo "$(BIN)/sqlfluff lint$$paths --dialect duckdb --processes 0 (templater on a scratch warehouse)"; \
		CONCORD_WAREHOUSE=data/sqlfluff.duckdb $(BIN)/sqlfluff lint $$paths --dialect duckdb --processes 0; \
	else \
		echo "lint-sql: no .sql files under $(SQL_PATHS); skipping"; \
	fi

lint: lint-python lint-sql

# The semantic layer's definitions (semantic models, metrics, saved queries) as MetricFlow reads
# them from target/semantic_manifest.json, which parse writes. --skip-dw: the checks against a
# warehouse are the test suite's (tests/python/test_semantic_layer.py), on built test worlds.
semantic: parse
	$(BIN)/mf validate-configs --skip-dw

# Cheapest first (docs/style.md); semantic runs parse first. Sequential on purpose, also under
# `make -j`.
test: install chromium
	$(MAKE) --no-print-directory semantic
	$(MAKE) --no-print-directory lint-sql
	$(MAKE) --no-print-directory lint-python
	@# tests/spark runs by make test-spark only; collecting it here (no Spark needed) catches a
	@# broken import of the shared test helpers in the everyday suite.
	$(BIN)/python -m pytest -p no:xdist -p no:cacheprovider --collect-only -qq tests/spark
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The spark dbt target proven equal to DuckDB on a small world (docs/spark.md): needs Java 17
# (Debian's openjdk-17-jre-headless) and the optional extra `spark`, installed here on demand.
# Not part of `make test`: a local Spark session takes minutes and a core of its own.
$(VENV)/.installed-spark: $(VENV)/.installed requirements-spark.lock
	$(BIN)/python -m pip install --quiet -r requirements-spark.lock
	touch $@

test-spark: $(VENV)/.installed-spark
	@command -v java >/dev/null || { echo "test-spark: no java; install openjdk-17-jre-headless" >&2; exit 1; }
	SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest -p no:xdist tests/spark

# ---- housekeeping ----------------------------------------------------------------------------

clean:
	@[ ! -x $(BIN)/python ] || $(BIN)/python -m publishing.pg_cluster stop >/dev/null 2>&1 || true
	rm -rf data target logs dbt_packages

distclean: clean
	rm -rf $(VENV)
