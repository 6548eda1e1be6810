"""Vectorized input checks of the fast-path pricing functions (engine.bsm, engine.implied_vol).

Each check costs one or two reductions over the array (no temporaries) on the
normal path; the slower search for the offending entry runs only when a check
fails, so that the raised `InvalidInput` can name the field, the reason and the
first offending value (and its index for array inputs).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from engine.errors import InvalidInput


def _first_offender(field: str, arr: np.ndarray, bad: np.ndarray, reason: str) -> InvalidInput:
    """Build the error for the first entry where `bad` is true (C order)."""
    flat = int(np.flatnonzero(bad.ravel())[0])
    if arr.ndim == 0:
        return InvalidInput(field, reason, float(arr))
    index = np.unravel_index(flat, arr.shape)
    where = index[0] if arr.ndim == 1 else tuple(int(i) for i in index)
    return InvalidInput(field, f"{reason} (first offending entry at index {where})", float(arr.ravel()[flat]))


def as_float_array(field: str, value: ArrayLike) -> np.ndarray:
    """Convert a real scalar or array to float64; reject bools, complex, strings and objects."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "iuf":
        raise InvalidInput(field, f"must be a real number or an array of real numbers, not dtype {raw.dtype}", value)
    return raw.astype(np.float64, copy=False)


def as_bool_array(field: str, value: ArrayLike) -> np.ndarray:
    """Convert a bool or an array of bools; reject anything else (0/1, 'c'/'p', ...)."""
    raw = np.asarray(value)
    if raw.dtype != np.bool_:
        raise InvalidInput(field, f"must be a bool or an array of bools, not dtype {raw.dtype}", value)
    return raw


def require_finite(field: str, arr: np.ndarray, positive: bool = False) -> None:
    """Raise `InvalidInput` if any entry is NaN or infinite (or, with `positive`, <= 0)."""
    if arr.size == 0:
        return
    lo, hi = arr.min(), arr.max()  # NaN propagates through min/max
    if np.isfinite(lo) and np.isfinite(hi) and (lo > 0 or not positive):
        return
    if np.isnan(lo):
        raise _first_offender(field, arr, np.isnan(arr), "must not be NaN")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise _first_offender(field, arr, np.isinf(arr), "must be finite")
    raise _first_offender(field, arr, arr <= 0, "must be > 0")


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
    if on_error not in ("raise", "nan"):
        raise InvalidInput("on_error", "must be 'raise' or 'nan'", on_error)


def validated_option_inputs(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    vol: ArrayLike | None,
    is_call: ArrayLike,
    carry: ArrayLike,
    price: ArrayLike | None = None,
) -> tuple[tuple[int, ...], dict[str, np.ndarray]]:
    """Check the inputs of the BSM functions (engine.bsm, engine.implied_vol) and flatten them for a kernel.

    Returns the broadcast shape and a dict of contiguous 1-d arrays keyed by
    field name. `vol` is None for implied volatility, `price` is given only
    there. Raises `InvalidInput` naming the first offending field.
    """
    fields: dict[str, np.ndarray] = {}
    if price is not None:
        fields["price"] = as_float_array("price", price)
        require_positive("price", fields["price"])
    for name, value in (("spot", spot), ("strike", strike), ("t", t)):
        fields[name] = as_float_array(name, value)
        require_positive(name, fields[name])
    fields["rate"] = as_float_array("rate", rate)
    require_finite("rate", fields["rate"])
    if vol is not None:
        fields["vol"] = as_float_array("vol", vol)
        require_positive("vol", fields["vol"])
    fields["is_call"] = as_bool_array("is_call", is_call)
    fields["carry"] = as_float_array("carry", carry)
    require_finite("carry", fields["carry"])
    shape = broadcast_shape(fields)
    return shape, dict(zip(fields, flat_inputs(fields, shape)))


def shaped_result(flat: np.ndarray, shape: tuple[int, ...]) -> float | np.ndarray:
    """A kernel's 1-d result in the broadcast shape; a Python float for scalar inputs."""
    return float(flat[0]) if shape == () else flat.reshape(shape)
