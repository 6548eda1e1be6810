"""Fixtures shared across the test packages: local chains for the contract tests.

Hypothesis's database lives in the DLPE cache folder (engine.kernel_cache), outside the checkout.

`devnet` is a web3.py client of a local chain, parametrised so that every test using it
runs twice: on the in-process EVM (eth-tester + py-evm) and on anvil (started from
node_modules on a free loopback port, killed at teardown). The anvil case is skipped
only when the anvil binary is not installed. One chain per kind serves the whole session:
tests deploy what they need and must not depend on other tests' state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import configuration as hypothesis_configuration
from web3 import Web3

from engine.kernel_cache import dlpe_cache_folder
from verifier_contracts.devnet import Anvil, find_anvil, in_process_web3

# Hypothesis keeps its example database in the DLPE cache folder, not in the checkout.
hypothesis_configuration.set_hypothesis_home_dir(str(dlpe_cache_folder() / "hypothesis"))
os.environ.setdefault("DLPE_PROVER_CHECK_WITNESS", "1")  # tests: prove() checks every constraint first

DEVNETS = ("py-evm", "anvil")


@pytest.fixture(scope="session")
def anvil_chain() -> Iterator[Anvil]:
    """A running anvil for the session (skips the test when the binary is absent)."""
    if find_anvil() is None:
        pytest.skip("the anvil binary (npm @foundry-rs/anvil) is not installed: run `make install`")
    with Anvil() as chain:
        yield chain


@pytest.fixture(scope="session")
def py_evm_web3() -> Web3:
    """The in-process chain (eth-tester + py-evm) for the session."""
    return in_process_web3()


@pytest.fixture(scope="session", params=DEVNETS)
def devnet(request: pytest.FixtureRequest) -> Web3:
    """A web3.py client of each local chain in turn: py-evm, then anvil."""
    if request.param == "anvil":
        return request.getfixturevalue("anvil_chain").web3()
    return request.getfixturevalue("py_evm_web3")
