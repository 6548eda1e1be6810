"""The R1CS held compactly (bn254.r1cs): it reads back as the dicts and names it was built from,
compares as rows do, and the .r1cs codec and the streamed container agree with plain references."""

import pickle
import random
import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import FIELD_BYTES, R
from bn254.iden3 import (
    Iden3FormatError,
    StreamedSection,
    container_bytes,
    container_sections,
    field_bytes,
    parse_r1cs,
    r1cs_bytes,
    read_container,
    write_container,
)
from bn254.r1cs import R1CS, Constraints, InvalidWitness, Names, NumberedNames

coefficients = st.one_of(st.sampled_from([1, 2, R - 1, 1 << 200]), st.integers(1, R - 1))
rows = st.dictionaries(st.integers(0, 9), coefficients, max_size=4)
constraint_lists = st.lists(st.tuples(rows, rows, rows), max_size=12)


def _system(constraints, labels=None) -> R1CS:
    m = len(constraints)
    return R1CS(n_wires=10, n_public_outputs=1, n_public_inputs=1, n_private_inputs=1, constraints=constraints,
                labels=labels if labels is not None else [f"gadget[{i % 3}]/row{i}" for i in range(m)],
                wire_names=[f"w/{j}" for j in range(10)])


def _reference_r1cs_section(constraints) -> bytes:
    """Section 2 as the iden3 format spells it, row by row: nTerms, then (wire, coefficient) sorted by wire."""
    out = []
    for constraint in constraints:
        for row in constraint:
            out.append(struct.pack("<I", len(row)))
            for wire in sorted(row):
                out.append(struct.pack("<I", wire) + field_bytes(row[wire]))
    return b"".join(out)


@settings(max_examples=60, deadline=None)
@given(constraint_lists)
def test_constraints_read_back_as_the_rows_they_were_built_from(constraints):
    r1cs = _system(constraints)
    assert r1cs.constraints == constraints and constraints == r1cs.constraints
    assert list(r1cs.constraints) == constraints
    assert [r1cs.constraints[i] for i in range(len(constraints))] == constraints
    assert r1cs.constraints[1:5] == constraints[1:5]
    for got, given_ in zip(r1cs.constraints, constraints):  # each row in the order it was given
        assert [list(g) for g in got] == [list(r) for r in given_]
    assert r1cs.n_constraints == len(constraints)
    assert r1cs.constraints.n_terms == sum(len(row) for c in constraints for row in c)


@settings(max_examples=60, deadline=None)
@given(constraint_lists)
def test_r1cs_codec_matches_the_row_by_row_reference(constraints):
    r1cs = _system(constraints)
    data = r1cs_bytes(r1cs)
    assert read_container(data, b"r1cs", 1)[2] == _reference_r1cs_section(constraints)
    back = parse_r1cs(data)
    assert back.constraints == r1cs.constraints == constraints  # as dicts: terms sorted by wire now
    assert r1cs_bytes(back) == data
    assert list(back.labels) == [f"constraint{i}" for i in range(len(constraints))]
    assert back.wire_names[3] == "wire3" and len(back.wire_names) == 10


def test_equality_is_that_of_the_rows():
    a = _system([({1: 5, 2: 7}, {3: 1}, {})])
    assert a.constraints == _system([({2: 7, 1: 5}, {3: 1}, {})]).constraints  # order within a row: no matter
    assert a.constraints != _system([({1: 5, 2: 8}, {3: 1}, {})]).constraints  # one coefficient
    assert a.constraints != _system([({1: 5, 4: 7}, {3: 1}, {})]).constraints  # one wire
    assert a.constraints != _system([({1: 5}, {2: 7, 3: 1}, {})]).constraints  # a term in another row
    assert a.constraints != _system([({1: 5, 2: 7}, {3: 1}, {}), ({}, {}, {})]).constraints
    assert a.constraints != [({1: 5, 2: 7}, {3: R - 1}, {})]
    # Different coefficient tables, same rows.
    b = Constraints.from_rows([({0: 9}, {}, {}), ({1: 5, 2: 7}, {3: 1}, {})])
    assert Constraints.from_rows(list(b)[1:]) == a.constraints


def test_bad_rows_raise_a_clear_error():
    with pytest.raises(ValueError, match="three rows"):
        Constraints.from_rows([({1: 1}, {})])
    with pytest.raises(ValueError, match=r"wire index outside \[0, 2\^32\)"):
        Constraints.from_rows([({-1: 1}, {}, {})])
    with pytest.raises(ValueError, match=r"wire index outside"):
        Constraints.from_rows([({1 << 32: 1}, {}, {})])


