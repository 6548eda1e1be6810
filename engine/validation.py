"""The float path's input domain, declared here once, and its vectorized checks.

Every function of the float64 fast path (engine.bsm, engine.implied_vol) accepts
exactly this domain (units as in `engine.bsm.bsm_price`):

    spot, strike   [SPOT_MIN, SPOT_MAX] = [1e-18, 1e18]       currency units
    t              [0, T_MAX] = [0, 100] years                (t = 0: expiry, the payoff;
                                                               implied_vol needs t > 0)
    vol            [VOL_MIN, VOL_MAX] = [1e-9, 1e4]            annualized (1e4 = 1,000,000%)
    rate, carry    [-RATE_ABS_MAX, RATE_ABS_MAX] = [-1e4, 1e4] continuously compounded, per year
    rate·t, carry·t [-EXPONENT_ABS_MAX, EXPONENT_ABS_MAX] = [-500, 500]
                                                               the discount exponents
    price          (0, inf), finite                            implied_vol only; its arbitrage
                                                               bounds are checked there
    is_call        bool or array of bools

and prices every point of it to finite numbers (price and every Greek); what lies
outside is refused with `InvalidInput` naming the field, the reason, the first
offending value and, for arrays, its index. The domain is far wider than the
fixed-point domain of the circuits (engine.fixed) and is what keeps float64
finite. The exponents, not the rates, are bounded tightly: a Merton jump series
prices with rates r + n ln(1 + k)/t that grow without bound as t shrinks, while
e^{±500}·1e18 < 1.5e235 bounds A = S e^{-qt} and B = K e^{-rt}. Then gamma, the
largest Greek, is at most e^{|q|t} φ(d1) / (S σ sqrt t) < 3e244 at S = 1e-18,
σ = 1e-9; theta's terms |r| B and S σ φ / (2 sqrt t) stay below 1e240 down to the
smallest subnormal t. tests/engine/test_domain.py drives the corners.

Each check costs two reductions over the array (min and max; NaN propagates
through both) on the normal path, and the exponents' check a product of the
extremes; the search for the offending entry runs only when a check fails.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from engine.errors import InvalidInput

SPOT_MIN, SPOT_MAX = 1e-18, 1e18  # spot and strike
T_MAX = 100.0  # years
VOL_MIN, VOL_MAX = 1e-9, 1e4
RATE_ABS_MAX = 1e4  # |rate| and |carry|, per year
EXPONENT_ABS_MAX = 500.0  # |rate·t| and |carry·t|

_FLOAT_MAX = float(np.finfo(np.float64).max)  # the finite range: comparisons exclude inf without a ufunc
_SHOWN_CHARS = 80  # inputs with a longer repr are not echoed in the error message


def _shown(value: object) -> object:
    """The value to echo in an error, or None where its repr would flood the message."""
    return value if len(repr(value)) <= _SHOWN_CHARS else None


def _first_offender(field: str, arr: np.ndarray, bad: np.ndarray, reason: str) -> InvalidInput:
    """Build the error for the first entry where `bad` is true (C order)."""
    flat = int(np.flatnonzero(bad.ravel())[0])
    if arr.ndim == 0:
        return InvalidInput(field, reason, float(arr))
    index = np.unravel_index(flat, arr.shape)
    where = index[0] if arr.ndim == 1 else tuple(int(i) for i in index)
    return InvalidInput(field, f"{reason} (first offending entry at index {where})", float(arr.ravel()[flat]))


def _as_array(field: str, value: ArrayLike, what: str) -> np.ndarray:
    """np.asarray, with a ragged nested sequence refused as InvalidInput instead of numpy's ValueError."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(field, f"must be {what}, not a ragged or mixed sequence ({exc})", _shown(value)) from None


def _holds_a_bool(value: ArrayLike) -> bool:
    """Whether a list or tuple holds a bool: numpy would turn [True, 2.0] into [1.0, 2.0] silently."""
    if not isinstance(value, (list, tuple)):
        return False
    items = np.asarray(value, dtype=object).ravel()
    return any(isinstance(item, (bool, np.bool_)) for item in items)


