"""Build a rank-1 constraint system and its witness in one pass.

One function defines a circuit for both jobs, as gnark's `Define` and arkworks'
`generate_constraints` do: every LC carries its value, so the code that emits a
constraint also computes the witness. A value the constraints cannot compute
(an inverse, the bits of a number) enters as a *hint*: a new private wire set
from Python, which the calling gadget must constrain on the spot (circomlib's
`<--` followed by `===`). `to_r1cs` refuses a hint wire no constraint mentions.

The R1CS shape never depends on witness values: gadgets branch on what is a
circuit constant (an LC with no wire), never on `.value`. Building the same
circuit from two valid inputs gives identical matrices.

Usage::

    cs = ConstraintSystem()
    x = cs.private_input("x", 7)
    with cs.scope("square"):
        y = cs.mul(x, x, "x_squared")      # one constraint x * x = y
    cs.public_output("y", y + 1)          # one constraint (y + 1) * 1 = out
    r1cs, witness = cs.to_r1cs(), cs.witness()
    assert r1cs.is_satisfied(witness)

Labels are "/"-joined scope paths plus the constraint's name, e.g.
`quote[3]/bsm/d1/ln/range/bit17`.

Every range check goes through one factory, `cs.range_checker` (gnark's
`rangecheck.New(api)`), whose strategy is the `RangeCheckMode` chosen when the
system is created: `bits` emits each check on the spot as a bit decomposition;
`lookup` collects the checks and settles them together at the end of the build.
`finish()` settles them; exporting or checking the system calls it first.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Callable, Iterator

from bn254.constants import R
from bn254.r1cs import R1CS, Constraint, ConstraintFailure
from circuits.lc import LC, ONE_WIRE, Operand, as_lc
from circuits.profile import ScopeProfile
from engine.errors import DLPEError

if TYPE_CHECKING:
    from circuits.gadgets.rangecheck import RangeChecker

HintTamper = Callable[[str, int], int]
"""(hint label, honest value) -> value to use instead: a malicious prover, for negative tests."""

# Wire kinds, in the order iden3 lays wires out.
_ONE, _PUBLIC_OUTPUT, _PUBLIC_INPUT, _PRIVATE_INPUT, _HINT, _PRODUCT = range(6)


class CircuitError(DLPEError, ValueError):
    """A circuit was built wrongly (not a bad witness: a bad circuit definition)."""


class UnsatisfiableConstraint(CircuitError):
    """A constraint between circuit constants that can never hold."""


class UnconstrainedWire(CircuitError):
    """A hint or private input that no constraint mentions: the prover could set it to anything."""


class ConstraintViolated(CircuitError):
    """In strict mode: the witness being built violates the constraint just emitted."""


class RangeCheckMode(Enum):
    """How the system's range checks are proven (see circuits.gadgets.rangecheck)."""

    BITS = "bits"  # plain R1CS: one boolean per bit plus a recomposition, emitted on the spot
    LOOKUP = "lookup"  # collected during the build, settled at the end against a table


