// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The few forge cheatcodes these tests use, declared here instead of importing forge-std
/// @notice forge-std is not on npm (only an old unofficial copy is), and nothing is fetched from
///     git: this interface names exactly the cheatcodes called, with forge's signatures
///     (https://book.getfoundry.sh/cheatcodes/). forge answers them at VM_ADDRESS.
interface Vm {
    function warp(uint256 newTimestamp) external;
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;
    function expectRevert() external;
    function expectRevert(bytes calldata revertData) external;
    function expectEmit() external;
    function assume(bool condition) external pure;
    function label(address account, string calldata newLabel) external;

    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(int256 left, int256 right, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(string calldata left, string calldata right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
    function assertLt(uint256 left, uint256 right, string calldata error) external pure;
    function assertGe(uint256 left, uint256 right, string calldata error) external pure;
    function assertGt(uint256 left, uint256 right, string calldata error) external pure;
}

/// @dev address(uint160(uint256(keccak256("hevm cheat code")))), where forge serves the cheatcodes.
Vm constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

/// @notice `x` mapped into [lo, hi] (both included): lo + x mod (hi - lo + 1). For fuzzed inputs.
function bound(uint256 x, uint256 lo, uint256 hi) pure returns (uint256) {
    if (lo == 0 && hi == type(uint256).max) return x;
    return lo + x % (hi - lo + 1);
}
