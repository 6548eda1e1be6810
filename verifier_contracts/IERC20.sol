// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title The part of ERC-20 (EIP-20, https://eips.ethereum.org/EIPS/eip-20) that QuoteVault uses
interface IERC20 {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    function decimals() external view returns (uint8);
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}
