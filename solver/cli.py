"""The `dlpe` command line (typer). `dlpe demo` is what `make demo` runs.

Every command that prints results takes `--json` (one JSON document on stdout, its
keys listed in the command's --help). Bad input ends with exit status 2 and one line
on stderr (see solver.cli_base).
"""

from __future__ import annotations

import dataclasses
import sys
from importlib.metadata import PackageNotFoundError, entry_points
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from solver.progress import ProgressLines
from solver.cli_base import JSON_KEYS_HELP, DlpeGroup, NumericArgsCommand, fail, json_number, print_json
from solver.cli_bench import register as register_bench
from solver.cli_circuit_info import register as register_circuit_info
from solver.cli_toolchain import register as register_toolchain

app = typer.Typer(help="DLPE: verifiable options market making.", no_args_is_help=True, add_completion=False,
                  cls=DlpeGroup)
console = Console(width=max(Console().width, 120))  # tables stay readable in logs and narrow terminals

# Units of engine.bsm.Greeks (t in years, vol and rates as decimals per year).
GREEK_UNITS = {
    "price": "currency of spot",
    "delta": "per 1 unit of spot",
    "gamma": "per unit of spot, squared",
    "vega": "per 1.00 of vol (100 vol points)",
    "theta": "per year of calendar time",
    "rho": "per 1.00 of rate (carry fixed)",
    "vanna": "per unit of spot per 1.00 of vol",
    "volga": "per 1.00 of vol, squared",
}
FIXED_POINT_FIELDS = ("price", "delta", "gamma", "vega")  # what engine.fixed.bsm_fixed computes

SPOT_HELP = "underlying price S (> 0); the forward or futures price for Black-76 (carry = rate)"
STRIKE_HELP = "strike K (> 0), in the currency of spot"
T_HELP = "time to expiry in years (>= 0; 0 gives the value at expiry)"
RATE_HELP = "risk-free rate r, continuously compounded, per year as a decimal (0.05 = 5%)"
CARRY_HELP = ("carry yield q, continuously compounded, per year as a decimal: dividend yield, "
              "foreign rate (Garman-Kohlhagen), or q = r for Black-76 on a futures price")
CALL_HELP = "option type: --call (default) or --put"


def _print_version(value: bool) -> None:
    if not value:
        return
    try:
        typer.echo(f"dlpe {package_version('dlpe')}")
    except PackageNotFoundError:
        typer.echo("dlpe: version unknown (the package is not installed; run `make install`)")
    raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="print the installed dlpe version and exit"),
) -> None:
    """DLPE: verifiable options market making."""


# Epilogs are single paragraphs: typer's rich help keeps every newline of a help text.
PRICE_JSON_KEYS = (
    "JSON keys (--json): inputs {spot, strike, t, rate, vol, carry, type}; float64 {price, delta, gamma, vega, "
    "theta, rho, vanna, volga}; fixed_point {price, delta, gamma, vega}, or null when the inputs are outside the "
    "fixed-point domain; fixed_point_outside_domain: null, or the reason; units {greek: unit}."
)


