"""Constraint costs of the batch circuit in either range-check mode (bits or lookup), as issue 14 defines them.

- per quote: (C(16 quotes) - C(4 quotes)) / 12, with the lookup's table and shared rows
  (2^L + SHARED_ROWS, circuits.gadgets.logup) taken out of both C first, so that the
  figure is what one more quote costs; the table is reported apart;
- shared: what a batch costs besides its quotes and the table (market, state, risk,
  packing): C(4) - table(4) - 4 * per quote;
- per gadget: in bits mode as built alone (circuits.costs); in lookup mode the gadget's
  own constraints plus what its collected checks cost at the limb width L the
  16-quote batch chooses (a gadget alone would otherwise pay a whole table).

Used by `dlpe circuit-info --mode` and benchmarks/bench_circuits.py. It lives in solver, not circuits,
because it builds solver.samples' sample batches.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from circuits.batch import batch_circuit
from circuits.builder import ConstraintSystem, RangeCheckMode
from circuits.costs import GADGETS
from circuits.gadgets import fixed as gf
from circuits.gadgets.logup import SHARED_ROWS, check_cost, committed_statement, single_private_wire
from solver.samples import sample_batch_request

PER_QUOTE_SIZES = (4, 16)
"""The two batch sizes whose difference defines the per-quote cost."""


@dataclass(frozen=True)
class BatchCost:
    """One batch circuit, settled: constraints, and in lookup mode the table's part of them.

    table_constraints: 2^L + SHARED_ROWS in lookup mode (0 in bits mode, or when no check went by lookup)
    limb_bits: L, the table's width (None in bits mode)
    lookup_checks / bits_checks: range checks settled by lookup / as bit decompositions at the end
    committed_wires: wires of the commitment (0 in bits mode)
    """

    mode: str
    quotes: int
    constraints: int
    wires: int
    public_signals: int
    table_constraints: int
    limb_bits: int | None
    lookup_checks: int
    bits_checks: int
    committed_wires: int
    build_seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def build_batch(n_quotes: int, mode: RangeCheckMode | str) -> ConstraintSystem:
    """The batch circuit of solver.samples.sample_batch_request(n_quotes), built and settled in `mode`."""
    cs = ConstraintSystem(range_mode=mode)
    batch_circuit(cs, sample_batch_request(n_quotes))
    cs.finish()
    return cs


def batch_cost(n_quotes: int, mode: RangeCheckMode | str) -> BatchCost:
    """The settled batch's costs (one build, timed with its witness)."""
    start = time.perf_counter()
    cs = build_batch(n_quotes, mode)
    seconds = time.perf_counter() - start
    r1cs = cs.to_r1cs()
    settlement = getattr(cs.range_checker, "settlement", None)
    statement = committed_statement(cs) if settlement is not None else None
    return BatchCost(
        mode=cs.range_mode.value,
        quotes=n_quotes,
        constraints=cs.n_constraints,
        wires=r1cs.n_wires,
        public_signals=r1cs.n_public,
        table_constraints=(1 << settlement.limb_bits) + SHARED_ROWS if settlement else 0,
        limb_bits=settlement.limb_bits if settlement else None,
        lookup_checks=settlement.n_lookup_checks if settlement else 0,
        bits_checks=settlement.n_bits_checks if settlement else 0,
        committed_wires=len(statement.committed_wires) if statement else 0,
        build_seconds=seconds,
    )


def per_quote_costs(mode: RangeCheckMode | str, small: BatchCost | None = None,
                    large: BatchCost | None = None) -> dict:
    """per_quote_constraints, table and shared constraints of `mode` (module docstring), from the
    batches of PER_QUOTE_SIZES (built here unless given)."""
    n_small, n_large = PER_QUOTE_SIZES
    small = small or batch_cost(n_small, mode)
    large = large or batch_cost(n_large, mode)
    without_table = [b.constraints - b.table_constraints for b in (small, large)]
    per_quote = (without_table[1] - without_table[0]) / (n_large - n_small)
    return {
        "per_quote_constraints": per_quote,
        "per_quote_with_table_difference": (large.constraints - small.constraints) / (n_large - n_small),
        "table_constraints": {n_small: small.table_constraints, n_large: large.table_constraints},
        "limb_bits": {n_small: small.limb_bits, n_large: large.limb_bits},
        "shared_constraints": without_table[0] - n_small * per_quote,
    }


def lookup_gadget_costs(limb_bits: int) -> dict[str, int]:
    """Each gadget of circuits.costs in lookup mode: its own constraints plus its checks at limb width L."""
    costs = {}
    for name, build in GADGETS.items():
        cs = ConstraintSystem(range_mode=RangeCheckMode.LOOKUP)
        declared = 0

        def declare(label: str, lo: int, hi: int) -> gf.Fixed:
            nonlocal declared
            before_checks = len(cs.range_checker.pending)
            before = cs.n_constraints
            x = gf.fixed_input(cs, label, lo, lo, hi, public=False)
            declared += cs.n_constraints - before
            declared_checks.extend(cs.range_checker.pending[before_checks:])
            return x

        declared_checks: list = []
        build(cs, declare)
        own = [p for p in cs.range_checker.pending if p not in declared_checks]
        costs[name] = cs.n_constraints - declared + sum(
            min(check_cost(p.n_bits, limb_bits, single_private_wire(cs, p.value) is not None), p.n_bits + 1)
            for p in own)
    return costs
