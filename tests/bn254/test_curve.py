"""BN254 constants, roots of unity and the point checks the verifier relies on."""

from __future__ import annotations

import pytest
from py_ecc import optimized_bn128 as bn

from bn254.constants import R, G1_GENERATOR, G1_INFINITY, G2_GENERATOR, G2_INFINITY, Q, root_of_unity
from bn254.curve import (
    g1_from_py_ecc,
    g2_from_py_ecc,
    is_in_g2,
    is_on_twist,
    validate_g1,
    validate_g2,
    CoordinateOutOfRange,
    PointNotInSubgroup,
    PointNotOnCurve,
)
from tests.prover.points import twist_point_outside_g2


@pytest.mark.parametrize("k", [1, 2, 5, 10, 28])
def test_root_of_unity_has_order_exactly_2_to_the_k(k):
    omega = root_of_unity(k)
    assert pow(omega, 1 << k, R) == 1
    assert pow(omega, 1 << (k - 1), R) == R - 1


def test_roots_of_unity_are_snarkjs_powers_of_5():
    # ffjavascript: w[28] = 5^((r-1)/2^28), w[k] = w[k+1]^2.
    assert root_of_unity(27) == pow(root_of_unity(28), 2, R)
    assert root_of_unity(3) == pow(5, (R - 1) // 8, R)
    with pytest.raises(ValueError):
        root_of_unity(29)


def test_generators_and_infinity_are_valid():
    validate_g1(G1_GENERATOR, "g1")
    validate_g1(G1_INFINITY, "g1 infinity")
    validate_g2(G2_GENERATOR, "g2")
    validate_g2(G2_INFINITY, "g2 infinity")
    assert g1_from_py_ecc(bn.multiply(bn.G1, R - 1)) == (1, Q - 2)


def test_g1_coordinate_outside_the_field():
    with pytest.raises(CoordinateOutOfRange):
        validate_g1((1, 2 + Q), "p")  # congruent to the generator, but not canonical
    with pytest.raises(CoordinateOutOfRange):
        validate_g1((-1, 2), "p")


def test_g1_point_off_the_curve():
    with pytest.raises(PointNotOnCurve, match="p is not on the curve"):
        validate_g1((1, 3), "p")


def test_g2_swapped_coordinates_are_off_the_twist():
    (x0, x1), (y0, y1) = G2_GENERATOR
    swapped = ((x1, x0), (y1, y0))
    assert not is_on_twist(swapped)
    with pytest.raises(PointNotOnCurve):
        validate_g2(swapped, "b")


def test_g2_point_outside_the_subgroup():
    point = twist_point_outside_g2()
    assert is_on_twist(point) and not is_in_g2(point)
    with pytest.raises(PointNotInSubgroup):
        validate_g2(point, "b")


def test_g2_multiple_of_the_generator_is_in_the_subgroup():
    assert is_in_g2(g2_from_py_ecc(bn.multiply(bn.G2, 12345)))
