// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PoseidonT3} from "./PoseidonT3.sol";

/// @title BookLedger: the vault's own record of its option book, which every proof must open
/// @notice docs/real-book.md is the interface this library implements; engine/fixed_book.py is the
///     same definition in Python (the circuit's witness), and the tests pack the same vectors on
///     both sides. The ledger holds:
///         series registry   series -> slot, in order of first fill, at most `capacity` (P) slots,
///                           at most MAX_EXPIRIES (E = 4) distinct live expiries
///         positions         the vault's signed net position q in each slot (2^-48 contracts,
///                           short negative, within [-2^72, 2^72))
///         fill chain        head[0] = 0, head[k+1] = Poseidon(head[k], record_k), kept for every k
///                           so that a proof made at fill index k stays valid while fills arrive
///         fillCount         fills recorded; provenFills: fills the last accepted proof applied
///         bookCommitment    Poseidon commitment of the book as of provenFills; initially the
///                           empty book's, computed here from P empty slot records
///     A fill record is one field element, low bits first (engine/fixed_book.py pack_fill):
///         slot (8) | is_call (1) | strike - SPOT_MIN (80) | expiry (40) | dq + 2^72 (73)
///     202 bits in all, below r. An empty slot's record is j + 2^72 · 2^129 (every field 0 but the
///     slot index and the quantity bias).
///
///     The book is public: every fill is on-chain anyway (an event and the position per slot), so
///     hiding it in the proof would hide nothing; the proof keeps it as a private witness only
///     because opening one commitment is cheaper than publishing P slots as public inputs.
///     The chain's second kind of record, "expiry E settled", is E << 9 (the expiry field 0, which no
///     fill has; E in the strike field): settleExpiry appends it, empties every slot of E and drops
///     E from the live expiries. A later new series takes the lowest emptied slot once the slots
///     never used are gone (the circuit accepts a fill into any empty slot).
library BookLedger {
    // ---------------------------------------------------------------- the record layout
    uint256 internal constant SLOT_BITS = 8;
    uint256 internal constant IS_CALL_OFFSET = 8;
    uint256 internal constant STRIKE_OFFSET = 9;
    uint256 internal constant EXPIRY_OFFSET = 89;
    uint256 internal constant QUANTITY_OFFSET = 129;
    uint256 internal constant RECORD_BITS = 202;
    /// @notice The strike window at 2^-48: [2^-8, 2^32] (engine.fixed SPOT_MIN, SPOT_MAX).
    uint256 internal constant STRIKE_MIN = 1 << 40;
    uint256 internal constant STRIKE_MAX = 1 << 80;
    uint256 internal constant EXPIRY_MAX = (1 << 40) - 1;
    /// @notice A position or a fill's dq lies in [-2^72, 2^72) at 2^-48 (engine.fixed_risk.QUANTITY_BITS = 72).
    int256 internal constant QUANTITY_MIN = -(int256(1) << 72);
    int256 internal constant QUANTITY_MAX = (int256(1) << 72) - 1;
    uint256 internal constant QUANTITY_BIAS = 1 << 72;
    /// @notice Slots addressable by the record's 8-bit slot field.
    uint256 internal constant MAX_SLOTS = 1 << SLOT_BITS;
    /// @notice E: distinct live expiries a book may span (each has its own smile in the proof).
    uint256 internal constant MAX_EXPIRIES = 4;

    /// @dev One storage slot per book slot (40 + 88 + 8 + 80 bits): a fill on a known series
    ///     rewrites one word.
    struct Slot {
        uint40 expiry;
        uint88 strike;
        bool isCall;
        int80 quantity;
    }

    /// @notice An option series: European, cash-settled; strike at 2^-48, expiry in Unix seconds.
    struct Series {
        uint64 expiry;
        uint256 strike;
        bool isCall;
    }

    /// @dev Counters in one word, read and written once per fill.
    struct Counters {
        uint64 fillCount;
        uint64 provenFills;
        uint16 capacity;
        uint16 seriesCount;
        uint32 fillCapacity;
        uint8 expiryCount;
    }

    struct Book {
        Counters counters;
        uint256 bookCommitment;
        /// Live expiries, the first expiryCount entries (one word).
        uint40[MAX_EXPIRIES] expiries;
        mapping(uint256 index => Slot) slots;
        /// slot index + 1 of a series (0: not in the book), by BookLedger.seriesId.
        mapping(bytes32 series => uint256) slotPlusOne;
        /// head[k]: the chain head after k fills (head[0] = 0 is never written).
        mapping(uint256 k => uint256) head;
    }

    // ---------------------------------------------------------------- errors

    /// @notice A book of `capacity` slots and `fillCapacity` fills between proofs is not one the circuit takes.
    error BookCapacityInvalid(uint256 capacity, uint256 fillCapacity);
    /// @notice The book already holds `capacity` series; a new series needs one more slot.
    error BookFull(uint256 capacity);
    /// @notice A new series would bring a fifth live expiry (`expiry`); the book spans at most `maxExpiries`.
    error TooManyExpiries(uint64 expiry, uint256 maxExpiries);
    /// @notice The series is not in the book.
    error UnknownSeries(uint64 expiry, uint256 strike, bool isCall);
    /// @notice `expiry` is not a live expiry of the book (never filled, or already settled).
    error ExpiryNotLive(uint64 expiry);
    /// @notice `unproven` fills are recorded since the last proof: the circuit applies at most `fillCapacity`.
    error FillCapacityReached(uint256 unproven, uint256 fillCapacity);
    /// @notice The series' strike or expiry lies outside the record's fields.
    error SeriesOutOfRange(uint64 expiry, uint256 strike);
    /// @notice A fill's change `dq` is zero or outside [-2^72, 2^72).
    error FillQuantityOutOfRange(int256 dq);
    /// @notice Slot `slot`'s position would become `quantity`, outside [-2^72, 2^72).
    error PositionOutOfRange(uint256 slot, int256 quantity);
    /// @notice The proof's book_before is not the vault's bookCommitment.
    error BookCommitmentMismatch(uint256 expected, uint256 proven);
    /// @notice The proof's fills_from is not provenFills, or its fills_to is outside [provenFills, fillCount].
    error FillRangeInvalid(uint256 fillsFrom, uint256 fillsTo, uint256 provenFills, uint256 fillCount);
    /// @notice The proof's chain head at fill index `index` is not the vault's head[index].
    error ChainHeadMismatch(uint256 index, uint256 expected, uint256 proven);

    // ---------------------------------------------------------------- events

    /// @notice Series (expiry, strike, isCall) took book slot `slot`.
    event SeriesOpened(uint256 indexed slot, uint64 expiry, uint256 strike, bool isCall);
    /// @notice Fill number `index` (from 0) changed slot `slot`'s position by dq to `position`;
    ///     `record` is its packed fill record and `head` = head[index + 1].
    event FillRecorded(
        uint256 indexed index, uint256 indexed slot, int256 dq, int256 position, uint256 record, uint256 head
    );
    /// @notice Chain record number `index` (from 0) settled `expiry`: its slots left the book;
    ///     `record` = expiry << 9 and `head` = head[index + 1].
    event ExpirySettlementRecorded(uint256 indexed index, uint64 indexed expiry, uint256 record, uint256 head);
    /// @notice A proof applied fills [fillsFrom, fillsTo) and the book now commits to `bookCommitment`.
    event BookProven(uint256 fillsFrom, uint256 fillsTo, uint256 bookCommitment);

    // ---------------------------------------------------------------- setup

    /// @notice An empty book of `capacity` slots (P) taking at most `fillCapacity` fills (F) between
    ///     proofs; its commitment is the empty book's, h_P of h_{j+1} = Poseidon(h_j, j + 2^72·2^129).
    function initialize(Book storage book, PoseidonT3 poseidon, uint256 capacity, uint256 fillCapacity) internal {
        if (capacity == 0 || capacity > MAX_SLOTS || fillCapacity == 0 || fillCapacity > type(uint32).max) {
            revert BookCapacityInvalid(capacity, fillCapacity);
        }
        uint256 h = 0;
        for (uint256 j = 0; j < capacity; ++j) {
            h = poseidon.hash(h, j | (QUANTITY_BIAS << QUANTITY_OFFSET));
        }
        book.bookCommitment = h;
        book.counters.capacity = uint16(capacity);
        book.counters.fillCapacity = uint32(fillCapacity);
    }

    // ---------------------------------------------------------------- fills

    /// @notice Record a fill that changes the vault's position in `series` by `dq` (a taker buying n
    ///     contracts: dq = -n): open the series' slot if it is new, update the position, append the
    ///     fill record to the chain. Reverts, changing nothing, when the book is full, the series
    ///     would bring a fifth expiry, F fills await a proof, or a quantity leaves its range.
    /// @return slot The series' slot.
    /// @return head The new chain head, head[fillCount].
    function recordFill(Book storage book, PoseidonT3 poseidon, Series memory series, int256 dq)
        internal
        returns (uint256 slot, uint256 head)
    {
        if (dq == 0 || dq < QUANTITY_MIN || dq > QUANTITY_MAX) revert FillQuantityOutOfRange(dq);
        Counters memory counters = book.counters;
        uint256 unproven = counters.fillCount - counters.provenFills;
        if (unproven >= counters.fillCapacity) revert FillCapacityReached(unproven, counters.fillCapacity);
        int256 position;
        (slot, position) = _updatePosition(book, counters, series, dq);
        uint256 record = packFill(slot, series.isCall, series.strike, series.expiry, dq);
        uint256 index = counters.fillCount;
        head = poseidon.hash(book.head[index], record);
        book.head[index + 1] = head;
        counters.fillCount = uint64(index + 1);
        book.counters = counters;
        emit FillRecorded(index, slot, dq, position, record, head);
    }

    /// @dev The series' slot (opened when new) and its position after dq, written to storage.
    function _updatePosition(Book storage book, Counters memory counters, Series memory series, int256 dq)
        private
        returns (uint256 slot, int256 position)
    {
        bytes32 id = seriesId(series.expiry, series.strike, series.isCall);
        uint256 plusOne = book.slotPlusOne[id];
        if (plusOne == 0) {
            slot = _openSeries(book, counters, id, series);
            position = dq;
        } else {
            slot = plusOne - 1;
            position = book.slots[slot].quantity + dq;
        }
        if (position < QUANTITY_MIN || position > QUANTITY_MAX) revert PositionOutOfRange(slot, position);
        book.slots[slot].quantity = int80(position); // in [-2^72, 2^72): exact
    }

    /// @dev Take the next slot for a new series, after checking the range, the capacity and the
    ///     expiry count; `counters` is updated in memory (the caller writes it back).
    function _openSeries(Book storage book, Counters memory counters, bytes32 id, Series memory series)
        private
        returns (uint256 slot)
    {
        (uint64 expiry, uint256 strike) = (series.expiry, series.strike);
        if (expiry == 0 || expiry > EXPIRY_MAX || strike < STRIKE_MIN || strike > STRIKE_MAX) {
            revert SeriesOutOfRange(expiry, strike);
        }
        slot = _freeSlot(book, counters);
        uint40[MAX_EXPIRIES] memory expiries = book.expiries;
        bool live = false;
        for (uint256 e = 0; e < counters.expiryCount; ++e) {
            if (expiries[e] == expiry) {
                live = true;
                break;
            }
        }
        if (!live) {
            if (counters.expiryCount >= MAX_EXPIRIES) revert TooManyExpiries(expiry, MAX_EXPIRIES);
            expiries[counters.expiryCount] = uint40(expiry);
            book.expiries = expiries;
            counters.expiryCount += 1;
        }
        book.slotPlusOne[id] = slot + 1;
        // Range-checked above: strike <= 2^80 < 2^88, expiry < 2^40. The position is written by the caller.
        book.slots[slot] = Slot(uint40(expiry), uint88(strike), series.isCall, 0);
        emit SeriesOpened(slot, expiry, strike, series.isCall);
    }

    /// @dev The slot a new series takes: the next never-used one (seriesCount, then counted), else
    ///     the lowest slot an expiry settlement emptied (expiry 0: a live slot's expiry is >= 1).
    function _freeSlot(Book storage book, Counters memory counters) private view returns (uint256 slot) {
        if (counters.seriesCount < counters.capacity) {
            slot = counters.seriesCount;
            counters.seriesCount += 1;
            return slot;
        }
        for (slot = 0; slot < counters.capacity; ++slot) {
            if (book.slots[slot].expiry == 0) return slot;
        }
        revert BookFull(counters.capacity);
    }

    // ---------------------------------------------------------------- expiry settlement

    /// @notice Settle `expiry` in the book: append the record expiry << 9 to the fill chain (it
    ///     counts against fillCapacity like a fill), empty every slot of the expiry and drop it
    ///     from the live expiries. Reverts, changing nothing, when the expiry is not live or F
    ///     records already await a proof.
    /// @return settled The slots that left the book, as they were (positions included).
    /// @return head The new chain head, head[fillCount].
    function settleExpiry(Book storage book, PoseidonT3 poseidon, uint64 expiry)
        internal
        returns (Slot[] memory settled, uint256 head)
    {
        Counters memory counters = book.counters;
        _dropExpiry(book, counters, expiry);
        uint256 unproven = counters.fillCount - counters.provenFills;
        if (unproven >= counters.fillCapacity) revert FillCapacityReached(unproven, counters.fillCapacity);
        settled = new Slot[](counters.seriesCount);
        uint256 found = 0;
        for (uint256 j = 0; j < counters.seriesCount; ++j) {
            Slot memory s = book.slots[j];
            if (s.expiry != expiry) continue;
            settled[found++] = s;
            delete book.slotPlusOne[seriesId(expiry, s.strike, s.isCall)];
            delete book.slots[j];
        }
        // Shortens the array in place (found <= its length): a copy would allocate twice per settlement.
        // slither-disable-next-line assembly -- memory-safe: only lowers the length
        assembly ("memory-safe") {
            mstore(settled, found) // shorten the array to the slots found
        }
        uint256 record = uint256(expiry) << STRIKE_OFFSET; // expiry < 2^40: checked when it opened
        uint256 index = counters.fillCount;
        head = poseidon.hash(book.head[index], record);
        book.head[index + 1] = head;
        counters.fillCount = uint64(index + 1);
        book.counters = counters;
        emit ExpirySettlementRecorded(index, expiry, record, head);
    }

    /// @dev Remove `expiry` from the live expiries, keeping the others in order; ExpiryNotLive when absent.
    function _dropExpiry(Book storage book, Counters memory counters, uint64 expiry) private {
        uint40[MAX_EXPIRIES] memory expiries = book.expiries;
        uint256 n = counters.expiryCount;
        uint256 e = 0;
        while (e < n && expiries[e] != expiry) ++e;
        if (e == n || expiry == 0) revert ExpiryNotLive(expiry);
        for (; e + 1 < n; ++e) {
            expiries[e] = expiries[e + 1];
        }
        expiries[n - 1] = 0;
        book.expiries = expiries;
        counters.expiryCount = uint8(n - 1);
    }

    // ---------------------------------------------------------------- proofs

    /// @notice Check a proof's book statement against the ledger, without changing it: book_before is
    ///     bookCommitment, fills_from is provenFills, provenFills <= fills_to <= fillCount, and the
    ///     proof's chain heads are the vault's head[fills_from] and head[fills_to].
    function requireProvenTransition(
        Book storage book,
        uint256 bookBefore,
        uint256 chainFrom,
        uint256 chainTo,
        uint256 fillsFrom,
        uint256 fillsTo
    ) internal view {
        uint256 commitment = book.bookCommitment;
        if (bookBefore != commitment) revert BookCommitmentMismatch(commitment, bookBefore);
        Counters memory counters = book.counters;
        if (fillsFrom != counters.provenFills || fillsTo < fillsFrom || fillsTo > counters.fillCount) {
            revert FillRangeInvalid(fillsFrom, fillsTo, counters.provenFills, counters.fillCount);
        }
        uint256 from = book.head[fillsFrom];
        if (chainFrom != from) revert ChainHeadMismatch(fillsFrom, from, chainFrom);
        uint256 to = book.head[fillsTo];
        if (chainTo != to) revert ChainHeadMismatch(fillsTo, to, chainTo);
    }

    /// @notice Effects of an accepted proof (after requireProvenTransition and the verifier): the
    ///     book now commits to `bookAfter` as of fill `fillsTo`.
    function acceptProvenBook(Book storage book, uint256 fillsTo, uint256 bookAfter) internal {
        uint256 fillsFrom = book.counters.provenFills;
        book.counters.provenFills = uint64(fillsTo); // fillsTo <= fillCount < 2^64: checked before
        book.bookCommitment = bookAfter;
        emit BookProven(fillsFrom, fillsTo, bookAfter);
    }

    // ---------------------------------------------------------------- views

    /// @notice The fill record of docs/real-book.md: slot | is_call | strike - SPOT_MIN | expiry | dq + 2^72.
    /// @dev Callers pass values within the fields (recordFill checks them first).
    function packFill(uint256 slot, bool isCall, uint256 strike, uint64 expiry, int256 dq)
        internal
        pure
        returns (uint256)
    {
        return slot | (isCall ? 1 << IS_CALL_OFFSET : 0) | ((strike - STRIKE_MIN) << STRIKE_OFFSET)
            | (uint256(expiry) << EXPIRY_OFFSET) | (uint256(dq + int256(QUANTITY_BIAS)) << QUANTITY_OFFSET);
    }

    /// @notice The id of a series in the registry: keccak256(abi.encode(expiry, strike, isCall)).
    function seriesId(uint64 expiry, uint256 strike, bool isCall) internal pure returns (bytes32) {
        return keccak256(abi.encode(expiry, strike, isCall));
    }

    /// @notice The slot of a series in the book; UnknownSeries when it has none.
    function slotOf(Book storage book, uint64 expiry, uint256 strike, bool isCall) internal view returns (uint256) {
        uint256 plusOne = book.slotPlusOne[seriesId(expiry, strike, isCall)];
        if (plusOne == 0) revert UnknownSeries(expiry, strike, isCall);
        return plusOne - 1;
    }

    /// @notice The live expiries, in order of first fill.
    function liveExpiries(Book storage book) internal view returns (uint64[] memory expiries) {
        uint256 n = book.counters.expiryCount;
        expiries = new uint64[](n);
        for (uint256 e = 0; e < n; ++e) {
            expiries[e] = book.expiries[e];
        }
    }
}
