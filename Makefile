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

.PHONY: demo test lint unit dev bi-serve install node browser lock bench clean

demo: $(INSTALLED) $(NODE_INSTALLED) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/salesops demo --out $(DEMO_DIR)

# Tests run on two workers; tests sharing an org (session fixtures) stay on one worker.
test: $(INSTALLED) $(NODE_INSTALLED) $(DAGSTER_HOME)/dagster.yaml browser lint
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadgroup; code=$$?; [ $$code -eq 5 ] && { echo "no tests collected"; exit 0; }; exit $$code

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar --nocolor

unit: $(INSTALLED)
	$(BIN)/pytest -q -m "not slow"

dev: $(INSTALLED) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/salesops dev --out $(DEMO_DIR)

bi-serve:
	@echo "BI site on http://127.0.0.1:4173/"
	$(PYTHON) -m http.server 4173 --bind 127.0.0.1 --directory $(DEMO_DIR)/site

install: $(INSTALLED)
node: $(NODE_INSTALLED)

# Byte-compiled at install: with PYTHONDONTWRITEBYTECODE set, every dbt invocation and test
# process would otherwise compile its imports again (~5 s each).
$(INSTALLED): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

$(NODE_INSTALLED): bi_reports/package.json bi_reports/package-lock.json
	cd bi_reports && npm install --no-audit --no-fund --loglevel=error
	touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

# Headless Chromium looks at the BI pages in tests. Installed from Debian when missing (as root).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi; }

lock:
	$(BIN)/uv pip compile requirements.in -o requirements.lock --python-version 3.11

# make bench [BENCH_SCALES="S M L"]: the whole pipeline per scale, then one table of ratios
BENCH_DIR ?= build/bench
BENCH_SCALES ?= S M L
bench: $(INSTALLED) $(NODE_INSTALLED) $(DAGSTER_HOME)/dagster.yaml
	for s in $(BENCH_SCALES); do \
		$(BIN)/python bench/bench_pipeline.py $$s $(BENCH_DIR)/$$s || exit 1; done
	$(BIN)/python bench/bench_crm.py 1000000 $(BENCH_DIR)/crm
	$(BIN)/python bench/report.py $(BENCH_DIR) | tee $(BENCH_DIR)/report.md

clean:
	rm -rf build dbt_project/target bi_reports/build bi_reports/.evidence
