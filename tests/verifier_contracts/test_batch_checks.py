"""BatchChecks.sol against references written the other way (exact rationals), on the boundaries and at random.

The library runs inside BatchChecksHarness (verifier_contracts/test/utils/). Each check is compared
with a Fraction reference stated in real terms (a relative spot move, a vol sqrt(w / t), a loss in
tokens rounded up), so the contract's integer cross-multiplications and roundings are checked, not
restated; and each refusal carries its typed error and values.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from verifier_contracts.build import compile_sources
from verifier_contracts.client import ContractClient, ContractReverted

CONTRACTS = Path(__file__).resolve().parents[2] / "verifier_contracts"
HARNESS = "test/utils/BatchChecksHarness.sol"
ONE = 1 << 48
YEAR = 31_536_000
VOL_CAP = 1 << 52
MAX = 2**256 - 1
quick = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def checks(py_evm_web3: Web3) -> ContractClient:
    sources = {name: (CONTRACTS / name).read_text() for name in (HARNESS, "BatchChecks.sol")}
    return ContractClient.deploy_compiled(py_evm_web3, compile_sources(sources)["BatchChecksHarness"])


def outcome(checks: ContractClient, function: str, *args: int) -> tuple[str, dict] | None:
    """None when the call returns, else (error, values)."""
    try:
        checks.call(function, *args)
    except ContractReverted as refused:
        return refused.error, refused.values
    return None


# ------------------------------------------------------------------ freshness


def test_an_observation_is_fresh_up_to_max_age_inclusive(checks: ContractClient) -> None:
    assert outcome(checks, "requireFresh", 1_000, 300, 1_300) is None
    assert outcome(checks, "requireFresh", 1_000, 300, 1_301) == (
        "StaleObservation", {"observedAt": 1_000, "blockTime": 1_301, "maxAge": 300})


# ------------------------------------------------------------------ spot tolerance


def spot_within(batch_spot: int, spot: int, tolerance: int) -> bool:
    return abs(Fraction(spot, batch_spot) - 1) <= Fraction(tolerance, ONE)


@quick
@given(batch_spot=st.integers(1, 2**100), move=st.floats(-0.5, 0.5), tolerance=st.integers(0, ONE))
def test_spot_tolerance_is_a_relative_move(checks: ContractClient, batch_spot: int, move: float, tolerance: int) -> None:
    spot = max(1, int(batch_spot * (1 + move)))
    expected = None if spot_within(batch_spot, spot, tolerance) else (
        "SpotMoved", {"batchSpot": batch_spot, "spot": spot, "tolerance": tolerance})
    assert outcome(checks, "requireSpotWithin", batch_spot, spot, tolerance) == expected


def test_spot_tolerance_boundary_is_inclusive(checks: ContractClient) -> None:
    batch_spot, tolerance = 64 * ONE, ONE // 64  # 1/64 exactly
    assert outcome(checks, "requireSpotWithin", batch_spot, 65 * ONE, tolerance) is None
    assert outcome(checks, "requireSpotWithin", batch_spot, 63 * ONE, tolerance) is None
    assert outcome(checks, "requireSpotWithin", batch_spot, 65 * ONE + 1, tolerance)[0] == "SpotMoved"
    assert outcome(checks, "requireSpotWithin", batch_spot, 63 * ONE - 1, tolerance)[0] == "SpotMoved"


# ------------------------------------------------------------------ ATM vol band


def vol_in_band(atm_variance: int, seconds: int, index: int, band: int) -> bool:
    """sqrt(w / t) in [index - band, index + band] (real terms), squared to stay rational."""
    variance_rate = Fraction(atm_variance, ONE) / Fraction(seconds, YEAR)  # vol^2
    lo, hi = max(Fraction(index - band, ONE), Fraction(0)), Fraction(index + band, ONE)
    return lo * lo <= variance_rate <= hi * hi


@quick
@given(seconds=st.integers(1, 3 * YEAR), vol=st.floats(0.01, 3.0), index=st.floats(0.05, 2.0),
       band=st.floats(0.0, 0.5))
def test_atm_vol_band_matches_the_reference(checks: ContractClient, seconds: int, vol: float, index: float,
                                            band: float) -> None:
    atm_variance = min(int(vol * vol * seconds / YEAR * ONE), (1 << 53) - 1)
    index_fx, band_fx = int(index * ONE), int(band * ONE)
    oracle_time = 1_700_000_000
    args = (2, oracle_time + seconds, oracle_time, atm_variance, index_fx, band_fx)
    expected = None if vol_in_band(atm_variance, seconds, index_fx, band_fx) else (
        "AtmVolOutsideBand", {"expiryIndex": 2, "atmVariance": atm_variance, "secondsToExpiry": seconds,
                              "ivIndex": index_fx, "band": band_fx})
    assert outcome(checks, "requireAtmVolInBand", *args) == expected


def test_atm_vol_band_edges_and_refusals(checks: ContractClient) -> None:
    oracle_time, seconds = 1_700_000_000, YEAR  # t = 1: w(0) = vol^2
    index, band = ONE // 2, ONE // 10  # 50% +- 10%
    at = lambda variance: outcome(checks, "requireAtmVolInBand", 0, oracle_time + seconds, oracle_time,  # noqa: E731
                                  variance, index, band)
    hi_w = (index + band) ** 2 // ONE  # floor of 0.36 at 2^-48: inside
    lo_w = -(-((index - band) ** 2) // ONE)  # ceil of 0.16: inside
    assert at(hi_w) is None and at(lo_w) is None
    assert at(hi_w + 1)[0] == "AtmVolOutsideBand" and at(lo_w - 1)[0] == "AtmVolOutsideBand"
    assert outcome(checks, "requireAtmVolInBand", 0, oracle_time, oracle_time, lo_w, index, band) == (
        "ExpiryNotAfter", {"expiry": oracle_time, "oracleTime": oracle_time})
    assert outcome(checks, "requireAtmVolInBand", 0, oracle_time + 1, oracle_time, 0, VOL_CAP, 1) == (
        "VolBoundOutOfRange", {"ivIndex": VOL_CAP, "band": 1})
    assert outcome(checks, "requireAtmVolInBand", 0, oracle_time + 1, oracle_time, 0, MAX, MAX)[0] == (
        "VolBoundOutOfRange")


# ------------------------------------------------------------------ solvency


def solvent(worst_loss: int, unit: int, margin: int, free: int) -> bool:
    return math.ceil(Fraction(worst_loss * unit, ONE)) + margin <= free


@quick
@given(worst_loss=st.integers(0, 2**120), decimals=st.integers(0, 18), margin=st.integers(0, 2**80),
       free=st.integers(0, 2**140))
def test_solvency_matches_the_reference(checks: ContractClient, worst_loss: int, decimals: int, margin: int,
                                        free: int) -> None:
    unit = 10**decimals
    result = outcome(checks, "requireSolvent", worst_loss, unit, margin, free)
    if solvent(worst_loss, unit, margin, free):
        assert result is None
    else:
        needed = math.ceil(Fraction(worst_loss * unit, ONE)) + margin
        assert result == ("Insolvent", {"needed": needed, "available": free})


def test_solvency_rounds_the_loss_up_and_refuses_what_no_uint_holds(checks: ContractClient) -> None:
    # a loss of one 2^-48 unit of currency is one token base unit owed (rounded up)
    assert outcome(checks, "requireSolvent", 1, 1, 0, 0) == ("Insolvent", {"needed": 1, "available": 0})
    assert outcome(checks, "requireSolvent", 1, 1, 0, 1) is None
    assert outcome(checks, "requireSolvent", 5 * ONE, 10**6, 7, 5 * 10**6 + 7) is None
    assert outcome(checks, "requireSolvent", 5 * ONE, 10**6, 8, 5 * 10**6 + 7)[0] == "Insolvent"
    assert outcome(checks, "requireSolvent", 2**250 - 1, 10**18, 0, MAX) == (
        "Insolvent", {"needed": MAX, "available": MAX})
    assert outcome(checks, "requireSolvent", ONE, 1, MAX, MAX) == ("Insolvent", {"needed": MAX, "available": MAX})
