# Two commands do all the set-up: `make demo` and `make test`.
# A fresh machine needs only Python 3 and make: the first run creates .venv here and
# installs chdml (editable) with every extra, from the versions we tested.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install demo test bench build-check clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[instructor,dev]"
	touch $(STAMP)

demo: install
	$(BIN)/chdml demo

test: install
	$(BIN)/python -m pytest -q -m "not network and not gpu" $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run_all.py

build-check: install
	$(BIN)/chdml build --check

clean:
	rm -rf $(VENV) demo_output bench/output .pytest_cache
