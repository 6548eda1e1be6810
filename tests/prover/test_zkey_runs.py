"""read_zkey keeps the query vectors as PointRuns (limbs, no ints), checks them in one pass, and
compares the A and B coefficients as arrays; each check has its tampered twin."""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
import pytest

from bn254.constants import Q
from bn254.iden3 import ZKEY_MAGIC, ZKEY_VERSION, container_bytes, read_container
from prover import KeyFormatError, KeyMismatch, prepare, prove, read_zkey, setup, verify, zkey_bytes
from prover.backends import get_backend
from prover.point_runs import PointRun
from tests.prover.sample_circuits import build, range_checked_spend

ENTRY_BYTES = 12 + 32  # section 4: matrix, constraint, wire (u32 each), coefficient


@pytest.fixture(scope="module")
def spend():
    r1cs, witness = build(range_checked_spend())
    pk, vk = setup(r1cs)
    return r1cs, witness, pk, vk


def _with_section(data: bytes, section_type: int, edit) -> bytes:
    sections = read_container(data, ZKEY_MAGIC, ZKEY_VERSION)
    sections[section_type] = edit(bytes(sections[section_type]))
    return container_bytes(ZKEY_MAGIC, ZKEY_VERSION, sorted(sections.items()))


def test_queries_are_point_runs_equal_to_the_setup_points(spend, tmp_path):
    r1cs, witness, pk, vk = spend
    (tmp_path / "k.zkey").write_bytes(zkey_bytes(pk))
    read = read_zkey(tmp_path / "k.zkey", r1cs, development=True)
    for name in ("a_query", "b_g1_query", "b_g2_query", "l_query", "h_query"):
        run = getattr(read, name)
        assert isinstance(run, PointRun) and run == getattr(pk, name) and list(run) == list(getattr(pk, name))
    assert read.h_query[3] == pk.h_query[3] and read.h_query[-1] == pk.h_query[-1]
    assert read.h_query[2:5] == pk.h_query[2:5] and isinstance(read.h_query[2:5], PointRun)
    with pytest.raises(IndexError):
        read.h_query[len(pk.h_query)]
    assert zkey_bytes(read) == zkey_bytes(pk)  # runs are written back as they are
    for name in ("reference", "fast"):
        backend = get_backend(name)
        proof = prove(prepare(read, backend), witness, backend, check=True)
        assert verify(vk, r1cs.public_values(witness), proof)


def test_point_run_refuses_a_partial_point_and_is_read_only():
    with pytest.raises(ValueError, match="whole number"):
        PointRun(bytes(64 * 3 + 8), 1)
    with pytest.raises(ValueError, match="group"):
        PointRun(bytes(64), 3)
    run = PointRun(bytes(128 * 2), 2)
    assert list(run) == [((0, 0), (0, 0))] * 2
    with pytest.raises(ValueError):
        run.limbs[0, 0] = 1


@pytest.mark.parametrize("section_type, name", [(5, "A"), (7, "B2"), (9, "H")])
def test_a_point_off_its_curve_is_refused_with_its_index(spend, tmp_path, section_type, name):
    r1cs, _, pk, _ = spend
    size = 128 if section_type == 7 else 64

    def tamper(section: bytes) -> bytes:
        edited = bytearray(section)
        edited[2 * size + 5] ^= 1  # point 2's x
        return bytes(edited)

    (tmp_path / "k.zkey").write_bytes(_with_section(zkey_bytes(pk), section_type, tamper))
    with pytest.raises(KeyFormatError, match=rf"{name}\[2\]"):
        read_zkey(tmp_path / "k.zkey", r1cs, development=True)


