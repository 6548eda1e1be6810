// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IBatchVerifier} from "generated/BatchLayout.sol";
import {Groth16Verifier} from "generated/Groth16Verifier.sol";
import {ProofFixtures as F} from "generated/ProofFixtures.sol";
import {IVIndexOracle} from "../IVIndexOracle.sol";
import {PoseidonT3} from "../PoseidonT3.sol";
import {QuoteVault} from "../QuoteVault.sol";
import {SpotOracle} from "../SpotOracle.sol";
import {TestToken} from "../TestToken.sol";
import {vm} from "./utils/Vm.sol";

/// @title QuoteVault with real Groth16 proofs of the smallest book batch
/// @notice generated/ProofFixtures.sol and generated/Groth16Verifier.sol are made by
///     solver/forge_fixtures.py (`make forge-fixtures`, which `make forge-test` runs) from the
///     Python prover's proofs of solver/scripted_book.py's market (P = 4 slots, F = 2 fills, E = 2
///     expiries, 1 quote): the deployment values the proofs bind, and a scripted life as raw
///     calldata encoded from the vault's ABI. Here the vault is deployed exactly as those proofs
///     need, over the real verifier, and the life replays call by call, each checked against the
///     values the generator computed with the engine (book commitments, fill chain heads, marks,
///     premiums). Each refusal asserts the typed error and that nothing changed.
///
///     The other forge suites (unit, fuzz and the invariant handler of QuoteVaultInvariant.t.sol)
///     run over test/utils/PairVerifier.sol, which accepts exactly the (proof, input) pairs a test
///     lists: invariant handlers need proofs of random states that no prover has made, so they
///     stand in "the solver can prove this batch" by a listed pair; the real proofs are here and in
///     the Python tests (tests/verifier_contracts/).
contract QuoteVaultProofsTest {
    address internal constant SOLVER = address(0x50150);
    address internal constant LP = address(0x1001);
    address internal constant TAKER = address(0x7a4e);
    uint256 internal constant FUNDS = 1e12;
    uint256 internal constant GOVERNANCE_DELAY = 1 days;
    uint256 private constant POINT_A = 0;
    uint256 private constant POINT_B = 1;
    uint256 private constant POINT_C = 2;
    /// @dev The pairing precompile, which fails on a point off its curve (Groth16Verifier.PrecompileFailed).
    uint256 private constant PAIRING_PRECOMPILE = 8;

    TestToken internal token;
    SpotOracle internal oracle;
    IVIndexOracle internal ivOracle;
    QuoteVault internal vault;
    uint64 private lastObservation;

    function setUp() public {
        vm.warp(F.T0 - 1 hours);
        vault = deployProvenVault();
        token.mint(LP, FUNDS);
        token.mint(TAKER, FUNDS);
        vm.prank(LP);
        token.approve(address(vault), type(uint256).max);
        vm.prank(TAKER);
        token.approve(address(vault), type(uint256).max);
        vm.prank(LP);
        vault.deposit(F.COLLATERAL, LP);
        vm.prank(SOLVER);
        vault.setStateCommitment(F.STATE_COMMITMENT);
    }

    // ------------------------------------------------------------------ deployment

    /// @dev The vault as the fixtures' proofs need it: their capacities, first nonce, rate and
    ///     carry, limits and margins, over the generated Groth16Verifier of their key.
    function deployProvenVault() internal returns (QuoteVault) {
        token = new TestToken("Test USD", "tUSD", F.TOKEN_DECIMALS);
        oracle = new SpotOracle();
        ivOracle = new IVIndexOracle();
        address[] memory roles = new address[](1);
        roles[0] = address(this);
        QuoteVault.Dependencies memory deps = QuoteVault.Dependencies({
            oracle: oracle,
            ivOracle: ivOracle,
            poseidon: new PoseidonT3(),
            verifier: IBatchVerifier(address(new Groth16Verifier())),
            solver: SOLVER,
            governance: new TimelockController(GOVERNANCE_DELAY, roles, roles, address(0)),
            firstNonce: F.FIRST_NONCE,
            bookCapacity: F.BOOK_CAPACITY,
            fillCapacity: F.FILL_CAPACITY
        });
        return new QuoteVault(
            token,
            deps,
            QuoteVault.OracleSettings({maxOracleAge: F.MAX_ORACLE_AGE, quoteLifetime: F.QUOTE_LIFETIME}),
            QuoteVault.RiskLimits({
                maxAbsDelta: F.MAX_ABS_DELTA,
                maxAbsGamma: F.MAX_ABS_GAMMA,
                maxAbsVega: F.MAX_ABS_VEGA,
                maxLoss: F.MAX_LOSS
            }),
            QuoteVault.MarketSettings({
                rate: F.RATE,
                carry: F.CARRY,
                spotTolerance: F.SPOT_TOLERANCE,
                ivBand: F.IV_BAND
            }),
            QuoteVault.Margins({modelMargin: F.MODEL_MARGIN, solvencyMargin: F.SOLVENCY_MARGIN})
        );
    }

    // ------------------------------------------------------------------ replaying the script

    /// @dev At `time`, both oracles observe (spot, IV_INDEX), once per time.
    function observe(uint64 time, uint256 spot) internal {
        vm.warp(time);
        if (time == lastObservation) return;
        oracle.post(uint192(spot), time);
        ivOracle.post(uint192(F.IV_INDEX), time);
        lastObservation = time;
    }

    /// @dev Send scripted call `i` at its time (the oracles observing then) and check what it
    ///     returns (a batch id or a premium) and the vault's state after it.
    function replay(uint256 i) internal returns (uint256) {
        F.ScriptedCall memory c = F.scriptedCall(i);
        observe(c.time, F.SPOT);
        vm.prank(c.bySolver ? SOLVER : TAKER);
        (bool ok, bytes memory returned) = address(vault).call(c.data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(returned, 0x20), mload(returned)) // the vault's own error, for the report
            }
        }
        vm.assertEq(abi.decode(returned, (uint256)), c.returned, c.name);
        checkVault(c.expected, c.name);
        return c.returned;
    }

    function replayUpTo(uint256 count) internal {
        for (uint256 i = 0; i < count; ++i) {
            replay(i);
        }
    }

    function checkVault(F.VaultAfter memory want, string memory what) internal view {
        vm.assertEq(uint256(vault.nextNonce()), want.nextNonce, what);
        vm.assertEq(uint256(vault.liveBatch()), want.liveBatch, what);
        vm.assertTrue(vault.hasLiveBatch(), what);
        (uint256 commitment, uint256 fillCount, uint256 provenFills,) = vault.bookState();
        vm.assertEq(commitment, want.bookCommitment, what);
        vm.assertEq(fillCount, want.fillCount, what);
        vm.assertEq(provenFills, want.provenFills, what);
        vm.assertEq(vault.chainHead(fillCount), want.chainHead, what);
        vm.assertEq(vault.mark(), want.mark, what);
        vm.assertEq(vault.provenMark(), want.provenMark, what);
        vm.assertEq(uint256(vault.markTime()), want.markTime, what);
        vm.assertEq(vault.longPositions(TAKER, series()), want.takerLong, what);
    }

    function series() internal view returns (bytes32) {
        return vault.seriesId(F.EXPIRY, F.STRIKE, F.IS_CALL);
    }

    /// @dev `data` sent by the solver reverts with exactly `err`, and the vault is as it was.
    function refuse(bytes memory data, bytes memory err, string memory what) internal {
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        (bool ok, bytes memory returned) = address(vault).call(data);
        vm.assertFalse(ok, what);
        vm.assertEq(keccak256(returned), keccak256(err), what);
        vm.assertEq(vaultState(), before, string.concat(what, ": a refused batch changes nothing"));
    }

    /// @dev The vault's storage as its getters show it, and the token balances and the taker's position.
    function vaultState() internal view returns (bytes32) {
        (uint256 commitment, uint256 fillCount, uint256 provenFills, uint256 seriesCount) = vault.bookState();
        bytes memory book = abi.encode(commitment, fillCount, provenFills, seriesCount, vault.chainHead(fillCount));
        for (uint256 s = 0; s < seriesCount; ++s) {
            (,,, int256 quantity) = vault.bookSlot(s);
            book = abi.encode(book, quantity);
        }
        uint256 live = vault.liveBatch();
        (uint64 oracleTime, uint64 validUntil, uint256 spot) = vault.batchTimes(live);
        bytes memory batch = abi.encode(live, vault.hasLiveBatch(), oracleTime, validUntil, spot, vault.quotesRootOf(live));
        if (validUntil != 0) batch = abi.encode(batch, vault.quoteUsed(live, 0));
        bytes memory accounts = abi.encode(
            vault.nextNonce(), vault.stateCommitment(), vault.mark(), vault.provenMark(), vault.markTime(),
            vault.collateral(), vault.totalAssets(), vault.totalSupply(), vault.unprovenPremiums(),
            token.balanceOf(address(vault)), token.balanceOf(TAKER), vault.longPositions(TAKER, series())
        );
        return keccak256(abi.encode(book, batch, accounts));
    }

    function tampered(uint256 point) internal pure returns (bytes memory) {
        if (point == POINT_A) return F.firstBatchWithAAltered();
        if (point == POINT_B) return F.firstBatchWithBAltered();
        return F.firstBatchWithCAltered();
    }

    // ------------------------------------------------------------------ the life

    function test_scriptedLife_replaysWithRealProofs() public {
        replay(0);
        uint256 paid = replay(1);
        uint256 received = replay(2);
        replay(3);
        paid += replay(4);
        // the second batch's proof marked the book the taker's fills made: the vault is short
        vm.assertTrue(vault.mark() < 0, "the book after the fills is short");
        vm.assertGt(vault.provenMark(), 0, "a short book is a liability");
        vm.assertEq(token.balanceOf(TAKER), FUNDS - paid + received, "the taker paid the premiums, net");
        vm.assertEq(token.balanceOf(address(vault)), F.COLLATERAL + paid - received, "the vault holds them");
    }

    // ------------------------------------------------------------------ the verifier's refusals

    /// @dev One byte of a proof point altered: the point leaves its curve and the pairing
    ///     precompile fails; the vault lets the verifier's error through and changes nothing.
    function refuseAlteredPoint(uint256 point, string memory what) internal {
        observe(F.T0, F.SPOT);
        bytes memory err = abi.encodeWithSelector(IBatchVerifier.PrecompileFailed.selector, PAIRING_PRECOMPILE);
        refuse(tampered(point), err, what);
        replay(0); // the unaltered proof is accepted
    }

    function test_submitBatch_refusesAProofWithOneByteOfAAltered() public {
        refuseAlteredPoint(POINT_A, "A altered");
    }

    function test_submitBatch_refusesAProofWithOneByteOfBAltered() public {
        refuseAlteredPoint(POINT_B, "B altered");
    }

    function test_submitBatch_refusesAProofWithOneByteOfCAltered() public {
        refuseAlteredPoint(POINT_C, "C altered");
    }

    /// @dev The second batch's valid proof with the book_after of a proof over another book: the
    ///     vault assembles book_after into the public inputs, and the proof does not verify them.
    function test_submitBatch_refusesAValidProofWithAnotherBookAfter() public {
        replayUpTo(3);
        observe(F.T1, F.SPOT);
        refuse(F.secondBatchWithStaleBookAfter(), abi.encodeWithSelector(IBatchVerifier.ProofInvalid.selector),
            "another book_after");
        replay(3);
    }

    // ------------------------------------------------------------------ the vault's own checks, before the verifier

    function test_submitBatch_refusesAReplayedBatch() public {
        replay(0);
        bytes memory err = abi.encodeWithSelector(
            QuoteVault.NonceMismatch.selector, F.FIRST_NONCE + 1, int256(uint256(F.FIRST_NONCE))
        );
        refuse(F.scriptedCall(0).data, err, "the first batch again");
        refuse(tampered(POINT_A), err, "the nonce is checked before the proof");
    }

    function test_submitBatch_refusesABatchWhosePackedSpotIsNotTheOracles() public {
        uint256 moved = F.SPOT + 1;
        observe(F.T0, moved);
        bytes memory err = abi.encodeWithSelector(QuoteVault.SpotMismatch.selector, moved, int256(F.SPOT));
        refuse(F.scriptedCall(0).data, err, "spot moved by 2^-48");
        refuse(tampered(POINT_A), err, "the spot is checked before the proof");
    }

    /// @dev A batch proven over the book before the taker's fills, submitted after them: the book
    ///     is the vault's, and a batch with quotes must cover every recorded fill.
    function test_submitBatch_refusesAProofOverTheBookBeforeTheFills() public {
        replayUpTo(3);
        observe(F.T1, F.SPOT);
        // fills_to 0 of the 2 recorded fills
        bytes memory err = abi.encodeWithSelector(QuoteVault.FillsPending.selector, 0, 2);
        refuse(F.staleBatch(), err, "proven before the fills");
        replay(3); // the proof over the book with both fills is accepted
    }
}
