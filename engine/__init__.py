"""DLPE off-chain engine: pure computation, no crypto and no chain."""
