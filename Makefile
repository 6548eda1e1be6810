# DLPE: every target installs what it needs on a fresh machine (Python venv + pinned npm tools).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=
KERNEL_STAMP := $(VENV)/.kernels

# Everything a run writes outside .venv/ and node_modules/ goes to the DLPE cache folder
# (compiled kernels, proving keys, solc artifacts, Python bytecode, hypothesis' database).
export DLPE_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dlpe
export PYTHONPYCACHEPREFIX ?= $(DLPE_CACHE_DIR)/pycache

.PHONY: install test test-fast demo bench clean clean-cache

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error  # honours package-lock.json; `npm ci` trips on anvil's per-platform optional packages
	touch $@

# Compile the numba kernels now, so that no later job (the demo, a proof) pays for it.
$(KERNEL_STAMP): $(PY_STAMP)
	$(PY) -m solver.kernels
	touch $@

install: $(PY_STAMP) $(NODE_STAMP) $(KERNEL_STAMP)

## make test: the whole suite (CI runs this)
test: install
	$(PY) -m pytest $(PYTEST_ARGS)

## make test-fast: everything except cases marked slow
test-fast: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

## make demo: the main job end to end
demo: install
	$(VENV)/bin/dlpe demo

## make bench: every benchmark script (quick settings), results under benchmarks/results/
bench: install
	$(PY) benchmarks/bench_fast_path.py --quick
	$(PY) benchmarks/bench_fixed_accuracy.py
	$(PY) benchmarks/bench_circuits.py --quick
	$(PY) benchmarks/bench_verifier_gas.py
	$(PY) benchmarks/bench_prover.py --quick

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis

## make clean-cache: the DLPE cache folder (kernels, keys, solc artifacts)
clean-cache:
	rm -rf "$(DLPE_CACHE_DIR)"
