# The two commands of the README: `make demo` and `make test` (which runs `make lint` first).
# Both create .venv and install the locked dependency set into it themselves.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOME_DIR ?= var
DEMO_PERSONS ?= 50000
DEMO_DAYS ?= 30
DEMO_START ?= 2025-03-01

.PHONY: demo test install lock lint clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv>=0.5"
	# Bytecode compiled once here: every Airflow task is a new process, and a
	# machine that never writes .pyc files would compile scikit-learn in each.
	$(BIN)/uv pip sync -q --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(STAMP)
	$(BIN)/wugan synth --home $(HOME_DIR) --persons $(DEMO_PERSONS) --start $(DEMO_START) --days $(DEMO_DAYS) --corrupt 0.001
	$(BIN)/wugan run --home $(HOME_DIR) --start $(DEMO_START) --days $(DEMO_DAYS)
	$(BIN)/wugan users demo --home $(HOME_DIR)
	@echo
	@echo "Where to look:"
	@echo "  the lake:       $(HOME_DIR)/lake.duckdb   (e.g. duckdb: SELECT reason, count(*) FROM quarantine GROUP BY 1)"
	@echo "  the case store: $(HOME_DIR)/cases.db      (cases, items, tasks, decisions, notices, audit_log)"
	@echo "  notices sent:   $(HOME_DIR)/outbox/"
	@echo "  take-up report: $(BIN)/wugan reconcile --home $(HOME_DIR) --as-of $$($(BIN)/python -c 'import datetime as d; print(d.date.fromisoformat("$(DEMO_START)") + d.timedelta(days=$(DEMO_DAYS) - 1))')   (who is owed what has not reached them, and why)"
	@echo "  the web app:    $(BIN)/wugan serve --home $(HOME_DIR) --today $$($(BIN)/python -c 'import datetime as d; print(d.date.fromisoformat("$(DEMO_START)") + d.timedelta(days=$(DEMO_DAYS) - 1))')"
	@echo "                  then open http://127.0.0.1:8000 and log in with a demo login above"

# bandit: no finding of high severity (a reviewed exclusion carries "# nosec BXXX" and its reason)
test: lint
	$(BIN)/bandit -q -r src dags --severity-level high
	$(BIN)/wugan rules test
	$(BIN)/pytest -q

# ruff (with the complexity limit, C90) and the import contracts in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check src tests dags bench
	$(BIN)/lint-imports --no-cache --no-logo

# Re-lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) $(HOME_DIR) test-output