@app.command(cls=NumericArgsCommand, epilog=PRICE_JSON_KEYS)
def price(
    spot: float = typer.Argument(..., help=SPOT_HELP, show_default=False),
    strike: float = typer.Argument(..., help=STRIKE_HELP, show_default=False),
    t: float = typer.Option(..., "--t", help=T_HELP),
    vol: float = typer.Option(..., "--vol", help="annualized volatility as a decimal (0.6 = 60%)"),
    rate: float = typer.Option(0.0, "--rate", help=RATE_HELP),
    carry: float = typer.Option(0.0, "--carry", help=CARRY_HELP),
    call: bool = typer.Option(True, "--call/--put", help=CALL_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_KEYS_HELP),
) -> None:
    """Price one European option (generalized Black-Scholes-Merton) with all its Greeks.

    The fixed-point reference (what the circuits prove) is shown beside the float64 one inside its domain.
    """
    from engine.bsm import Greeks, bsm_greeks

    g = bsm_greeks(spot, strike, t, rate, vol, call, carry=carry)
    fixed, outside = _fixed_point_greeks(spot, strike, t, rate, vol, call, carry)
    greeks = {field.name: float(getattr(g, field.name)) for field in dataclasses.fields(Greeks)}
    kind = "call" if call else "put"
    if as_json:
        print_json({
            "inputs": {"spot": spot, "strike": strike, "t": t, "rate": rate, "vol": vol, "carry": carry,
                       "type": kind},
            "float64": {name: json_number(x) for name, x in greeks.items()},
            "fixed_point": fixed,
            "fixed_point_outside_domain": outside,
            "units": {name: GREEK_UNITS[name] for name in greeks},
        })
        return
    table = Table(title=f"{kind} S={spot:g} K={strike:g} t={t:g} vol={vol:g} r={rate:g} q={carry:g}")
    columns = ("", "float64") + (("fixed point (2^-48)",) if fixed else ()) + ("unit",)
    for col in columns:
        table.add_column(col, justify="left" if col == "unit" else "right")
    for name, x in greeks.items():
        fixed_cell = (f"{fixed[name]:.12g}" if name in fixed else "-",) if fixed else ()
        table.add_row(name, f"{x:.12g}", *fixed_cell, GREEK_UNITS[name])
    console.print(table)
    if outside is not None:
        console.print(f"fixed point: not shown, the inputs are outside its domain ({escape(outside)})", soft_wrap=True)


def _fixed_point_greeks(spot: float, strike: float, t: float, rate: float, vol: float, call: bool,
                        carry: float) -> tuple[dict[str, float] | None, str | None]:
    """The fixed-point reference's outputs, or None and the reason the inputs are outside its domain."""
    from engine import fixed as fx

    outside = fx.in_fixed_domain(spot, strike, t, rate, vol, carry)
    if outside is not None:
        return None, outside
    inputs = {"spot": spot, "strike": strike, "t": t, "rate": rate, "vol": vol, "carry": carry}
    s, k, tt, r, v, q = (fx.to_fixed(x, name) for name, x in inputs.items())
    f = fx.bsm_fixed(s, k, tt, r, v, call, carry=q)
    return {name: fx.from_fixed(getattr(f, name)) for name in FIXED_POINT_FIELDS}, None


IV_JSON_KEYS = (
    "JSON keys (--json): options, a list of one object per option (per CSV row, in order): {row, price, spot, "
    "strike, t, rate, carry, type, implied_vol}; implied_vol is a number, 0 for a price on the lower bound "
    "(intrinsic value), or the string \"inf\" for one on the upper bound."
)