class ConstraintSystem:
    """An R1CS under construction, with its witness.

    Wires are numbered in creation order while building (wire 0 is the constant 1);
    `to_r1cs` and `witness` renumber them into the iden3 order. `values` holds the
    witness in creation order, which `first_failure` accepts (tampered or not).

    strict: raise ConstraintViolated as soon as an emitted constraint does not hold
    for the values being built (handy while writing a gadget; leave it off to build
    circuits from invalid inputs in negative tests).
    tamper_hint: called for every hint with its label and honest value; what it
    returns becomes the wire's value. Used by tests to play a malicious prover.
    range_mode: the strategy of `range_checker` (a RangeCheckMode or its name);
    `bits` exports the same R1CS, byte for byte, as circuits built before the factory.
    """

    __slots__ = (
        "values",
        "_wire_kind",
        "_wire_scope",
        "_wire_name",
        "_input_names",
        "_constraints",
        "_constraint_scope",
        "_constraint_name",
        "_scope_paths",
        "_scope_ids",
        "_scope",
        "_strict",
        "_tamper_hint",
        "_range_mode",
        "_range_checker",
    )

    def __init__(self, *, strict: bool = False, tamper_hint: HintTamper | None = None,
                 range_mode: RangeCheckMode | str = RangeCheckMode.BITS) -> None:
        self.values: list[int] = [1]
        self._wire_kind = bytearray([_ONE])
        self._wire_scope: list[int] = [0]
        self._wire_name: list[str] = ["one"]
        self._input_names: set[str] = set()
        self._constraints: list[Constraint] = []
        self._constraint_scope: list[int] = []
        self._constraint_name: list[str] = []
        self._scope_paths: list[str] = [""]
        self._scope_ids: dict[str, int] = {"": 0}
        self._scope = 0
        self._strict = strict
        self._tamper_hint = tamper_hint
        try:
            self._range_mode = RangeCheckMode(range_mode)
        except ValueError:
            modes = ", ".join(m.value for m in RangeCheckMode)
            raise CircuitError(f"unknown range-check mode {range_mode!r}: expected one of {modes}") from None
        self._range_checker: RangeChecker | None = None

    # -- sizes ---------------------------------------------------------------

    @property
    def n_wires(self) -> int:
        return len(self.values)

    @property
    def n_constraints(self) -> int:
        return len(self._constraints)

    @property
    def strict(self) -> bool:
        """True when every constraint (and every collected range check) is checked as it is emitted."""
        return self._strict

    # -- range checks ----------------------------------------------------------

    @property
    def range_mode(self) -> RangeCheckMode:
        return self._range_mode

    @property
    def range_checker(self) -> RangeChecker:
        """The system's one range-check factory, made on first use for the system's mode."""
        if self._range_checker is None:
            # imported here: the checkers are gadgets built on this module
            from circuits.gadgets.rangecheck import new_range_checker

            self._range_checker = new_range_checker(self)
        return self._range_checker

    def finish(self) -> None:
        """Settle the range checks collected so far (nothing to do in bits mode, or before any check)."""
        if self._range_checker is not None:
            self._range_checker.settle()

    # -- scopes and labels ---------------------------------------------------

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Label everything emitted inside with `name` appended to the current path."""
        if not name or "/" in name:
            raise CircuitError(f"scope name must be non-empty and contain no '/': {name!r}")
        parent = self._scope
        parent_path = self._scope_paths[parent]
        path = f"{parent_path}/{name}" if parent_path else name
        scope_id = self._scope_ids.get(path)
        if scope_id is None:
            scope_id = self._scope_ids[path] = len(self._scope_paths)
            self._scope_paths.append(path)
        self._scope = scope_id
        try:
            yield
        finally:
            self._scope = parent

    @property
    def current_scope(self) -> str:
        """The "/"-joined path of the scope being built ("" at the top)."""
        return self._scope_paths[self._scope]

    def _label(self, scope_id: int, name: str) -> str:
        path = self._scope_paths[scope_id]
        return f"{path}/{name}" if path else name

    def constraint_label(self, index: int) -> str:
        """Label of constraint `index` (creation order, which to_r1cs keeps)."""
        return self._label(self._constraint_scope[index], self._constraint_name[index])

    def wire_label(self, wire: int) -> str:
        """Label of a wire by its creation-order index."""
        return self._label(self._wire_scope[wire], self._wire_name[wire])

    # -- wires -----------------------------------------------------------------

    def _new_wire(self, kind: int, name: str, value: int) -> LC:
        index = len(self.values)
        self.values.append(value % R)
        self._wire_kind.append(kind)
        self._wire_scope.append(self._scope)
        self._wire_name.append(name)
        return LC({index: 1}, 0, value % R)

    def _new_input(self, kind: int, name: str, value: int) -> LC:
        label = self._label(self._scope, name)
        if label in self._input_names:
            raise CircuitError(f"input or output {label!r} declared twice")
        self._input_names.add(label)
        return self._new_wire(kind, name, value)

    def public_input(self, name: str, value: int) -> LC:
        """A public input wire (known to the verifier). Negative values map to value mod r."""
        return self._new_input(_PUBLIC_INPUT, name, value)

    def private_input(self, name: str, value: int) -> LC:
        """A private input wire (known to the prover only). Negative values map to value mod r."""
        return self._new_input(_PRIVATE_INPUT, name, value)

    def public_output(self, name: str, x: Operand) -> LC:
        """A new public wire `out` pinned by one constraint x * 1 = out."""
        x = as_lc(x)
        out = self._new_input(_PUBLIC_OUTPUT, name, x.value)
        self.enforce(x, 1, out, f"output:{name}")
        return out

    def hint(self, value: int, name: str) -> LC:
        """A new private wire holding `value` (mod r), constrained by nothing yet.

        The caller must constrain it right away; to_r1cs raises UnconstrainedWire
        for a hint no constraint mentions, but only the caller can make the
        constraints strong enough.
        """
        value %= R
        if self._tamper_hint is not None:
            value = self._tamper_hint(self._label(self._scope, name), value) % R
        return self._new_wire(_HINT, name, value)

    # -- constraints -----------------------------------------------------------

    def enforce(self, a: Operand, b: Operand, c: Operand, name: str) -> None:
        """Add the constraint a * b = c.

        A constraint between circuit constants adds nothing when it holds and
        raises UnsatisfiableConstraint when it cannot.
        """
        a, b, c = as_lc(a), as_lc(b), as_lc(c)
        if not (a.terms or b.terms or c.terms):
            if a.const * b.const % R != c.const:
                raise UnsatisfiableConstraint(
                    f"{self._label(self._scope, name)}: constants {a.const} * {b.const} != {c.const}"
                )
            return
        if self._strict and a.value * b.value % R != c.value:
            raise ConstraintViolated(
                f"{self._label(self._scope, name)}: {a.value} * {b.value} != {c.value}"
            )
        self._constraints.append((a.row(), b.row(), c.row()))
        self._constraint_scope.append(self._scope)
        self._constraint_name.append(name)

    def enforce_equal(self, a: Operand, b: Operand, name: str) -> None:
        """Add the constraint a * 1 = b (nothing when both are the same constant)."""
        self.enforce(a, 1, b, name)

    def mul(self, a: Operand, b: Operand, name: str = "mul") -> LC:
        """a * b: free when either side is a constant, else a new wire p and the constraint a * b = p."""
        a, b = as_lc(a), as_lc(b)
        if a.is_constant:
            return b.scale(a.const)
        if b.is_constant:
            return a.scale(b.const)
        product = self._new_wire(_PRODUCT, name, a.value * b.value)
        self._constraints.append((a.row(), b.row(), product.terms))
        self._constraint_scope.append(self._scope)
        self._constraint_name.append(name)
        return product

    # -- checking ---------------------------------------------------------------

    def first_failure(self, values: list[int] | None = None) -> ConstraintFailure | None:
        """The first constraint violated by `values` (creation order; default: the built witness)."""
        self.finish()
        w = self.values if values is None else values
        if len(w) != len(self.values) or w[0] != 1:
            raise ValueError("values must assign every wire, with values[0] == 1")
        for i, (a, b, c) in enumerate(self._constraints):
            av = sum(k * w[j] for j, k in a.items()) % R
            bv = sum(k * w[j] for j, k in b.items()) % R
            cv = sum(k * w[j] for j, k in c.items()) % R
            if av * bv % R != cv:
                return ConstraintFailure(i, self.constraint_label(i), av, bv, cv)
        return None

    def is_satisfied(self, values: list[int] | None = None) -> bool:
        """True when `values` (default: the built witness) satisfy every constraint."""
        return self.first_failure(values) is None

    @property
    def constraints(self) -> list[Constraint]:
        """The (A, B, C) rows emitted so far, in creation order and creation-order wire indices (read only)."""
        return self._constraints

    def input_wires(self) -> list[int]:
        """Creation-order indices of the public and private inputs (what the prover is given)."""
        return [i for i, kind in enumerate(self._wire_kind) if kind in (_PUBLIC_INPUT, _PRIVATE_INPUT)]

    def hint_wires(self) -> list[int]:
        """Creation-order indices of every hint wire (the values a malicious prover chooses freely)."""
        return [i for i, kind in enumerate(self._wire_kind) if kind == _HINT]

    def is_private_wire(self, wire: int) -> bool:
        """True for a wire only the prover knows: a private input, a hint or a product (not 1, not public)."""
        return self._wire_kind[wire] in (_PRIVATE_INPUT, _HINT, _PRODUCT)

    def internal_wires(self) -> list[int]:
        """Creation-order indices of every wire that is not the constant or an input: hints, products, outputs."""
        return [i for i, kind in enumerate(self._wire_kind) if kind in (_HINT, _PRODUCT, _PUBLIC_OUTPUT)]

    # -- export -----------------------------------------------------------------

    def _export_order(self) -> list[int]:
        """Creation-order wire indices in iden3 order: one, public outputs, public inputs, private inputs, rest."""
        kinds = self._wire_kind
        order = [ONE_WIRE]
        for kind in (_PUBLIC_OUTPUT, _PUBLIC_INPUT, _PRIVATE_INPUT):
            order.extend(i for i, k in enumerate(kinds) if k == kind)
        order.extend(i for i, k in enumerate(kinds) if k in (_HINT, _PRODUCT))
        return order

    def export_index(self) -> list[int]:
        """export_index()[creation-order wire] = the wire's index in to_r1cs() and witness()."""
        position = [0] * len(self.values)
        for new, old in enumerate(self._export_order()):
            position[old] = new
        return position

    def _check_every_hint_constrained(self) -> None:
        used = bytearray(len(self.values))
        for a, b, c in self._constraints:
            for row in (a, b, c):
                for w in row:
                    used[w] = 1
        for i, kind in enumerate(self._wire_kind):
            if kind in (_HINT, _PRIVATE_INPUT) and not used[i]:
                what = "hint" if kind == _HINT else "private input"
                raise UnconstrainedWire(f"{what} {self.wire_label(i)!r} appears in no constraint")

    def to_r1cs(self) -> R1CS:
        """The system in iden3 wire order. Raises UnconstrainedWire for an unused hint or private input."""
        self.finish()
        self._check_every_hint_constrained()
        order = self._export_order()
        position = [0] * len(order)
        for new, old in enumerate(order):
            position[old] = new
        constraints = [
            (
                {position[w]: k for w, k in a.items()},
                {position[w]: k for w, k in b.items()},
                {position[w]: k for w, k in c.items()},
            )
            for a, b, c in self._constraints
        ]
        kinds = Counter(self._wire_kind)
        return R1CS(
            n_wires=len(order),
            n_public_outputs=kinds[_PUBLIC_OUTPUT],
            n_public_inputs=kinds[_PUBLIC_INPUT],
            n_private_inputs=kinds[_PRIVATE_INPUT],
            constraints=constraints,
            labels=[self.constraint_label(i) for i in range(len(self._constraints))],
            wire_names=[self.wire_label(i) for i in order],
        )

    def witness(self, values: list[int] | None = None) -> list[int]:
        """The witness vector in to_r1cs() order (default: the built values; or a tampered copy)."""
        self.finish()
        w = self.values if values is None else values
        return [w[i] for i in self._export_order()]

    def profile(self, root_name: str = "circuit") -> ScopeProfile:
        """Constraint counts per scope, as a tree (see circuits.profile)."""
        counts = Counter(self._constraint_scope)
        return ScopeProfile.from_path_counts(
            {self._scope_paths[s]: n for s, n in counts.items()}, root_name
        )
