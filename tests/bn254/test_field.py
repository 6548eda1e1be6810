"""The BN254 scalar field: its constants (bn254.constants) and helpers (bn254.field)."""

from hypothesis import given
from hypothesis import strategies as st

from bn254 import constants, field
from bn254.constants import R

elements = st.integers(min_value=0, max_value=R - 1)


def test_modulus_is_the_bn254_group_order():
    assert R == 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
    assert R.bit_length() == constants.R_BITS
    assert (1 << 253) < R < (1 << 254)
    assert (R - 1) % (1 << 28) == 0 and ((R - 1) >> 28) % 2 == 1


def test_prime_check_rejects_composites():
    assert not constants._is_probable_prime(R * 3)
    assert not constants._is_probable_prime(561)  # Carmichael number
    assert constants._is_probable_prime(R)


@given(st.integers(min_value=-(1 << 300), max_value=1 << 300))
def test_to_field_and_to_signed_round_trip_small_integers(v):
    assert 0 <= field.to_field(v) < R
    if abs(v) < R // 2:
        assert field.to_signed(field.to_field(v)) == v


def test_negative_one_is_r_minus_one():
    assert field.to_field(-1) == R - 1
    assert field.to_signed(R - 1) == -1


@given(elements.filter(bool))
def test_inverse(x):
    assert x * field.inverse(x) % R == 1


def test_inverse_of_zero_raises():
    import pytest

    with pytest.raises(ZeroDivisionError):
        field.inverse(0)


@given(elements)
def test_sqrt_of_squares_and_non_squares(x):
    root = field.sqrt(x * x % R)
    assert root is not None and root * root % R == x * x % R
    # 5 generates F_r^*, so 5 * square is never a square
    if x:
        assert field.sqrt(5 * x * x % R) is None


@given(st.lists(elements.filter(bool), max_size=40))
def test_batch_inverse_matches_one_at_a_time(xs):
    assert field.batch_inverse(xs) == [field.inverse(x) for x in xs]


def test_batch_inverse_names_the_first_zero():
    import pytest

    with pytest.raises(ZeroDivisionError, match="element 2"):
        field.batch_inverse([3, 5, R, 7])


def test_root_of_unity_powers_are_snarkjs_roots():
    # snarkjs's Fr.w[28] (ffjavascript), and omega_k^2 = omega_(k-1).
    assert constants.root_of_unity(28) == 0x2A3C09F0A58A7E8500E0A7EB8EF62ABC402D111E41112ED49BD61B6E725B19F0
    for k in range(1, 29):
        assert pow(constants.root_of_unity(k), 2, R) == constants.root_of_unity(k - 1)


def test_r_minus_one_factorisation_shows_5_generates_the_multiplicative_group():
    import math

    factors = constants.R_MINUS_ONE_FACTORS
    assert math.prod(p**e for p, e in factors.items()) == R - 1
    assert all(constants._is_probable_prime(p) for p in factors)
    assert all(pow(5, (R - 1) // p, R) != 1 for p in factors)
    assert pow(4, (R - 1) // 2, R) == 1  # a square generates nothing bigger than the squares