@app.command(cls=NumericArgsCommand, epilog=IV_JSON_KEYS)
def iv(
    option_price: float | None = typer.Argument(None, metavar="PRICE", show_default=False,
                                                help="option price (> 0), in the currency of spot"),
    spot: float | None = typer.Argument(None, help=SPOT_HELP, show_default=False),
    strike: float | None = typer.Argument(None, help=STRIKE_HELP, show_default=False),
    t: float | None = typer.Option(None, "--t", help="time to expiry in years (required for one option)",
                                   show_default=False),
    rate: float = typer.Option(0.0, "--rate", help=RATE_HELP),
    carry: float = typer.Option(0.0, "--carry", help=CARRY_HELP),
    call: bool = typer.Option(True, "--call/--put", help=CALL_HELP),
    csv_file: Path | None = typer.Option(
        None, "--csv", exists=True, dir_okay=False, readable=True, show_default=False,
        help="CSV file of options, header price,spot,strike,t,rate,type and optionally carry "
             "(type: call, put, C or P); replaces PRICE SPOT STRIKE and the options above"),
    out: Path | None = typer.Option(None, "--out", dir_okay=False, show_default=False,
                                    help="with --csv: also write the rows and their implied_vol to this CSV file"),
    as_json: bool = typer.Option(False, "--json", help=JSON_KEYS_HELP),
) -> None:
    """Implied volatility (generalized BSM) of one option price, or of every row of a CSV file.

    A price on the lower bound (intrinsic value) gives 0, one on the upper bound gives inf.
    """
    import numpy as np

    from engine.implied_vol import implied_vol
    from solver.iv_csv import OptionRows, implied_vols, read_option_rows

    single = (option_price, spot, strike)
    if csv_file is not None:
        if any(x is not None for x in single) or t is not None:
            fail("give either PRICE SPOT STRIKE --t ... or --csv FILE, not both")
        rows = read_option_rows(csv_file)
        vols = implied_vols(rows)
    else:
        if any(x is None for x in single):
            fail("give PRICE SPOT STRIKE (and --t) for one option, or --csv FILE")
        if t is None:
            fail("--t (time to expiry in years) is required for one option")
        if out is not None:
            fail("--out writes the rows of --csv FILE; with one option, use --json")
        # The engine's own message names the refused field (no CSV row to locate).
        vol = implied_vol(option_price, spot, strike, t, rate, call, carry=carry)
        rows = OptionRows(np.array([0]), *(np.array([x], dtype=np.float64) for x in (*single, t, rate, carry)),
                          np.array([call]))
        vols = np.array([vol])
    records = [
        {"row": i + 1, "price": float(rows.price[i]), "spot": float(rows.spot[i]), "strike": float(rows.strike[i]),
         "t": float(rows.t[i]), "rate": float(rows.rate[i]), "carry": float(rows.carry[i]),
         "type": "call" if rows.is_call[i] else "put", "implied_vol": json_number(float(vols[i]))}
        for i in range(len(rows))
    ]
    if out is not None:
        _write_csv(out, records)
    if as_json:
        print_json({"options": records})
        return
    if csv_file is None:
        console.print(f"implied vol {float(vols[0]):.12g} ({vols[0]:.4%})")
        return
    shown = records[:_IV_ROWS_SHOWN]
    table = Table(title=f"Implied volatility of {csv_file} ({len(records)} options)")
    for col in ("row", "type", "price", "spot", "strike", "t", "rate", "carry", "implied vol"):
        table.add_column(col, justify="right")
    for r in shown:
        table.add_row(str(r["row"]), r["type"], *(f"{r[k]:.10g}" for k in ("price", "spot", "strike", "t", "rate")),
                      f"{r['carry']:.10g}", str(r["implied_vol"]) if r["implied_vol"] == "inf"
                      else f"{r['implied_vol']:.10g}")
    console.print(table)
    if len(records) > len(shown):
        console.print(f"showing the first {len(shown)} of {len(records)} rows; --out FILE or --json gives all")
    if out is not None:
        console.print(f"wrote {len(records)} rows to {out}")


_IV_ROWS_SHOWN = 50


def _write_csv(path: Path, records: list[dict]) -> None:
    import csv

    try:
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(records[0]))
            writer.writeheader()
            writer.writerows(records)
    except OSError as err:
        fail(f"--out {path}: cannot write ({err.strerror})")


DEMO_JSON_KEYS = (
    "JSON keys (--json): chain {spot, rows: a list of {expiry_days, strike, type, vol, float_price, fixed_price, "
    "abs_diff, delta, gamma, vega}, worst_error_over_spot, float_us_per_option, fixed_us_per_option}; batch: null "
    "with --no-prove, else {mode (lookup: Groth16 with a commitment, development keys), quotes, constraints (the "
    "mode's), bits_constraints, lookup_constraints (the same batch in each mode), other_mode_seconds (building it "
    "in the other mode), public_inputs, backend, devnet, witness_seconds, setup_seconds, key_reused, "
    "development_keys, prove_seconds, verify_seconds, proof_bytes, submit_calldata_bytes, gas {step: gas used}, "
    "fast_path_seconds, onchain_quotes: a list "
    "of {strike, type, bid, ask}, filled_premium, fills_proven, book_commitment, mark, worst_loss, life: the vault's "
    "whole life {steps: a list of {what, gas}, decimals, deposits, redeemed, premiums, payoffs, settlement_price, "
    "unclaimed_dust}}: the second batch is proven over the vault's book including the first batch's fill."
)