def test_a_coordinate_above_q_is_refused(spend, tmp_path):
    r1cs, _, pk, _ = spend

    def tamper(section: bytes) -> bytes:
        # Point 1 of H becomes (q, y): x = 0 (mod q) would decode, but the encoding is not canonical.
        edited = bytearray(section)
        edited[64 : 64 + 32] = Q.to_bytes(32, "little")
        return bytes(edited)

    (tmp_path / "k.zkey").write_bytes(_with_section(zkey_bytes(pk), 9, tamper))
    with pytest.raises(KeyFormatError, match=r"H\[1\]"):
        read_zkey(tmp_path / "k.zkey", r1cs, development=True)


def _entries(section: bytes) -> list[bytes]:
    (count,) = struct.unpack_from("<I", section, 0)
    return [section[4 + k * ENTRY_BYTES : 4 + (k + 1) * ENTRY_BYTES] for k in range(count)]


def _section4(entries: list[bytes]) -> bytes:
    return struct.pack("<I", len(entries)) + b"".join(entries)


def test_coefficients_in_another_order_match_and_an_altered_one_does_not(spend, tmp_path):
    r1cs, _, pk, _ = spend
    path = tmp_path / "k.zkey"
    path.write_bytes(_with_section(zkey_bytes(pk), 4, lambda s: _section4(_entries(s)[::-1])))
    assert read_zkey(path, r1cs, development=True).a_query == pk.a_query

    def altered(section: bytes) -> bytes:
        entries = _entries(section)
        value = int.from_bytes(entries[3][12:], "little")
        entries[3] = entries[3][:12] + ((value + 1) % (1 << 253)).to_bytes(32, "little")
        return _section4(entries)

    path.write_bytes(_with_section(zkey_bytes(pk), 4, altered))
    with pytest.raises(KeyMismatch, match="coefficients"):
        read_zkey(path, r1cs, development=True)
    path.write_bytes(_with_section(zkey_bytes(pk), 4, lambda s: _section4(_entries(s)[:-1])))
    with pytest.raises(KeyMismatch, match="coefficients"):
        read_zkey(path, r1cs, development=True)


def test_an_entry_split_in_two_adds_up(spend, tmp_path):
    """A linear combination may list a wire twice: the values add up, as the dict reader did."""
    from bn254.constants import R

    r1cs, _, pk, _ = spend

    def split(section: bytes, total_shift: int) -> bytes:
        entries = _entries(section)
        value = int.from_bytes(entries[0][12:], "little")
        first = (value - 5) % R
        second = (5 + total_shift) % R
        return _section4(
            [entries[0][:12] + first.to_bytes(32, "little"), entries[0][:12] + second.to_bytes(32, "little"), *entries[1:]]
        )

    path = tmp_path / "k.zkey"
    path.write_bytes(_with_section(zkey_bytes(pk), 4, lambda s: split(s, 0)))
    assert read_zkey(path, r1cs, development=True).h_query == pk.h_query
    path.write_bytes(_with_section(zkey_bytes(pk), 4, lambda s: split(s, 1)))
    with pytest.raises(KeyMismatch, match="coefficients"):
        read_zkey(path, r1cs, development=True)


def test_prepared_fast_key_uses_the_runs_in_place(spend, tmp_path):
    r1cs, _, pk, _ = spend
    (tmp_path / "k.zkey").write_bytes(zkey_bytes(pk))
    read = read_zkey(tmp_path / "k.zkey", r1cs, development=True)
    from_runs, from_ints = prepare(read, get_backend("fast")), prepare(pk, get_backend("fast"))
    for bases, run in (("a_bases", "a_query"), ("b_g1_bases", "b_g1_query"), ("b_g2_bases", "b_g2_query"),
                       ("l_bases", "l_query"), ("h_bases", "h_query")):
        in_place = getattr(from_runs, bases)
        assert in_place.flags.writeable and np.array_equal(in_place, getattr(from_ints, bases))
        assert np.shares_memory(in_place, getattr(read, run).limbs)  # the key is held once
    over_bytes = PointRun(bytes(read.h_query.encoded()), 1)  # immutable memory: copied, not made writable
    assert get_backend("fast").prepare(replace(read, h_query=over_bytes)).h_bases.flags.writeable


