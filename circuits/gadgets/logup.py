"""The lookup mode's settle step: every collected range check, proven by one log-derivative lookup.

Haböck's LogUp ("Multivariate lookups based on logarithmic derivatives", ePrint
2022/1530), as gnark's `std/rangecheck` and `std/internal/logderivarg` use it in
Groth16: a multiset of queries f_i lies in the table T = {0, 1, ..., 2^L - 1}
with multiplicities m_j exactly when, as rational functions of X,

    sum_i 1 / (X - f_i) = sum_j m_j / (X - j).

Checked at one random point X = alpha (the challenge) it is false with
probability at most (#queries + 2^L) / r for any f, m fixed before alpha is
drawn (Schwartz-Zippel after clearing denominators; the multiplicities are
counts far below r, so no wrap-around). Hence the split of the witness:

- committed (fixed before alpha): the limbs, the multiplicities, the checked
  value itself when it is a single private wire, and one blinding wire. The
  prover with a commitment (prover.committed) hashes a Pedersen commitment to
  these wires and the public inputs into alpha, so it cannot pick them after.
- the challenge: a public input, the last public signal of the circuit; the
  verifier recomputes it from the commitment and refuses any other value.
- after alpha: the inverses 1/(alpha - f_i) and the table terms m_j/(alpha - j),
  each pinned by one constraint; the prover computes them once alpha is known
  (`LookupSettlement.values_for_challenge`).

A check 0 <= x < 2^n becomes k = ceil(n / L) limbs x = sum_i 2^(L*i) l_i, each
queried; when n is not a multiple of L the top limb (of t = n - L(k-1) bits) is
queried twice, as l_top and 2^(L-t) * l_top, both below 2^L as integers, hence
l_top < 2^t (gnark's shift). When x is a single private wire it is committed
itself and the lowest limb is the linear combination x - sum_(i>0) 2^(L*i) l_i:
no recomposition constraint is needed, since that query is fixed before alpha
too. Constraints (the cost formula, pinned in tests/circuits/test_logup.py):

    per check:  ceil(n / L) + [n mod L != 0] + [x is not a single private wire]
    shared:     2^L (table terms) + 1 (the sum) + 1 (the blinding row, b * 0 = 0)

A check is emitted as a plain bit decomposition instead (n + 1 constraints) when
that is no dearer, and L is chosen to minimise the total (`choose_limb_bits`);
when bits alone are no dearer than any table, everything goes as bits.
The blinding wire b is the prover's fresh random value: it makes the commitment
hiding (gnark's CVE-2024-45040), and its row b * 0 = 0 gives it a non-zero QAP
polynomial so that its commitment basis point is not the identity.

Without a prover (constraint checks, tests) the challenge is a stand-in hashed
from the committed values in the clear (`stand_in_challenge`): not hiding, never
what a proof uses.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from bn254.constants import R
from bn254.field import batch_inverse
from bn254.r1cs import R1CS
from circuits.builder import CircuitError, ConstraintSystem
from circuits.lc import LC, linear_combination

if TYPE_CHECKING:
    from circuits.gadgets.rangecheck import PendingCheck

__all__ = [
    "ChallengeCollision",
    "CommittedStatement",
    "LookupSettlement",
    "MAX_LIMB_BITS",
    "check_cost",
    "choose_limb_bits",
    "committed_statement",
    "lookup_cost",
    "settle_lookup",
    "stand_in_challenge",
]

MAX_LIMB_BITS = 20
"""Largest table considered, 2^20 rows: beyond it the table alone outweighs any batch we build."""

SHARED_ROWS = 2
"""Constraints besides the table's 2^L: the sum of the two sides, and the blinding row."""

CHALLENGE_NAME = "lookup_challenge"
"""The public input holding alpha; the last public signal of a lookup-mode circuit."""


class ChallengeCollision(CircuitError):
    """The challenge equals a queried value or a table entry (probability about 2^L / r): draw another proof."""