@app.command(epilog=DEMO_JSON_KEYS)
def demo(
    spot: float = typer.Option(95_000.0, help="underlying price (USD) of the priced chain"),
    quotes: int = typer.Option(4, min=1, help="quotes in the proven batch"),
    prove: bool = typer.Option(True, help="also prove a batch and settle it on a local devnet"),
    as_json: bool = typer.Option(False, "--json", help=JSON_KEYS_HELP + "; progress goes to stderr"),
    log: Optional[Path] = typer.Option(None, help="also append the progress lines to this plain log file"),
) -> None:
    """The main job: price a chain, prove a batch of quotes and its risk check, settle it on a devnet.

    Float64 and fixed-point prices of a chain; proof, Python and devnet verification, vault submission, a fill.
    """
    from solver.demo import price_chain, run_proven_batch

    report = price_chain(spot)
    n = len(report.rows)
    if not as_json:
        _print_chain(report)
    batch = None
    if prove:
        # Plain stamped lines on stderr (and the log): they read the same on a terminal and in a file.
        batch = run_proven_batch(quotes, progress=ProgressLines(sys.stderr, log))
        if not as_json:
            _print_batch(batch)
    if as_json:
        chain = {
            "spot": report.spot,
            "rows": [{"expiry_days": r.expiry_days, "strike": r.strike, "type": "call" if r.is_call else "put",
                      "vol": r.vol, "float_price": r.float_price, "fixed_price": r.fixed_price, "abs_diff": r.error,
                      "delta": r.delta, "gamma": r.gamma, "vega": r.vega} for r in report.rows],
            "worst_error_over_spot": report.worst_error_over_spot,
            "float_us_per_option": report.float_seconds / n * 1e6,
            "fixed_us_per_option": report.fixed_seconds / n * 1e6,
        }
        batch_json = None
        if batch is not None:
            batch_json = dataclasses.asdict(batch)
            batch_json["onchain_quotes"] = [
                {"strike": k, "type": "call" if c else "put", "bid": bid, "ask": ask}
                for k, c, bid, ask in batch.onchain_quotes
            ]
        print_json({"chain": chain, "batch": batch_json})


def _print_chain(report) -> None:
    table = Table(title=f"Option chain, spot {report.spot:,.0f}: float64 fast path vs fixed point (2^-48)")
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


