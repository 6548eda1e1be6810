"""Groth16 setup, prove and verify on small circuits, and every way the verifier must say no.

Which rejections are errors and which are False (prover.verifier): malformed input
raises before any pairing (wrong input count, input outside [0, r), a coordinate
outside F_q, a point off its curve, a G2 point outside the subgroup); a well-formed
proof that does not prove the statement returns False.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from py_ecc import optimized_bn128 as bn

from bn254.constants import Q, R
from bn254.curve import g1_from_py_ecc, g1_to_py_ecc, g2_from_py_ecc, g2_to_py_ecc
from prover import (
    CoordinateOutOfRange,
    InvalidWitness,
    PointNotInSubgroup,
    PointNotOnCurve,
    Proof,
    PublicInputCountMismatch,
    PublicInputOutOfRange,
    UnsatisfiedConstraint,
    prepare,
    prove,
    setup,
    verify,
)
from prover.backends import get_backend
from tests.prover.points import twist_point_outside_g2
from tests.prover.sample_circuits import (
    build,
    multiplication_chain,
    no_public_signals,
    range_checked_spend,
    unused_public_input,
)

CIRCUITS = {
    "chain": lambda: multiplication_chain(6),
    "range": range_checked_spend,
    "no_public": no_public_signals,
    "unused_public": unused_public_input,
}


@pytest.fixture(scope="module")
def keyed(backend):
    """{name: (r1cs, witness, pk, vk)} for each sample circuit, set up on `backend`."""
    out = {}
    for name, make in CIRCUITS.items():
        r1cs, witness = build(make())
        pk, vk = setup(r1cs, backend)
        out[name] = (r1cs, witness, pk, vk)
    return out


@pytest.fixture(scope="module")
def chain_proof(keyed, backend):
    """(vk, public signals, an honest proof) for the multiplication chain."""
    r1cs, witness, pk, vk = keyed["chain"]
    return vk, r1cs.public_values(witness), prove(pk, witness, backend)


@pytest.mark.parametrize("name", list(CIRCUITS))
def test_honest_proof_verifies(keyed, backend, name):
    r1cs, witness, pk, vk = keyed[name]
    proof = prove(pk, witness, backend)
    assert verify(vk, r1cs.public_values(witness), proof, backend)


def test_keys_say_they_are_development_keys(keyed):
    r1cs, _, pk, vk = keyed["range"]
    assert vk.is_development and pk.vk is vk
    assert vk.n_public == r1cs.n_public == 2
    assert len(pk.a_query) == len(pk.b_g2_query) == r1cs.n_wires
    assert len(pk.l_query) == r1cs.n_wires - r1cs.n_public - 1
    assert pk.domain_size >= r1cs.n_constraints + r1cs.n_public + 1


def test_two_setups_give_different_keys(keyed, backend):
    r1cs, _, _, vk = keyed["chain"]
    assert setup(r1cs, backend)[1].alpha_g1 != vk.alpha_g1


def test_zero_knowledge_two_proofs_of_one_witness_differ(keyed, backend, chain_proof):
    vk, public, first = chain_proof
    r1cs, witness, pk, _ = keyed["chain"]
    second = prove(pk, witness, backend)
    assert first.a != second.a and first.b != second.b and first.c != second.c
    assert verify(vk, public, second, backend)


# -- the prover refuses witnesses that do not satisfy the system ------------------------------


def test_prover_names_the_first_failing_constraint(keyed, backend):
    r1cs, _, pk, _ = keyed["range"]
    def flip_bit3(label: str, value: int) -> int:
        # A malicious prover flips bit 3 of a range check: the recomposition breaks.
        return 1 - value if label.endswith("bit3") else value

    cheat = range_checked_spend(tamper_hint=flip_bit3)
    witness = cheat.witness()
    assert cheat.to_r1cs().constraints == r1cs.constraints
    with pytest.raises(UnsatisfiedConstraint) as caught:
        prove(pk, witness, backend)
    failure = caught.value.failure
    assert failure == r1cs.first_failure(witness)
    assert failure.label == r1cs.labels[failure.index] and "ranges/" in failure.label
    assert failure.label in str(caught.value)


def test_unchecked_proof_of_an_unsatisfying_witness_does_not_verify(keyed, backend):
    r1cs, witness, pk, vk = keyed["chain"]
    wrong = [*witness[:-1], (witness[-1] + 1) % R]  # the last internal wire off by one
    assert not r1cs.is_satisfied(wrong)
    with pytest.raises(UnsatisfiedConstraint):
        prove(pk, wrong, backend, check=True)
    proof = prove(pk, wrong, backend, check=False)  # the check is an option, not a cost of every proof
    assert not verify(vk, r1cs.public_values(wrong), proof, backend)


def test_a_prepared_key_proves_many_times(keyed, backend):
    r1cs, witness, pk, vk = keyed["range"]
    prepared = prepare(pk, backend)
    assert prepared.pk is pk and prepared.backend_name == backend.name
    first, second = prove(prepared, witness), prove(prepared, witness)
    assert first != second
    assert all(verify(vk, r1cs.public_values(witness), proof, backend) for proof in (first, second))
    other = next(b for b in (get_backend("fast"), get_backend("reference")) if b.name != backend.name)
    with pytest.raises(ValueError, match="prepared for"):
        prove(prepared, witness, other)


def test_prover_refuses_malformed_witnesses(keyed, backend):
    _, witness, pk, _ = keyed["chain"]
    with pytest.raises(InvalidWitness):
        prove(pk, witness[:-1], backend, check=False)
    with pytest.raises(InvalidWitness):
        prove(pk, [2, *witness[1:]], backend, check=False)
    with pytest.raises(InvalidWitness):
        prove(pk, [1, R, *witness[2:]], backend)


# -- tampered proofs and statements: False ----------------------------------------------------


def _g1_plus_generator(p):
    return g1_from_py_ecc(bn.add(g1_to_py_ecc(p), bn.G1))


@pytest.mark.parametrize("part", ["a", "c"])
def test_tampered_g1_point_is_rejected(chain_proof, backend, part):
    vk, public, proof = chain_proof
    tampered = replace(proof, **{part: _g1_plus_generator(getattr(proof, part))})
    assert verify(vk, public, tampered, backend) is False


def test_tampered_b_is_rejected(chain_proof, backend):
    vk, public, proof = chain_proof
    tampered = replace(proof, b=g2_from_py_ecc(bn.add(g2_to_py_ecc(proof.b), bn.G2)))
    assert verify(vk, public, tampered, backend) is False


def test_public_input_off_by_one_is_rejected(chain_proof, backend):
    vk, public, proof = chain_proof
    assert verify(vk, [public[0], (public[1] + 1) % R], proof, backend) is False


def test_proof_of_another_witness_is_rejected(keyed, backend, chain_proof):
    vk, public, _ = chain_proof
    _, _, pk, _ = keyed["chain"]
    other_r1cs, other_witness = build(multiplication_chain(6, x=4, y=9))
    other = prove(pk, other_witness, backend)
    assert verify(vk, other_r1cs.public_values(other_witness), other, backend)
    assert verify(vk, public, other, backend) is False


def test_proof_for_another_circuit_is_rejected(keyed, backend, chain_proof):
    vk, _, _ = chain_proof
    r1cs, witness, pk, _ = keyed["range"]  # also two public signals
    other = prove(pk, witness, backend)
    assert verify(vk, r1cs.public_values(witness), other, backend) is False


def test_public_input_no_constraint_mentions_is_still_bound(keyed, backend):
    # Without snarkjs's padding rows this input would not enter the proof at all.
    r1cs, witness, pk, vk = keyed["unused_public"]
    proof = prove(pk, witness, backend)
    public = r1cs.public_values(witness)
    memo = r1cs.n_public_outputs  # inputs follow outputs
    changed = [*public[:memo], public[memo] + 1, *public[memo + 1 :]]
    assert verify(vk, changed, proof, backend) is False


# -- malformed statements and proofs: typed errors before any pairing ------------------------


def test_public_input_plus_r_is_refused(chain_proof, backend):
    vk, public, proof = chain_proof
    with pytest.raises(PublicInputOutOfRange):
        verify(vk, [public[0] + R, public[1]], proof, backend)


@pytest.mark.parametrize("bad", [-1, R, True, "3"])
def test_public_input_outside_the_field_is_refused(chain_proof, backend, bad):
    vk, public, proof = chain_proof
    with pytest.raises(PublicInputOutOfRange):
        verify(vk, [bad, public[1]], proof, backend)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_wrong_public_input_count_is_refused(chain_proof, backend, count):
    vk, public, proof = chain_proof
    with pytest.raises(PublicInputCountMismatch):
        verify(vk, (public * 2)[:count], proof, backend)


def test_swapped_g2_coordinates_in_b_are_refused(chain_proof, backend):
    # JSON order [c0, c1] read as EIP-197's [c1, c0] (or back): the point leaves the twist.
    vk, public, proof = chain_proof
    (x0, x1), (y0, y1) = proof.b
    with pytest.raises(PointNotOnCurve):
        verify(vk, public, replace(proof, b=((x1, x0), (y1, y0))), backend)


def test_b_outside_the_g2_subgroup_is_refused(chain_proof, backend):
    vk, public, proof = chain_proof
    with pytest.raises(PointNotInSubgroup):
        verify(vk, public, replace(proof, b=twist_point_outside_g2()), backend)


@pytest.mark.parametrize("part", ["a", "c"])
def test_off_curve_g1_point_is_refused(chain_proof, backend, part):
    vk, public, proof = chain_proof
    x, y = getattr(proof, part)
    with pytest.raises(PointNotOnCurve):
        verify(vk, public, replace(proof, **{part: (x, (y + 1) % Q)}), backend)


def test_non_canonical_coordinate_is_refused(chain_proof, backend):
    vk, public, proof = chain_proof
    x, y = proof.a
    with pytest.raises(CoordinateOutOfRange):
        verify(vk, public, Proof(a=(x, y + Q), b=proof.b, c=proof.c), backend)


def test_setup_gives_the_same_keys_on_every_backend_for_the_same_secrets(monkeypatch):
    """One query at a time, each backend in its own layout (the fast one: PointRuns), the same points."""
    import itertools

    from prover import generator

    r1cs, witness = build(range_checked_spend())
    keys = []
    for name in ("reference", "fast"):
        secrets = itertools.count(1234567, 7654321)  # tau, alpha, beta, gamma, delta
        monkeypatch.setattr(generator, "random_nonzero_scalar", lambda: next(secrets))
        keys.append(setup(r1cs, get_backend(name)))
    (reference_pk, reference_vk), (fast_pk, fast_vk) = keys
    assert fast_vk == reference_vk
    for field in ("a_query", "b_g1_query", "b_g2_query", "l_query", "h_query", "beta_g1", "delta_g1"):
        assert getattr(fast_pk, field) == getattr(reference_pk, field), field
    assert isinstance(reference_pk.a_query, tuple)
    monkeypatch.undo()
    assert verify(fast_vk, r1cs.public_values(witness), prove(fast_pk, witness, check=True))
