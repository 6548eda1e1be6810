"""Poseidon: the plain hash against circomlibjs, the gadget against the plain hash, costs, soundness."""

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from circuits.builder import ConstraintSystem
from circuits.gadgets.hash import poseidon
from circuits.poseidon import (
    PARTIAL_ROUNDS,
    GrainLFSR,
    poseidon_hash,
    poseidon_parameters,
    poseidon_permutation,
)
from tests.circuits.adversary import (
    assert_outputs_determined,
    assert_wire_tampering_caught,
)

ROOT = Path(__file__).resolve().parents[2]
CIRCOMLIBJS = ROOT / "node_modules" / "circomlibjs"
NODE_SCRIPT = Path(__file__).with_name("poseidon_circomlibjs.mjs")
needs_circomlibjs = pytest.mark.skipif(
    shutil.which("node") is None or not CIRCOMLIBJS.is_dir(),
    reason="node or the pinned circomlibjs (make install) is not available",
)

WIDTHS = range(2, 7)
# circomlib's Poseidon(k) constraint counts: 3 * (8t - 1 + R_P), t = k + 1.
CONSTRAINTS = {1: 213, 2: 240, 3: 261, 4: 297, 5: 321}


def _vectors() -> list[list[int]]:
    rng = random.Random(2024)
    vectors = []
    for t in WIDTHS:
        k = t - 1
        vectors += [[0] * k, list(range(1, k + 1)), [R - 1] * k]
        vectors += [[rng.randrange(R) for _ in range(k)] for _ in range(3)]
    vectors.append(list(range(16)))  # t = 17, the widest circomlib instance
    return vectors


@needs_circomlibjs
def test_hash_matches_circomlibjs():
    vectors = _vectors()
    run = subprocess.run(
        ["node", str(NODE_SCRIPT)],
        input=json.dumps([[str(v) for v in vec] for vec in vectors]),
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=True,
    )
    theirs = json.loads(run.stdout)
    assert len(theirs) == len(vectors)
    for vec, hashes in zip(vectors, theirs):
        mine = poseidon_hash(vec)
        assert {int(h) for h in hashes} == {mine}, f"Poseidon({len(vec)} inputs) differs on {vec}"


@needs_circomlibjs
@pytest.mark.parametrize("t", WIDTHS)
def test_generated_constants_equal_circomlibjs_tables(t):
    # Our Grain/Cauchy generation reproduces circomlibjs's shipped tables exactly (a sharper diagnostic
    # than the hash comparison when something drifts).
    tables = json.loads((CIRCOMLIBJS / "src" / "poseidon_constants.json").read_text())
    params = poseidon_parameters(t)
    assert [c for rc in params.round_constants for c in rc] == [int(c, 16) for c in tables["C"][t - 2]]
    assert [list(row) for row in params.mds] == [[int(m, 16) for m in row] for row in tables["M"][t - 2]]


def test_known_answers():
    # Pinned from circomlibjs 0.1.7, so the plain hash is checked even where node is absent.
    assert poseidon_hash([1, 2]) == 7853200120776062878684798364095072458815029376092732009249414926327459813530
    assert poseidon_hash([1]) == 18586133768512220936620570745912940619677854269274689475585506675881198879027


def test_grain_lfsr_seed_layout():
    # The 80-bit seed for (GF(p), x^5, n = 254, t = 3, R_F = 8, R_P = 57): 2+4+12+12+10+10 bits, then 30 ones.
    seed = "01" + "0000" + format(254, "012b") + format(3, "012b") + format(8, "010b") + format(57, "010b") + "1" * 30
    assert len(seed) == 80
    lfsr = GrainLFSR.__new__(GrainLFSR)
    lfsr._state = int(seed[::-1], 2)
    reference = [int(b) for b in seed]
    for _ in range(300):  # the feedback polynomial, bit by bit
        new = reference[62] ^ reference[51] ^ reference[38] ^ reference[23] ^ reference[13] ^ reference[0]
        reference = reference[1:] + [new]
        assert lfsr._clock() == new
    assert lfsr._state == int("".join(map(str, reference))[::-1], 2)


@pytest.mark.parametrize("t", WIDTHS)
def test_parameters_shape_and_mds(t):
    params = poseidon_parameters(t)
    assert params.partial_rounds == PARTIAL_ROUNDS[t - 2] and params.full_rounds == 8
    assert len(params.round_constants) == 8 + params.partial_rounds
    assert all(len(rc) == t and all(0 <= c < R for c in rc) for rc in params.round_constants)
    assert len(params.mds) == t and all(len(row) == t for row in params.mds)
    assert [params.is_full_round(r) for r in range(len(params.round_constants))].count(True) == 8


def test_permutation_is_a_bijection_on_samples():
    outs = {tuple(poseidon_permutation([a, b, 0])) for a in range(6) for b in range(6)}
    assert len(outs) == 36


@pytest.mark.parametrize("n_inputs", [0, 17])
def test_input_count_is_checked(n_inputs):
    with pytest.raises(ValueError):
        poseidon_hash([1] * n_inputs)
    with pytest.raises(ValueError):
        poseidon(ConstraintSystem(), [1] * n_inputs)


# -- the gadget -------------------------------------------------------------------------------------


@pytest.mark.parametrize("k", sorted(CONSTRAINTS))
def test_gadget_cost_matches_circomlib(k):
    cs = ConstraintSystem()
    poseidon(cs, [cs.private_input(f"x{i}", i) for i in range(k)])
    assert cs.n_constraints == CONSTRAINTS[k]
    t = k + 1
    assert cs.n_constraints == 3 * (8 * t - 1 + PARTIAL_ROUNDS[t - 2])
    assert cs.profile().find(f"poseidon{k}/round0").total == 3 * (t - 1)  # the capacity S-box folds


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5).flatmap(lambda k: st.lists(st.integers(0, R - 1), min_size=k, max_size=k)))
def test_gadget_equals_plain_hash(inputs):
    cs = ConstraintSystem()
    h = poseidon(cs, [cs.private_input(f"x{i}", v) for i, v in enumerate(inputs)])
    assert h.value == poseidon_hash(inputs)
    assert cs.is_satisfied()


@pytest.mark.parametrize("k", sorted(CONSTRAINTS))
def test_gadget_output_is_determined_by_the_inputs(k):
    cs = ConstraintSystem()
    inputs = [(i + 1) * 0x1234567 for i in range(k)]
    h = poseidon(cs, [cs.private_input(f"x{i}", v) for i, v in enumerate(inputs)])
    expected = poseidon_hash(inputs)
    assert_outputs_determined(cs, [h], [expected])
    assert_wire_tampering_caught(cs, [h])


def test_gadget_with_constant_inputs_folds_to_a_constant():
    cs = ConstraintSystem()
    h = poseidon(cs, [1, 2])
    assert h.is_constant and h.value == poseidon_hash([1, 2]) and cs.n_constraints == 0


def test_wrong_public_hash_is_rejected():
    cs = ConstraintSystem()
    h = poseidon(cs, [cs.private_input("secret", 42)])
    claimed = cs.public_input("commitment", poseidon_hash([43]))
    cs.enforce_equal(h, claimed, "commitment")
    failure = cs.first_failure()
    assert failure is not None and failure.label == "commitment"
