# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Keras parity tests run Keras on JAX, the light CPU-only backend.
export KERAS_BACKEND ?= jax

.PHONY: demo test test-fast lint bench clean

# The slow tiers (see the markers in pyproject.toml); `make test` runs them all.
SLOW_TIERS := keras or dask or browser or subprocess or estimator_checks

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/backprop-lab demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(wildcard src tests bench examples)
	$(BIN)/ruff format --check $(wildcard src tests bench examples)

test: lint
	$(BIN)/python -m pytest -q --durations=10

# The development loop: everything but the slow tiers, on two workers (pytest-xdist).
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n 2 -m "not ($(SLOW_TIERS))"

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $(VENV)/.installed $(VENV)/.installed-test $@

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_demo.py
	$(BIN)/python bench/bench_recording.py
	$(BIN)/python bench/bench_sklearn.py
	$(BIN)/python bench/bench_keras.py
	$(BIN)/python bench/bench_serve.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
