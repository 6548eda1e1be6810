"""Tests of the verifier_contracts package: generated Groth16 verifier, solc build, devnets, client."""