def limb_count(n_bits: int, limb_bits: int) -> int:
    """k = ceil(n / L), the limbs of an n-bit value."""
    return -(-n_bits // limb_bits)


def check_cost(n_bits: int, limb_bits: int, single_wire: bool) -> int:
    """Constraints of one n-bit check by lookup: ceil(n/L) + [n mod L != 0] + [not a single private wire]."""
    return limb_count(n_bits, limb_bits) + (n_bits % limb_bits != 0) + (not single_wire)


def _by_lookup(n_bits: int, limb_bits: int | None, single_wire: bool) -> bool:
    """True when the lookup is cheaper than the check's n + 1 constraint bit decomposition (never for L None)."""
    return limb_bits is not None and check_cost(n_bits, limb_bits, single_wire) < n_bits + 1


def lookup_cost(checks: Sequence[tuple[int, bool]], limb_bits: int | None) -> int:
    """Total constraints of settling `checks` ((n_bits, single_wire) pairs) with limbs of L bits.

    Each check costs the cheaper of check_cost and n + 1 (bits); the shared part,
    2^L + SHARED_ROWS, is paid only when at least one check goes by lookup.
    L None: every check as bits, sum of n + 1.
    """
    if limb_bits is None:
        return sum(n + 1 for n, _ in checks)
    per_check = [min(check_cost(n, limb_bits, single), n + 1) for n, single in checks]
    if not any(_by_lookup(n, limb_bits, single) for n, single in checks):
        return sum(per_check)
    return sum(per_check) + (1 << limb_bits) + SHARED_ROWS


def choose_limb_bits(checks: Sequence[tuple[int, bool]]) -> int | None:
    """The L in [1, MAX_LIMB_BITS] with the least lookup_cost (the smaller on a tie), or None when
    bits alone cost no more (then there is no table, no commitment and no challenge)."""
    best = min(range(1, MAX_LIMB_BITS + 1), key=lambda L: (lookup_cost(checks, L), L))
    return None if lookup_cost(checks, None) <= lookup_cost(checks, best) else best


def stand_in_challenge(committed_values: Sequence[int]) -> int:
    """sha256 of the committed values, mod r: the challenge of a system checked without a prover.

    Sound only as a constraint check (a malicious prover would not reveal these
    values): proofs take alpha from prover.committed's hash of the commitment.
    """
    digest = hashlib.sha256(b"dlpe/logup/stand-in")
    for v in committed_values:
        digest.update(v.to_bytes(32, "big"))
    return int.from_bytes(digest.digest(), "big") % R


def _inverses_at(alpha: int, query_values: Sequence[int], table_size: int) -> list[int]:
    """1/(alpha - f_i) for each query, then 1/(alpha - j) for each table entry j (one shared inversion)."""
    try:
        return batch_inverse([(alpha - f) % R for f in query_values] + [(alpha - j) % R for j in range(table_size)])
    except ZeroDivisionError:
        raise ChallengeCollision(f"challenge {alpha} equals a lookup query or a table entry") from None


@dataclass(frozen=True)
class LookupSettlement:
    """What the settle step built, in creation-order wire indices (cs.export_index() maps them).

    limb_bits: L, the table is {0, ..., 2^L - 1}
    committed_wires: the wires fixed before the challenge (limbs, multiplicities,
        single-wire checked values, the blinding wire last)
    blinding_wire: the committed wire the prover sets to a fresh random value
    challenge_wire: the public input alpha
    query_values: f_i as integers (fixed before alpha), with query_wires the wires of 1/(alpha - f_i)
    multiplicities: m_j for j < 2^L, with table_wires the wires of m_j/(alpha - j)
    n_lookup_checks / n_bits_checks: the checks settled by lookup / as bit decompositions
    """

    limb_bits: int
    committed_wires: tuple[int, ...]
    blinding_wire: int
    challenge_wire: int
    query_values: tuple[int, ...]
    query_wires: tuple[int, ...]
    multiplicities: tuple[int, ...]
    table_wires: tuple[int, ...]
    n_lookup_checks: int
    n_bits_checks: int

    def values_for_challenge(self, values: Sequence[int], alpha: int) -> list[int]:
        """A copy of `values` (creation order) with the challenge set to alpha and every term after it recomputed.

        Raises ChallengeCollision when alpha is a query or a table entry (no inverse).
        """
        alpha %= R
        out = list(values)
        out[self.challenge_wire] = alpha
        inverses = _inverses_at(alpha, self.query_values, len(self.multiplicities))
        n_queries = len(self.query_values)
        for wire, inv in zip(self.query_wires, inverses):
            out[wire] = inv
        for wire, m, inv in zip(self.table_wires, self.multiplicities, inverses[n_queries:]):
            out[wire] = m * inv % R
        return out


def _wire(x: LC) -> int:
    """The wire of an LC that is one fresh wire (a hint or an input)."""
    (wire,) = x.terms
    return wire


def single_private_wire(cs: ConstraintSystem, x: LC) -> int | None:
    """The wire of x when x = k * w + c for one private wire w (committable as it is), else None."""
    if len(x.terms) != 1:
        return None
    (wire,) = x.terms
    return wire if cs.is_private_wire(wire) else None


def settle_lookup(cs: ConstraintSystem, pending: Sequence[PendingCheck]) -> LookupSettlement | None:
    """Prove every pending check: by one lookup against a table of 2^L (L chosen here), or as bits when cheaper.

    Returns None when no check goes by lookup (then no challenge and no
    commitment: the system is plain R1CS). Emitted under the scope "lookup".
    """
    from circuits.gadgets.rangecheck import emit_bits  # the bits fallback shares the factory's decomposition

    singles = [single_private_wire(cs, p.value) for p in pending]
    shapes = [(p.n_bits, w is not None) for p, w in zip(pending, singles)]
    limb_bits = choose_limb_bits(shapes)
    table_size = 0 if limb_bits is None else 1 << limb_bits
    mask = table_size - 1

    queries: list[tuple[LC, str]] = []  # (f_i, label)
    committed: list[int] = []
    n_bits_checks = 0
    with cs.scope("lookup"):
        for check, single, (n_bits, is_single) in zip(pending, singles, shapes):
            if not _by_lookup(n_bits, limb_bits, is_single):
                with cs.scope("bits_fallback"):
                    emit_bits(cs, check.value, n_bits)
                n_bits_checks += 1
                continue
            k = limb_count(n_bits, limb_bits)
            v = check.value.value
            # honest limbs; the top one keeps whatever is left, so an out-of-range x fails its queries
            limb_values = [(v >> (limb_bits * i)) & mask for i in range(k - 1)] + [v >> (limb_bits * (k - 1))]
            # limb 0 is a wire of its own only when x is not a single private wire
            first = 0 if single is None else 1
            limbs = [LC.constant(0)] * first + [cs.hint(limb_values[i], f"{check.label}/limb{i}")
                                              for i in range(first, k)]
            upper = linear_combination((1 << (limb_bits * i), limbs[i]) for i in range(1, k))
            committed.extend(_wire(limb) for limb in limbs[first:])
            if single is not None:
                # x is committed itself: its low limb x - sum_(i>0) 2^(Li) l_i is fixed before alpha
                committed.append(single)
                low = check.value - upper
            else:
                low = limbs[0]
                # x == sum_i 2^(L*i) l_i
                cs.enforce_equal(low + upper, check.value, f"recompose:{check.label}")
            queries.append((low, f"{check.label}/limb0"))
            queries.extend((limbs[i], f"{check.label}/limb{i}") for i in range(1, k))
            top_bits = n_bits - limb_bits * (k - 1)
            if top_bits != limb_bits:
                top = low if k == 1 else limbs[k - 1]
                # 2^(L-t) * l_top < 2^L as an integer, with l_top < 2^L: l_top < 2^t
                queries.append((top.scale(1 << (limb_bits - top_bits)), f"{check.label}/limb{k - 1}/shifted"))
        if not queries:
            return None

        query_values = [f.value for f, _ in queries]
        counts = [0] * table_size
        for f in query_values:
            if f < table_size:  # a query outside the table has no row to count it: the sum will not balance
                counts[f] += 1
        multiplicities = [cs.hint(c, f"multiplicity{j}") for j, c in enumerate(counts)]
        committed.extend(_wire(m) for m in multiplicities)
        blinding = cs.hint(0, "blinding")
        blinding_wire = _wire(blinding)
        committed.append(blinding_wire)
        # b * 0 = 0: always true, but it gives b a QAP polynomial, hence a non-zero commitment basis point
        cs.enforce(blinding, 0, 0, "blinding")

        committed_unique = tuple(dict.fromkeys(committed))
        alpha_value = stand_in_challenge([cs.values[w] for w in committed_unique])
        alpha = cs.public_input(CHALLENGE_NAME, alpha_value)
        inverses = _inverses_at(alpha_value, query_values, table_size)
        query_terms = []
        for (f, label), inv in zip(queries, inverses):
            term = cs.hint(inv, "inverse")
            # 1/(alpha - f_i): term * (alpha - f_i) == 1
            cs.enforce(term, alpha - f, 1, f"query:{label}")
            query_terms.append(term)
        table_terms = []
        for j, (m, inv) in enumerate(zip(multiplicities, inverses[len(queries):])):
            term = cs.hint(m.value * inv, f"table_term{j}")
            # m_j/(alpha - j): term * (alpha - j) == m_j
            cs.enforce(term, alpha - j, m, f"table:{j}")
            table_terms.append(term)
        # sum_i 1/(alpha - f_i) == sum_j m_j/(alpha - j)
        lhs = linear_combination((1, t) for t in query_terms)
        rhs = linear_combination((1, t) for t in table_terms)
        cs.enforce_equal(lhs, rhs, "sum")

    return LookupSettlement(
        limb_bits=limb_bits,
        committed_wires=committed_unique,
        blinding_wire=blinding_wire,
        challenge_wire=_wire(alpha),
        query_values=tuple(query_values),
        query_wires=tuple(_wire(t) for t in query_terms),
        multiplicities=tuple(m.value for m in multiplicities),
        table_wires=tuple(_wire(t) for t in table_terms),
        n_lookup_checks=len(pending) - n_bits_checks,
        n_bits_checks=n_bits_checks,
    )


@dataclass(frozen=True)
class CommittedStatement:
    """A settled lookup-mode system as the committed prover (prover.committed) takes it, in iden3 wire order.

    r1cs: the system; its last public signal is the challenge
    committed_wires / blinding_wire: the wires of the commitment (setup_committed's arguments)
    witness: the witness as built (with the stand-in challenge)
    """

    r1cs: R1CS
    committed_wires: tuple[int, ...]
    blinding_wire: int
    witness: list[int]
    settlement: LookupSettlement
    _cs: ConstraintSystem

    def witness_for_challenge(self, alpha: int) -> list[int]:
        """The full witness with the challenge alpha and the terms after it (ChallengeCollision if none exist)."""
        return self._cs.witness(self.settlement.values_for_challenge(self._cs.values, alpha))


def committed_statement(cs: ConstraintSystem) -> CommittedStatement | None:
    """Settle cs and describe it for the committed prover; None when no check went by lookup (plain Groth16)."""
    cs.finish()
    settlement = getattr(cs.range_checker, "settlement", None)
    if settlement is None:
        return None
    index = cs.export_index()
    r1cs = cs.to_r1cs()
    return CommittedStatement(
        r1cs=r1cs,
        committed_wires=tuple(index[w] for w in settlement.committed_wires),
        blinding_wire=index[settlement.blinding_wire],
        witness=cs.witness(),
        settlement=settlement,
        _cs=cs,
    )
