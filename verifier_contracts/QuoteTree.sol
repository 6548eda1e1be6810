// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PoseidonT3} from "./PoseidonT3.sol";

/// @title QuoteTree: a quote element shown with its Merkle path against a batch's proven quotes_root
/// @notice A batch proof publishes one root for all its quotes (circuits/merkle.py): the quote
///     elements, padded with 0 to 2^depth leaves, hashed pairwise with Poseidon(left, right) up to
///     the root. A taker shows one element, its leaf index and the `depth` siblings from the leaf
///     up; the direction at level l is bit l of the index (1: the node is the right child), so a
///     path of exactly `depth` siblings binds the index as well as the element. Checking one costs
///     `depth` Poseidon hashes (PoseidonT3, ~21k gas each).
/// @dev PoseidonT3 reduces its inputs mod r, so an element e and e + r hash alike while their bits
///     decode to different quotes: an element must be below r (an honest one is below 2^253).
library QuoteTree {
    /// @notice The BN254 scalar field's modulus r (PoseidonT3's p).
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The path has `length` siblings; the batch's tree has `depth` levels.
    error QuotePathLengthMismatch(uint256 length, uint256 depth);
    /// @notice Leaf `index` lies outside a tree of `depth` levels.
    error QuoteLeafOutOfRange(uint256 index, uint256 depth);
    /// @notice The element is not below the field modulus (it would hash as element mod r).
    error QuoteElementNotInField(uint256 element);
    /// @notice The element at leaf `index` with the path given hashes to `computed`, not to the
    ///     batch's proven `root`: a wrong element, index or sibling.
    error QuoteNotInBatch(uint256 index, uint256 root, uint256 computed);

    /// @notice The root that `element` at leaf `index` with `path` (siblings from the leaf up) hashes to.
    function rootFromPath(PoseidonT3 poseidon, uint256 element, uint256 index, uint256[] calldata path)
        internal
        pure
        returns (uint256 node)
    {
        if (element >= FIELD_MODULUS) revert QuoteElementNotInField(element);
        if (index >> path.length != 0) revert QuoteLeafOutOfRange(index, path.length);
        node = element;
        for (uint256 level = 0; level < path.length; ++level) {
            node = (index >> level) & 1 == 1 ? poseidon.hash(path[level], node) : poseidon.hash(node, path[level]);
        }
    }

    /// @notice Revert unless `element` is leaf `index` of the tree of `depth` levels whose root is `root`.
    function requireMember(
        PoseidonT3 poseidon,
        uint256 root,
        uint256 depth,
        uint256 element,
        uint256 index,
        uint256[] calldata path
    ) internal pure {
        if (path.length != depth) revert QuotePathLengthMismatch(path.length, depth);
        uint256 computed = rootFromPath(poseidon, element, index, path);
        if (computed != root) revert QuoteNotInBatch(index, root, computed);
    }
}
