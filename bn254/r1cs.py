"""The rank-1 constraint system as plain data: what a Groth16 prover consumes.

A constraint i holds when <A_i, w> * <B_i, w> = <C_i, w> over F_r, with A_i, B_i,
C_i sparse rows {wire: coeff} and w the witness vector. Wires follow the iden3
(circom/snarkjs) order: w[0] = 1, then the public outputs, the public inputs,
the private inputs, and the internal wires.

Circuits build it, the prover consumes it, and the iden3 .r1cs format
(bn254.iden3) carries it; it knows nothing about options or gadgets.

Held compactly: a system of half a million constraints as per-row dicts took
about 460 MiB, most of a proof's memory. R1CS keeps its matrices in compressed
sparse rows (Constraints: for each of A, B, C, numpy arrays of row pointers,
wires and coefficient indices, 8 bytes a term; the distinct coefficients, few in
a circuit, once), and its labels and wire names as indices into tables of the
distinct scope paths and last names (Names, 8 bytes a name). Both still read as
the sequences of dicts and strings they were built from, made on access.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator, Sequence

import numpy as np

from bn254.constants import R

Row = dict[int, int]
"""A sparse linear combination {wire index: coefficient in [1, r)}; wire 0 is the constant 1."""

Constraint = tuple[Row, Row, Row]
"""(A, B, C) of one constraint A * B = C."""

_CHUNK = 1 << 14  # rows converted to Python lists at a time when walking a matrix


class InvalidWitness(ValueError):
    """A witness vector that is not an assignment of this system's wires at all."""


@dataclass(frozen=True, slots=True)
class ConstraintFailure:
    """The first constraint a witness violates, with the three sides' values."""

    index: int
    label: str
    a: int
    b: int
    c: int

    def __str__(self) -> str:
        return f"constraint {self.index} ({self.label}): {self.a} * {self.b} != {self.c}"


@dataclass(frozen=True, eq=False)
class SparseRows:
    """One matrix (A, B or C) in compressed sparse rows.

    Row i's terms are k = indptr[i] .. indptr[i+1] - 1: wire wires[k] with the coefficient
    Constraints.coefficients[terms[k]], in the order the row was given.
    indptr: int64, rows + 1 entries; wires, terms: uint32, one entry a term.
    """

    indptr: np.ndarray
    wires: np.ndarray
    terms: np.ndarray

    @property
    def n_rows(self) -> int:
        return self.indptr.shape[0] - 1

    @property
    def n_terms(self) -> int:
        return self.wires.shape[0]

    def term_rows(self) -> np.ndarray:
        """The row of every term (int64), in term order."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(self.indptr))

    def sorted_by_wire(self) -> np.ndarray:
        """The term order that sorts each row's terms by wire, rows kept in order."""
        return np.lexsort((self.wires, self.term_rows()))


def _uint32(values: array) -> np.ndarray:
    return np.frombuffer(values, np.uint32).copy() if len(values) else np.zeros(0, np.uint32)


class _Ids(dict):
    """value -> its index in insertion order, a new value getting the next index when first looked up."""

    def __missing__(self, value: int) -> int:
        index = self[value] = len(self)
        return index