def as_float_array(field: str, value: ArrayLike) -> np.ndarray:
    """Convert a real scalar or array to float64; reject bools, complex, strings, None and ragged lists."""
    what = "a real number or a rectangular array of real numbers"
    raw = _as_array(field, value, what)
    if raw.size == 0 and raw.dtype.kind == "b":  # an empty array holds no bool
        return raw.astype(np.float64)
    if raw.dtype.kind not in "iuf":
        raise InvalidInput(field, f"must be {what}, not dtype {raw.dtype}", _shown(value))
    if _holds_a_bool(value):
        raise InvalidInput(field, f"must be {what}, not a bool", _shown(value))
    return raw.astype(np.float64, copy=False)


def as_bool_array(field: str, value: ArrayLike) -> np.ndarray:
    """Convert a bool or an array of bools; reject anything else (0/1, 'c'/'p', ...). An empty list is empty."""
    raw = _as_array(field, value, "a bool or a rectangular array of bools")
    if raw.size == 0 and raw.dtype.kind in "biuf":
        return raw.astype(np.bool_)
    if raw.dtype != np.bool_:
        raise InvalidInput(field, f"must be a bool or an array of bools, not dtype {raw.dtype}", _shown(value))
    return raw


def require_within(field: str, arr: np.ndarray, lo: float, hi: float, positive: bool = False) -> tuple[float, float]:
    """Raise `InvalidInput` unless every entry is a number in [lo, hi] (with `positive`, > 0 first of all).

    Returns the least and the greatest entry ((0, 0) for an empty array). The
    reasons, in the order they are looked for: NaN, infinite, <= 0 (with
    `positive`), below lo, above hi.
    """
    if arr.size == 0:
        return 0.0, 0.0
    low, high = arr.min(), arr.max()  # NaN propagates through min/max, and fails every comparison
    if max(lo, -_FLOAT_MAX) <= low and high <= min(hi, _FLOAT_MAX) and (low > 0 or not positive):
        return float(low), float(high)
    if np.isnan(low):
        raise _first_offender(field, arr, np.isnan(arr), "must not be NaN")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise _first_offender(field, arr, np.isinf(arr), "must be finite")
    if positive and low <= 0:
        raise _first_offender(field, arr, arr <= 0, "must be > 0")
    domain = f"the float path's domain is [{lo:g}, {hi:g}]"
    if low < lo:
        raise _first_offender(field, arr, arr < lo, f"must be >= {lo:g} ({domain})")
    raise _first_offender(field, arr, arr > hi, f"must be <= {hi:g} ({domain})")


def require_finite(field: str, arr: np.ndarray, positive: bool = False) -> None:
    """Raise `InvalidInput` if any entry is NaN or infinite (or, with `positive`, <= 0)."""
    require_within(field, arr, -np.inf, np.inf, positive)


def require_exponent(field: str, rate: np.ndarray, rate_range: tuple[float, float], t: np.ndarray, t_max: float,
                     shape: tuple[int, ...]) -> None:
    """Raise `InvalidInput` (naming `field`) unless |rate·t| <= EXPONENT_ABS_MAX everywhere.

    `rate_range` and `t_max` are the extremes already found by `require_within`;
    the product is formed only when they do not settle the question.
    """
    if max(-rate_range[0], rate_range[1]) * t_max <= EXPONENT_ABS_MAX:
        return
    exponent = np.broadcast_to(rate * t, shape)
    bad = np.abs(exponent) > EXPONENT_ABS_MAX
    if bad.any():
        raise _first_offender(
            field, exponent, bad,
            f"{field}·t must be in [-{EXPONENT_ABS_MAX:g}, {EXPONENT_ABS_MAX:g}] (e^(-{field}·t) would leave "
            f"float64's range; the value shown is {field}·t)",
        )


def require_positive(field: str, arr: np.ndarray) -> None:
    """Raise `InvalidInput` unless every entry is finite and > 0."""
    require_finite(field, arr, positive=True)


def broadcast_shape(fields: dict[str, np.ndarray]) -> tuple[int, ...]:
    """The common broadcast shape of the inputs, in order.

    Raises `InvalidInput` naming the first field whose shape does not broadcast
    with the shape of the fields before it.
    """
    shape: tuple[int, ...] = ()
    for name, arr in fields.items():
        try:
            shape = np.broadcast_shapes(shape, arr.shape)
        except ValueError:
            raise InvalidInput(
                name, f"shape {arr.shape} does not broadcast with shape {shape} of the inputs before it"
            ) from None
    return shape