def _print_batch(batch) -> None:
    quotes_table = Table(title=f"Proven quotes accepted by QuoteVault ({batch.devnet})")
    for col in ("strike", "type", "bid", "ask"):
        quotes_table.add_column(col, justify="right")
    for strike, is_call, bid, ask in batch.onchain_quotes:
        quotes_table.add_row(f"{strike:,.0f}", "call" if is_call else "put", f"{bid:,.4f}", f"{ask:,.4f}")
    console.print(quotes_table)
    lookup = batch.mode == "lookup"
    costs = Table(title=f"Cost of one proven batch: {batch.quotes} quote(s) + the vault's book and its worst case, "
                        f"{batch.mode} mode" + (" (Groth16 with a commitment)" if lookup else " (plain Groth16)"))
    costs.add_column("measure")
    costs.add_column("value", justify="right")
    other = "bits" if lookup else "lookup"
    for name, value in (
        (f"constraints, {batch.mode} mode (proven)", f"{batch.constraints:,}"),
        (f"constraints, {other} mode (the same batch, built in {batch.other_mode_seconds:.1f} s)",
         f"{batch.bits_constraints if lookup else batch.lookup_constraints:,}"),
        ("public inputs (packed" + (", then the challenge)" if lookup else ")"), f"{batch.public_inputs}"),
        ("witness generation", f"{batch.witness_seconds:.2f} s"),
        (f"Groth16 keys ({batch.backend} backend, "
         + ("DEVELOPMENT keys: the commitment key's sigma is no ceremony's, devnets only" if lookup
            else "development key") + "): "
         + ("the saved key, loaded" if batch.key_reused else "setup, key saved for the next run"),
         f"{batch.setup_seconds:.1f} s"),
        ("prove", f"{batch.prove_seconds:.2f} s"),
        ("verify (Python)", f"{batch.verify_seconds:.2f} s"),
        ("proof size" + (" (A, B, C, commitment D, proof of knowledge P)" if lookup else ""),
         f"{batch.proof_bytes} bytes"),
        ("submit calldata (first batch)", f"{batch.submit_calldata_bytes:,} bytes"),
        *((f"gas: {name}", f"{used:,}") for name, used in batch.gas.items()),
        ("premium paid for 1 contract", f"{batch.filled_premium:,.2f} tUSD"),
        ("second batch: fills of the first proven into the vault's book", f"{batch.fills_proven}"),
        ("second batch: proven mark of the vault's book", f"{batch.mark:,.2f}"),
        ("second batch: proven worst-case loss, quotes filled", f"{batch.worst_loss:,.2f}"),
        ("float64 path, same quotes (no proof)", f"{batch.fast_path_seconds * 1e6:.0f} us"),
    ):
        costs.add_row(name, value)
    console.print(costs)
    if batch.life is not None:
        _print_life(batch.life)


def _print_life(life) -> None:
    table = Table(title="The vault's whole life (solver/vault_life.py): each step and its gas")
    table.add_column("step")
    table.add_column("gas", justify="right")
    for step in life.steps:
        table.add_row(step.what, f"{step.gas:,}")
    console.print(table)
    unit = 10**life.decimals
    console.print(f"premiums {life.premiums / unit:,.2f} - payoffs {sum(life.payoffs) / unit:,.2f}; LPs redeemed "
                  + ", ".join(f"{r / unit:,.2f} for {d / unit:,.0f}" for r, d in zip(life.redeemed, life.deposits)))


@app.command()
def serve(
    config: Path | None = typer.Option(None, help="TOML settings file (also $DLPE_CONFIG); see docs/operator.md"),
    host: str | None = typer.Option(None, help="address to listen on (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="port to listen on (default 8000)"),
    rpc_url: str | None = typer.Option(None, "--rpc-url", help="the operator's node; default: start a local anvil"),
    feed: str | None = typer.Option(None, help="market data: simulator (default), replay or deribit"),
    deribit_url: str | None = typer.Option(None, "--deribit-url", help="Deribit's websocket API (for --feed deribit)"),
    workers: str | None = typer.Option(None, help="a Dask scheduler (tcp://HOST:PORT) to prove on; default: local processes"),
) -> None:
    """Run the solver: feed -> pipeline -> quotes, batches proven and submitted in the background,
    an HTTP/websocket API (OpenAPI at /docs). Settings: docs/operator.md."""
    from pydantic import ValidationError

    from solver.service.config import load_settings
    from solver.service.server import serve as run_server

    try:
        settings = load_settings(config, host=host, port=port, rpc_url=rpc_url, feed=feed, deribit_url=deribit_url,
                                 workers=workers)
    except (ValidationError, ValueError, FileNotFoundError) as error:
        fail(f"settings: {error}")
    run_server(settings)


register_toolchain(app)  # ceremony, setup, prove, verify, export, deploy, submit, devnet (solver.cli_toolchain)
register_bench(app)  # bench: the research sweep (solver.cli_bench)
register_circuit_info(app)  # circuit-info, bits or lookup mode (solver.cli_circuit_info)
# Commands of the packages above solver (study's `simulate`) register themselves through the
# `dlpe.commands` entry points (pyproject.toml), so that solver imports nothing from them.
for _command in entry_points(group="dlpe.commands"):
    _command.load()(app)


if __name__ == "__main__":
    app()
