"""The Poseidon Merkle tree of a hashed layout group (circuits/merkle.py): native root, paths and the
circuit's root agree, and a path binds its element and its index."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bn254.constants import R
from circuits import merkle
from circuits.builder import ConstraintSystem
from circuits.poseidon import poseidon_hash

elements = st.lists(st.integers(0, R - 1), min_size=0, max_size=9)


def test_depth_is_ceil_log2_and_an_empty_or_single_group_is_its_own_root():
    assert [merkle.tree_depth(n) for n in (0, 1, 2, 3, 4, 5, 8, 9, 64, 65)] == [0, 0, 1, 2, 2, 3, 3, 4, 6, 7]
    assert merkle.merkle_root([], 0) == 0
    assert merkle.merkle_root([12345], 0) == 12345


def test_the_root_is_poseidon_over_leaves_padded_with_zero():
    a, b, c = 11, 22, 33
    assert merkle.merkle_root([a, b], 1) == poseidon_hash([a, b])
    assert merkle.merkle_root([a, b, c], 2) == poseidon_hash([poseidon_hash([a, b]), poseidon_hash([c, 0])])
    assert merkle.merkle_root([a], 1) == poseidon_hash([a, 0])
    # padding is part of the tree: a zero leaf written out gives the same root, any other does not
    assert merkle.merkle_root([a, b, c, 0], 2) == merkle.merkle_root([a, b, c], 2)
    assert merkle.merkle_root([a, b, c, 1], 2) != merkle.merkle_root([a, b, c], 2)


@settings(max_examples=25, deadline=None)
@given(elements)
def test_every_leafs_path_leads_to_the_root(leaves):
    depth = merkle.tree_depth(len(leaves))
    root = merkle.merkle_root(leaves, depth)
    for i, leaf in enumerate(leaves):
        path = merkle.merkle_path(leaves, depth, i)
        assert len(path) == depth
        assert merkle.root_from_path(leaf, i, path) == root


def test_a_path_binds_the_element_the_index_and_each_sibling():
    leaves = [101, 202, 303, 404, 505]
    root = merkle.merkle_root(leaves, 3)
    path = merkle.merkle_path(leaves, 3, 2)
    assert merkle.root_from_path(303, 2, path) == root
    assert merkle.root_from_path(304, 2, path) != root  # another element
    for index in (0, 1, 3, 6):  # another index: another direction at some level
        assert merkle.root_from_path(303, index, path) != root
    for level in range(3):  # one sibling changed
        changed = list(path)
        changed[level] += 1
        assert merkle.root_from_path(303, 2, changed) != root
    # a padding leaf (index 5..7) has a path too, to 0: the vault must bound the index by the count
    assert merkle.root_from_path(0, 6, merkle.merkle_path(leaves, 3, 6)) == root


def test_refusals():
    with pytest.raises(merkle.MerkleError, match="do not fit"):
        merkle.merkle_root([1, 2, 3], 1)
    with pytest.raises(merkle.MerkleError, match="outside"):
        merkle.merkle_path([1, 2], 1, 2)
    with pytest.raises(merkle.MerkleError, match="outside"):
        merkle.root_from_path(1, 4, [0, 0])
    with pytest.raises(merkle.MerkleError, match="not a field element"):
        merkle.merkle_root([R], 0)
    with pytest.raises(merkle.MerkleError):
        merkle.tree_depth(-1)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_the_gadget_computes_the_native_root(n):
    leaves = [7 * i + 3 for i in range(n)]
    depth = merkle.tree_depth(n)
    cs = ConstraintSystem()
    wires = [cs.private_input(f"leaf{i}", v) for i, v in enumerate(leaves)]
    root = merkle.merkle_root_gadget(cs, wires, depth)
    assert root.value == merkle.merkle_root(leaves, depth)
    assert cs.is_satisfied()
    # one Poseidon (240 constraints) per node above a real leaf; padding-only subtrees cost nothing
    real_nodes = sum(-(-n // 2**level) for level in range(1, depth + 1)) if n else 0
    assert cs.n_constraints <= 240 * real_nodes
