"""Poseidon in-circuit, equal to circuits.poseidon.poseidon_hash (circomlib's Poseidon).

Each S-box x^5 costs three constraints, x2 = x * x, x4 = x2 * x2, x5 = x4 * x;
round constants and the MDS mix are linear, hence free. An S-box whose input
is a circuit constant folds away: the first full round's capacity element
(0 + c_0) costs nothing, as in circom. Constraints for k inputs (t = k + 1):
3 * (R_F * t - 1 + R_P), e.g. 240 for t = 3 (circomlib's Poseidon(2)).
"""

from __future__ import annotations

from typing import Sequence

from circuits.builder import ConstraintSystem
from circuits.lc import LC, Operand, as_lc, linear_combination
from circuits.poseidon import MAX_WIDTH, poseidon_parameters


def _sbox(cs: ConstraintSystem, x: LC, name: str) -> LC:
    """x^5 with three constraints (x2 = x*x, x4 = x2*x2, x5 = x4*x); free for a constant x."""
    with cs.scope(name):
        x2 = cs.mul(x, x, "x2")
        x4 = cs.mul(x2, x2, "x4")
        return cs.mul(x4, x, "x5")


def poseidon(cs: ConstraintSystem, inputs: Sequence[Operand]) -> LC:
    """Poseidon of 1..16 inputs; the returned LC is constrained to equal poseidon_hash(inputs)."""
    if not 1 <= len(inputs) <= MAX_WIDTH - 1:
        raise ValueError(f"Poseidon takes 1 to {MAX_WIDTH - 1} inputs, got {len(inputs)}")
    params = poseidon_parameters(len(inputs) + 1)
    state = [LC.constant(0)] + [as_lc(x) for x in inputs]
    last = len(params.round_constants) - 1
    with cs.scope(f"poseidon{len(inputs)}"):
        for rnd, constants in enumerate(params.round_constants):
            state = [s + c for s, c in zip(state, constants)]
            with cs.scope(f"round{rnd}"):
                if params.is_full_round(rnd):
                    state = [_sbox(cs, s, f"sbox{i}") for i, s in enumerate(state)]
                else:
                    state[0] = _sbox(cs, state[0], "sbox0")
            # Only the first element of the last mix is the output.
            rows = params.mds[:1] if rnd == last else params.mds
            state = [linear_combination(zip(row, state)) for row in rows]
    return state[0]
