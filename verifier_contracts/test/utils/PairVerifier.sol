// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier, BATCH_PUBLIC_INPUT_COUNT} from "generated/BatchLayout.sol";

/// @title A stand-in for the batch verifier that accepts exactly a fixed set of (proof, input) pairs
/// @notice For forge tests that need proofs of states no prover has seen (invariant handlers,
///     fuzzed batches): the test computes, before deploying the vault, the public inputs the vault
///     will assemble for each batch it plans, pairs each with an arbitrary "proof", and deploys
///     this contract with the keccak256 of each abi.encode(a, b, c, input). requireValidProof then
///     behaves as the generated Groth16Verifier would for a proof that verifies exactly those
///     inputs: it returns for a listed pair and reverts ProofInvalid for anything else (another
///     proof, or one changed input). It checks no pairing: what it stands for is "the solver can
///     prove this batch", which the Python tests check with real proofs.
contract PairVerifier is IBatchVerifier {
    /// @notice The number of public inputs the vault must assemble (the batch layout's).
    uint256 public immutable PUBLIC_INPUT_COUNT;
    mapping(bytes32 pair => bool) public accepts;

    constructor(uint256 publicInputCount, bytes32[] memory pairs) {
        PUBLIC_INPUT_COUNT = publicInputCount;
        for (uint256 i = 0; i < pairs.length; ++i) {
            accepts[pairs[i]] = true;
        }
    }

    function requireValidProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[BATCH_PUBLIC_INPUT_COUNT] calldata input
    ) external view {
        if (!accepts[keccak256(abi.encode(a, b, c, input))]) revert ProofInvalid();
    }
}
