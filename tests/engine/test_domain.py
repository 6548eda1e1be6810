"""The float path's declared domain (engine.validation): finite inside, InvalidInput naming the field outside.

Covers every name in engine.__all__ that takes numeric input (bsm_price, bsm_greeks,
implied_vol): its corners exhaustively on a grid, its interior with hypothesis, and
garbage (NaN, inf, None, strings, booleans, ragged and empty arrays, extreme
magnitudes) field by field.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import Greeks, InvalidInput, PriceOutsideArbitrageBounds, bsm_greeks, bsm_price, implied_vol
from engine.validation import EXPONENT_ABS_MAX, RATE_ABS_MAX, SPOT_MAX, SPOT_MIN, T_MAX, VOL_MAX, VOL_MIN
from tests.engine.test_bsm import assert_same_to_rounding

FIELDS = ("spot", "strike", "t", "rate", "vol", "is_call", "carry")
SMALLEST_SUBNORMAL = 5e-324

# The corners of each field and a few interior points that stress the formulas. Rates
# and carries are drawn as fractions of their bound at each t: min(1e4, 500 / t).
CORNERS = {
    "spot": [SPOT_MIN, 2e-5, 1.0, 95_000.0, 1e12, SPOT_MAX],
    "strike": [SPOT_MIN, 1.0, 95_000.0, SPOT_MAX],
    "t": [0.0, SMALLEST_SUBNORMAL, 1e-300, 1e-12, 1 / 8760, 0.05, 1.0, T_MAX],
    "rate": [-1.0, -1e-3, 0.0, 5e-4, 1.0],
    "vol": [VOL_MIN, 0.2, 100.0, VOL_MAX],
    "is_call": [True, False],
    "carry": [-1.0, 0.0, 1.0],
}


def rate_bound(t):
    """The largest |rate| allowed at t, a hair inside so that rate·t does not round above the bound."""
    with np.errstate(divide="ignore", over="ignore"):  # t = 0 or subnormal: no bound but RATE_ABS_MAX
        return np.minimum(RATE_ABS_MAX, np.nextafter(EXPONENT_ABS_MAX / np.asarray(t, dtype=float), 0.0))


def corner_grid() -> dict[str, np.ndarray]:
    """Every combination of the corners, one array per field."""
    columns = zip(*itertools.product(*(CORNERS[f] for f in FIELDS)))
    grid = {f: np.array(c) for f, c in zip(FIELDS, columns)}
    for name in ("rate", "carry"):
        grid[name] = grid[name] * rate_bound(grid["t"])
    return grid


def assert_all_finite(g: Greeks) -> None:
    for field in Greeks.__dataclass_fields__:
        value = np.asarray(getattr(g, field))
        bad = np.flatnonzero(~np.isfinite(value))
        assert bad.size == 0, (field, bad[:5])


def test_the_examples_of_issue_9_price_to_finite_numbers():
    cases = [  # spot, strike, t, rate, vol
        (100.0, 100.0, 1.0, 0.05, 100.0),  # vol 10,000%
        (1e12, 1e12, 1.0, 0.05, 0.6),
        (2e-5, 2e-5, 1.0, 0.05, 0.6),
        (95_000.0, 1.0, 0.25, 0.05, 0.6),
        (100.0, 100.0, 1.0, 5.0, 0.6),  # rate 500%
    ]
    for spot, strike, t, rate, vol in cases:
        for is_call in (True, False):
            assert_all_finite(bsm_greeks(spot, strike, t, rate, vol, is_call))
            assert math.isfinite(bsm_price(spot, strike, t, rate, vol, is_call))


@pytest.mark.parametrize(
    ("field", "value"),
    [("rate", -800.0), ("rate", 1e5), ("vol", 1e-320), ("t", 1e6), ("spot", 1e300), ("carry", 800.0)],
)
def test_the_values_that_overflowed_are_refused(field, value):
    args = {"spot": 100.0, "strike": 100.0, "t": 1.0, "rate": 0.05, "vol": 0.2, "is_call": True, "carry": 0.0}
    for function in (bsm_price, bsm_greeks):
        with pytest.raises(InvalidInput) as info:
            function(**(args | {field: value}))
        assert info.value.field == field


def test_every_corner_of_the_domain_prices_to_finite_numbers():
    grid = corner_grid()
    g = bsm_greeks(**grid)
    assert_all_finite(g)
    assert_same_to_rounding(bsm_price(**grid), g.price)
    assert np.all(g.price >= 0)


def test_implied_vol_of_every_corner_price_is_finite_or_on_a_bound():
    grid = corner_grid()
    live = grid["t"] > 0
    grid = {f: a[live] for f, a in grid.items()}
    price = bsm_price(**grid)
    keep = price > 0  # deep OTM prices underflow to 0, which no vol produces
    args = {f: a[keep] for f, a in grid.items() if f != "vol"}
    solved = implied_vol(price[keep], **args)  # raises if a price of bsm_price fell outside its bounds
    assert not np.any(np.isnan(solved))
    assert np.all(solved >= 0)
    finite = np.isfinite(solved)
    # inf only on the upper bound: the price is the bound to within its tolerance
    assert np.all(np.isinf(solved[~finite]))


def domain_floats(lo: float, hi: float, corners: list[float]) -> st.SearchStrategy[float]:
    """Floats over [lo, hi], log-uniform-ish for positive ranges, with the corners drawn often."""
    inside = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if lo > 0:
        inside = st.floats(math.log(lo), math.log(hi)).map(lambda x: min(max(math.exp(x), lo), hi)) | inside
    return st.sampled_from(corners) | inside


@st.composite
def inputs(draw) -> dict:
    """A point of the domain, its corners drawn often."""
    t = draw(domain_floats(0.0, T_MAX, CORNERS["t"]) | st.floats(0.0, 1e-300))
    fraction = st.sampled_from([-1.0, 0.0, 1.0]) | st.floats(-1.0, 1.0)
    return {
        "spot": draw(domain_floats(SPOT_MIN, SPOT_MAX, CORNERS["spot"])),
        "strike": draw(domain_floats(SPOT_MIN, SPOT_MAX, CORNERS["strike"])),
        "t": t,
        "rate": draw(fraction) * float(rate_bound(t)),
        "vol": draw(domain_floats(VOL_MIN, VOL_MAX, CORNERS["vol"])),
        "is_call": draw(st.booleans()),
        "carry": draw(fraction) * float(rate_bound(t)),
    }


@settings(max_examples=400, deadline=None)
@given(inputs())
def test_everything_inside_the_domain_is_finite(o):
    g = bsm_greeks(**o)
    assert_all_finite(g)
    assert_same_to_rounding(bsm_price(**o), g.price)
    if o["t"] > 0 and g.price > 0:
        # A price of bsm_price always lies within its arbitrage bounds' tolerance.
        solved = implied_vol(g.price, **{f: v for f, v in o.items() if f != "vol"})
        assert solved >= 0 and not math.isnan(solved)


@settings(max_examples=200, deadline=None)
@given(inputs(), st.floats(SMALLEST_SUBNORMAL, 1e300))
def test_any_positive_price_gives_a_vol_or_the_arbitrage_error(o, price):
    args = {f: v for f, v in o.items() if f != "vol"} | {"t": max(o["t"], 1e-12)}
    try:
        solved = implied_vol(price, **args)
    except PriceOutsideArbitrageBounds as exc:
        assert exc.field == "price"
        assert math.isnan(implied_vol(price, **args, on_error="nan"))
    else:
        assert solved >= 0 and not math.isnan(solved)


# --- garbage, field by field --------------------------------------------------------------------

GARBAGE = [
    math.nan,
    math.inf,
    -math.inf,
    None,
    "100",
    "",
    b"1",
    True,
    np.bool_(False),
    1 + 2j,
    [1.0, [2.0, 3.0]],  # ragged
    [[1.0, 2.0], [3.0]],  # ragged
    [100.0, True],  # a bool numpy would silently turn into 1.0
    [100.0, None],
    {"spot": 1.0},
    1e308,
    -1e308,
    SMALLEST_SUBNORMAL,
    -SMALLEST_SUBNORMAL,
    10**400,  # an int no float holds
    np.array([np.nan, 1.0]),
    np.array(["a", "b"]),
    np.array([1.0, 2.0], dtype=object),
]
EMPTY = [[], np.zeros(0), np.zeros((0, 3)), np.zeros(0, dtype=bool)]

PRICE_ARGS = {"spot": 100.0, "strike": 100.0, "t": 1.0, "rate": 0.05, "vol": 0.2, "is_call": True, "carry": 0.0}
IV_ARGS = {k: v for k, v in PRICE_ARGS.items() if k != "vol"} | {"price": 10.0}
FUNCTIONS = [(bsm_price, PRICE_ARGS), (bsm_greeks, PRICE_ARGS), (implied_vol, IV_ARGS)]


def results_of(out) -> list[np.ndarray]:
    if isinstance(out, Greeks):
        return [np.asarray(getattr(out, f)) for f in Greeks.__dataclass_fields__]
    return [np.asarray(out)]


def check_finite_or_refused(function, args: dict, field: str) -> None:
    try:
        out = function(**args)
    except PriceOutsideArbitrageBounds as exc:  # a valid value that moves the price's bounds past it
        assert exc.field == "price"
        return
    except InvalidInput as exc:
        assert exc.field == field, (exc.field, str(exc))
        assert str(exc).startswith(f"{field}: ")
        return
    for value in results_of(out):
        if function is implied_vol:  # 0 and inf are the documented vols on the bounds
            assert not np.any(np.isnan(value))
        else:
            assert np.all(np.isfinite(value))


@pytest.mark.parametrize(("function", "args"), FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_garbage_in_any_field_is_refused_naming_it_or_priced_finite(function, args):
    for field in args:
        for bad in GARBAGE:
            check_finite_or_refused(function, args | {field: bad}, field)


@pytest.mark.parametrize(("function", "args"), FUNCTIONS, ids=[f.__name__ for f, _ in FUNCTIONS])
def test_empty_arrays_in_any_field_give_empty_results(function, args):
    for field in args:
        for empty in EMPTY:
            out = function(**(args | {field: empty}))
            assert all(value.size == 0 for value in results_of(out))


def test_on_error_garbage_is_refused():
    for bad in (None, 1, True, "NaN", b"nan", ["nan"]):
        with pytest.raises(InvalidInput) as info:
            implied_vol(**(IV_ARGS | {"on_error": bad}))
        assert info.value.field == "on_error"


garbage_values = st.one_of(
    st.sampled_from(GARBAGE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.lists(st.one_of(st.floats(0.5, 2.0), st.booleans(), st.none(), st.lists(st.floats(0.5, 2.0), max_size=2)),
             max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FUNCTIONS), st.data(), garbage_values)
def test_any_value_in_any_field_is_finite_or_refused(function_and_args, data, bad):
    function, args = function_and_args
    field = data.draw(st.sampled_from(sorted(args)))
    check_finite_or_refused(function, args | {field: bad}, field)


def test_every_numeric_entry_point_of_engine_is_covered():
    numeric = {name for name in engine.__all__ if callable(getattr(engine, name)) and name.islower()}
    assert numeric == {f.__name__ for f, _ in FUNCTIONS}
