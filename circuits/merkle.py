"""A Poseidon Merkle tree over a layout's hashed group: the native tree and its circuit, one shape.

A hashed group's elements (circuits.layout: a group with a `merkle_root`) are not public inputs:
they are the leaves of a binary tree whose root is one whole public input. The tree has
2^depth leaves, depth = ceil(log2(n)) for n elements (0 for n <= 1), the elements first and
every other leaf 0; a parent is Poseidon(left, right), circomlib's Poseidon of two inputs (t = 3,
circuits.poseidon), the hash PoseidonT3.sol computes. At depth 0 the root is the one leaf (the
element itself, or 0 for an empty group).

A path is the siblings from the leaf up, `depth` of them; the direction at level l is bit l of
the leaf's index (1: the node is the right child, parent = Poseidon(sibling, node)), so a path
of exactly `depth` siblings binds the index as well as the element. QuoteTree.sol checks a path
the same way.

`_levels` is the tree's one definition, generic in the hash: the native functions run it on
integers with poseidon_hash, `merkle_root_gadget` on circuit LCs with the Poseidon gadget (whose
witness is computed by the same constraints), so the root the circuit proves and the root and
paths the solver and the takers compute cannot drift.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from bn254.constants import R
from circuits.builder import CircuitError, ConstraintSystem
from circuits.gadgets.hash import poseidon
from circuits.lc import LC
from circuits.poseidon import poseidon_hash

Node = TypeVar("Node")
PADDING_LEAF = 0


class MerkleError(CircuitError):
    """A tree asked for with leaves that do not fit its depth, or a leaf index outside it."""


def tree_depth(n_leaves: int) -> int:
    """ceil(log2(n)) for n >= 1, and 0 for an empty group (one padding leaf)."""
    if n_leaves < 0:
        raise MerkleError(f"a tree of {n_leaves} leaves")
    return max(n_leaves - 1, 0).bit_length()


def _levels(leaves: Sequence[Node], depth: int, hash2: Callable[[Node, Node], Node], zero: Node) -> list[list[Node]]:
    """Every level of the tree, leaves (padded with `zero` to 2^depth) first, the root's level last."""
    if len(leaves) > 1 << depth:
        raise MerkleError(f"{len(leaves)} leaves do not fit a tree of depth {depth}")
    level = list(leaves) + [zero] * ((1 << depth) - len(leaves))
    levels = [level]
    for _ in range(depth):
        level = [hash2(level[2 * i], level[2 * i + 1]) for i in range(len(level) // 2)]
        levels.append(level)
    return levels


def _hash2(left: int, right: int) -> int:
    return poseidon_hash([left, right])


def _check_leaves(leaves: Sequence[int]) -> None:
    for i, leaf in enumerate(leaves):
        if not 0 <= leaf < R:
            raise MerkleError(f"leaf {i} = {leaf} is not a field element")


def merkle_root(leaves: Sequence[int], depth: int) -> int:
    """The root of `leaves` padded with 0 to 2^depth leaves."""
    _check_leaves(leaves)
    return _levels(leaves, depth, _hash2, PADDING_LEAF)[-1][0]


def merkle_path(leaves: Sequence[int], depth: int, index: int) -> list[int]:
    """The siblings of leaf `index` from the leaf up (`depth` of them)."""
    if not 0 <= index < 1 << depth:
        raise MerkleError(f"leaf index {index} is outside a tree of depth {depth}")
    _check_leaves(leaves)
    levels = _levels(leaves, depth, _hash2, PADDING_LEAF)
    return [levels[level][(index >> level) ^ 1] for level in range(depth)]


def root_from_path(leaf: int, index: int, path: Sequence[int]) -> int:
    """The root that leaf `index` with these siblings (from the leaf up) hashes to."""
    if not 0 <= index < 1 << len(path):
        raise MerkleError(f"leaf index {index} is outside a tree of depth {len(path)}")
    node = leaf
    for level, sibling in enumerate(path):
        node = _hash2(sibling, node) if index >> level & 1 else _hash2(node, sibling)
    return node


def merkle_root_gadget(cs: ConstraintSystem, leaves: Sequence[LC], depth: int) -> LC:
    """The root of `leaves` (padded with the constant 0) as an LC constrained by Poseidon: 240
    constraints per hash of a non-constant pair, nothing for a subtree of padding alone."""
    count = iter(range(1 << depth))

    def hash2(left: LC, right: LC) -> LC:
        with cs.scope(f"node{next(count)}"):
            return poseidon(cs, [left, right])

    with cs.scope("merkle"):
        return _levels(leaves, depth, hash2, LC.constant(PADDING_LEAF))[-1][0]
