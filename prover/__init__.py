"""DLPE prover package."""
