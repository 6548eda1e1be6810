// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PoseidonT3} from "../../PoseidonT3.sol";
import {QuoteTree} from "../../QuoteTree.sol";

/// @title QuoteTreeHarness: QuoteTree's internal functions as external ones, for tests only
/// @notice `accept` counts the memberships it accepted, so that a test sees a refusal change nothing.
contract QuoteTreeHarness {
    PoseidonT3 public immutable poseidon;
    uint256 public accepted;

    constructor(PoseidonT3 poseidon_) {
        poseidon = poseidon_;
    }

    function accept(uint256 root, uint256 depth, uint256 element, uint256 index, uint256[] calldata path) external {
        QuoteTree.requireMember(poseidon, root, depth, element, index, path);
        accepted += 1;
    }

    function rootFromPath(uint256 element, uint256 index, uint256[] calldata path) external view returns (uint256) {
        return QuoteTree.rootFromPath(poseidon, element, index, path);
    }
}
