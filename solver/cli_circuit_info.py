"""`dlpe circuit-info`: the batch circuit's constraints by scope, per gadget and per quote, in either range-check mode.

--mode bits (default) is the plain R1CS; --mode lookup settles the range checks by a
log-derivative lookup over a committed challenge (circuits.gadgets.logup), and the
profile then shows the settle step as the scope "lookup". The per-quote figure is
issue 14's: (C(16) - C(4)) / 12 with the lookup table taken out (solver.mode_costs),
so it builds the 4- and 16-quote batches besides the one asked for.
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from solver.cli_base import print_json

CIRCUIT_INFO_JSON_KEYS = (
    "JSON keys (--json): mode; per_quote_constraints ((C(16) - C(4)) / 12, lookup table apart); per_quote "
    "{per_quote_constraints, per_quote_with_table_difference, table_constraints, limb_bits, shared_constraints}; "
    "gadgets {gadget: constraints each}; batch {quotes, constraints, wires, public_inputs, constraints_per_quote, "
    "build_seconds, table_constraints, limb_bits, lookup_checks, bits_checks, committed_wires}; profile: a list of "
    "{scope, constraints, share} down to --depth levels, quote\\[0] standing for every quote (they have the same "
    "shape)."
)

console = Console(width=max(Console().width, 120))


def circuit_info(
    quotes: int = typer.Option(4, min=1, help="quotes in the batch circuit"),
    depth: int = typer.Option(2, min=1, help="scope levels shown in the profile"),
    mode: str = typer.Option("bits", "--mode", help="range checks: bits (plain R1CS) or lookup (committed challenge)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document on stdout instead of tables (keys below)"),
) -> None:
    """Constraint profile of the batch circuit (quotes + risk check), per quote, and the cost of each gadget."""
    from circuits.builder import RangeCheckMode
    from circuits.costs import gadget_costs
    from solver.mode_costs import PER_QUOTE_SIZES, batch_cost, build_batch, lookup_gadget_costs, per_quote_costs

    if mode not in {m.value for m in RangeCheckMode}:
        raise typer.BadParameter(f"{mode!r}: expected bits or lookup", param_hint="--mode")
    start = time.perf_counter()
    cs = build_batch(quotes, mode)
    seconds = time.perf_counter() - start
    cost = batch_cost(quotes, mode)
    sizes = {n: (cost if n == quotes else batch_cost(n, mode)) for n in PER_QUOTE_SIZES}
    per_quote = per_quote_costs(mode, *sizes.values())
    large_bits = per_quote["limb_bits"][PER_QUOTE_SIZES[-1]]
    gadgets = lookup_gadget_costs(large_bits) if mode == "lookup" and large_bits else gadget_costs()

    root = cs.profile(f"batch of {quotes}")
    scopes = []
    for path, node in root.walk():
        top = path.split("/")[0]
        if path.count("/") >= depth or (top.startswith("quote[") and top != "quote[0]"):
            continue  # every quote has the same shape: show the first one
        scopes.append((path, node.total))
    summary = {
        "quotes": quotes, "constraints": cost.constraints, "wires": cost.wires, "public_inputs": cost.public_signals,
        "constraints_per_quote": root.find("quote[0]").total, "build_seconds": seconds,
        "table_constraints": cost.table_constraints, "limb_bits": cost.limb_bits,
        "lookup_checks": cost.lookup_checks, "bits_checks": cost.bits_checks, "committed_wires": cost.committed_wires,
    }
    if as_json:
        print_json({
            "mode": mode, "per_quote_constraints": per_quote["per_quote_constraints"],
            "per_quote": {**per_quote, "table_constraints": {str(k): v for k, v in per_quote["table_constraints"].items()},
                          "limb_bits": {str(k): v for k, v in per_quote["limb_bits"].items()}},
            "gadgets": gadgets, "batch": summary,
            "profile": [{"scope": path, "constraints": n, "share": n / root.total} for path, n in scopes],
        })
        return
    costs = Table(title=f"Gadgets (constraints each, {mode} mode)")
    costs.add_column("gadget")
    costs.add_column("constraints", justify="right")
    for name, n in gadgets.items():
        costs.add_row(name, f"{n:,}")
    console.print(costs)
    table = Table(title=f"Batch circuit, {quotes} quote(s), {mode} mode: constraints by scope")
    for col in ("scope", "constraints", "share"):
        table.add_column(col, justify="right" if col != "scope" else "left")
    for path, n in scopes:
        level = path.count("/")
        name = f"quote\\[i] (each of {quotes})" if path == "quote[0]" else "  " * level + escape(path.split("/")[-1])
        table.add_row(name, f"{n:,}", f"{n / root.total:.1%}")
    console.print(table)
    lookup = (f"; lookup table 2^{cost.limb_bits} + 2 = {cost.table_constraints:,} rows, {cost.lookup_checks:,} "
              f"checks by lookup, {cost.committed_wires:,} committed wires" if cost.limb_bits else "")
    console.print(
        f"total {cost.constraints:,} constraints, {cost.wires:,} wires, {cost.public_signals} public signals{lookup}; "
        f"{per_quote['per_quote_constraints']:,.0f} constraints per quote ((C(16) - C(4)) / 12, table apart), "
        f"shared {per_quote['shared_constraints']:,.0f}; built with witness in {seconds:.2f} s"
    )


def register(app: typer.Typer) -> None:
    """Add `circuit-info` to the dlpe command line."""
    app.command("circuit-info", epilog=CIRCUIT_INFO_JSON_KEYS)(circuit_info)
