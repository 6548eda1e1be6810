"""The `dlpe` command line (typer). `dlpe demo` is what `make demo` runs."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from engine.errors import DLPEError

app = typer.Typer(help="DLPE: verifiable options market making.", no_args_is_help=True, add_completion=False)
console = Console()


@app.command()
def demo(spot: float = typer.Option(95_000.0, help="underlying price (USD)")) -> None:
    """Price a BTC option chain on the float64 fast path and on the fixed-point reference."""
    from solver.demo import price_chain

    report = price_chain(spot)
    table = Table(title=f"Option chain, spot {spot:,.0f}: float64 fast path vs fixed point (2^-48)")
    for col in ("expiry (d)", "strike", "type", "vol", "float price", "fixed price", "|error|", "delta", "gamma", "vega"):
        table.add_column(col, justify="right")
    for r in report.rows:
        table.add_row(
            f"{r.expiry_days:g}", f"{r.strike:,.0f}", "call" if r.is_call else "put", f"{r.vol:.4f}",
            f"{r.float_price:,.6f}", f"{r.fixed_price:,.6f}", f"{r.error:.2e}",
            f"{r.delta:+.6f}", f"{r.gamma:.4e}", f"{r.vega:,.4f}",
        )
    console.print(table)
    n = len(report.rows)
    console.print(
        f"worst |fixed - float| / spot = {report.worst_error_over_spot:.2e} over {n} options; "
        f"float path {report.float_seconds / n * 1e6:.2f} us/option (vectorised), "
        f"fixed-point reference {report.fixed_seconds / n * 1e6:.0f} us/option (pure Python integers)"
    )


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


if __name__ == "__main__":
    app()
