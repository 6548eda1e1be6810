// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {BookLedger} from "./BookLedger.sol";
import {PoseidonT3} from "./PoseidonT3.sol";
import {SpotOracle} from "./SpotOracle.sol";

/// @title ExpirySettlement: an expiry's settlement price, its payoffs, and each holder's claim
/// @notice Options are European and cash-settled in the collateral token. An expiry settles at the
///     first SpotOracle observation at or after it, if that observation lies within `window`
///     seconds of the expiry: a missing observation (none yet) delays settlement, one outside the
///     window refuses it, and no other observation is ever accepted, so an expiry never settles
///     at a price other than the first one observed after it.
///
///     Settling removes the expiry from the vault's book (BookLedger.settleExpiry: the chain record
///     expiry << 9, docs/real-book.md) and fixes what it owes: for every slot of the expiry where
///     the vault is short q < 0 contracts, ceil(-q · max(S - K, 0) · unit / 2^96) for a call,
///     max(K - S, 0) for a put (S, K and q at 2^-48; unit = 10^decimals), summed: `owed`. The
///     vault sets aside `paid` = min(owed, the collateral not already owed to earlier expiries). A
///     holder of n contracts claims floor(n · intrinsic · unit / 2^96), times paid / owed (floor)
///     when the collateral fell short (pro rata), so that the claims never exceed what was set aside.
///
///     An external library (linked into QuoteVault, called by delegatecall): it reads and writes
///     the vault's own storage, and keeps the vault's code under EIP-170's 24,576 bytes (which is
///     also why the book's fill write, BookLedger.recordFill, is called through it).
library ExpirySettlement {
    using BookLedger for BookLedger.Book;

    /// @dev One expiry's settlement, two storage slots.
    struct Settlement {
        uint128 price;
        uint64 observedAt;
        uint64 settledAt;
        uint128 owed;
        uint128 paid;
    }

    struct Ledger {
        mapping(uint64 expiry => Settlement) expiries;
    }

    /// @notice The oracle has no observation number `index` yet (`count` posted): settlement waits.
    error SettlementObservationMissing(uint64 expiry, uint256 index, uint256 count);
    /// @notice Observation `index` was made at `observedAt`, before `expiry`.
    error ObservationBeforeExpiry(uint256 index, uint64 observedAt, uint64 expiry);
    /// @notice Observation `index - 1` was already at or after `expiry` (at `previousAt`): only the first one settles.
    error ObservationNotFirst(uint256 index, uint64 previousAt, uint64 expiry);
    /// @notice The first observation after the expiry, at `observedAt`, is later than `deadline` = expiry + window.
    error ObservationOutsideWindow(uint256 index, uint64 observedAt, uint64 deadline);
    /// @notice The observed price does not fit a settlement (at most 2^128 - 1 at 2^-48).
    error SettlementPriceOutOfRange(uint256 price);
    /// @notice `expiry` was already settled.
    error ExpiryAlreadySettled(uint64 expiry);
    /// @notice `expiry` has not been settled: nothing can be claimed yet.
    error ExpiryNotSettled(uint64 expiry);
    /// @notice The caller holds no contracts of the series.
    error NothingToClaim(address holder, bytes32 series);

    /// @notice `expiry` settled at `price` (2^-48), the oracle's observation at `observedAt`; its
    ///     payoffs come to `owed` token units, of which `paid` are set aside (paid < owed: pro rata).
    event ExpirySettled(uint64 indexed expiry, uint256 price, uint64 observedAt, uint256 owed, uint256 paid);
    /// @notice A slot of the settled expiry left the book: the vault held `position` (2^-48
    ///     contracts), owing `owed` token units to its holders.
    event SeriesSettled(uint64 indexed expiry, uint256 strike, bool isCall, int256 position, uint256 owed);
    /// @notice `holder` claimed `payoff` token units for `size` contracts of `series`.
    event PayoffClaimed(address indexed holder, bytes32 indexed series, uint256 size, uint256 payoff);

    /// @notice Settle `expiry` at observation `observationIndex` of `oracle` (see the notes); the
    ///     vault has `available` token units not owed to earlier expiries.
    /// @return paid What the vault must set aside for the expiry's claims (token units).
    function settle(
        BookLedger.Book storage book,
        Ledger storage ledger,
        PoseidonT3 poseidon,
        SpotOracle oracle,
        uint64 window,
        uint64 expiry,
        uint256 observationIndex,
        uint256 unit,
        uint256 available
    ) external returns (uint256 paid) {
        if (ledger.expiries[expiry].settledAt != 0) revert ExpiryAlreadySettled(expiry);
        (uint256 price, uint64 observedAt) = settlementPrice(oracle, window, expiry, observationIndex);
        if (price > type(uint128).max) revert SettlementPriceOutOfRange(price);
        // slither-disable-next-line unused-return -- the head is in ExpirySettlementRecorded
        (BookLedger.Slot[] memory slots,) = book.settleExpiry(poseidon, expiry);
        uint256 owed = 0;
        for (uint256 i = 0; i < slots.length; ++i) {
            BookLedger.Slot memory s = slots[i];
            // The vault is never long (takers sell back only what they bought): q <= 0.
            uint256 seriesOwed =
                s.quantity < 0 ? payoff(price, s.strike, s.isCall, uint256(-int256(s.quantity)), unit, true) : 0;
            owed += seriesOwed;
            emit SeriesSettled(expiry, s.strike, s.isCall, s.quantity, seriesOwed);
        }
        paid = owed <= available ? owed : available;
        // price < 2^128: checked; owed < 2^256 / 2^96 (each term < 2^213 / 2^96, at most 256 of them).
        ledger.expiries[expiry] = Settlement(uint128(price), observedAt, uint64(block.timestamp), uint128(owed), uint128(paid));
        emit ExpirySettled(expiry, price, observedAt, owed, paid);
    }

    /// @notice BookLedger.recordFill, run here rather than inlined into QuoteVault: the vault's
    ///     code stays under EIP-170's limit for the price of one delegatecall per fill.
    function recordFill(BookLedger.Book storage book, PoseidonT3 poseidon, BookLedger.Series memory series, int256 dq)
        external
    {
        // slither-disable-next-line unused-return -- slot and head are in FillRecorded
        book.recordFill(poseidon, series, dq);
    }

    /// @notice The settlement price of `expiry`: observation `index` of `oracle`, checked to be the
    ///     first at or after the expiry and no later than expiry + window (typed errors otherwise).
    function settlementPrice(SpotOracle oracle, uint64 window, uint64 expiry, uint256 index)
        public
        view
        returns (uint256 price, uint64 observedAt)
    {
        uint256 count = oracle.observationCount();
        if (index >= count) revert SettlementObservationMissing(expiry, index, count);
        (price, observedAt) = oracle.observation(index);
        if (observedAt < expiry) revert ObservationBeforeExpiry(index, observedAt, expiry);
        if (index > 0) {
            // slither-disable-next-line unused-return -- only the previous observation's time matters
            (, uint64 previousAt) = oracle.observation(index - 1);
            if (previousAt >= expiry) revert ObservationNotFirst(index, previousAt, expiry);
        }
        uint64 deadline = expiry + window; // expiry < 2^40, window < 2^63: no overflow
        if (observedAt > deadline) revert ObservationOutsideWindow(index, observedAt, deadline);
    }

    /// @notice What a holder of `size` contracts (2^-48) of (expiry, strike, isCall) is paid: the
    ///     payoff rounded down, pro rata when the expiry's collateral fell short.
    function claimable(Ledger storage ledger, uint64 expiry, uint256 strike, bool isCall, uint256 size, uint256 unit)
        external
        view
        returns (uint256)
    {
        Settlement memory s = ledger.expiries[expiry];
        if (s.settledAt == 0) revert ExpiryNotSettled(expiry);
        if (size == 0) revert NothingToClaim(msg.sender, BookLedger.seriesId(expiry, strike, isCall));
        uint256 full = payoff(s.price, strike, isCall, size, unit, false);
        return s.paid == s.owed ? full : Math.mulDiv(full, s.paid, s.owed);
    }

    /// @notice The settlement of `expiry` (all zero before it settles).
    function settlementOf(Ledger storage ledger, uint64 expiry) external view returns (Settlement memory) {
        return ledger.expiries[expiry];
    }

    /// @notice size · max(S - K, 0) (call) or max(K - S, 0) (put) · unit / 2^96, rounded up when the
    ///     vault counts what it owes (roundUp) and down when it pays a holder: in the vault's favour.
    ///     S, K, size at 2^-48, so their product is at 2^-96 currency units; size < 2^72, the
    ///     intrinsic value < 2^81 and unit <= 10^18 < 2^60: the product stays below 2^213.
    function payoff(uint256 price, uint256 strike, bool isCall, uint256 size, uint256 unit, bool roundUp)
        public
        pure
        returns (uint256)
    {
        uint256 intrinsic;
        if (isCall) intrinsic = price > strike ? price - strike : 0;
        else intrinsic = strike > price ? strike - price : 0;
        uint256 scaled = intrinsic * size * unit;
        uint256 amount = scaled >> 96;
        if (roundUp && amount << 96 != scaled) amount += 1;
        return amount;
    }
}