class Constraints(Sequence[Constraint]):
    """The constraints of a system as three SparseRows over one table of distinct coefficients.

    Reads as a sequence of (A, B, C) row dicts, each made when read: equal to the list
    it was built from (Constraints.from_rows), and to any sequence of equal constraints.
    coefficients: the distinct coefficient values, exactly as given (not reduced mod r).
    """

    __slots__ = ("a", "b", "c", "coefficients")

    def __init__(self, a: SparseRows, b: SparseRows, c: SparseRows, coefficients: list[int]):
        if not a.n_rows == b.n_rows == c.n_rows:
            raise ValueError(f"A, B and C have {a.n_rows}, {b.n_rows} and {c.n_rows} rows")
        self.a, self.b, self.c, self.coefficients = a, b, c, coefficients

    @classmethod
    def from_rows(cls, rows: Iterable[Constraint]) -> Constraints:
        """The compact form of a sequence of (A, B, C) row dicts {wire: coefficient}."""
        if isinstance(rows, Constraints):
            return rows
        rows = rows if isinstance(rows, Sequence) else list(rows)
        if any(len(constraint) != 3 for constraint in rows):
            raise ValueError("every constraint must be three rows (A, B, C)")
        ids = _Ids()
        matrices = []
        for k in range(3):
            ends, wires, terms = array("q", [0]), array("I"), array("I")
            total = 0
            try:
                for constraint in rows:
                    row = constraint[k]
                    total += len(row)
                    ends.append(total)
                    wires.extend(row)  # C loops: the keys, then each value's index in the table
                    terms.extend(map(ids.__getitem__, row.values()))
            except OverflowError as error:
                raise ValueError(f"a wire index outside [0, 2^32): {error}") from error
            matrices.append(SparseRows(np.frombuffer(ends, np.int64).copy(), _uint32(wires), _uint32(terms)))
        return cls(*matrices, list(ids))

    @property
    def matrices(self) -> tuple[SparseRows, SparseRows, SparseRows]:
        return self.a, self.b, self.c

    @property
    def n_terms(self) -> int:
        """Terms of A, B and C together."""
        return self.a.n_terms + self.b.n_terms + self.c.n_terms

    def __len__(self) -> int:
        return self.a.n_rows

    def _chunks(self, start: int, stop: int) -> Iterator[tuple[int, list[tuple[list[int], list[int], list[int]]]]]:
        """(first row, [(row pointers rebased to 0, wires, coefficient ids) for A, B, C]) per chunk of rows."""
        for first in range(start, stop, _CHUNK):
            last = min(stop, first + _CHUNK)
            parts = []
            for m in self.matrices:
                begin, end = int(m.indptr[first]), int(m.indptr[last])
                parts.append(((m.indptr[first : last + 1] - begin).tolist(), m.wires[begin:end].tolist(),
                              m.terms[begin:end].tolist()))
            yield first, parts

    def _rows(self, start: int, stop: int) -> Iterator[Constraint]:
        coefficients = self.coefficients
        for first, parts in self._chunks(start, stop):
            for i in range(len(parts[0][0]) - 1):
                yield tuple(
                    {wires[k]: coefficients[terms[k]] for k in range(ptr[i], ptr[i + 1])} for ptr, wires, terms in parts
                )

    def __iter__(self) -> Iterator[Constraint]:
        return self._rows(0, len(self))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"constraint {index} of {len(self)}")
        index %= len(self)
        return next(self._rows(index, index + 1))

    def values(self, witness: Sequence[int], start: int, stop: int, prime: int) -> Iterator[tuple[int, int, int]]:
        """(<A_i, w>, <B_i, w>, <C_i, w>) mod prime for rows start .. stop - 1."""
        coefficients = self.coefficients
        for _first, parts in self._chunks(start, stop):
            sides = []
            for ptr, wires, terms in parts:
                sides.append([sum(coefficients[terms[k]] * witness[wires[k]] for k in range(ptr[i], ptr[i + 1])) % prime
                              for i in range(len(ptr) - 1)])
            yield from zip(*sides)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Constraints):
            # Rows are dicts: equal when they map the same wires to the same values, in any order.
            if len(self) != len(other) or not all(
                np.array_equal(x.indptr, y.indptr) for x, y in zip(self.matrices, other.matrices)
            ):
                return False
            same_table = self.coefficients == other.coefficients
            mine = None if same_table else np.array(self.coefficients, dtype=object)
            theirs = None if same_table else np.array(other.coefficients, dtype=object)
            for x, y in zip(self.matrices, other.matrices):
                if not np.array_equal(x.wires, y.wires):
                    x_order, y_order = x.sorted_by_wire(), y.sorted_by_wire()
                    if not np.array_equal(x.wires[x_order], y.wires[y_order]):
                        return False
                    x_terms, y_terms = x.terms[x_order], y.terms[y_order]
                else:
                    x_terms, y_terms = x.terms, y.terms
                if same_table:
                    if not np.array_equal(x_terms, y_terms):
                        return False
                elif x_terms.shape[0] and not (mine[x_terms] == theirs[y_terms]).all():
                    return False
            return True
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(mine == theirs for mine, theirs in zip(self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Constraints({len(self)} constraints, {self.n_terms} terms, {len(self.coefficients)} distinct coefficients)"


class Names(Sequence[str]):
    """Strings held as (head, tail) indices into tables of the distinct heads and tails.

    A name splits after its last "/": "quote[3]/bsm/range/bit7" is the head
    "quote[3]/bsm/range/" and the tail "bit7". Circuit labels share both, so half a
    million of them take 8 bytes each instead of about a hundred.
    """

    __slots__ = ("_heads", "_tails", "_head_ids", "_tail_ids")

    def __init__(self, names: Iterable[str]):
        heads: dict[str, int] = {}
        tails: dict[str, int] = {}
        head_ids, tail_ids = array("I"), array("I")
        for name in names:
            cut = name.rfind("/") + 1
            head_ids.append(heads.setdefault(name[:cut], len(heads)))
            tail_ids.append(tails.setdefault(name[cut:], len(tails)))
        self._heads, self._tails = list(heads), list(tails)
        self._head_ids, self._tail_ids = _uint32(head_ids), _uint32(tail_ids)

    def __len__(self) -> int:
        return self._head_ids.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._heads[self._head_ids[index]] + self._tails[self._tail_ids[index]]

    def __iter__(self) -> Iterator[str]:
        heads, tails = self._heads, self._tails
        for first in range(0, len(self), _CHUNK):
            last = first + _CHUNK
            for h, t in zip(self._head_ids[first:last].tolist(), self._tail_ids[first:last].tolist()):
                yield heads[h] + tails[t]

    def __eq__(self, other: object) -> bool:
        return _names_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Names({len(self)} names: {list(islice(self, 3))}...)"


class NumberedNames(Sequence[str]):
    """prefix + str(i) for i < count, made when read (the names a .r1cs file gives, which holds none)."""

    __slots__ = ("prefix", "count")

    def __init__(self, prefix: str, count: int):
        self.prefix, self.count = prefix, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(f"name {index} of {self.count}")
        return f"{self.prefix}{index % self.count}"

    def __iter__(self) -> Iterator[str]:
        return (f"{self.prefix}{i}" for i in range(self.count))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NumberedNames):
            return (self.prefix, self.count) == (other.prefix, other.count) or (self.count == other.count == 0)
        return _names_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NumberedNames({self.prefix!r}, {self.count})"


def _names_equal(names: Sequence[str], other: object) -> bool:
    if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
        return len(names) == len(other) and all(a == b for a, b in zip(names, other))
    return NotImplemented


def compact_names(names: Sequence[str]) -> Sequence[str]:
    """names as Names, unless already held compactly (Names, NumberedNames)."""
    return names if isinstance(names, (Names, NumberedNames)) else Names(names)


@dataclass(frozen=True, slots=True)
class R1CS:
    """A rank-1 constraint system over the BN254 scalar field.

    n_wires counts wire 0. Public wires are 1..n_public (outputs first, as snarkjs
    orders public signals); private inputs follow them.
    constraints: any sequence of (A, B, C) row dicts, kept as Constraints (compact,
        read back as the same dicts); labels and wire_names: any sequences of strings,
        kept as Names (or NumberedNames as given).
    """

    n_wires: int
    n_public_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    constraints: Sequence[Constraint]
    labels: Sequence[str]
    wire_names: Sequence[str]
    prime: int = R

    def __post_init__(self) -> None:
        # Frozen: the compact forms replace what was given, once, here.
        object.__setattr__(self, "constraints", Constraints.from_rows(self.constraints))
        object.__setattr__(self, "labels", compact_names(self.labels))
        object.__setattr__(self, "wire_names", compact_names(self.wire_names))

    @property
    def n_public(self) -> int:
        """Number of public wires (outputs + inputs), excluding the constant wire 0."""
        return self.n_public_outputs + self.n_public_inputs

    @property
    def n_constraints(self) -> int:
        return len(self.constraints)

    def validate_witness(self, witness: Sequence[int]) -> None:
        """Raise InvalidWitness unless witness has n_wires entries in [0, r) and w[0] = 1."""
        if len(witness) != self.n_wires:
            raise InvalidWitness(f"witness has {len(witness)} values, the system has {self.n_wires} wires")
        if witness[0] != 1:
            raise InvalidWitness(f"wire 0 must hold 1, got {witness[0]}")
        if witness and 0 <= min(witness) and max(witness) < self.prime:
            return  # the common case, in two C loops
        for i, v in enumerate(witness):
            if not 0 <= v < self.prime:
                raise InvalidWitness(f"wire {i} ({self.wire_names[i]}) holds {v}, outside [0, r)")

    def first_failure(self, witness: Sequence[int]) -> ConstraintFailure | None:
        """The first constraint the witness violates, or None when it satisfies them all."""
        self.validate_witness(witness)
        p = self.prime
        for i, (av, bv, cv) in enumerate(self.constraints.values(witness, 0, self.n_constraints, p)):
            if av * bv % p != cv:
                return ConstraintFailure(i, self.labels[i], av, bv, cv)
        return None

    def is_satisfied(self, witness: Sequence[int]) -> bool:
        """True when the witness satisfies every constraint."""
        return self.first_failure(witness) is None

    def public_values(self, witness: Sequence[int]) -> list[int]:
        """The public signals (outputs, then inputs) of a witness, as a verifier sees them."""
        return list(witness[1 : 1 + self.n_public])
