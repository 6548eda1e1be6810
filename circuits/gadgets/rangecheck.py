"""The one range-check factory: every range check of every gadget goes through it.

gnark's `rangecheck.New(api)` habit: a gadget asks the system's checker to prove
0 <= x < 2^n and does not care how; the strategy is the system's `RangeCheckMode`,
chosen when the ConstraintSystem is created, and the checker is `cs.range_checker`.

- `bits` (BitsRangeChecker): each check is emitted on the spot as circomlib's
  `Num2Bits`: n booleans b_i * (b_i - 1) = 0 and sum_i 2^i b_i = x, n + 1
  constraints. The exported R1CS is exactly the one built before this factory
  existed (pinned by hash in tests/circuits/test_rangecheck.py).
- `lookup` (LookupRangeChecker): each check is recorded as a `PendingCheck`
  (value, width, label) and settled at the end of the build (`cs.finish()`),
  all together, by a log-derivative lookup over a challenge derived from a
  commitment to the witness (circuits.gadgets.logup; proven by
  prover.committed). After settling no further check can be collected.

Three kinds of request:

- `check(x, n)` / `check_signed(x, n)`: the range is all the caller needs.
- `decompose(x, n)`: the caller reads the bits (a range reduction, a table index,
  a sign). Both modes emit the boolean decomposition, which is itself the range
  proof; nothing is left pending.

The decomposition x = sum_{i<n} 2^i b_i over F_r is unique only while 2^n <= r,
so widths are limited to n <= 253 (2^253 < r).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from circuits.builder import CircuitError, ConstraintSystem, ConstraintViolated, RangeCheckMode
from circuits.gadgets.bits import MAX_UNIQUE_BITS, new_boolean
from circuits.gadgets.logup import LookupSettlement, settle_lookup
from circuits.lc import LC, Boolean, Operand, RangeChecked, as_lc, linear_combination

__all__ = [
    "BitsRangeChecker",
    "LookupRangeChecker",
    "LookupSettled",
    "PendingCheck",
    "RangeCheckMode",
    "RangeChecker",
    "new_range_checker",
]


class LookupSettled(CircuitError):
    """A range check was asked for after the lookup-mode system settled its checks (cs.finish())."""


@dataclass(frozen=True)
class PendingCheck:
    """A range check collected in lookup mode: 0 <= value < 2^n_bits, value read as an integer in [0, r)."""

    value: LC
    n_bits: int
    label: str


def _check_width(n_bits: int) -> None:
    if not 1 <= n_bits <= MAX_UNIQUE_BITS:
        raise CircuitError(
            f"bit width must be in [1, {MAX_UNIQUE_BITS}] for a unique decomposition mod r, got {n_bits}"
        )


def emit_bits(cs: ConstraintSystem, x: LC, n_bits: int) -> list[Boolean]:
    """Little-endian hint bits of x, each pinned boolean, and sum_i 2^i b_i = x; n + 1 constraints."""
    with cs.scope("bits"):
        v = x.value
        bits = [new_boolean(cs, (v >> i) & 1, f"bit{i}") for i in range(n_bits)]
        # sum_i 2^i b_i == x
        cs.enforce_equal(linear_combination((1 << i, b) for i, b in enumerate(bits)), x, "recompose")
    return bits


def _constant_bits(x: LC, n_bits: int) -> list[Boolean]:
    """The bits of a circuit constant, refused at build time when it does not fit (no constraint)."""
    if x.const >> n_bits:
        raise CircuitError(f"constant {x.const} does not fit in {n_bits} bits")
    return [Boolean.constant_bit((x.const >> i) & 1) for i in range(n_bits)]


class RangeChecker(ABC):
    """Proves 0 <= x < 2^n for the system it belongs to; one per ConstraintSystem (`cs.range_checker`)."""

    mode: RangeCheckMode

    def __init__(self, cs: ConstraintSystem) -> None:
        self.cs = cs

    @abstractmethod
    def _prove(self, x: LC, n_bits: int) -> None:
        """Prove 0 <= x < 2^n_bits for a non-constant x, in this checker's way (width already validated)."""

    @abstractmethod
    def settle(self) -> None:
        """Emit whatever the collected checks still need; called by cs.finish() at the end of the build."""

    def _prove_in_range(self, x: LC, n_bits: int) -> None:
        _check_width(n_bits)
        if x.is_constant:
            _constant_bits(x, n_bits)
            return
        self._prove(x, n_bits)

    def check(self, x: Operand, n_bits: int) -> RangeChecked:
        """Constrain 0 <= x < 2^n_bits (x read as an integer in [0, r)); in bits mode n + 1 constraints.

        Returns x as a RangeChecked, so later gadgets need not check it again.
        Already-checked values that fit are returned as they are, for free.
        """
        x = as_lc(x)
        if isinstance(x, RangeChecked) and x.within(0, n_bits):
            return x
        with self.cs.scope("range"):
            self._prove_in_range(x, n_bits)
        return RangeChecked(x, 0, n_bits)

    def check_signed(self, x: Operand, n_bits: int) -> RangeChecked:
        """Constrain -2^(n-1) <= x < 2^(n-1) (x mod r read in that window); in bits mode n + 1 constraints.

        Done as 0 <= x + 2^(n-1) < 2^n, which for n <= 253 cannot wrap around r.
        """
        _check_width(n_bits)
        x = as_lc(x)
        lo = -(1 << (n_bits - 1))
        if isinstance(x, RangeChecked) and x.within(lo, n_bits):
            return x
        with self.cs.scope("signed_range"):
            self._prove_in_range(x - lo, n_bits)
        return RangeChecked(x, lo, n_bits)

    def decompose(self, x: Operand, n_bits: int) -> list[Boolean]:
        """Little-endian bits b_0..b_{n-1} of x, for a caller that reads them; n + 1 constraints in either mode.

        Constrains b_i * (b_i - 1) = 0 for each i and sum_i 2^i b_i = x. Since
        n <= 253 and 2^253 < r, this holds only when x, as an integer in [0, r), is
        below 2^n, and then the bits are its binary digits (unique): the
        decomposition is its own range check. A constant x gives constant bits and
        no constraint (CircuitError if it does not fit).
        """
        _check_width(n_bits)
        x = as_lc(x)
        if x.is_constant:
            return _constant_bits(x, n_bits)
        return emit_bits(self.cs, x, n_bits)


