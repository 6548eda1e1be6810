// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {
    BatchLayout,
    IBatchVerifier,
    BATCH_ELEMENT_COUNT,
    BATCH_EXPIRY_COUNT,
    BATCH_PUBLIC_INPUT_COUNT,
    BATCH_QUOTE_COUNT,
    BATCH_QUOTE_TREE_DEPTH,
    BATCH_WHOLE_COUNT
} from "generated/BatchLayout.sol";
import {IVIndexOracle} from "../../IVIndexOracle.sol";
import {PoseidonT3} from "../../PoseidonT3.sol";
import {QuoteVault} from "../../QuoteVault.sol";
import {SpotOracle} from "../../SpotOracle.sol";
import {TestToken} from "../../TestToken.sol";
import {PairVerifier} from "./PairVerifier.sol";
import {QuoteVaultHarness} from "./QuoteVaultHarness.sol";
import {vm} from "./Vm.sol";

/// @title A book vault with its token, oracles, Poseidon, governance timelock and planned batches
/// @notice setUp deploys a TestToken (6 decimals), a SpotOracle and an IVIndexOracle owned by the
///     test, the Poseidon contract, a TimelockController (delay GOVERNANCE_DELAY; this contract
///     proposes and executes), and a QuoteVaultHarness over a PairVerifier whose pairs this
///     contract lists as it plans batches. A batch is planned (`plan`) from the vault's public
///     state as the solver would prove it: the oracle's latest spot and time, the next nonce,
///     governance's rate, carry, limits and model margin, fills_from = provenFills and fills_to =
///     fillCount, BATCH_EXPIRY_COUNT expiries 30 days apart whose ATM variance sits at the IV
///     index, risk_ok, a worst loss of 0, a mark of 0, and BATCH_QUOTE_COUNT quotes (a call on the
///     first expiry struck at STRIKE, mid MID, half spread HALF_SPREAD, size SIZE). Tests change
///     any field before submitting; `submit` lists the pair the vault will assemble and submits
///     it, so a field the vault does not accept is refused by the vault's own check, and an
///     unlisted pair by the verifier. The quotes travel as the circuit publishes them: one element
///     each, hashed into quotes_root (a Poseidon Merkle tree built here, padded with 0), `quoted`
///     set when a size is positive; trades show the element and path of the quote they name, from
///     the elements submitted for that batch. The LPs and the taker are funded and have approved the vault.
abstract contract VaultFixture {
    uint256 internal constant FRAC_BITS = 48;
    uint256 internal constant ONE = 1 << FRAC_BITS;
    uint8 internal constant DECIMALS = 6;
    uint64 internal constant FIRST_NONCE = 7;
    uint64 internal constant MAX_ORACLE_AGE = 300;
    uint64 internal constant QUOTE_LIFETIME = 300;
    uint16 internal constant BOOK_CAPACITY = 8;
    uint32 internal constant FILL_CAPACITY = 4;
    uint256 internal constant GOVERNANCE_DELAY = 2 days;
    uint256 internal constant STATE_COMMITMENT = 11;
    uint256 internal constant START_TIME = 1_700_000_000;
    uint64 internal constant EXPIRY_0 = uint64(START_TIME + 30 days);
    uint64 internal constant EXPIRY_STEP = 30 days;
    uint256 internal constant YEAR_SECONDS = 365 days;
    uint256 internal constant SPOT = 100_000 * ONE;
    uint256 internal constant IV_INDEX = ONE / 2;
    uint64 internal constant IV_BAND = uint64(ONE / 10);
    uint64 internal constant SPOT_TOLERANCE = uint64(ONE / 50);
    int64 internal constant RATE = int64(int256(ONE / 20));
    uint128 internal constant MODEL_MARGIN = uint128(100 * ONE);
    uint256 internal constant STRIKE = 100_000 * ONE;
    uint256 internal constant MID = 3_000 * ONE;
    uint256 internal constant HALF_SPREAD = 50 * ONE;
    uint256 internal constant BID = MID - HALF_SPREAD;
    uint256 internal constant ASK = MID + HALF_SPREAD;
    uint256 internal constant SIZE = 100 * ONE;
    uint256 internal constant FUNDS = 1e18;
    uint256 internal constant STRIKE_MIN = 1 << 40;

    /// @dev One quote of a planned batch, in the vault's units (strike and size at 2^-48).
    struct PlannedQuote {
        uint256 strike;
        uint256 expiryIndex;
        bool isCall;
        int256 mid;
        uint256 halfSpread;
        uint256 size;
    }

    /// @dev Everything a batch proof publishes, field by field, plus the proof's book_after and a
    ///     salt that tells two proofs of the same statement apart.
    struct Plan {
        uint256 spot;
        uint64 oracleTime;
        uint64 nonce;
        int256 rate;
        int256 carry;
        uint256 fillsFrom;
        uint256 fillsTo;
        uint64[BATCH_EXPIRY_COUNT] expiries;
        uint256[BATCH_EXPIRY_COUNT] atmVariances;
        /// delta, gamma, vega, loss, model margin
        uint256[5] limits;
        bool riskOk;
        uint256 worstLoss;
        int256 mark;
        PlannedQuote[BATCH_QUOTE_COUNT] quotes;
        uint256 bookAfter;
        uint256 salt;
    }

    TestToken internal token;
    SpotOracle internal oracle;
    IVIndexOracle internal ivOracle;
    PoseidonT3 internal poseidon;
    TimelockController internal timelock;
    PairVerifier internal verifier;
    QuoteVaultHarness internal vault;
    /// @dev The quote elements submitted for each batch id (what QuotesPublished gives a taker).
    mapping(uint256 batchId => uint256[] elements) internal submittedQuotes;

    address internal constant SOLVER = address(0x50150);
    address internal constant LP = address(0x1001);
    address internal constant LP2 = address(0x1002);
    address internal constant TAKER = address(0x7a4e);

    function setUp() public virtual {
        vm.warp(START_TIME);
        token = new TestToken("Test USD", "tUSD", DECIMALS);
        oracle = new SpotOracle();
        ivOracle = new IVIndexOracle();
        poseidon = new PoseidonT3();
        timelock = newTimelock(GOVERNANCE_DELAY);
        verifier = new PairVerifier(BATCH_PUBLIC_INPUT_COUNT, new bytes32[](0));
        vault = newVault(dependencies());
        vm.prank(SOLVER);
        vault.setStateCommitment(STATE_COMMITMENT);
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

    function marketSettings() internal pure returns (QuoteVault.MarketSettings memory) {
        return QuoteVault.MarketSettings(RATE, 0, SPOT_TOLERANCE, IV_BAND);
    }

    function margins() internal pure returns (QuoteVault.Margins memory) {
        return QuoteVault.Margins(MODEL_MARGIN, 0);
    }

    function dependencies() internal view returns (QuoteVault.Dependencies memory) {
        return QuoteVault.Dependencies(
            oracle, ivOracle, poseidon, verifier, SOLVER, timelock, FIRST_NONCE, BOOK_CAPACITY, FILL_CAPACITY
        );
    }

    /// @dev A timelock that only this test contract may propose to and execute, with no admin.
    function newTimelock(uint256 delay) internal returns (TimelockController) {
        address[] memory roles = new address[](1);
        roles[0] = address(this);
        return new TimelockController(delay, roles, roles, address(0));
    }

    function newVault(QuoteVault.Dependencies memory deps) internal returns (QuoteVaultHarness) {
        return newVault(token, deps, oracleSettings(), limits(), marketSettings(), margins());
    }

    function newVault(
        TestToken token_,
        QuoteVault.Dependencies memory deps,
        QuoteVault.OracleSettings memory settings,
        QuoteVault.RiskLimits memory riskLimits,
        QuoteVault.MarketSettings memory market,
        QuoteVault.Margins memory margins_
    ) internal returns (QuoteVaultHarness) {
        return new QuoteVaultHarness(token_, deps, settings, riskLimits, market, margins_);
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

    /// @dev Schedule `data`, wait the delay, execute it.
    function govern(bytes memory data) internal {
        schedule(data);
        vm.warp(block.timestamp + GOVERNANCE_DELAY);
        execute(data);
    }

    // ------------------------------------------------------------------ the market

    /// @dev One second later, both oracles observe: spot `spot` and the IV index at IV_INDEX.
    function postMarket(uint256 spot) internal {
        vm.warp(block.timestamp + 1);
        oracle.post(uint192(spot), uint64(block.timestamp));
        ivOracle.post(uint192(IV_INDEX), uint64(block.timestamp));
    }

    /// @dev The ATM total variance (2^-48) of a vol at the IV index from `oracleTime` to `expiry`:
    ///     floor(IV_INDEX² · seconds / (2^48 · year)), well inside the band; 0 for an expiry not
    ///     after the observation (which the vault refuses: ExpiryNotAfter).
    function centredVariance(uint64 expiry, uint64 oracleTime) internal pure returns (uint256) {
        if (expiry <= oracleTime) return 0;
        return IV_INDEX * IV_INDEX * (expiry - oracleTime) / (ONE * YEAR_SECONDS);
    }

    // ------------------------------------------------------------------ planned batches

    /// @dev The batch the solver would prove now, over the whole recorded book (see the title).
    function plan() internal view returns (Plan memory p) {
        (p.spot, p.oracleTime) = oracle.latest();
        p.nonce = vault.nextNonce();
        (int64 rate, int64 carry,,) = vault.marketSettings();
        (p.rate, p.carry) = (rate, carry);
        (, uint256 fillCount, uint256 provenFills,) = vault.bookState();
        (p.fillsFrom, p.fillsTo) = (provenFills, fillCount);
        for (uint256 e = 0; e < BATCH_EXPIRY_COUNT; ++e) {
            p.expiries[e] = EXPIRY_0 + uint64(e) * EXPIRY_STEP;
            p.atmVariances[e] = centredVariance(p.expiries[e], p.oracleTime);
        }
        (uint128 d, uint128 g, uint128 v, uint128 loss) = vault.riskLimits();
        (uint128 modelMargin,) = vault.margins();
        p.limits = [uint256(d), g, v, loss, modelMargin];
        p.riskOk = true;
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            p.quotes[q] = PlannedQuote(STRIKE, 0, true, int256(MID), HALF_SPREAD, SIZE);
        }
        p.bookAfter = uint256(keccak256(abi.encode("book after", p.nonce, fillCount))) >> 8; // < r
    }

    /// @dev A pure book update: the plan with every quote's size 0.
    function bookUpdate() internal view returns (Plan memory p) {
        p = plan();
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            p.quotes[q].size = 0;
        }
    }

    /// @dev The stand-in proof of a plan: any points will do (see PairVerifier).
    function proofOf(Plan memory p)
        internal
        pure
        returns (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c)
    {
        a = [uint256(p.nonce), p.salt];
        b = [[uint256(1), 2], [uint256(3), 4]];
        c = [uint256(5), 6];
    }

    /// @dev The plan's packed elements; slots the vault never reads (the SVI parameters, the
    ///     regime flag) stay at their lowest value (component 0).
    function pack(Plan memory p) internal pure returns (uint256[BATCH_ELEMENT_COUNT] memory packed) {
        put(packed, BatchLayout.SPOT_ELEMENT, BatchLayout.SPOT_OFFSET, BatchLayout.SPOT_BITS, BatchLayout.SPOT_LO, int256(p.spot));
        put(packed, BatchLayout.ORACLE_TIME_ELEMENT, BatchLayout.ORACLE_TIME_OFFSET, BatchLayout.ORACLE_TIME_BITS,
            BatchLayout.ORACLE_TIME_LO, int256(uint256(p.oracleTime)));
        put(packed, BatchLayout.RATE_ELEMENT, BatchLayout.RATE_OFFSET, BatchLayout.RATE_BITS, BatchLayout.RATE_LO, p.rate);
        put(packed, BatchLayout.CARRY_ELEMENT, BatchLayout.CARRY_OFFSET, BatchLayout.CARRY_BITS, BatchLayout.CARRY_LO, p.carry);
        put(packed, BatchLayout.NONCE_ELEMENT, BatchLayout.NONCE_OFFSET, BatchLayout.NONCE_BITS, BatchLayout.NONCE_LO,
            int256(uint256(p.nonce)));
        put(packed, BatchLayout.FILLS_FROM_ELEMENT, BatchLayout.FILLS_FROM_OFFSET, BatchLayout.FILLS_FROM_BITS,
            BatchLayout.FILLS_FROM_LO, int256(p.fillsFrom));
        put(packed, BatchLayout.FILLS_TO_ELEMENT, BatchLayout.FILLS_TO_OFFSET, BatchLayout.FILLS_TO_BITS,
            BatchLayout.FILLS_TO_LO, int256(p.fillsTo));
        packExpiries(packed, p);
        packRisk(packed, p);
        bool quoted = false;
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            quoted = quoted || p.quotes[q].size != 0;
        }
        put(packed, BatchLayout.QUOTED_ELEMENT, BatchLayout.QUOTED_OFFSET, BatchLayout.QUOTED_BITS,
            BatchLayout.QUOTED_LO, quoted ? int256(1) : int256(0));
    }

    function packExpiries(uint256[BATCH_ELEMENT_COUNT] memory packed, Plan memory p) private pure {
        for (uint256 e = 0; e < BATCH_EXPIRY_COUNT; ++e) {
            uint256 base = BatchLayout.EXPIRY_FIRST_ELEMENT + e * BatchLayout.EXPIRY_STRIDE;
            put(packed, base + BatchLayout.EXPIRY_EXPIRY_ELEMENT, BatchLayout.EXPIRY_EXPIRY_OFFSET,
                BatchLayout.EXPIRY_EXPIRY_BITS, BatchLayout.EXPIRY_EXPIRY_LO, int256(uint256(p.expiries[e])));
            put(packed, base + BatchLayout.EXPIRY_ATM_VARIANCE_ELEMENT, BatchLayout.EXPIRY_ATM_VARIANCE_OFFSET,
                BatchLayout.EXPIRY_ATM_VARIANCE_BITS, BatchLayout.EXPIRY_ATM_VARIANCE_LO, int256(p.atmVariances[e]));
        }
    }

    function packRisk(uint256[BATCH_ELEMENT_COUNT] memory packed, Plan memory p) private pure {
        put(packed, BatchLayout.MAX_ABS_DELTA_ELEMENT, BatchLayout.MAX_ABS_DELTA_OFFSET, BatchLayout.MAX_ABS_DELTA_BITS,
            BatchLayout.MAX_ABS_DELTA_LO, int256(p.limits[0]));
        put(packed, BatchLayout.MAX_ABS_GAMMA_ELEMENT, BatchLayout.MAX_ABS_GAMMA_OFFSET, BatchLayout.MAX_ABS_GAMMA_BITS,
            BatchLayout.MAX_ABS_GAMMA_LO, int256(p.limits[1]));
        put(packed, BatchLayout.MAX_ABS_VEGA_ELEMENT, BatchLayout.MAX_ABS_VEGA_OFFSET, BatchLayout.MAX_ABS_VEGA_BITS,
            BatchLayout.MAX_ABS_VEGA_LO, int256(p.limits[2]));
        put(packed, BatchLayout.MAX_LOSS_ELEMENT, BatchLayout.MAX_LOSS_OFFSET, BatchLayout.MAX_LOSS_BITS,
            BatchLayout.MAX_LOSS_LO, int256(p.limits[3]));
        put(packed, BatchLayout.MODEL_MARGIN_ELEMENT, BatchLayout.MODEL_MARGIN_OFFSET, BatchLayout.MODEL_MARGIN_BITS,
            BatchLayout.MODEL_MARGIN_LO, int256(p.limits[4]));
        put(packed, BatchLayout.RISK_OK_ELEMENT, BatchLayout.RISK_OK_OFFSET, BatchLayout.RISK_OK_BITS,
            BatchLayout.RISK_OK_LO, p.riskOk ? int256(1) : int256(0));
        put(packed, BatchLayout.WORST_LOSS_ELEMENT, BatchLayout.WORST_LOSS_OFFSET, BatchLayout.WORST_LOSS_BITS,
            BatchLayout.WORST_LOSS_LO, int256(p.worstLoss));
        put(packed, BatchLayout.MARK_ELEMENT, BatchLayout.MARK_OFFSET, BatchLayout.MARK_BITS, BatchLayout.MARK_LO, p.mark);
    }

    /// @dev A quote's element; its strike and size go on their grids: strike = 2^40 + units · 2^32,
    ///     size = units · 2^36.
    function quoteElement(PlannedQuote memory q) internal pure returns (uint256 element) {
        uint256 strikeUnits = (q.strike - STRIKE_MIN) >> 32;
        require(STRIKE_MIN + (strikeUnits << 32) == q.strike, "strike off its grid");
        require((q.size >> 36) << 36 == q.size, "size off its grid");
        element = component(BatchLayout.QUOTE_STRIKE_UNITS_OFFSET, BatchLayout.QUOTE_STRIKE_UNITS_BITS,
            BatchLayout.QUOTE_STRIKE_UNITS_LO, int256(strikeUnits));
        element |= component(BatchLayout.QUOTE_EXPIRY_INDEX_OFFSET, BatchLayout.QUOTE_EXPIRY_INDEX_BITS,
            BatchLayout.QUOTE_EXPIRY_INDEX_LO, int256(q.expiryIndex));
        element |= component(BatchLayout.QUOTE_IS_CALL_OFFSET, BatchLayout.QUOTE_IS_CALL_BITS,
            BatchLayout.QUOTE_IS_CALL_LO, q.isCall ? int256(1) : int256(0));
        element |= component(BatchLayout.QUOTE_MID_OFFSET, BatchLayout.QUOTE_MID_BITS, BatchLayout.QUOTE_MID_LO, q.mid);
        element |= component(BatchLayout.QUOTE_HALF_SPREAD_OFFSET, BatchLayout.QUOTE_HALF_SPREAD_BITS,
            BatchLayout.QUOTE_HALF_SPREAD_LO, int256(q.halfSpread));
        element |= component(BatchLayout.QUOTE_SIZE_UNITS_OFFSET, BatchLayout.QUOTE_SIZE_UNITS_BITS,
            BatchLayout.QUOTE_SIZE_UNITS_LO, int256(q.size >> 36));
    }

    /// @dev The plan's quote elements, in order.
    function quoteElements(Plan memory p) internal pure returns (uint256[] memory elements) {
        elements = new uint256[](BATCH_QUOTE_COUNT);
        for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
            elements[q] = quoteElement(p.quotes[q]);
        }
    }

    /// @dev Every level of the quotes' tree (circuits/merkle.py): the elements padded with 0 to
    ///     2^BATCH_QUOTE_TREE_DEPTH leaves, then Poseidon(left, right) level by level to the root.
    function treeLevels(uint256[] memory elements) internal view returns (uint256[][] memory levels) {
        uint256 width = uint256(1) << BATCH_QUOTE_TREE_DEPTH;
        levels = new uint256[][](BATCH_QUOTE_TREE_DEPTH + 1);
        levels[0] = new uint256[](width);
        for (uint256 i = 0; i < elements.length; ++i) {
            levels[0][i] = elements[i];
        }
        for (uint256 l = 1; l <= BATCH_QUOTE_TREE_DEPTH; ++l) {
            levels[l] = new uint256[](width >> l);
            for (uint256 i = 0; i < levels[l].length; ++i) {
                levels[l][i] = poseidon.hash(levels[l - 1][2 * i], levels[l - 1][2 * i + 1]);
            }
        }
    }

    function quotesRootOf(Plan memory p) internal view returns (uint256) {
        return treeLevels(quoteElements(p))[BATCH_QUOTE_TREE_DEPTH][0];
    }

    /// @dev The element and Merkle path of quote `quoteIndex` of submitted batch `batchId`; element
    ///     0 and a path of zeros for an index beyond the batch (the vault refuses the index).
    function quoteProof(uint256 batchId, uint256 quoteIndex)
        internal
        view
        returns (uint256 element, uint256[] memory path)
    {
        path = new uint256[](BATCH_QUOTE_TREE_DEPTH);
        uint256[] memory elements = submittedQuotes[batchId];
        if (quoteIndex >= elements.length) return (0, path);
        uint256[][] memory levels = treeLevels(elements);
        for (uint256 l = 0; l < BATCH_QUOTE_TREE_DEPTH; ++l) {
            path[l] = levels[l][(quoteIndex >> l) ^ 1];
        }
        element = elements[quoteIndex];
    }

    /// @dev The root `element` at leaf `index` with `path` hashes to, walked up here (the vault's
    ///     QuoteTree does the same; a refusal names this root).
    function rootOfPath(uint256 element, uint256 index, uint256[] memory path) internal view returns (uint256 node) {
        node = element;
        for (uint256 l = 0; l < path.length; ++l) {
            node = (index >> l) & 1 == 1 ? poseidon.hash(path[l], node) : poseidon.hash(node, path[l]);
        }
    }

    /// @dev packed[element] gets (value - lo) at offset: the layout's e = sum (x - lo) · 2^offset.
    function put(uint256[BATCH_ELEMENT_COUNT] memory packed, uint256 element, uint256 offset, uint256 bits, int256 lo, int256 value)
        internal
        pure
    {
        packed[element] |= component(offset, bits, lo, value);
    }

    /// @dev (value - lo) at offset, checked to fit its bits.
    function component(uint256 offset, uint256 bits, int256 lo, int256 value) internal pure returns (uint256) {
        int256 c = value - lo;
        require(c >= 0 && uint256(c) < 1 << bits, "value outside its slot");
        return uint256(c) << offset;
    }

    /// @dev The whole public inputs the vault will assemble for the plan, as the vault is now.
    function inputOf(Plan memory p) internal view returns (uint256[BATCH_PUBLIC_INPUT_COUNT] memory input) {
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        (uint256 bookCommitment,,,) = vault.bookState();
        input[BatchLayout.STATE_COMMITMENT_INPUT] = vault.stateCommitment();
        input[BatchLayout.BOOK_BEFORE_INPUT] = bookCommitment;
        input[BatchLayout.CHAIN_FROM_INPUT] = vault.chainHead(p.fillsFrom);
        input[BatchLayout.CHAIN_TO_INPUT] = vault.chainHead(p.fillsTo);
        input[BatchLayout.BOOK_AFTER_INPUT] = p.bookAfter;
        input[BatchLayout.QUOTES_ROOT_INPUT] = quotesRootOf(p);
        for (uint256 i = 0; i < BATCH_ELEMENT_COUNT; ++i) {
            input[BATCH_WHOLE_COUNT + i] = packed[i];
        }
    }

    /// @dev List the plan's (proof, input) pair with the verifier: "the solver proved it".
    function prove(Plan memory p) internal {
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        verifier.accept(keccak256(abi.encode(a, b, c, inputOf(p))));
    }

    /// @dev Prove and submit the plan as the solver.
    function submit(Plan memory p) internal returns (uint256 batchId) {
        prove(p);
        return submitProven(p);
    }

    /// @dev Submit a plan proven before (its submitBatch is the next external call but for the
    ///     Poseidon hashes of its root: expect events of the vault with expectEmit(address(vault))).
    function submitProven(Plan memory p) internal returns (uint256 batchId) {
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        vm.prank(SOLVER);
        batchId = vault.submitBatch(a, b, c, p.bookAfter, root, packed, elements);
        submittedQuotes[batchId] = elements;
    }

    /// @dev The market moves on a second (spot SPOT) and the solver submits the plan of that moment.
    function submitLive() internal returns (uint256 batchId) {
        postMarket(SPOT);
        return submit(plan());
    }

    /// @dev A pure book update at the current spot, one second later, proving `mark_` over every fill.
    function proveMark(int256 mark_) internal returns (uint256 batchId) {
        (uint256 spot,) = oracle.latest();
        postMarket(spot == 0 ? SPOT : spot);
        Plan memory p = bookUpdate();
        p.mark = mark_;
        return submit(p);
    }

    /// @dev `who` depositing `assets` is refused (ERC4626's typed error: nothing may be deposited)
    ///     and changes nothing.
    function refuseDeposit(address who, uint256 assets) internal {
        bytes32 before = vaultState();
        vm.prank(who);
        vm.expectRevert(abi.encodeWithSelector(ERC4626.ERC4626ExceededMaxDeposit.selector, who, assets, 0));
        vault.deposit(assets, who);
        vm.assertEq(vaultState(), before, "a refused deposit changes nothing");
    }

    /// @dev The submission of `p` (its pair listed first when `listed`) reverts with `err` and
    ///     changes nothing.
    function refuseSubmit(Plan memory p, bool listed, bytes memory err) internal {
        if (listed) prove(p);
        (uint256[2] memory a, uint256[2][2] memory b, uint256[2] memory c) = proofOf(p);
        uint256[BATCH_ELEMENT_COUNT] memory packed = pack(p);
        uint256[] memory elements = quoteElements(p);
        uint256 root = quotesRootOf(p);
        bytes32 before = vaultState();
        vm.prank(SOLVER);
        vm.expectRevert(err);
        vault.submitBatch(a, b, c, p.bookAfter, root, packed, elements);
        vm.assertEq(vaultState(), before, "a refused batch changes nothing");
    }

    /// @dev `who` buying (takerBuys) or selling `size` of quote `quoteIndex` reverts with `err`
    ///     and changes nothing.
    function refuseTrade(address who, bool takerBuys, uint256 batchId, uint256 quoteIndex, uint256 size, uint256 bound_, bytes memory err)
        internal
    {
        (uint256 element, uint256[] memory path) = quoteProof(batchId, quoteIndex);
        refuseTradeShown(who, takerBuys, batchId, quoteIndex, element, path, size, bound_, err);
    }

    /// @dev As refuseTrade, showing `element` and `path` for the quote (a tampered one, say).
    function refuseTradeShown(
        address who,
        bool takerBuys,
        uint256 batchId,
        uint256 quoteIndex,
        uint256 element,
        uint256[] memory path,
        uint256 size,
        uint256 bound_,
        bytes memory err
    ) internal {
        bytes32 before = vaultState();
        vm.prank(who);
        vm.expectRevert(err);
        if (takerBuys) vault.fill(batchId, quoteIndex, element, path, size, bound_);
        else vault.sell(batchId, quoteIndex, element, path, size, bound_);
        vm.assertEq(vaultState(), before, "a refused trade changes nothing");
    }

    /// @dev `who` buys `size` of quote `quoteIndex` of batch `batchId`, showing its element and path.
    function buyQuote(address who, uint256 batchId, uint256 quoteIndex, uint256 size, uint256 maxPremium)
        internal
        returns (uint256 premium)
    {
        (uint256 element, uint256[] memory path) = quoteProof(batchId, quoteIndex);
        vm.prank(who);
        return vault.fill(batchId, quoteIndex, element, path, size, maxPremium);
    }

    /// @dev `who` sells back `size` at quote `quoteIndex` of batch `batchId`, showing its element and path.
    function sellQuote(address who, uint256 batchId, uint256 quoteIndex, uint256 size, uint256 minPremium)
        internal
        returns (uint256 premium)
    {
        (uint256 element, uint256[] memory path) = quoteProof(batchId, quoteIndex);
        vm.prank(who);
        return vault.sell(batchId, quoteIndex, element, path, size, minPremium);
    }

    /// @dev Quote `quoteIndex` of batch `batchId` as the vault proves it from its element and path.
    function quoteOf(uint256 batchId, uint256 quoteIndex)
        internal
        view
        returns (QuoteVault.QuoteTerms memory terms, uint256 used)
    {
        (uint256 element, uint256[] memory path) = quoteProof(batchId, quoteIndex);
        return vault.quote(batchId, quoteIndex, element, path);
    }

    function buy(address who, uint256 batchId, uint256 size) internal returns (uint256 premium) {
        return buyQuote(who, batchId, 0, size, type(uint256).max);
    }

    function sellBack(address who, uint256 batchId, uint256 size) internal returns (uint256 premium) {
        return sellQuote(who, batchId, 0, size, 0);
    }

    function deposit(address who, uint256 assets) internal returns (uint256 shares) {
        vm.prank(who);
        return vault.deposit(assets, who);
    }

    /// @dev The series of the planned quote.
    function plannedSeries() internal view returns (bytes32) {
        return vault.seriesId(EXPIRY_0, STRIKE, true);
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

    /// @dev A mark's liability in token units, the other way round from the vault: the least L
    ///     with L · 2^48 >= -mark · 10^6 (0 for mark >= 0).
    function liabilityOf(int256 mark_) internal pure returns (uint256) {
        if (mark_ >= 0) return 0;
        uint256 owed = uint256(-mark_) * 10 ** DECIMALS;
        uint256 l = owed / ONE;
        while (l * ONE < owed) ++l;
        return l;
    }

    // ------------------------------------------------------------------ state

    /// @dev Everything a refused call must leave as it was: the vault's storage as its getters
    ///     show it (NAV, liabilities, the worst-case reserve, settings, the redemption queue and its
    ///     escrow, batches, the book and its chain, the first expiry's settlement), the token
    ///     balances and shares of every actor, and the taker's position in the planned series.
    function vaultState() internal view returns (bytes32) {
        return keccak256(abi.encode(accountsView(), settingsView(), lifecycleView(), bookView(), holdingsView()));
    }

    function accountsView() private view returns (bytes memory) {
        return abi.encode(
            vault.totalSupply(), vault.totalAssets(), vault.collateral(), vault.provenMark(), vault.mark(),
            vault.markTime(), vault.unclaimedPayoffs(), vault.unprovenPremiums(), vault.nextNonce(),
            vault.liveBatch(), vault.hasLiveBatch(), vault.stateCommitment()
        );
    }

    function lifecycleView() private view returns (bytes memory) {
        (uint64 window, uint64 markAge, uint64 proofGap) = vault.lifecycle();
        return abi.encode(
            window, markAge, proofGap, vault.redeemRequestCount(), vault.redeemQueueHead(), vault.queuedShares(),
            vault.balanceOf(address(vault)), vault.provenWorstLoss()
        );
    }

    function settingsView() private view returns (bytes memory) {
        (uint128 d, uint128 g, uint128 v, uint128 loss) = vault.riskLimits();
        (uint64 age, uint64 lifetime) = vault.oracleSettings();
        (int64 rate, int64 carry, uint64 tolerance, uint64 band) = vault.marketSettings();
        (uint128 modelMargin, uint128 solvencyMargin) = vault.margins();
        return abi.encode(d, g, v, loss, age, lifetime, rate, carry, tolerance, band, modelMargin, solvencyMargin);
    }

    function bookView() private view returns (bytes memory encoded) {
        (uint256 commitment, uint256 fillCount, uint256 provenFills, uint256 seriesCount) = vault.bookState();
        encoded = abi.encode(commitment, fillCount, provenFills, seriesCount, vault.chainHead(fillCount),
            vault.premiumsIn(fillCount), vault.settlement(EXPIRY_0), vault.settlementFills());
        for (uint256 s = 0; s < seriesCount; ++s) {
            (,,, int256 quantity) = vault.bookSlot(s);
            encoded = abi.encode(encoded, quantity);
        }
        uint256 live = vault.liveBatch();
        (uint64 oracleTime, uint64 validUntil, uint256 spot) = vault.batchTimes(live);
        encoded = abi.encode(encoded, oracleTime, validUntil, spot, vault.quotesRootOf(live));
        if (validUntil != 0) {
            for (uint256 q = 0; q < BATCH_QUOTE_COUNT; ++q) {
                encoded = abi.encode(encoded, vault.quoteUsed(live, q));
            }
        }
    }

    function holdingsView() private view returns (bytes memory) {
        return abi.encode(
            token.balanceOf(address(vault)), token.balanceOf(LP), token.balanceOf(LP2), token.balanceOf(TAKER),
            vault.balanceOf(LP), vault.balanceOf(LP2), vault.balanceOf(TAKER),
            vault.allowance(LP, TAKER), token.allowance(TAKER, address(vault)),
            vault.longPositions(TAKER, plannedSeries()), vault.longPositions(LP, plannedSeries())
        );
    }
}
