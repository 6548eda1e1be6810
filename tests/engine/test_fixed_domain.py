"""engine.fixed's input domain: to_fixed, the BSM entry points' types, and in_fixed_domain.

to_fixed turns only real numbers into fixed point; bsm_fixed takes fixed-point ints
and a real bool; in_fixed_domain answers, without raising, exactly where bsm_fixed
would refuse.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import fixed as fx
from engine.errors import DLPEError, FixedPointOverflow, InvalidInput

NOT_REAL = [math.nan, math.inf, -math.inf, None, "abc", "1.5", "", True, False, np.bool_(True), 1 + 2j,
            [1.0], (1.0,), {"x": 1.0}, Decimal("1.5"), np.array([1.0]), b"1"]


@pytest.mark.parametrize("bad", NOT_REAL, ids=[repr(b) for b in NOT_REAL])
def test_to_fixed_refuses_what_is_not_a_finite_real_number(bad):
    with pytest.raises(InvalidInput) as info:
        fx.to_fixed(bad, "spot")
    assert info.value.field == "spot"


def test_to_fixed_names_the_reason():
    with pytest.raises(InvalidInput, match="must not be NaN"):
        fx.to_fixed(math.nan)
    with pytest.raises(InvalidInput, match="must be finite"):
        fx.to_fixed(-math.inf)
    with pytest.raises(InvalidInput, match="not a bool"):
        fx.to_fixed(True)
    with pytest.raises(InvalidInput, match="not str"):
        fx.to_fixed("0.1")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, fx.ONE),
        (0.5, fx.ONE // 2),
        (Fraction(1, 4), fx.ONE // 4),
        (np.float64(0.25), fx.ONE // 4),
        (np.float32(1.5), 3 * fx.ONE // 2),
        (np.int64(-3), -3 * fx.ONE),
        (np.longdouble(2.0), 2 * fx.ONE),
        (2.0**-49, 1),  # the tie rounds up
        (-(2.0**-49), 0),
    ],
)
def test_to_fixed_converts_every_real_type_exactly(value, expected):
    assert fx.to_fixed(value) == expected
    assert type(fx.to_fixed(value)) is int


def test_to_fixed_overflow_is_typed_and_readable():
    for value in (2.0**47, -1e300, 10**20):
        with pytest.raises(FixedPointOverflow) as info:
            fx.to_fixed(value, "spot")
        assert str(info.value).startswith("spot: ") and "2^47" in str(info.value)
        assert len(str(info.value)) < 120
    assert fx.to_fixed(2.0**47 - 1.0) == (2**47 - 1) * fx.ONE


@pytest.mark.parametrize("bad", [True, 1.5, None, "1", np.float64(1.0)])
def test_from_fixed_takes_integers_only(bad):
    with pytest.raises(InvalidInput):
        fx.from_fixed(bad)
    assert fx.from_fixed(np.int64(fx.ONE)) == 1.0


# --- bsm_fixed's arguments ---------------------------------------------------------------------

ARGS = dict(zip(("spot", "strike", "t", "rate", "vol"), (fx.to_fixed(x) for x in (100.0, 110.0, 0.5, 0.03, 0.4))))


@pytest.mark.parametrize("bad", ["False", "True", 0, 1, None, 1.0, np.int64(1)])
def test_bsm_fixed_takes_a_real_bool_for_the_option_type(bad):
    with pytest.raises(InvalidInput) as info:
        fx.bsm_fixed(**ARGS, is_call=bad)
    assert info.value.field == "is_call"


def test_bsm_fixed_accepts_numpy_bools_as_bools():
    assert fx.bsm_fixed(**ARGS, is_call=np.bool_(False)) == fx.bsm_fixed(**ARGS, is_call=False)


@pytest.mark.parametrize("field", [*ARGS, "carry"])
@pytest.mark.parametrize("bad", [100.0, True, None, "100", np.int64(100)])
def test_bsm_fixed_takes_fixed_point_ints(field, bad):
    with pytest.raises(InvalidInput) as info:
        fx.bsm_fixed(**(ARGS | {field: bad}), is_call=True)
    assert info.value.field == field


def test_svi_parameters_are_fixed_point_ints():
    with pytest.raises(InvalidInput) as info:
        fx.SVIFixed(0.04, fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
    assert info.value.field == "svi.a"


def test_bsm_fixed_svi_takes_a_real_bool():
    terms = fx.expiry_terms(ARGS["t"], ARGS["rate"])
    svi = fx.SVIFixed(fx.to_fixed(0.04), fx.to_fixed(0.1), fx.to_fixed(-0.3), 0, fx.to_fixed(0.2))
    with pytest.raises(InvalidInput) as info:
        fx.bsm_fixed_svi(ARGS["spot"], ARGS["strike"], terms, svi, "call")
    assert info.value.field == "is_call"


# --- in_fixed_domain ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "field"),
    [  # the float path prices all of these (issue 9); the fixed-point domain is narrower
        ((100.0, 100.0, 1.0, 0.05, 100.0, 0.0), "vol"),
        ((1e12, 1e12, 1.0, 0.05, 0.6, 0.0), "spot"),
        ((2e-5, 2e-5, 1.0, 0.05, 0.6, 0.0), "spot"),
        ((95_000.0, 1.0, 0.25, 0.05, 0.6, 0.0), "strike"),
        ((100.0, 100.0, 1.0, 5.0, 0.6, 0.0), "rate"),
        ((100.0, 100.0, 0.0, 0.05, 0.6, 0.0), "t"),
        ((100.0, 100.0, 1e-12, 0.05, 0.6, 0.0), "vol"),  # vol·sqrt(t) below 2^-16
        ((100.0, 100.0, 1.0, 0.05, 0.6, -0.75), "carry"),
        ((1e300, 100.0, 1.0, 0.05, 0.6, 0.0), "spot"),
        ((None, 100.0, 1.0, 0.05, 0.6, 0.0), "spot"),
        ((100.0, "110", 1.0, 0.05, 0.6, 0.0), "strike"),
        ((100.0, 100.0, 1.0, 0.05, math.nan, 0.0), "vol"),
    ],
)
def test_in_fixed_domain_names_the_field_outside(inputs, field):
    reason = fx.in_fixed_domain(*inputs)
    assert reason is not None and reason.startswith(f"{field}: ")


def test_in_fixed_domain_accepts_the_demo_market():
    assert fx.in_fixed_domain(95_000.0, 100_000.0, 30 / 365, 0.04, 0.6, 0.0) is None
    assert fx.in_fixed_domain(42, 40, 0.5, 0.1, 0.2) is None


def agrees_with_bsm_fixed(spot, strike, t, rate, vol, carry) -> None:
    """in_fixed_domain says None exactly where bsm_fixed prices, and the same reason where it refuses."""
    reason = fx.in_fixed_domain(spot, strike, t, rate, vol, carry)
    try:
        fixed = [fx.to_fixed(x, f) for x, f in zip((spot, strike, t, rate, vol, carry), ("s", "k", "t", "r", "v", "q"))]
        for is_call in (True, False):
            fx.bsm_fixed(*fixed[:5], is_call, fixed[5])
    except InvalidInput as exc:
        assert reason is not None and reason.endswith(str(exc).split(": ", 1)[1]), (reason, str(exc))
    except FixedPointOverflow:
        assert reason is not None  # only from to_fixed: inside the domain nothing overflows
    else:
        assert reason is None


# The corners of the fixed-point domain (and just outside): nothing inside may overflow.
SPOTS = [2.0**-8, 1.0, 95_000.0, 2.0**32]
MONEYNESS = [2.0**-4, 1.0, 2.0**4, 2.0**4 * 1.0001]
EXPIRIES = [2.0**-32, 1 / 8760, 4.0, 4.0001]
RATES = [-0.5, 0.0, 0.5]
VOLS = [2.0**-30, 0.05, 8.0]  # the smallest: vol·sqrt(t) below 2^-16 for every expiry


def test_in_fixed_domain_agrees_with_bsm_fixed_at_the_corners():
    for spot, m, t, rate, vol, carry in itertools.product(SPOTS, MONEYNESS, EXPIRIES, RATES, VOLS, [-0.5, 0.5]):
        agrees_with_bsm_fixed(spot, spot * m, t, rate, vol, carry)


wide = st.floats(allow_nan=True, allow_infinity=True)
positive = st.floats(2.0**-10, 2.0**34) | wide


@settings(max_examples=300, deadline=None)
@given(positive, positive, st.floats(0.0, 5.0) | wide, st.floats(-0.6, 0.6) | wide, st.floats(0.0, 9.0) | wide,
       st.floats(-0.6, 0.6))
def test_in_fixed_domain_agrees_with_bsm_fixed(spot, strike, t, rate, vol, carry):
    agrees_with_bsm_fixed(spot, strike, t, rate, vol, carry)


@settings(max_examples=150, deadline=None)
@given(st.floats(2.0**-8, 2.0**32), st.floats(2.0**-4, 2.0**4), st.floats(2.0**-20, 4.0), st.floats(-0.5, 0.5),
       st.floats(2.0**-10, 8.0), st.floats(-0.5, 0.5))
def test_inside_the_fixed_domain_bsm_fixed_prices_without_overflow(spot, moneyness, t, rate, vol, carry):
    agrees_with_bsm_fixed(spot, spot * moneyness, t, rate, vol, carry)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.booleans(), st.text(max_size=3), wide, st.integers(),
                          st.fractions(), st.complex_numbers()), min_size=6, max_size=6))
def test_in_fixed_domain_never_raises(values):
    reason = fx.in_fixed_domain(*values)
    assert reason is None or isinstance(reason, str)


def test_fixed_errors_are_dlpe_errors():
    assert issubclass(FixedPointOverflow, DLPEError) and issubclass(InvalidInput, DLPEError)
