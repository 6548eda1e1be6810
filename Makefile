# DLPE: every target installs what it needs on a fresh machine (Python venv + pinned npm tools).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=
KERNEL_STAMP := $(VENV)/.kernels
BYTECODE_STAMP := $(VENV)/.bytecode

# Everything a run writes outside .venv/ and node_modules/ goes to the DLPE cache folder
# (compiled kernels, proving keys, solc artifacts, Python bytecode, hypothesis' database).
export DLPE_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/dlpe
export PYTHONPYCACHEPREFIX ?= $(DLPE_CACHE_DIR)/pycache

.PHONY: install test test-fast forge-test forge-fixtures contracts demo bench clean clean-cache lint

# forge from npm (@foundry-rs/forge, pinned), compiling with the pinned solc-js through
# verifier_contracts/bin/solc (foundry.toml): nothing is downloaded.
FORGE     := node_modules/.bin/forge
FORGE_DIR := $(DLPE_CACHE_DIR)/forge

# The generated Solidity that verifier_contracts/foundry.toml maps as `generated/`, written into
# $(1) by solver/forge_fixtures.py, all of the smallest book batch (solver/scripted_book.py's
# CAPACITY, the one definition of the sizes forge compiles against): BatchLayout.sol,
# Groth16Verifier.sol of its real key, and ProofFixtures.sol (a scripted life with real proofs).
# Made once per circuit fingerprint and inputs in the DLPE cache folder (cold, with the keys and
# 3 proofs: about 15 s; warm: about 5 s), and copied.
define generate_contracts
	$(PY) -m solver.forge_fixtures $(1)
endef

$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error  # honours package-lock.json; `npm ci` trips on anvil's per-platform optional packages
	touch $@

# Compile the numba kernels now, so that no later job (the demo, a proof) pays for it.
$(KERNEL_STAMP): $(PY_STAMP) $(BYTECODE_STAMP)
	$(PY) -m solver.kernels
	touch $@

# Bytecode of the standard library, the installed packages and the project, written once into
# PYTHONPYCACHEPREFIX (up-to-date files are skipped): with a prefix set, Python reads bytecode
# there only, and where PYTHONDONTWRITEBYTECODE is set it never writes any, so each process would
# compile numba's and web3's imports from source (about 2 s more per process on 2 cores). A file
# that does not compile (a package's Python 2 example, say) only loses that speed-up.
$(BYTECODE_STAMP): $(PY_STAMP)
	$(PY) -m compileall -q -j 0 -x '/(test|tests|idlelib|turtledemo|tkinter|lib2to3)/' \
	    $$($(PY) -c 'import sysconfig; print(*{sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")})') \
	    bn254 engine circuits prover verifier_contracts solver study \
	    || echo "compileall: some files did not compile; their modules compile when imported"
	touch $@

install: $(PY_STAMP) $(NODE_STAMP) $(BYTECODE_STAMP) $(KERNEL_STAMP)

## make test: the whole suite, Solidity (forge) then Python (CI runs this)
test: install forge-test
	$(PY) -m pytest $(PYTEST_ARGS)

## make forge-test: the Solidity unit, fuzz and invariant tests, offline; forge's sources, out/,
## cache/ and failure records go to the DLPE cache folder, nothing into the checkout
forge-test: forge-fixtures
	cd verifier_contracts && \
	FOUNDRY_REMAPPINGS="generated/=$(FORGE_DIR)/generated/" \
	FOUNDRY_OUT="$(FORGE_DIR)/out" FOUNDRY_CACHE_PATH="$(FORGE_DIR)/cache" \
	FOUNDRY_FUZZ_FAILURE_PERSIST_DIR="$(FORGE_DIR)/fuzz" \
	FOUNDRY_INVARIANT_FAILURE_PERSIST_DIR="$(FORGE_DIR)/invariant" \
	../$(FORGE) test

## make forge-fixtures: the generated Solidity forge-test compiles, into $(FORGE_DIR)/generated
## (real proofs: verifier_contracts/test/QuoteVaultProofs.t.sol replays them)
forge-fixtures: install
	$(call generate_contracts,$(FORGE_DIR)/generated)

## make contracts: the same generated Solidity into verifier_contracts/generated/ (git-ignored), so
## that `forge build` and `forge test` work in verifier_contracts/ (VK=verification_key.json then
## replaces the verifier with that key's, whose proofs QuoteVaultProofs.t.sol does not hold)
contracts: install
	$(call generate_contracts,verifier_contracts/generated)
	$(if $(VK),$(PY) -m verifier_contracts.generate $(VK) -o verifier_contracts/generated/Groth16Verifier.sol)

# slither in its own venv: it pins web3<8, which the project cannot (issue 16).
LINT_VENV  := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
LINT_DIR   := $(DLPE_CACHE_DIR)/slither

$(LINT_STAMP):
	$(PYTHON) -m venv $(LINT_VENV)
	$(LINT_VENV)/bin/pip install --quiet 'slither-analyzer==0.11.6'
	touch $@

## make lint: slither on the contracts, offline: the pinned solc-js through verifier_contracts/bin/solc,
## the sources as the Python clients compile them (tools/slither_input.py writes them to the DLPE cache
## folder); fails on any finding not justified next to it (// slither-disable-next-line ... -- why)
lint: install $(LINT_STAMP)
	$(PY) tools/slither_input.py $(LINT_DIR)
	cd $(LINT_DIR) && $(CURDIR)/$(LINT_VENV)/bin/slither input.json --compile-force-framework Solc-json \
	    --solc $(CURDIR)/verifier_contracts/bin/solc --filter-paths '@openzeppelin' --fail-pedantic

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
	$(PY) benchmarks/bench_book_gas.py
	$(PY) benchmarks/bench_prover.py --quick

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis

## make clean-cache: the DLPE cache folder (kernels, keys, solc artifacts)
clean-cache:
	rm -rf "$(DLPE_CACHE_DIR)"
