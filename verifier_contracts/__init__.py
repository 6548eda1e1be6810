"""DLPE verifier_contracts package."""
