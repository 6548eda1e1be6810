"""Cost of the real-book check, and the error of its delta-gamma-vega expansion.

1. Constraints and witness time of the book batch with zero quotes (a book update: open the book,
   apply F fills, close it, price every slot on its expiry's smile, mark, risk outcome) for P
   positions over E = 4 expiries, against the one-quote batch circuit measured in the same run.
2. The worst gap of the expansion against full repricing (fixed-point BSM at the moved spot, vol
   of the smile at the strike plus the grid's vol shift: sticky strike) over random books: the
   governance margin must cover it (gap = full-repricing loss - expansion loss).

Writes benchmarks/results/book.json and book.png.

    python benchmarks/bench_book.py [--sizes 16 64 256] [--fills 8] [--books 200]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from circuits import book_batch as bb
from circuits.batch import batch_circuit
from circuits.builder import ConstraintSystem
from engine import fixed as fx
from engine import fixed_book as fb
from engine import fixed_quote as fq
from engine import fixed_risk as fr
from solver.samples import sample_batch_request

RESULTS = Path(__file__).resolve().parent / "results"
ONE = fx.ONE
NOW, DAY = 1_700_000_000, 86_400
EXPIRY_DAYS = (7, 30, 90, 180)
SMILES = tuple(fx.SVIFixed(fx.to_fixed(0.0064 * d / 30), fx.to_fixed(0.02 + 0.001 * d / 30), fx.to_fixed(-0.3), 0,
                           fx.to_fixed(0.2)) for d in EXPIRY_DAYS)
POLICY = fq.PolicyFixed(fx.to_fixed(0.5), fx.to_fixed(0.01), fx.to_fixed(0.001), ONE, 2 * ONE)
LIMITS = fr.RiskLimitsFixed(1 << 80, 1 << 80, 1 << 80, 1 << 80)


def market(spot: float = 100.0) -> fb.BookMarket:
    return fb.BookMarket(fx.to_fixed(spot), NOW, fx.to_fixed(0.01), 0,
                         tuple(fb.ExpirySmile(NOW + d * DAY, s) for d, s in zip(EXPIRY_DAYS, SMILES)))


def random_book(rng: random.Random, m: fb.BookMarket, positions: int) -> fb.Book:
    slots = []
    for _ in range(positions):
        expiry = rng.choice(m.expiries).expiry
        strike = fx.to_fixed(round(float(fx.from_fixed(m.spot)) * rng.uniform(0.7, 1.3)))
        slots.append(fb.BookSlot(expiry, strike, rng.random() < 0.5, fx.to_fixed(round(rng.uniform(-10, 10), 2))))
    return tuple(slots)


def book_update_request(positions: int, fills: int, rng: random.Random) -> bb.BookBatchRequest:
    """A zero-quote book batch over a random book of P positions on market()'s 4 expiries, F of them new fills."""
    m = market()
    book = random_book(rng, m, positions)
    # the last F fills of the book are the ones this proof applies
    applied = tuple(fb.Fill(j, s.is_call, s.strike, s.expiry, s.quantity) for j, s in enumerate(book[-fills:],
                                                                                                   positions - fills))
    old = book[:positions - fills] + (fb.EMPTY_SLOT,) * fills
    return bb.book_batch_request(m, old, applied, fills, 0, 0, policy=POLICY, state_salt=1, limits=LIMITS, margin=0)


def measure_circuit(positions: int, fills: int, rng: random.Random) -> dict:
    req = book_update_request(positions, fills, rng)
    m, old, applied = req.market, req.old_book, req.fills
    start = time.perf_counter()
    cs = ConstraintSystem()
    wires = bb.book_batch_circuit(cs, req)
    seconds = time.perf_counter() - start
    assert cs.is_satisfied(), cs.first_failure()
    assert wires.book.mark.value == fb.price_book(m, fb.apply_fills(old, applied)).mark
    return {"positions": positions, "expiries": len(m.expiries), "fills": fills, "constraints": cs.n_constraints,
            "wires": cs.n_wires, "public_inputs": wires.layout.n_public_inputs, "witness_seconds": seconds,
            "constraints_per_position": cs.n_constraints / positions}


