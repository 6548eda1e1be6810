"""Gadgets: small constraint patterns, one file per family (bits, comparators, select, hash).

Each gadget computes its witness and emits its constraints in the same function,
opens a scope named after itself, and states in its docstring exactly what it
constrains.
"""
