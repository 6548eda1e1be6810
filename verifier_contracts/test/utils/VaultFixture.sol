// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {
    BatchLayout, BATCH_ELEMENT_COUNT, BATCH_PUBLIC_INPUT_COUNT, BATCH_QUOTE_COUNT
} from "generated/BatchLayout.sol";
import {QuoteVault} from "../../QuoteVault.sol";
import {SpotOracle} from "../../SpotOracle.sol";
import {TestToken} from "../../TestToken.sol";
import {PairVerifier} from "./PairVerifier.sol";
import {QuoteVaultHarness} from "./QuoteVaultHarness.sol";
import {vm} from "./Vm.sol";

/// @title A vault with its token, oracle, governance timelock and planned batches, for forge tests
/// @notice setUp deploys a TestToken (6 decimals), a SpotOracle owned by the test, a
///     TimelockController (delay GOVERNANCE_DELAY; this test contract proposes and executes), and a
///     QuoteVaultHarness over a PairVerifier that accepts the batches planned here: nonces
///     FIRST_NONCE .. FIRST_NONCE + PLANNED_BATCHES - 1, each at any of SPOT_COUNT spots, every one
///     for an expiry EXPIRY_SECONDS after its oracle observation, with the fixture's limits and
///     commitments, and BATCH_QUOTE_COUNT identical quotes (a call struck at STRIKE, bid BID and
///     ask ASK). The LPs and the taker are funded and have approved the vault.
abstract contract VaultFixture {
    uint256 internal constant FRAC_BITS = 48;
    uint256 internal constant ONE = 1 << FRAC_BITS;
    uint8 internal constant DECIMALS = 6;
    uint64 internal constant FIRST_NONCE = 7;
    uint64 internal constant MAX_ORACLE_AGE = 300;
    uint64 internal constant QUOTE_LIFETIME = 600;
    uint256 internal constant EXPIRY_SECONDS = 30 days;
    uint256 internal constant GOVERNANCE_DELAY = 2 days;
    uint256 internal constant STATE_COMMITMENT = 11;
    uint256 internal constant PORTFOLIO_COMMITMENT = 22;
    uint256 internal constant PLANNED_BATCHES = 64;
    uint256 internal constant SPOT_COUNT = 3;
    uint256 internal constant STRIKE = 100_000 * ONE;
    uint256 internal constant MID = 3_000 * ONE;
    uint256 internal constant HALF_SPREAD = 50 * ONE;
    uint256 internal constant BID = MID - HALF_SPREAD;
    uint256 internal constant ASK = MID + HALF_SPREAD;
    uint256 internal constant FUNDS = 1e18;
    uint256 internal constant START_TIME = 1_700_000_000;

    TestToken internal token;
    SpotOracle internal oracle;
    TimelockController internal timelock;
    PairVerifier internal verifier;
    QuoteVaultHarness internal vault;

    address internal constant SOLVER = address(0x50150);
    address internal constant LP = address(0x1001);
    address internal constant LP2 = address(0x1002);
    address internal constant TAKER = address(0x7a4e);

    function setUp() public virtual {
        vm.warp(START_TIME);
        token = new TestToken("Test USD", "tUSD", DECIMALS);
        oracle = new SpotOracle();
        timelock = newTimelock(GOVERNANCE_DELAY);
        verifier = new PairVerifier(BATCH_PUBLIC_INPUT_COUNT, plannedPairs());
        vault = newVault(token, verifier, timelock, oracleSettings(), limits());
        vm.prank(SOLVER);
        vault.setCommitments(STATE_COMMITMENT, PORTFOLIO_COMMITMENT);
        address[3] memory accounts = [LP, LP2, TAKER];
        for (uint256 i = 0; i < accounts.length; ++i) {
            token.mint(accounts[i], FUNDS);
            vm.prank(accounts[i]);
            token.approve(address(vault), type(uint256).max);
        }
        vm.label(address(vault), "vault");
        vm.label(address(timelock), "timelock");
    }

    // ------------------------------------------------------------------ deployment

    function limits() internal pure returns (QuoteVault.RiskLimits memory) {
        return QuoteVault.RiskLimits(uint128(200 * ONE), uint128(ONE), uint128(500_000 * ONE), uint128(5_000_000 * ONE));
    }

    function oracleSettings() internal pure returns (QuoteVault.OracleSettings memory) {
        return QuoteVault.OracleSettings(MAX_ORACLE_AGE, QUOTE_LIFETIME);
    }

    /// @dev A timelock that only this test contract may propose to and execute, with no admin.
    function newTimelock(uint256 delay) internal returns (TimelockController) {
        address[] memory roles = new address[](1);
        roles[0] = address(this);
        return new TimelockController(delay, roles, roles, address(0));
    }

    function newVault(
        TestToken token_,
        PairVerifier verifier_,
        TimelockController governance,
        QuoteVault.OracleSettings memory settings,
        QuoteVault.RiskLimits memory riskLimits
    ) internal returns (QuoteVaultHarness) {
        return new QuoteVaultHarness(token_, oracle, verifier_, SOLVER, governance, FIRST_NONCE, settings, riskLimits);
    }

    // ------------------------------------------------------------------ governance

    /// @dev Schedule `data` on the vault through the timelock, with the minimum delay.
    function schedule(bytes memory data) internal returns (bytes32 id) {
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), GOVERNANCE_DELAY);
        return timelock.hashOperation(address(vault), 0, data, bytes32(0), bytes32(0));
    }

    function execute(bytes memory data) internal {
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
    }

    // ------------------------------------------------------------------ planned batches

    function spotOf(uint256 spotIndex) internal pure returns (uint256) {
        return (95_000 + 1_000 * spotIndex) * ONE;
    }

    /// @dev t of every planned batch: EXPIRY_SECONDS in years at 2^-48, rounded to nearest.
    function plannedT() internal pure returns (uint256) {
        uint256 year = 365 days;
        return (EXPIRY_SECONDS * ONE + year / 2) / year;
    }

    /// @dev The stand-in proof of batch (nonce, spotIndex): any points will do (see PairVerifier).
    function proofOf(uint64 nonce, uint256 spotIndex)
        internal
        pure
        returns (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c)
    {
        a = [uint256(nonce), spotIndex];
        b = [[uint256(1), 2], [uint256(3), 4]];
        c = [uint256(5), 6];
    }

    /// @dev The packed elements of a planned batch: the fields the vault checks, the quotes, and
    ///     every other slot at its lowest value (component 0).
    function packedOf(uint64 nonce, uint256 spot) internal pure returns (uint256[BATCH_ELEMENT_COUNT] memory packed) {
        QuoteVault.RiskLimits memory l = limits();
        put(packed, BatchLayout.SPOT_ELEMENT, BatchLayout.SPOT_OFFSET, BatchLayout.SPOT_BITS, BatchLayout.SPOT_LO, spot);
        put(packed, BatchLayout.T_ELEMENT, BatchLayout.T_OFFSET, BatchLayout.T_BITS, BatchLayout.T_LO, plannedT());
        put(packed, BatchLayout.NONCE_ELEMENT, BatchLayout.NONCE_OFFSET, BatchLayout.NONCE_BITS, BatchLayout.NONCE_LO, nonce);
        put(packed, BatchLayout.MAX_ABS_DELTA_ELEMENT, BatchLayout.MAX_ABS_DELTA_OFFSET, BatchLayout.MAX_ABS_DELTA_BITS,
            BatchLayout.MAX_ABS_DELTA_LO, l.maxAbsDelta);
        put(packed, BatchLayout.MAX_ABS_GAMMA_ELEMENT, BatchLayout.MAX_ABS_GAMMA_OFFSET, BatchLayout.MAX_ABS_GAMMA_BITS,
            BatchLayout.MAX_ABS_GAMMA_LO, l.maxAbsGamma);
        put(packed, BatchLayout.MAX_ABS_VEGA_ELEMENT, BatchLayout.MAX_ABS_VEGA_OFFSET, BatchLayout.MAX_ABS_VEGA_BITS,
            BatchLayout.MAX_ABS_VEGA_LO, l.maxAbsVega);
        put(packed, BatchLayout.MAX_LOSS_ELEMENT, BatchLayout.MAX_LOSS_OFFSET, BatchLayout.MAX_LOSS_BITS,
            BatchLayout.MAX_LOSS_LO, l.maxLoss);
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            uint256 e = BatchLayout.FIRST_QUOTE_ELEMENT + q;
            put(packed, e, BatchLayout.QUOTE_STRIKE_OFFSET, BatchLayout.QUOTE_STRIKE_BITS, BatchLayout.QUOTE_STRIKE_LO, STRIKE);
            put(packed, e, BatchLayout.QUOTE_IS_CALL_OFFSET, BatchLayout.QUOTE_IS_CALL_BITS, BatchLayout.QUOTE_IS_CALL_LO, 1);
            put(packed, e, BatchLayout.QUOTE_MID_OFFSET, BatchLayout.QUOTE_MID_BITS, BatchLayout.QUOTE_MID_LO, MID);
            put(packed, e, BatchLayout.QUOTE_HALF_SPREAD_OFFSET, BatchLayout.QUOTE_HALF_SPREAD_BITS,
                BatchLayout.QUOTE_HALF_SPREAD_LO, HALF_SPREAD);
        }
    }

    /// @dev packed[element] gets (value - lo) at offset: the layout's e = sum (x - lo) · 2^offset.
    function put(
        uint256[BATCH_ELEMENT_COUNT] memory packed,
        uint256 element,
        uint256 offset,
        uint256 bits,
        int256 lo,
        uint256 value
    ) internal pure {
        int256 component = int256(value) - lo;
        require(component >= 0 && uint256(component) < 1 << bits, "value outside its slot");
        packed[element] |= uint256(component) << offset;
    }

    function inputOf(uint256[BATCH_ELEMENT_COUNT] memory packed)
        internal
        pure
        returns (uint256[BATCH_PUBLIC_INPUT_COUNT] memory input)
    {
        input[0] = STATE_COMMITMENT;
        input[1] = PORTFOLIO_COMMITMENT;
        for (uint256 i = 0; i < BATCH_ELEMENT_COUNT; ++i) {
            input[2 + i] = packed[i];
        }
    }

    function plannedPairs() internal pure returns (bytes32[] memory pairs) {
        pairs = new bytes32[](PLANNED_BATCHES * SPOT_COUNT);
        for (uint256 i = 0; i < PLANNED_BATCHES; ++i) {
            uint64 nonce = FIRST_NONCE + uint64(i);
            for (uint256 k = 0; k < SPOT_COUNT; ++k) {
                (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(nonce, k);
                pairs[i * SPOT_COUNT + k] = keccak256(abi.encode(a, b, c, inputOf(packedOf(nonce, spotOf(k)))));
            }
        }
    }

    /// @dev One second later, the oracle posts spot `spotIndex` and the solver submits the next
    ///     planned batch, for an expiry EXPIRY_SECONDS away.
    function submitBatch(uint256 spotIndex) internal returns (uint256 batchId) {
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(spotOf(spotIndex)), uint64(block.timestamp));
        uint64 nonce = vault.nextNonce();
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(nonce, spotIndex);
        vm.prank(SOLVER);
        return vault.submitBatch(a, b, c, packedOf(nonce, spotOf(spotIndex)), uint64(block.timestamp + EXPIRY_SECONDS));
    }

    function seriesOf(uint256 batchId) internal view returns (bytes32) {
        (, uint64 expiry,) = vault.batchTimes(batchId);
        return vault.seriesId(expiry, STRIKE, true);
    }

    /// @dev Token units for `size` contracts at `price`, rounded up or down, computed in two
    ///     steps (whole 2^-96 units, then the remainder) instead of the vault's one product.
    function premiumOf(uint256 price, uint256 size, bool roundUp) internal pure returns (uint256) {
        uint256 units = price * size;
        uint256 whole = (units >> (2 * FRAC_BITS)) * 10 ** DECIMALS;
        uint256 rest = (units & ((1 << (2 * FRAC_BITS)) - 1)) * 10 ** DECIMALS;
        uint256 fromRest = rest >> (2 * FRAC_BITS);
        bool inexact = rest & ((1 << (2 * FRAC_BITS)) - 1) != 0;
        return whole + fromRest + (roundUp && inexact ? 1 : 0);
    }

    // ------------------------------------------------------------------ state

    /// @dev Everything a refused call must leave as it was: the vault's storage as its getters
    ///     show it, the token balances and the shares of every actor, and the taker's position in
    ///     the first planned batch's series.
    function vaultState() internal view returns (bytes32) {
        (uint128 d, uint128 g, uint128 v, uint128 loss) = vault.riskLimits();
        (uint64 age, uint64 lifetime) = vault.oracleSettings();
        bytes memory storageView = abi.encode(
            vault.totalSupply(), vault.totalAssets(), vault.collateral(), vault.provenMark(),
            vault.unclaimedPayoffs(), vault.nextNonce(), vault.stateCommitment(), vault.portfolioCommitment(),
            d, g, v, loss, age, lifetime
        );
        bytes memory holdings = abi.encode(
            token.balanceOf(address(vault)), token.balanceOf(LP), token.balanceOf(LP2), token.balanceOf(TAKER),
            vault.balanceOf(LP), vault.balanceOf(LP2), vault.balanceOf(TAKER),
            vault.allowance(LP, TAKER), token.allowance(TAKER, address(vault))
        );
        (uint64 oracleTime, uint64 expiry,) = vault.batchTimes(FIRST_NONCE);
        bytes32 series = vault.seriesId(expiry, STRIKE, true);
        return keccak256(abi.encode(storageView, holdings, oracleTime, vault.longPositions(TAKER, series)));
    }
}
