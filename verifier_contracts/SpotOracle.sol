// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title SpotOracle: one trusted poster's spot prices and the times they were observed
/// @notice The owner posts (price, timestamp); readers get the newest from `latest`, and every
///     observation ever posted from `observation(index)` (index 0 the first): expiry settlement
///     reads the first observation at or after an expiry, whatever was posted later. The price is the
///     engine's fixed-point integer, price · 2^48 (engine/fixed.py, FRAC_BITS = 48), stored as
///     posted: no conversion, hence no rounding here. Timestamps are Unix seconds, never in the
///     future of the posting block and strictly increasing, so that "newer" is well defined.
///     Readers decide how old a price they accept (QuoteVault: maxOracleAge).
contract SpotOracle {
    /// @notice `caller` is not the owner, the only address that may post.
    error NotOwner(address caller);
    /// @notice A price must be positive.
    error PriceZero();
    /// @notice `timestamp` is after the posting block's time `blockTime`.
    error TimestampInFuture(uint64 timestamp, uint256 blockTime);
    /// @notice `timestamp` is not after the latest posted one, `latestTimestamp`.
    error TimestampNotAfterLatest(uint64 timestamp, uint64 latestTimestamp);

    /// @notice A new observation: spot `price` (2^-48 fixed point) at `timestamp`.
    event PricePosted(uint256 price, uint64 timestamp);

    address public immutable owner;

    /// @dev One storage slot per observation. 2^192 is far above any 2^-48 fixed-point spot the
    ///     engine admits (SPOT_MAX = 2^32 · 2^48 = 2^80).
    struct Observation {
        uint192 price;
        uint64 timestamp;
    }

    /// @notice `index` is not below the number of observations posted, `count`.
    error ObservationIndexOutOfRange(uint256 index, uint256 count);

    Observation[] private _observations;

    constructor() {
        owner = msg.sender;
    }

    /// @notice Post spot `price` (2^-48 fixed point) observed at `timestamp` (Unix seconds).
    function post(uint192 price, uint64 timestamp) external {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        if (price == 0) revert PriceZero();
        // timestamp: a validator can shift block.timestamp by seconds; that only moves
        // which observations count as not in the future, never the price itself
        // slither-disable-next-line timestamp
        if (timestamp > block.timestamp) revert TimestampInFuture(timestamp, block.timestamp);
        uint256 count = _observations.length;
        uint64 latestTimestamp = count == 0 ? 0 : _observations[count - 1].timestamp;
        if (timestamp <= latestTimestamp) revert TimestampNotAfterLatest(timestamp, latestTimestamp);
        _observations.push(Observation(price, timestamp));
        emit PricePosted(price, timestamp);
    }

    /// @notice The latest observation; (0, 0) before the first post.
    /// @return price Spot at 2^-48 fixed point.
    /// @return timestamp When it was observed (Unix seconds).
    function latest() external view returns (uint256 price, uint64 timestamp) {
        uint256 count = _observations.length;
        if (count == 0) return (0, 0);
        Observation memory o = _observations[count - 1];
        return (o.price, o.timestamp);
    }

    /// @notice How many observations were posted.
    function observationCount() external view returns (uint256) {
        return _observations.length;
    }

    /// @notice Observation `index` (0 the first posted); timestamps strictly increase with the index.
    function observation(uint256 index) external view returns (uint256 price, uint64 timestamp) {
        uint256 count = _observations.length;
        if (index >= count) revert ObservationIndexOutOfRange(index, count);
        Observation memory o = _observations[index];
        return (o.price, o.timestamp);
    }
}
