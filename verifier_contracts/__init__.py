"""DLPE's Solidity side: the Groth16 verifier generated from a verifying key, the QuoteVault that
settles proven quotes, their build and their clients.

generate   verifying key -> Groth16Verifier.sol (templates/Groth16Verifier.sol.tmpl)
build      solc-js (pinned npm solc) via standard JSON, artifacts cached by input hash
devnet     anvil on a free loopback port, or the in-process EVM (eth-tester + py-evm)
client     deploy and call contracts with web3.py; reverts decoded into ContractReverted
snarkjs    the pinned snarkjs CLI: test keys and proofs, and the baseline verifier for gas
batch_layout  the batch circuit's layout document (JSON, circuits/layout.py) -> BatchLayout.sol
           (templates/BatchLayout.sol.tmpl), checked for what QuoteVault reads
vault      QuoteVault.sol, SpotOracle.sol, TestToken.sol and the generated BatchLayout.sol; their clients

Keys, proofs and public signals are prover's types, read from the snarkjs JSON formats by
prover.read_verification_key / read_proof / read_public; prover.solidity_calldata encodes them.
"""
