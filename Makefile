# hubdesk: every target makes its own virtual environment from nothing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= $(CURDIR)/.demo

.PHONY: run test bench lint install clean demo

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,central]'
	touch $(STAMP)

install: $(STAMP)

# Opens the desk on a synthetic demo profile (fake people only).
run: $(STAMP)
	HUBDESK_HOME=$(DEMO_HOME) $(BIN)/python -m hubdesk.demo_run

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check src tests bench sync
	$(BIN)/ruff format --check src tests bench sync
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DEMO_HOME)
