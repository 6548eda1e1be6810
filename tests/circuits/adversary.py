"""A malicious prover for the gadget tests (gnark's ProverSucceeded / ProverFailed, made adversarial).

Three attacks, from cheap to exhaustive:

- `assert_wire_tampering_caught`: change one wire of a satisfying witness to a
  wrong value (off by one, negated, r - 1, ...); the system must then fail, or,
  for a wire the constraints legitimately leave free, no output may change.
- `assert_hint_tampering_caught`: rebuild the circuit with one hint replaced by
  a wrong value and everything after it computed from that lie; same verdict.
- `solve_all` / `assert_outputs_determined`: with the inputs fixed, enumerate
  every satisfying assignment of all other wires (propagating linear
  constraints, branching on the roots of single-unknown quadratics). A gadget
  is sound for those inputs when at least one assignment exists and every one
  gives the honest outputs; an invalid input must leave no assignment at all.
  Exhaustive only for small bit widths (a decomposition into n bits branches 2^n ways).
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Callable, Sequence

from bn254.constants import R
from bn254.field import inverse, sqrt
from bn254.r1cs import Constraint
from circuits.builder import ConstraintSystem
from circuits.lc import LC

Build = Callable[[ConstraintSystem], Sequence[LC]]
"""Builds a circuit into a fresh system and returns the gadget outputs to watch."""


def wrong_values(v: int) -> list[int]:
    """Values an attacker would try instead of v: off by one, negated, doubled, r - 1, 0, 1, 2^128."""
    candidates = [v + 1, v - 1, -v, 2 * v, R - 1, 0, 1, 2, 1 << 128, R // 2]
    out: list[int] = []
    for c in candidates:
        c %= R
        if c != v and c not in out:
            out.append(c)
    return out


def _holds(constraint: Constraint, values: list[int]) -> bool:
    a, b, c = (sum(k * values[w] for w, k in row.items()) for row in constraint)
    return a * b % R == c % R


def assert_wire_tampering_caught(cs: ConstraintSystem, outputs: Sequence[LC]) -> None:
    """Every single-wire change to a non-input wire breaks a constraint or changes no output."""
    assert cs.is_satisfied(), f"honest witness fails: {cs.first_failure()}"
    honest = [o.evaluate(cs.values) for o in outputs]
    # Only the constraints that mention the changed wire can start failing.
    touching: dict[int, list[Constraint]] = {}
    for constraint in cs.constraints:
        for w in {w for row in constraint for w in row}:
            touching.setdefault(w, []).append(constraint)
    for wire in cs.internal_wires():
        for bad in wrong_values(cs.values[wire]):
            values = list(cs.values)
            values[wire] = bad
            if all(_holds(constraint, values) for constraint in touching.get(wire, [])):
                got = [o.evaluate(values) for o in outputs]
                assert got == honest, f"wire {cs.wire_label(wire)} = {bad} satisfies the system with outputs {got}"


def assert_hint_tampering_caught(build: Build, only: Callable[[str], bool] | None = None) -> int:
    """Rebuild with each hint replaced by each wrong value; every build fails or keeps the honest outputs.

    only: a filter on hint labels, to tamper just the hints that carry meaning
    (quotients, remainders, shifts) in gadgets whose bit hints are covered elsewhere.
    Returns how many tampered builds were rejected (so a test can insist some were).
    """
    honest_cs = ConstraintSystem()
    honest = [o.value for o in build(honest_cs)]
    assert honest_cs.is_satisfied(), f"honest witness fails: {honest_cs.first_failure()}"
    rejected = 0
    for k, wire in enumerate(honest_cs.hint_wires()):
        if only is not None and not only(honest_cs.wire_label(wire)):
            continue
        for bad in wrong_values(honest_cs.values[wire]):
            counter = itertools.count()

            def tamper(label: str, value: int, k: int = k, bad: int = bad, counter=counter) -> int:
                return bad if next(counter) == k else value

            cs = ConstraintSystem(tamper_hint=tamper)
            outputs = build(cs)
            if cs.is_satisfied():
                got = [o.value for o in outputs]
                assert got == honest, f"hint {honest_cs.wire_label(wire)} = {bad} accepted with outputs {got}"
            else:
                rejected += 1
    return rejected


class Undecided(Exception):
    """The solver found no constraint with a single unknown to resolve or branch on."""


# The same few coefficients and discriminants recur (1, 2^i, -1): cache their inverses and roots.
_inverse = lru_cache(maxsize=4096)(inverse)
_sqrt = lru_cache(maxsize=4096)(sqrt)


def _split(row: dict[int, int], asg: dict[int, int]) -> tuple[int, dict[int, int]]:
    known, unknown = 0, {}
    for w, k in row.items():
        if w in asg:
            known += k * asg[w]
        else:
            unknown[w] = k
    return known % R, unknown


def _quadratic_roots(a2: int, a1: int, a0: int) -> list[int]:
    """Roots of a2 w^2 + a1 w + a0 over F_r (a2 != 0)."""
    disc = (a1 * a1 - 4 * a2 * a0) % R
    s = _sqrt(disc)
    if s is None:
        return []
    inv = _inverse(2 * a2 % R)
    return sorted({(-a1 + s) * inv % R, (-a1 - s) * inv % R})


def _propagate(constraints: list[Constraint], pending: list[int], asg: dict[int, int]):
    """Resolve what the constraints force; returns (pending, branch) or None on a contradiction.

    branch is (wire, roots) for a single-unknown quadratic when propagation stalls.
    """
    progress = True
    while progress:
        progress = False
        still: list[int] = []
        for ci in pending:
            a, b, c = constraints[ci]
            ak, au = _split(a, asg)
            bk, bu = _split(b, asg)
            ck, cu = _split(c, asg)
            if not au or not bu:
                # Linear in the unknowns: factor * (other_known + other_unknown) = ck + cu
                factor, other_k, other_u = (ak, bk, bu) if not au else (bk, ak, au)
                coeffs: dict[int, int] = {}
                for w, k in other_u.items():
                    coeffs[w] = coeffs.get(w, 0) + factor * k
                for w, k in cu.items():
                    coeffs[w] = coeffs.get(w, 0) - k
                coeffs = {w: k % R for w, k in coeffs.items() if k % R}
                const = (factor * other_k - ck) % R
                if not coeffs:
                    if const:
                        return None
                    progress = True
                elif len(coeffs) == 1:
                    ((w, k),) = coeffs.items()
                    asg[w] = -const * _inverse(k) % R
                    progress = True
                else:
                    still.append(ci)
            else:
                still.append(ci)
        pending = still
    for ci in pending:
        a, b, c = constraints[ci]
        ak, au = _split(a, asg)
        bk, bu = _split(b, asg)
        ck, cu = _split(c, asg)
        unknowns = set(au) | set(bu) | set(cu)
        if len(unknowns) == 1:
            (w,) = unknowns
            a1, b1, c1 = au.get(w, 0), bu.get(w, 0), cu.get(w, 0)
            return pending, (w, _quadratic_roots(a1 * b1 % R, (a1 * bk + ak * b1 - c1) % R, (ak * bk - ck) % R))
    if pending:
        raise Undecided(f"{len(pending)} constraints left, none with a single unknown")
    return pending, None


def solve_all(constraints: list[Constraint], fixed: dict[int, int], limit: int = 256) -> list[dict[int, int]]:
    """Every assignment extending `fixed` that satisfies all constraints.

    A wire absent from a returned assignment is free: no constraint pins it.
    Raises Undecided when the system is beyond this solver, AssertionError past `limit` solutions.
    """
    solutions: list[dict[int, int]] = []
    stack = [(dict(fixed), list(range(len(constraints))))]
    while stack:
        asg, pending = stack.pop()
        result = _propagate(constraints, pending, asg)
        if result is None:
            continue
        pending, branch = result
        if branch is None:
            solutions.append(asg)
            assert len(solutions) <= limit, "too many solutions"
            continue
        wire, roots = branch
        for root in roots:
            stack.append(({**asg, wire: root}, pending))
    return solutions


def solutions_for_inputs(cs: ConstraintSystem) -> list[dict[int, int]]:
    """All satisfying assignments with the inputs (and wire 0) fixed to the values cs was built with."""
    fixed = {0: 1, **{w: cs.values[w] for w in cs.input_wires()}}
    return solve_all(cs.constraints, fixed)


def assert_outputs_determined(cs: ConstraintSystem, outputs: Sequence[LC], expected: Sequence[int]) -> None:
    """Some assignment satisfies cs, and every one gives outputs == expected (no free wire in them)."""
    try:
        solutions = solutions_for_inputs(cs)
    except Undecided as stalled:
        raise AssertionError(f"wires left free by the constraints (under-constrained?): {stalled}") from None
    assert solutions, "no witness satisfies the system for these inputs"
    for asg in solutions:
        for out, want in zip(outputs, expected, strict=True):
            free = [w for w in out.terms if w not in asg]
            assert not free, f"output depends on free wires {[cs.wire_label(w) for w in free]}"
            assert out.evaluate([asg.get(i, 0) for i in range(cs.n_wires)]) == want % R


def assert_unsatisfiable(cs: ConstraintSystem) -> None:
    """No assignment of the non-input wires satisfies cs with its inputs."""
    try:
        solutions = solutions_for_inputs(cs)
    except Undecided as stalled:
        raise AssertionError(f"wires left free by the constraints (under-constrained?): {stalled}") from None
    assert solutions == [], f"{len(solutions)} witnesses satisfy a system that should have none"
