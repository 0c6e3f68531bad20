# Two commands matter: `make demo` and `make test`. Everything they need is set up on the way.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := bi_reports/node_modules/.installed
DEMO_DIR := build/demo
export DAGSTER_HOME := $(CURDIR)/build/dagster_home
# Playwright drives the system's Chromium: it never fetches a browser of its own
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: demo test lint unit dev bi-serve install node setup browser server lock bench clean \
	spark-parity bench-spark java

# Without Chromium (not root, or apt-get failed) the demo builds everything but the printed
# morning report and says so in one line. Run again, it keeps what has not changed;
# DEMO_ARGS passes options on (e.g. "--force" to rebuild all, "--scale M", "--no-regions").
demo: setup
	@$(INSTALL_BROWSER) 2>/dev/null || true
	$(BIN)/salesops demo --out $(DEMO_DIR) $(DEMO_ARGS)

# Tests run on three workers (on two cores: much of a test's time it waits on dbt, a stand-in,
# node or a browser); tests sharing an org (session or module fixtures) stay on one worker, and
# the longest groups start first (tests/conftest.py). The 30 slowest steps are listed at the end.
test: setup browser server lint
	$(BIN)/pytest -q -p no:cacheprovider -n 3 --dist loadgroup --no-loadscope-reorder --durations=30; code=$$?; [ $$code -eq 5 ] && { echo "no tests collected"; exit 0; }; exit $$code

# sqlfluff compiles the models as for a first build, whatever warehouse the shell points dbt at
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u SALESOPS_WAREHOUSE $(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor

unit: $(MANIFEST)
	$(BIN)/pytest -q -m "not slow"

dev: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/salesops dev --out $(DEMO_DIR)

bi-serve:
	@echo "BI site on http://127.0.0.1:4173/"
	$(PYTHON) -m http.server 4173 --bind 127.0.0.1 --directory $(DEMO_DIR)/site

install: $(INSTALLED)
node: $(NODE_INSTALLED)
# the virtualenv and node_modules side by side: each waits mostly on downloads and disk
setup:
	@$(MAKE) --no-print-directory -s -j2 $(MANIFEST) $(NODE_INSTALLED) $(DAGSTER_HOME)/dagster.yaml

# Byte-compiled at install: with PYTHONDONTWRITEBYTECODE set, every dbt invocation and test
# process would otherwise compile its imports again (~5 s each).
$(INSTALLED): requirements.lock pyproject.toml
	@echo "setting up .venv from requirements.lock"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

# dbt's manifest, which the Dagster definitions read: parsed here, when a dbt file changed,
# never when the definitions are imported (`dagster dev` parses on its own, prepare_if_dev).
MANIFEST := dbt_project/target/manifest.json
DBT_FILES := dbt_project/dbt_project.yml $(shell find dbt_project/models dbt_project/macros \
	dbt_project/tests -type f 2>/dev/null)
$(MANIFEST): $(INSTALLED) $(DBT_FILES) $(REGISTRY_MACRO)
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet
	touch $@

# the registry of sources (ingest/sources.py) as a dbt macro, which the models read the sources'
# names, labels and freshness settings from; kept in git, so dbt also runs on its own
REGISTRY_MACRO := dbt_project/macros/source_registry.sql
$(REGISTRY_MACRO): ingest/sources.py $(INSTALLED)
	$(BIN)/python -m ingest.sources

$(NODE_INSTALLED): bi_reports/package.json bi_reports/package-lock.json
	@echo "setting up bi_reports/node_modules from package-lock.json"
	cd bi_reports && npm install --no-audit --no-fund --loglevel=error
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

# Headless Chromium prints the morning report and looks at the BI pages in tests. Installed from
# Debian when missing (as root); SALESOPS_CHROMIUM names another browser executable instead.
BROWSER_PACKAGES := chromium fonts-noto-cjk
INSTALL_BROWSER = [ -n "$$SALESOPS_CHROMIUM" ] || command -v chromium >/dev/null || \
	$(call apt_install,$(BROWSER_PACKAGES))
apt_install = { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; }
browser:
	@$(INSTALL_BROWSER) || { echo "chromium is missing: sudo apt-get install $(BROWSER_PACKAGES)" >&2; exit 1; }

# nginx serves the sites with access control (salesops serve-config); htpasswd keeps the logins.
SERVER_PACKAGES := nginx apache2-utils
server:
	@{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null && command -v htpasswd >/dev/null || \
	$(call apt_install,$(SERVER_PACKAGES)) || \
	{ echo "nginx is missing: sudo apt-get install $(SERVER_PACKAGES)" >&2; exit 1; }

# the lock, with hashes, from pyproject.toml's dependencies and its dev and test extras
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --extra test --generate-hashes \
		-o requirements.lock --python-version 3.11

# make bench [BENCH_SCALES="S M L"]: the whole pipeline per scale, then one table of ratios
BENCH_DIR ?= build/bench
BENCH_SCALES ?= S M L
bench: setup
	for s in $(BENCH_SCALES); do \
		$(BIN)/python bench/bench_pipeline.py $$s $(BENCH_DIR)/$$s || exit 1; done
	$(BIN)/python bench/bench_crm.py 1000000 $(BENCH_DIR)/crm
	$(BIN)/python bench/bench_u8.py 1000000 $(BENCH_DIR)/u8
	$(BIN)/python bench/report.py $(BENCH_DIR) | tee $(BENCH_DIR)/report.md

# make spark-parity [SPARK_PARITY_SCALE=S]: the demo org built on DuckDB and on Apache Spark (dbt-spark,
# session mode on the PySpark in .venv, Java 17 or later), every published mart compared row by row
SPARK_PARITY_SCALE ?= XS
JAVA_PACKAGES := openjdk-17-jre-headless
java:
	@command -v java >/dev/null || $(call apt_install,$(JAVA_PACKAGES)) || \
	{ echo "java is missing: sudo apt-get install $(JAVA_PACKAGES)" >&2; exit 1; }
spark-parity: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml java
	$(BIN)/python bench/spark_parity.py --scale $(SPARK_PARITY_SCALE) --out build/spark_parity

# make bench-spark [BENCH_SPARK_SCALES="S M"] [SPARK_MEMORY=4g]: one org per scale built on DuckDB
# and on Spark (local[2] session), per step, summed model time, peak RSS, parity; then the growth
# and the projection (bench/bench_spark.py). Not part of `make test`: M takes an hour or more.
BENCH_SPARK_SCALES ?= S M
SPARK_MEMORY ?= 4g
bench-spark: $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml java
	for s in $(BENCH_SPARK_SCALES); do $(BIN)/python bench/bench_spark.py $$s \
		$(BENCH_DIR)/spark/$$s --spark-memory $(SPARK_MEMORY) || exit 1; done
	$(BIN)/python bench/bench_spark.py --report $(foreach s,$(BENCH_SPARK_SCALES),\
		$(BENCH_DIR)/spark/$(s)/spark_$(s).json) | tee $(BENCH_DIR)/spark/report.md

clean:
	rm -rf build dbt_project/target bi_reports/build bi_reports/.evidence