def test_names_round_trip_and_compare_as_lists():
    names = ["one", "quote[3]/bsm/range/bit7", "quote[3]/bsm/range/bit8", "/lead", "trail/", "", "quote[4]/bsm/range/bit7"]
    compact = Names(names)
    assert list(compact) == names and compact == names and names == compact
    assert [compact[i] for i in range(len(names))] == names and compact[-1] == names[-1]
    assert compact[2:5] == names[2:5]
    assert compact != names[:-1] and compact != names[:-1] + ["quote[4]/bsm/range/bit8"]
    assert len(compact._heads) == 5 and len(compact._tails) == 5  # shared heads and tails held once
    numbered = NumberedNames("constraint", 4)
    assert numbered == ["constraint0", "constraint1", "constraint2", "constraint3"] == list(numbered)
    assert numbered[-1] == "constraint3" and numbered == Names(list(numbered))
    with pytest.raises(IndexError):
        numbered[4]


def test_replace_and_pickle_keep_the_compact_form():
    r1cs = _system([({0: 3, 1: 1}, {2: 1}, {3: 1})])
    changed = replace(r1cs, labels=["x/y"])
    assert changed.constraints is r1cs.constraints and changed.labels == ["x/y"]
    assert pickle.loads(pickle.dumps(r1cs)) == r1cs
    assert isinstance(replace(r1cs, constraints=[({0: 1}, {0: 1}, {0: 1})]).constraints, Constraints)


def test_first_failure_and_witness_checks_on_the_compact_form():
    rng = random.Random(5)
    # x * y = z, (x + 2) * 1 = u, z * z = v over wires 1..5
    constraints = [({1: 1}, {2: 1}, {3: 1}), ({1: 1, 0: 2}, {0: 1}, {4: 1}), ({3: 1}, {3: 1}, {5: 1})]
    r1cs = R1CS(n_wires=6, n_public_outputs=0, n_public_inputs=1, n_private_inputs=1, constraints=constraints,
                labels=["mul/xy", "add/x2", "square/z"], wire_names=["one", "x", "y", "z", "u", "v"])
    x, y = rng.randrange(R), rng.randrange(R)
    z = x * y % R
    witness = [1, x, y, z, (x + 2) % R, z * z % R]
    assert r1cs.is_satisfied(witness)
    bad = list(witness)
    bad[4] = (bad[4] + 1) % R
    failure = r1cs.first_failure(bad)
    assert (failure.index, failure.label, failure.c) == (1, "add/x2", bad[4])
    bad[5] = 0
    assert r1cs.first_failure(bad).index == 1  # the first one
    with pytest.raises(InvalidWitness, match=r"wire 2 \(y\) holds"):
        r1cs.validate_witness([1, x, R, z, 0, 0])
    with pytest.raises(InvalidWitness, match="wire 0 must hold 1"):
        r1cs.validate_witness([2, x, y, z, 0, 0])
    with pytest.raises(InvalidWitness, match="6 wires"):
        r1cs.validate_witness(witness[:-1])


def test_a_row_naming_a_wire_twice_is_refused():
    data = r1cs_bytes(_system([({1: 1, 2: 1}, {}, {})]))
    body = read_container(data, b"r1cs", 1)[2]
    second = 4 + 4 + FIELD_BYTES  # the second term's wire: after the count and the first term
    twice = body[:second] + struct.pack("<I", 1) + body[second + 4 :]  # wire 2 -> wire 1
    header = read_container(data, b"r1cs", 1)[1]
    with pytest.raises(Iden3FormatError, match="names a wire twice"):
        parse_r1cs(container_bytes(b"r1cs", 1, [(1, header), (2, twice)]))
    with pytest.raises(Iden3FormatError, match="ends before"):
        parse_r1cs(container_bytes(b"r1cs", 1, [(1, header), (2, body[:4])]))
    with pytest.raises(Iden3FormatError, match="after its"):
        parse_r1cs(container_bytes(b"r1cs", 1, [(1, header), (2, body + bytes(4 + FIELD_BYTES))]))


def test_streamed_container_equals_the_joined_one(tmp_path):
    import numpy as np

    limbs = np.arange(24, dtype=np.uint64).reshape(3, 8)
    sections = [(1, b"head"), (5, memoryview(limbs)), (4, StreamedSection(7, iter([b"abc", b"", b"defg"])))]
    write_container(tmp_path / "f.bin", b"test", 3, sections)
    expected = container_bytes(b"test", 3, [(1, b"head"), (5, limbs.tobytes()), (4, b"abcdefg")])
    assert (tmp_path / "f.bin").read_bytes() == expected
    with (tmp_path / "f.bin").open("rb") as f:
        table = container_sections(f, b"test", 3)
    assert {t: expected[o : o + n] for t, (o, n) in table.items()} == read_container(expected, b"test", 3)
    with pytest.raises(Iden3FormatError, match="announced 8 bytes and got 7"):
        write_container(tmp_path / "g.bin", b"test", 3, [(4, StreamedSection(8, [b"abcdefg"]))])
    (tmp_path / "short.bin").write_bytes(expected[:-1])
    with (tmp_path / "short.bin").open("rb") as f, pytest.raises(Iden3FormatError, match="truncated"):
        container_sections(f, b"test", 3)
    with (tmp_path / "f.bin").open("rb") as f, pytest.raises(Iden3FormatError, match="magic"):
        container_sections(f, b"zkey", 3)