class BitsRangeChecker(RangeChecker):
    """Every check is a bit decomposition emitted where it is asked for (today's plain R1CS)."""

    mode = RangeCheckMode.BITS

    def _prove(self, x: LC, n_bits: int) -> None:
        emit_bits(self.cs, x, n_bits)

    def settle(self) -> None:
        """Nothing is ever pending in bits mode."""


class LookupRangeChecker(RangeChecker):
    """Checks are collected as PendingCheck and settled together by a lookup argument at the end of the build.

    In a strict system a value outside its range is refused as it is collected,
    as a bits-mode constraint would be.
    """

    mode = RangeCheckMode.LOOKUP

    def __init__(self, cs: ConstraintSystem) -> None:
        super().__init__(cs)
        self._pending: list[PendingCheck] = []
        self._settled = False
        self._settlement: LookupSettlement | None = None

    @property
    def pending(self) -> tuple[PendingCheck, ...]:
        """The checks collected so far, in the order they were asked for."""
        return tuple(self._pending)

    @property
    def settlement(self) -> LookupSettlement | None:
        """What settling built (None before, or when no check went by lookup)."""
        return self._settlement

    def _prove(self, x: LC, n_bits: int) -> None:
        label = self.cs.current_scope
        if self._settled:
            raise LookupSettled(f"{label}: range check asked for after the lookup was settled")
        if self.cs.strict and x.value >> n_bits:
            raise ConstraintViolated(f"{label}: {x.value} is not below 2^{n_bits}")
        self._pending.append(PendingCheck(x, n_bits, label))

    def settle(self) -> None:
        """Prove every collected check by one log-derivative lookup (circuits.gadgets.logup); once only."""
        if self._settled:
            return
        self._settled = True
        self._settlement = settle_lookup(self.cs, self._pending)


def new_range_checker(cs: ConstraintSystem) -> RangeChecker:
    """The checker of cs's range-check mode (what cs.range_checker returns; made once per system)."""
    if cs.range_mode is RangeCheckMode.BITS:
        return BitsRangeChecker(cs)
    return LookupRangeChecker(cs)
