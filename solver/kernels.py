"""Compile every numba kernel once, ahead of the main job (`make install` runs this module).

numba compiles a kernel on its first call and keeps the machine code in the DLPE cache
folder (engine.kernel_cache), so a later process loads it in about a second. Compiling
inside the demo would show up as setup or prove time (minutes, cold); instead the kernels
are exercised here on tiny inputs that take every compiled path: the fast path's serial
and parallel kernels, implied vol, and the prover's fixed-base, MSM (G1 and G2) and NTT
kernels through a whole setup, key write and read, prove and verify of a small circuit.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

Progress = Callable[[str], None]


def _fast_path() -> None:
    from engine import bsm_greeks, bsm_price, implied_vol

    for n in (8, 20_000):  # below and above the serial/parallel switch
        strikes = np.linspace(80.0, 120.0, n)
        is_call = np.arange(n) % 2 == 0
        prices = bsm_price(100.0, strikes, 0.5, 0.03, 0.6, is_call)
        bsm_greeks(100.0, strikes, 0.5, 0.03, 0.6, is_call)
        implied_vol(prices, 100.0, strikes, 0.5, 0.03, is_call)


def _prover() -> None:
    import prover
    from circuits.builder import ConstraintSystem

    # A product chain long enough that every MSM takes its bucketed path (not the tiny-input one).
    cs = ConstraintSystem()
    x = cs.private_input("x", 3)
    acc = x
    for i in range(2_000):
        acc = cs.mul(acc, x, f"step{i}")
    cs.public_output("y", acc)
    r1cs, witness = cs.to_r1cs(), cs.witness()
    pk, vk = prover.setup(r1cs)
    with tempfile.TemporaryDirectory() as folder:  # reading a key checks its points (both groups)
        path = Path(folder) / "warm-up.zkey"
        prover.write_zkey(pk, path)
        pk = prover.read_zkey(path, r1cs, development=True)
    proof = prover.prove(pk, witness)
    if not prover.verify(vk, r1cs.public_values(witness), proof):
        raise RuntimeError("the warm-up proof does not verify: the compiled kernels are wrong")


def _ceremony() -> None:
    from bn254.constants import G1_GENERATOR, G2_GENERATOR, R
    from prover.backends.fast_sparse import g1_sparse_combinations, g2_sparse_combinations

    # Both groups, a negated coefficient and a full-width one: every path of the sparse kernel.
    rows = [[(0, R - 1), (0, 3)], [(0, R // 3)]]
    if g1_sparse_combinations([G1_GENERATOR], rows)[0] != g1_sparse_combinations([G1_GENERATOR], [[(0, 2)]])[0]:
        raise RuntimeError("the warm-up combination is wrong: the compiled ceremony kernel is wrong")
    g2_sparse_combinations([G2_GENERATOR], rows)


def compile_kernels(progress: Progress = print) -> dict[str, float]:
    """Load or compile every kernel; seconds per group (about a second each once cached)."""
    seconds = {}
    for name, run in (("fast path (price, Greeks, implied vol)", _fast_path), ("prover (MSM, NTT, fixed base)", _prover),
                      ("phase-2 ceremony (sparse combinations)", _ceremony)):
        progress(f"kernels: {name} ...")
        start = time.perf_counter()
        run()
        seconds[name] = time.perf_counter() - start
        progress(f"kernels: {name} ready in {seconds[name]:.1f} s")
    return seconds


if __name__ == "__main__":
    compile_kernels(lambda line: print(line, flush=True, file=sys.stderr))