def _buffer_owner(array: np.ndarray):
    """The object whose memory an array views (through numpy views and memoryviews)."""
    while isinstance(array, np.ndarray) and array.base is not None:
        array = array.base
    return array.obj if isinstance(array, memoryview) else array


def test_a_read_key_holds_each_query_in_a_buffer_of_its_own(spend, tmp_path):
    """read_zkey reads section by section: the coefficient section is checked and dropped, not kept
    alive by the query runs as one buffer of the whole file was."""
    r1cs, _, pk, _ = spend
    (tmp_path / "k.zkey").write_bytes(zkey_bytes(pk))
    read = read_zkey(tmp_path / "k.zkey", r1cs, development=True)
    for name, size in (("a_query", 64), ("b_g1_query", 64), ("b_g2_query", 128), ("l_query", 64), ("h_query", 64)):
        run = getattr(read, name)
        owner = _buffer_owner(run.limbs)
        assert isinstance(owner, np.ndarray) and len(run) * size <= owner.nbytes <= len(run) * size + 64, name
        assert run.limbs.ctypes.data % 64 == 0, name  # a G1 point is one cache line for the MSM


def _reference_entries(r1cs) -> bytes:
    """Section 4's entries as the zkey writer once made them: a walk over the rows' dicts."""
    from bn254.constants import R

    factor = pow(2, 512, R)
    out = []
    for i, (row_a, row_b, _row_c) in enumerate(r1cs.constraints):
        for matrix, row in ((0, row_a), (1, row_b)):
            for wire, k in row.items():
                if k % R:
                    out.append(struct.pack("<III", matrix, i, wire) + (k % R * factor % R).to_bytes(32, "little"))
    for wire in range(r1cs.n_public + 1):
        out.append(struct.pack("<III", 0, r1cs.n_constraints + wire, wire) + factor.to_bytes(32, "little"))
    return b"".join(out)


@pytest.mark.parametrize("per_chunk", [1, 3, 1 << 16])
def test_coefficient_entries_in_chunks_are_the_row_walks(spend, tmp_path, monkeypatch, per_chunk):
    from prover import zkey

    r1cs, witness, pk, vk = spend
    monkeypatch.setattr(zkey, "_CONSTRAINTS_PER_CHUNK", per_chunk)
    assert zkey._expected_entries(r1cs).tobytes() == _reference_entries(r1cs)
    data = zkey_bytes(pk)
    assert read_container(data, ZKEY_MAGIC, ZKEY_VERSION)[4][4:] == _reference_entries(r1cs)
    zkey.write_zkey(pk, tmp_path / "k.zkey")
    assert (tmp_path / "k.zkey").read_bytes() == data  # written section by section, the same bytes
    read = read_zkey(tmp_path / "k.zkey", r1cs, development=True)
    assert verify(vk, r1cs.public_values(witness), prove(read, witness, check=True))

    def last_altered(section: bytes) -> bytes:  # the last chunk's last A/B entry, one unit more
        entries = _entries(section)
        k = len(entries) - r1cs.n_public - 2
        value = int.from_bytes(entries[k][12:], "little")
        entries[k] = entries[k][:12] + (value + 1).to_bytes(32, "little")
        return _section4(entries)

    (tmp_path / "k.zkey").write_bytes(_with_section(data, 4, last_altered))
    with pytest.raises(KeyMismatch, match="coefficients"):
        read_zkey(tmp_path / "k.zkey", r1cs, development=True)


def test_setup_on_the_fast_backend_keeps_its_points_as_runs(spend):
    r1cs, _, pk, _ = spend
    for name in ("a_query", "b_g1_query", "b_g2_query", "l_query", "h_query"):
        assert isinstance(getattr(pk, name), PointRun), name
        assert getattr(pk, name).limbs.ctypes.data % 64 == 0, name
    assert isinstance(pk.vk.gamma_abc_g1, tuple) and isinstance(pk.vk.gamma_abc_g1[0], tuple)
