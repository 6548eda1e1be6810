"""The `dlpe` command line (typer). `dlpe demo` is what `make demo` runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from engine.errors import DLPEError

app = typer.Typer(help="DLPE: verifiable options market making.", no_args_is_help=True, add_completion=False)
console = Console(width=max(Console().width, 120))  # tables stay readable in logs and narrow terminals


@app.command()
def demo(
    spot: float = typer.Option(95_000.0, help="underlying price (USD) of the priced chain"),
    quotes: int = typer.Option(4, min=1, help="quotes in the proven batch"),
    prove: bool = typer.Option(True, help="also prove a batch and settle it on a local devnet"),
) -> None:
    """The main job: price a chain on both paths, then prove a batch of quotes and its risk check,
    verify it in Python and on a devnet, submit it to the vault and fill a quote."""
    from solver.demo import price_chain, run_proven_batch

    report = price_chain(spot)
    table = Table(title=f"Option chain, spot {spot:,.0f}: float64 fast path vs fixed point (2^-48)")
    for col in ("days", "strike", "type", "vol", "float64 price", "fixed-point price", "|diff|", "delta", "gamma",
                "vega"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in report.rows:
        table.add_row(
            f"{r.expiry_days:g}", f"{r.strike:,.0f}", "call" if r.is_call else "put", f"{r.vol:.3f}",
            f"{r.float_price:,.6f}", f"{r.fixed_price:,.6f}", f"{r.error:.1e}",
            f"{r.delta:+.4f}", f"{r.gamma:.3e}", f"{r.vega:,.1f}",
        )
    console.print(table)
    n = len(report.rows)
    console.print(
        f"worst |fixed - float| / spot = {report.worst_error_over_spot:.2e} over {n} options; "
        f"float path {report.float_seconds / n * 1e6:.2f} us/option (vectorised), "
        f"fixed-point reference {report.fixed_seconds / n * 1e6:.0f} us/option (pure Python integers)"
    )
    if not prove:
        return

    with console.status("proving") as status:
        batch = run_proven_batch(quotes, progress=lambda step: status.update(step))
    quotes_table = Table(title=f"Proven quotes accepted by QuoteVault ({batch.devnet})")
    for col in ("strike", "type", "bid", "ask"):
        quotes_table.add_column(col, justify="right")
    for strike, is_call, bid, ask in batch.onchain_quotes:
        quotes_table.add_row(f"{strike:,.0f}", "call" if is_call else "put", f"{bid:,.4f}", f"{ask:,.4f}")
    console.print(quotes_table)
    costs = Table(title=f"Cost of one proven batch: {batch.quotes} quote(s) + the risk check")
    costs.add_column("measure")
    costs.add_column("value", justify="right")
    for name, value in (
        ("constraints", f"{batch.constraints:,}"),
        ("public inputs (packed)", f"{batch.public_inputs}"),
        ("witness generation", f"{batch.witness_seconds:.2f} s"),
        (f"Groth16 setup ({batch.backend} backend, development key)", f"{batch.setup_seconds:.1f} s"),
        ("prove", f"{batch.prove_seconds:.2f} s"),
        ("verify (Python)", f"{batch.verify_seconds:.2f} s"),
        ("proof size", f"{batch.proof_bytes} bytes"),
        *((f"gas: {name}", f"{used:,}") for name, used in batch.gas.items()),
        ("premium paid for 1 contract", f"{batch.filled_premium:,.2f} tUSD"),
        ("float64 path, same quotes (no proof)", f"{batch.fast_path_seconds * 1e6:.0f} us"),
    ):
        costs.add_row(name, value)
    console.print(costs)


@app.command()
def price(
    spot: float, strike: float, t: float = typer.Option(..., help="time to expiry in years"),
    vol: float = typer.Option(..., help="annualised volatility"), rate: float = 0.0, carry: float = 0.0,
    put: bool = typer.Option(False, "--put", help="price a put (default: call)"),
) -> None:
    """Price one option on both paths and print price and Greeks."""
    from engine import fixed as fx
    from engine.bsm import bsm_greeks

    try:
        g = bsm_greeks(spot, strike, t, rate, vol, not put, carry=carry)
        f = fx.bsm_fixed(*(fx.to_fixed(x) for x in (spot, strike, t, rate, vol)), not put, carry=fx.to_fixed(carry))
    except DLPEError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from None
    table = Table(title=f"{'put' if put else 'call'} S={spot} K={strike} t={t} vol={vol} r={rate} q={carry}")
    for col in ("", "float64", "fixed point"):
        table.add_column(col, justify="right")
    for name in ("price", "delta", "gamma", "vega"):
        table.add_row(name, f"{float(getattr(g, name)):.12g}", f"{fx.from_fixed(getattr(f, name)):.12g}")
    console.print(table)


@app.command()
def simulate(
    seed: int = typer.Option(1, help="seed of the simulated day (market, traders, feeds)"),
    out: Path = typer.Option(Path("benchmarks/results/simulation"), help="folder for the plots and summary tables"),
) -> None:
    """Simulate a day of market making: the DLPE against a static AMM-style quoter (plots + summary in OUT)."""
    from rich.progress import Progress

    from study.backtest import StudyConfig, run_study

    config = StudyConfig()
    with Progress(console=console) as progress:
        task = progress.add_task("quoting, trading, hedging", total=2 * (config.market.n_steps + 1))
        result = run_study(seed, out, config, progress=lambda n: progress.advance(task, n))
    table = Table(title=f"Simulated day, seed {seed}: DLPE vs static AMM")
    for col in ("metric", "DLPE", "static AMM"):
        table.add_column(col, justify="right")
    for label, key in (
        ("LP PnL (USD)", "lp_pnl"), ("spread capture (USD)", "spread_capture"),
        ("adverse-selection loss (USD)", "adverse_selection_loss"), ("hedging cost (USD)", "hedging_cost"),
        ("max drawdown (USD)", "max_drawdown"),
    ):
        table.add_row(label, f"{getattr(result.dlpe, key):,.0f}", f"{getattr(result.amm, key):,.0f}")
    table.add_row("trades (informed)", f"{result.dlpe.trades} ({result.dlpe.informed_trades})", f"{result.amm.trades} ({result.amm.informed_trades})")
    console.print(table)
    console.print(f"breaker pauses {result.breaker_pauses}, regime accuracy {result.regime_detection_accuracy:.1%}, "
                  f"{result.run_seconds:.1f} s; files in {out}")


@app.command("circuit-info")
def circuit_info(
    quotes: int = typer.Option(4, min=1, help="quotes in the batch circuit"),
    depth: int = typer.Option(2, min=1, help="scope levels shown in the profile"),
) -> None:
    """Constraint profile of the batch circuit (quotes + risk check) and the cost of each gadget."""
    import time

    from rich.markup import escape

    from circuits.batch import batch_circuit
    from circuits.builder import ConstraintSystem
    from circuits.costs import gadget_costs
    from solver.samples import sample_batch_request

    costs = Table(title="Gadgets (constraints each)")
    costs.add_column("gadget")
    costs.add_column("constraints", justify="right")
    for name, n in gadget_costs().items():
        costs.add_row(name, f"{n:,}")
    console.print(costs)

    start = time.perf_counter()
    cs = ConstraintSystem()
    batch_circuit(cs, sample_batch_request(quotes))
    seconds = time.perf_counter() - start
    r1cs = cs.to_r1cs()
    root = cs.profile(f"batch of {quotes}")
    table = Table(title=f"Batch circuit, {quotes} quote(s): constraints by scope")
    for col in ("scope", "constraints", "share"):
        table.add_column(col, justify="right" if col != "scope" else "left")
    for path, node in root.walk():
        level = path.count("/")
        top = path.split("/")[0]
        if level >= depth or (top.startswith("quote[") and top != "quote[0]"):
            continue  # every quote has the same shape: show the first one
        name = f"quote\\[i] (each of {quotes})" if path == "quote[0]" else "  " * level + escape(path.split("/")[-1])
        table.add_row(name, f"{node.total:,}", f"{node.total / root.total:.1%}")
    console.print(table)
    per_quote = root.find("quote[0]").total if quotes else 0
    console.print(
        f"total {cs.n_constraints:,} constraints, {r1cs.n_wires:,} wires, "
        f"{r1cs.n_public_inputs + r1cs.n_public_outputs} public inputs; {per_quote:,} constraints per quote; "
        f"built with witness in {seconds:.2f} s ({seconds / quotes * 1e3:.0f} ms per quote, shared parts included)"
    )


if __name__ == "__main__":
    app()
