"""The phase-2 ceremony against the pinned snarkjs (0.7.6) on a small bits-mode circuit (14 constraints).

One ceremony, made once: a .ptau made here by snarkjs (new, contribute, prepare
phase2; never downloaded), our initial key (byte for byte snarkjs's `zkey new`),
then alice (us), bob (snarkjs), carol (us) and a beacon (us). Both tools verify
the transcript; both refuse a tampered one. The final key proves and verifies.
Skipped when node or snarkjs is not installed (make install).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bn254.constants import Q, R
from bn254.iden3 import g1_montgomery_bytes, write_r1cs
from prover import prove, read_zkey, verify
from prover.backends.fast_sparse import GLV_BETA, GLV_LAMBDA, g1_sparse_combinations, g2_sparse_combinations, glv_split
from prover.ceremony import InvalidTranscript, Phase2Key, beacon, contribute, new_phase2, verify_transcript
from prover.errors import KeyFormatError, KeyMismatch
from prover.ptau import PowersOfTau, PowersOfTauError
from prover.snarkjs_rng import BeaconParameterError, fr_from_rng, g1_from_rng, hash_to_g2, rng_from_beacon
from tests.prover.sample_circuits import build, interop_circuit, multiplication_chain

ROOT = Path(__file__).resolve().parents[2]
SNARKJS = ROOT / "node_modules" / "snarkjs" / "cli.js"
PTAU_POWER = 5  # the circuit's domain is 32 = 2^5: snarkjs's own bound
BEACON = bytes.fromhex("0123456789abcdef")

needs_snarkjs = pytest.mark.skipif(
    shutil.which("node") is None or not SNARKJS.is_file(),
    reason="node or the pinned snarkjs (make install) is not available",
)


def _snarkjs(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(SNARKJS), *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def _run(*args: str | Path) -> str:
    result = _snarkjs(*args)
    assert result.returncode == 0, f"snarkjs {args[:2]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _snarkjs_verifies(r1cs: Path, ptau: Path, zkey: Path) -> bool:
    result = _snarkjs("zkey", "verify", r1cs, ptau, zkey)
    return result.returncode == 0 and "ZKey Ok!" in result.stdout


# -- snarkjs's randomness: known answers computed by node (ffjavascript 0.3, snarkjs 0.7.6) ------------


def test_hash_to_g2_is_snarkjs_value():
    digest = bytes((i * 37 + 11) & 255 for i in range(64))
    assert hash_to_g2(digest) == (
        (9060433613404206655078496650499480899375611532585902692109917040185726870492,
         12277636337999020787519686118990457137603625442496353349831115663282159920390),
        (16138729815875787035828243558494801814572832082163703675078739087001985602896,
         9176381432995709092598850907669267195080458084645382771148183651330799795812),
    )


def test_beacon_draws_are_snarkjs_values():
    rng = rng_from_beacon(bytes([1, 2, 3, 4]), 10)
    assert fr_from_rng(rng) == 534919128117407264942007464020302066825195820768888010626595548091898526936
    assert g1_from_rng(rng) == (16776196204814421060126785464059366088261146039101455010586613978934675529331,
                                12080099860508996504635474527643231804657872806816083719612212347474773467196)


@pytest.mark.parametrize("beacon_hash, exponent", [(b"", 10), (b"\x01" * 256, 10), (b"\x01", 9), (b"\x01", 64)])
def test_beacon_parameters_snarkjs_refuses_are_refused(beacon_hash, exponent):
    with pytest.raises(BeaconParameterError):
        rng_from_beacon(beacon_hash, exponent)


def test_sparse_combinations_match_py_ecc():
    from py_ecc import optimized_bn128 as bn

    from bn254.curve import g1_from_py_ecc, g2_from_py_ecc

    g1 = [g1_from_py_ecc(bn.multiply(bn.G1, k)) for k in (3, 5, 7)] + [(0, 0)]
    g2 = [g2_from_py_ecc(bn.multiply(bn.G2, k)) for k in (3, 5, 7)]
    big = 123456789123456789123456789123
    wide = [R // 3, R // 2 - 5, R // 2 + 7, 2**200 + 12345]  # split by GLV on G1 (the third one negated first)
    rows = [[(0, 2), (1, R - 1)], [], [(2, R - 5)], [(0, big), (2, 1)], [(1, wide[0])], [(0, wide[1]), (2, wide[2])],
            [(0, wide[3]), (0, wide[3])]]  # the same point twice: the Straus loop adds a point to itself
    expected = [1, 0, -35, 3 * big + 7, 5 * wide[0], 3 * wide[1] + 7 * wide[2], 6 * wide[3]]
    assert g1_sparse_combinations(g1, rows + [[(3, 9)]]) == [
        g1_from_py_ecc(bn.multiply(bn.G1, e % R)) if e % R else (0, 0) for e in expected + [0]
    ]
    assert g2_sparse_combinations(g2, rows) == [
        g2_from_py_ecc(bn.multiply(bn.G2, e % R)) if e % R else ((0, 0), (0, 0)) for e in expected
    ]


def test_glv_endomorphism_and_split():
    from py_ecc import optimized_bn128 as bn

    from bn254.curve import g1_from_py_ecc

    x, y = g1_from_py_ecc(bn.G1)
    assert g1_from_py_ecc(bn.multiply(bn.G1, GLV_LAMBDA)) == (x * GLV_BETA % Q, y)
    for k in (1, 2**128, R // 3, R // 2, R - 1, 0x2B3C4D79D41A917585BFC41088D8DAAA78B17EA66B99C90DD0123456789ABCDE):
        k1, k2 = glv_split(k)
        assert (k1 + k2 * GLV_LAMBDA - k) % R == 0 and max(abs(k1), abs(k2)) < 2**128


# -- one ceremony --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory) -> dict:
    if shutil.which("node") is None or not SNARKJS.is_file():
        pytest.skip("node or the pinned snarkjs (make install) is not available")
    r1cs, witness = build(interop_circuit())
    d = tmp_path_factory.mktemp("ceremony")
    f = {name: d / name for name in ("c.r1cs", "0.ptau", "1.ptau", "final.ptau", "js_new.zkey", "alice.zkey",
                                     "bob.zkey", "carol.zkey", "final.zkey")}
    write_r1cs(r1cs, f["c.r1cs"])
    _run("powersoftau", "new", "bn128", PTAU_POWER, f["0.ptau"])
    _run("powersoftau", "contribute", f["0.ptau"], f["1.ptau"], "--name=phase1", "-e=test entropy, phase 1")
    _run("powersoftau", "prepare", "phase2", f["1.ptau"], f["final.ptau"])
    ptau = PowersOfTau.read(f["final.ptau"])
    initial = new_phase2(r1cs, ptau)
    _run("zkey", "new", f["c.r1cs"], f["final.ptau"], f["js_new.zkey"])
    contribute(initial, "alice", "alice's keyboard mashing").write(f["alice.zkey"])
    _run("zkey", "contribute", f["alice.zkey"], f["bob.zkey"], "--name=bob", "-e=bob's entropy")
    contribute(Phase2Key.read(f["bob.zkey"]), "carol", "carol's dice").write(f["carol.zkey"])
    beacon(Phase2Key.read(f["carol.zkey"]), "final beacon", BEACON, 10).write(f["final.zkey"])
    return {"r1cs": r1cs, "witness": witness, "ptau": ptau, "initial": initial, "files": f}


@needs_snarkjs
def test_our_initial_key_is_snarkjs_zkey_new(ceremony):
    theirs = Phase2Key.read(ceremony["files"]["js_new.zkey"])
    ours = ceremony["initial"]
    assert ours.circuit_hash == theirs.circuit_hash
    assert ours.queries == theirs.queries
    assert (ours.alpha_g1, ours.beta_g2, ours.delta_g2) == (theirs.alpha_g1, theirs.beta_g2, theirs.delta_g2)


@needs_snarkjs
def test_both_tools_verify_the_four_party_transcript(ceremony):
    f = ceremony["files"]
    assert _snarkjs_verifies(f["c.r1cs"], f["final.ptau"], f["final.zkey"])
    verified = verify_transcript(ceremony["r1cs"], ceremony["ptau"], Phase2Key.read(f["final.zkey"]))
    assert [c.name for c in verified] == ["alice", "bob", "carol", "final beacon"]
    assert verified[-1].beacon_hash == BEACON.hex()
    assert all(len(c.contribution_hash) == 128 for c in verified)


@needs_snarkjs
def test_the_final_key_proves_and_verifies(ceremony):
    r1cs, witness = ceremony["r1cs"], ceremony["witness"]
    pk = read_zkey(ceremony["files"]["final.zkey"], r1cs)
    assert not pk.vk.is_development
    assert verify(pk.vk, r1cs.public_values(witness), prove(pk, witness))


def _tampered_h(key: Phase2Key) -> Phase2Key:
    # H[0] doubled: a valid curve point, so only the ratio checks can notice.
    h = key.g1_query(9)
    h[0] = g1_sparse_combinations(h, [[(0, 2)]])[0]
    return replace(key, queries={**key.queries, 9: g1_montgomery_bytes(h)})


def _tampered_delta(key: Phase2Key) -> Phase2Key:
    # The last contributor doubles delta (both groups, consistently) without saying so in the transcript.
    [delta_g1] = g1_sparse_combinations([key.delta_g1], [[(0, 2)]])
    [delta_g2] = g2_sparse_combinations([key.delta_g2], [[(0, 2)]])
    return replace(key, delta_g1=delta_g1, delta_g2=delta_g2)


def _tampered_public_key(key: Phase2Key) -> Phase2Key:
    # Bob's G1 public key replaced: his transcript hash no longer matches.
    bob = key.contributions[1]
    forged = replace(bob, g1_sx=g1_sparse_combinations([bob.g1_sx], [[(0, 3)]])[0])
    return replace(key, contributions=(key.contributions[0], forged, *key.contributions[2:]))


@needs_snarkjs
@pytest.mark.parametrize("tamper, message", [
    (_tampered_h, "H section"),
    (_tampered_delta, "delta_1 is not the last contribution's"),
    (_tampered_public_key, r"contribution #2 \(bob\): its transcript hash"),
])
def test_both_tools_refuse_a_tampered_transcript(ceremony, tmp_path, tamper, message):
    f = ceremony["files"]
    bad = tamper(Phase2Key.read(f["final.zkey"]))
    bad.write(tmp_path / "bad.zkey")
    assert not _snarkjs_verifies(f["c.r1cs"], f["final.ptau"], tmp_path / "bad.zkey")
    with pytest.raises(InvalidTranscript, match=message):
        verify_transcript(ceremony["r1cs"], ceremony["ptau"], bad)


@needs_snarkjs
def test_a_point_off_the_curve_is_refused_by_contribute_and_verify(ceremony):
    key = Phase2Key.read(ceremony["files"]["final.zkey"])
    l_query = bytearray(key.queries[8])
    l_query[40] ^= 1  # a bit of L[0]'s y (Montgomery limbs): the point leaves the curve
    bad = replace(key, queries={**key.queries, 8: bytes(l_query)})
    with pytest.raises(KeyFormatError, match="section 8: point 0 is not on G1"):
        contribute(bad, "mallory", "entropy")
    with pytest.raises(KeyFormatError, match="section 8: point 0 is not on G1"):
        verify_transcript(ceremony["r1cs"], ceremony["ptau"], bad)


@needs_snarkjs
def test_a_transcript_for_another_circuit_is_refused(ceremony):
    other, _ = build(multiplication_chain(3))
    with pytest.raises(KeyMismatch):
        verify_transcript(other, ceremony["ptau"], Phase2Key.read(ceremony["files"]["final.zkey"]))


@needs_snarkjs
def test_a_ptau_too_small_or_not_prepared_is_refused(ceremony):
    big, _ = build(multiplication_chain(40))  # domain 64 > 2^5
    with pytest.raises(PowersOfTauError, match="power 6"):
        new_phase2(big, ceremony["ptau"])
    with pytest.raises(PowersOfTauError, match="prepare phase2"):
        PowersOfTau.read(ceremony["files"]["1.ptau"])


def test_a_contribution_needs_entropy():
    with pytest.raises(InvalidTranscript, match="entropy"):
        contribute(Phase2Key(n_vars=0, n_public=0, domain_size=0, alpha_g1=(0, 0), beta_g1=(0, 0),
                             beta_g2=((0, 0), (0, 0)), gamma_g2=((0, 0), (0, 0)), delta_g1=(0, 0),
                             delta_g2=((0, 0), (0, 0)), queries={}, circuit_hash=b"", contributions=()),
                   "nobody", "")
