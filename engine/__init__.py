"""DLPE off-chain engine: pure computation, no crypto and no chain.

The float64 fast path is importable from here; the other concerns live in their modules
(engine.fixed: the fixed-point reference the circuits prove; engine.surface, engine.quoting,
engine.risk, engine.oracle, engine.regime, engine.hedging, engine.trees, engine.simulator).
"""

from engine.kernel_cache import use_kernel_cache_folder

use_kernel_cache_folder()  # before the kernels below are decorated

from engine.bsm import Greeks, bsm_greeks, bsm_price
from engine.errors import DLPEError, FixedPointOverflow, InvalidInput, PriceOutsideArbitrageBounds
from engine.implied_vol import implied_vol

__all__ = [
    "DLPEError",
    "FixedPointOverflow",
    "Greeks",
    "InvalidInput",
    "PriceOutsideArbitrageBounds",
    "bsm_greeks",
    "bsm_price",
    "implied_vol",
]