def flat_inputs(fields: dict[str, np.ndarray], shape: tuple[int, ...]) -> list[np.ndarray]:
    """Each field broadcast to `shape` as a contiguous, writeable 1-d array (for the kernels).

    Arrays that already have the full shape are passed without a copy. Numba
    compiles a separate kernel for read-only arrays, so those are copied.
    """
    flat = []
    for arr in fields.values():
        full = np.ascontiguousarray(arr if arr.shape == shape else np.broadcast_to(arr, shape)).reshape(-1)
        flat.append(full if full.flags.writeable else full.copy())
    return flat


def check_on_error(on_error: str) -> None:
    """Raise `InvalidInput` unless `on_error` is one of the supported modes."""
    if not isinstance(on_error, str) or on_error not in ("raise", "nan"):
        raise InvalidInput("on_error", "must be 'raise' or 'nan'", _shown(on_error))


def _market_fields(fields: dict[str, np.ndarray], ranges: dict[str, tuple[float, float]], spot, strike, t,
                   rate) -> None:
    """Convert and check spot, strike, t and rate into `fields` (their extremes into `ranges`), in that order."""
    for name, value in (("spot", spot), ("strike", strike)):
        fields[name] = as_float_array(name, value)
        require_within(name, fields[name], SPOT_MIN, SPOT_MAX, positive=True)
    fields["t"] = as_float_array("t", t)
    ranges["t"] = require_within("t", fields["t"], 0.0, T_MAX)
    fields["rate"] = as_float_array("rate", rate)
    ranges["rate"] = require_within("rate", fields["rate"], -RATE_ABS_MAX, RATE_ABS_MAX)


def _option_fields(fields: dict[str, np.ndarray], ranges: dict[str, tuple[float, float]], is_call,
                   carry) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    """Convert and check is_call and carry into `fields`; check the exponents; broadcast and flatten them all."""
    fields["is_call"] = as_bool_array("is_call", is_call)
    fields["carry"] = as_float_array("carry", carry)
    ranges["carry"] = require_within("carry", fields["carry"], -RATE_ABS_MAX, RATE_ABS_MAX)
    shape = broadcast_shape(fields)
    for name in ("rate", "carry"):
        require_exponent(name, fields[name], ranges[name], fields["t"], ranges["t"][1], shape)
    return shape, dict(zip(fields, flat_inputs(fields, shape)))


def validated_option_inputs(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike,
) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    """Check the inputs of engine.bsm against the domain and flatten them for a kernel.

    Returns the broadcast shape and a dict of contiguous 1-d arrays keyed by
    field name. Raises `InvalidInput` naming the first offending field.
    """
    fields: dict[str, np.ndarray] = {}
    ranges: dict[str, tuple[float, float]] = {}
    _market_fields(fields, ranges, spot, strike, t, rate)
    fields["vol"] = as_float_array("vol", vol)
    require_within("vol", fields["vol"], VOL_MIN, VOL_MAX, positive=True)
    return _option_fields(fields, ranges, is_call, carry)


def validated_implied_vol_inputs(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike,
) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    """Check the inputs of engine.implied_vol and flatten them for a kernel, as `validated_option_inputs`.

    The price must be finite and > 0 (its arbitrage bounds are the solver's to
    check), and t > 0: at expiry every vol gives the same price, the payoff.
    """
    fields: dict[str, np.ndarray] = {"price": as_float_array("price", price)}
    require_positive("price", fields["price"])
    ranges: dict[str, tuple[float, float]] = {}
    _market_fields(fields, ranges, spot, strike, t, rate)
    if fields["t"].size and not fields["t"].min() > 0:
        raise _first_offender(
            "t", fields["t"], fields["t"] == 0,
            "must be > 0 for implied volatility: at expiry (t = 0) every vol gives the same price, the payoff",
        )
    return _option_fields(fields, ranges, is_call, carry)


def shaped_result(flat: np.ndarray, shape: tuple[int, ...]) -> float | np.ndarray:
    """A kernel's 1-d result in the broadcast shape; a Python float for scalar inputs."""
    return float(flat[0]) if shape == () else flat.reshape(shape)