def baseline_quote() -> dict:
    start = time.perf_counter()
    cs = ConstraintSystem()
    batch_circuit(cs, sample_batch_request(1))
    return {"constraints": cs.n_constraints, "witness_seconds": time.perf_counter() - start}


def full_loss(m: fb.BookMarket, book: fb.Book, pricing: fb.BookPricing, move: int, vol_shift: int) -> Fraction:
    """-Σ q·(price at spot·(1 + move), vol + shift - price now), fixed-point BSM, sticky strike."""
    spot = m.spot + fb.position_product(m.spot, move)
    total = 0
    for slot, bsm in zip(book, pricing.slots):
        if bsm is None:
            continue
        e = m.expiry_index(slot.expiry)
        terms = m.terms(e)
        vol = fx.div(bsm.total_vol, terms.sqrt_t) + vol_shift
        moved = fx.bsm_fixed(spot, slot.strike, terms.t, m.rate, max(vol, 1), slot.is_call, m.carry)
        total += fb.position_product(slot.quantity, moved.price - bsm.price)
    return -total


def expansion_gaps(books: int, positions: int, rng: random.Random) -> dict:
    """Worst (full - expansion) loss over every grid point and book, and at each book's worst point."""
    m = market()
    worst_point_gap = worst_book_gap = 0
    notional_gap = 0.0
    for _ in range(books):
        book = random_book(rng, m, positions)
        pricing = fb.price_book(m, book)
        spot_terms = []
        for move in fr.SPOT_MOVES:
            d_spot = fb.position_product(m.spot, move)
            d_sq = fb.position_product(d_spot, d_spot)
            spot_terms.append(fb.position_product(pricing.net_delta, d_spot)
                              + fb.position_product(fx.half(pricing.net_gamma), d_sq))
        vega_up = fb.position_product(pricing.net_vega, fr.VOL_SHIFT)
        worst_full = worst_expansion = 0
        for s, move in enumerate(fr.SPOT_MOVES):
            for sign in (1, 0, -1):
                expansion = -(spot_terms[s] + sign * vega_up)
                full = full_loss(m, book, pricing, move, sign * fr.VOL_SHIFT)
                worst_point_gap = max(worst_point_gap, full - expansion)
                worst_full, worst_expansion = max(worst_full, full), max(worst_expansion, expansion)
        gap = worst_full - worst_expansion
        worst_book_gap = max(worst_book_gap, gap)
        notional = sum(abs(fx.from_fixed(s.quantity)) for s in book) * fx.from_fixed(m.spot)
        notional_gap = max(notional_gap, fx.from_fixed(gap) / notional)
    return {"books": books, "positions": positions, "worst_gap_any_point": fx.from_fixed(worst_point_gap),
            "worst_gap_of_worst_loss": fx.from_fixed(worst_book_gap),
            "worst_gap_of_worst_loss_per_notional": notional_gap}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--fills", type=int, default=8)
    parser.add_argument("--books", type=int, default=200)
    args = parser.parse_args(argv)
    rng = random.Random(10)
    base = baseline_quote()
    rows = []
    for p in args.sizes:
        row = measure_circuit(p, min(args.fills, p), rng)
        row["ratio_to_one_quote_batch"] = row["constraints"] / base["constraints"]
        rows.append(row)
        print(json.dumps(row))
    gaps = expansion_gaps(args.books, 16, rng)
    print(json.dumps(gaps))
    RESULTS.mkdir(exist_ok=True)
    result = {"machine": platform.processor() or platform.machine(), "baseline_one_quote_batch": base,
              "book_update": rows, "expansion_gap": gaps}
    (RESULTS / "book.json").write_text(json.dumps(result, indent=2) + "\n")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    sizes = [r["positions"] for r in rows]
    left.plot(sizes, [r["constraints"] for r in rows], "o-")
    left.set(xscale="log", yscale="log", xlabel="positions (4 expiries)", ylabel="constraints",
             title="book update: constraints")
    right.plot(sizes, [r["witness_seconds"] for r in rows], "o-")
    right.set(xscale="log", yscale="log", xlabel="positions (4 expiries)", ylabel="seconds",
              title="book update: witness time")
    fig.tight_layout()
    fig.savefig(RESULTS / "book.png", dpi=120)


if __name__ == "__main__":
    main()
