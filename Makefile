# `make demo` and `make test` work on a fresh machine: they create .venv and install into it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= $(abspath ../shared/data)
export TINYTORCH_DATA ?= $(if $(wildcard $(DATA)/names.txt),$(DATA),)

.PHONY: demo test test-fast test-cudasim bench clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,distributed]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m tinytorch.demo

test: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n 2 -p no:cacheprovider --ignore=tests/cudasim tests
	OMP_NUM_THREADS=1 NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest -q -p no:cacheprovider tests/cudasim

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
