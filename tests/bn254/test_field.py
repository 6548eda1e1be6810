"""The BN254 scalar field module: constants and helpers."""

from hypothesis import given
from hypothesis import strategies as st

from circuits import field
from circuits.field import R

elements = st.integers(min_value=0, max_value=R - 1)


def test_modulus_is_the_bn254_group_order():
    assert R == 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
    assert R.bit_length() == field.R_BITS
    assert (1 << 253) < R < (1 << 254)
    assert (R - 1) % (1 << 28) == 0 and ((R - 1) >> 28) % 2 == 1


def test_prime_check_rejects_composites():
    assert not field._is_probable_prime(R * 3)
    assert not field._is_probable_prime(561)  # Carmichael number
    assert field._is_probable_prime(R)


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
