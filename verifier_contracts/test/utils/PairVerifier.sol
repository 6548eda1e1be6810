// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchVerifier, BATCH_PUBLIC_INPUT_COUNT} from "generated/BatchLayout.sol";

/// @title A stand-in for the batch verifier that accepts exactly a set of (proof, input) pairs
/// @notice For forge tests that need proofs of states no prover has seen (invariant handlers,
///     fuzzed batches): the test computes the public inputs the vault will assemble for a batch it
///     plans (the vault's book commitment and chain heads, the proof's book_after, the packed
///     elements), pairs them with an arbitrary "proof", and lists keccak256(abi.encode(a, b, c,
///     input)) here, at deployment or later through `accept` (deployer only: a handler plans
///     each batch from the vault's state just before submitting it, as the solver proves it).
///     requireValidProof then behaves as the generated Groth16Verifier would for a proof that
///     verifies exactly those inputs: it returns for a listed pair and reverts ProofInvalid for
///     anything else (another proof, or one changed input). It checks no pairing: what it stands
///     for is "the solver can prove this batch", which the Python tests check with real proofs.
contract PairVerifier is IBatchVerifier {
    /// @notice `caller` is not the deployer, the only address that may list pairs.
    error NotPlanner(address caller);

    /// @notice The number of public inputs the vault must assemble (the batch layout's).
    uint256 public immutable PUBLIC_INPUT_COUNT;
    address public immutable planner;
    mapping(bytes32 pair => bool) public accepts;

    constructor(uint256 publicInputCount, bytes32[] memory pairs) {
        PUBLIC_INPUT_COUNT = publicInputCount;
        planner = msg.sender;
        for (uint256 i = 0; i < pairs.length; ++i) {
            accepts[pairs[i]] = true;
        }
    }

    /// @notice List one more (proof, input) pair: keccak256(abi.encode(a, b, c, input)).
    function accept(bytes32 pair) external {
        if (msg.sender != planner) revert NotPlanner(msg.sender);
        accepts[pair] = true;
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
