"""The iden3 container and its .r1cs / .wtns / point encodings, read back here and checked by the pinned snarkjs."""

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from bn254.constants import G1_GENERATOR, G2_GENERATOR, G1_INFINITY, R
from bn254.iden3 import (
    Iden3FormatError,
    container_bytes,
    g1_montgomery_bytes,
    g2_montgomery_bytes,
    parse_r1cs,
    parse_wtns,
    r1cs_bytes,
    read_container,
    read_g1_montgomery,
    read_g2_montgomery,
    require_sections,
    write_r1cs,
    write_wtns,
    wtns_bytes,
)
from circuits.builder import ConstraintSystem
from circuits.gadgets.bits import signed_range_check
from circuits.gadgets.comparators import less_than
from circuits.gadgets.hash import poseidon
from circuits.gadgets.select import select

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / "snarkjs" / "cli.js"
needs_snarkjs = pytest.mark.skipif(
    shutil.which("node") is None or not SNARKJS.is_file(),
    reason="node or the pinned snarkjs (make install) is not available",
)


def _circuit() -> ConstraintSystem:
    cs = ConstraintSystem()
    price = cs.public_input("price", 1234)
    secret = cs.private_input("secret", -77)
    inventory = cs.private_input("inventory", 5)
    with cs.scope("commit"):
        commitment = poseidon(cs, [secret, inventory])
    with cs.scope("rule"):
        s = signed_range_check(cs, secret, 16)
        cheap = less_than(cs, s, price, 16, signed=True)
        quote = select(cs, cheap, price + inventory, price)
    cs.public_output("commitment", commitment)
    cs.public_output("quote", quote)
    return cs


def _snarkjs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(SNARKJS), *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_round_trip():
    cs = _circuit()
    r1cs, witness = cs.to_r1cs(), cs.witness()
    back = parse_r1cs(r1cs_bytes(r1cs))
    assert back.constraints == r1cs.constraints
    assert (back.n_wires, back.n_public_outputs, back.n_public_inputs, back.n_private_inputs) == (
        r1cs.n_wires, 2, 1, 2,
    )
    assert parse_wtns(wtns_bytes(witness)) == witness
    assert back.is_satisfied(witness)


def test_header_layout():
    cs = _circuit()
    r1cs = cs.to_r1cs()
    data = r1cs_bytes(r1cs)
    assert data[:4] == b"r1cs" and struct.unpack_from("<II", data, 4) == (1, 3)
    section_type, size = struct.unpack_from("<IQ", data, 12)
    assert (section_type, size) == (1, 4 + 32 + 4 * 4 + 8 + 4)
    assert struct.unpack_from("<I", data, 24)[0] == 32
    assert int.from_bytes(data[28:60], "little") == R
    assert struct.unpack_from("<IIIIQI", data, 60) == (r1cs.n_wires, 2, 1, 2, r1cs.n_wires, r1cs.n_constraints)
    wtns = wtns_bytes(cs.witness())
    assert wtns[:4] == b"wtns" and struct.unpack_from("<II", wtns, 4) == (2, 2)
    assert len(wtns) == 12 + (12 + 4 + 32 + 4) + 12 + 32 * r1cs.n_wires


def test_malformed_files_are_rejected():
    cs = _circuit()
    data = r1cs_bytes(cs.to_r1cs())
    with pytest.raises(Iden3FormatError):
        parse_r1cs(b"r1cx" + data[4:])
    with pytest.raises(Iden3FormatError):
        parse_r1cs(data[:8] + struct.pack("<I", 9) + data[12:-4])
    with pytest.raises(Iden3FormatError):
        parse_wtns(data)
    with pytest.raises(Iden3FormatError):
        wtns_bytes([1, R])


@needs_snarkjs
def test_snarkjs_reads_and_checks_the_export(tmp_path):
    cs = _circuit()
    r1cs, witness = cs.to_r1cs(), cs.witness()
    write_r1cs(r1cs, tmp_path / "c.r1cs")
    write_wtns(witness, tmp_path / "c.wtns")

    info = _snarkjs("r1cs", "info", str(tmp_path / "c.r1cs"))
    assert info.returncode == 0, info.stderr
    for line in (
        f"# of Wires: {r1cs.n_wires}",
        f"# of Constraints: {r1cs.n_constraints}",
        "# of Private Inputs: 2",
        "# of Public Inputs: 1",
        "# of Outputs: 2",
    ):
        assert line in info.stdout
    assert "bn-128" in info.stdout

    good = _snarkjs("wtns", "check", str(tmp_path / "c.r1cs"), str(tmp_path / "c.wtns"))
    assert good.returncode == 0 and "WITNESS IS CORRECT" in good.stdout, good.stdout + good.stderr

    # A cheating prover claims a different quote (public output 2) or a different hidden inventory.
    for wire in (2, 1 + r1cs.n_public + 1):
        tampered = list(witness)
        tampered[wire] = (tampered[wire] + 1) % R
        assert not r1cs.is_satisfied(tampered)
        write_wtns(tampered, tmp_path / "bad.wtns")
        bad = _snarkjs("wtns", "check", str(tmp_path / "c.r1cs"), str(tmp_path / "bad.wtns"))
        assert bad.returncode != 0 and "WITNESS IS NOT CORRECT" in bad.stdout, bad.stdout + bad.stderr


def test_container_round_trip_and_rejections():
    sections = [(1, b"head"), (3, b""), (2, bytes(range(40)))]
    data = container_bytes(b"test", 7, sections)
    assert read_container(data, b"test", 7) == dict(sections)
    with pytest.raises(Iden3FormatError, match="magic"):
        read_container(data, b"zkey", 7)
    with pytest.raises(Iden3FormatError, match="version 7"):
        read_container(data, b"test", 1)
    with pytest.raises(Iden3FormatError, match="truncated"):
        read_container(data[:-1], b"test", 7)
    with pytest.raises(Iden3FormatError, match=r"lacks sections \[4, 5\]"):
        require_sections(read_container(data, b"test", 7), range(1, 6), "test file")


def test_montgomery_points_round_trip():
    # snarkjs stores x * 2^256 mod q: the generator's x = 1 becomes 2^256 mod q.
    q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
    encoded = g1_montgomery_bytes([G1_GENERATOR, G1_INFINITY])
    assert int.from_bytes(encoded[:32], "little") == 2**256 % q
    assert encoded[64:] == bytes(64)
    assert read_g1_montgomery(encoded, 0) == G1_GENERATOR
    assert read_g1_montgomery(encoded, 64) == G1_INFINITY
    assert read_g2_montgomery(g2_montgomery_bytes([G2_GENERATOR]), 0) == G2_GENERATOR
