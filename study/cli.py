"""`dlpe simulate`: the study's command, registered on the `dlpe` app through the `dlpe.commands`
entry point (pyproject.toml), since study sits above solver and solver imports nothing from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from solver.cli_base import JSON_KEYS_HELP, fail, print_json
from solver.paths import data_dir

console = Console(width=max(Console().width, 120))  # as solver.cli's: tables stay readable in logs


SIMULATE_JSON_KEYS = (
    "JSON keys (--json): seed, minutes, out (the folder written), files (a list of paths), run_seconds, dlpe and "
    "static_amm {lp_pnl, spread_capture, adverse_selection_loss, adverse_selection_loss_informed, hedging_cost, "
    "max_drawdown, trades, informed_trades, option_volume, hedge_volume, quoting_share, final_net_delta, "
    "final_net_vega_per_point}, breaker_pauses, regime_detection_accuracy; amounts in USD."
)


def simulate(
    seed: int = typer.Option(1, help="seed of the simulated day (market, traders, feeds)"),
    minutes: int = typer.Option(1440, min=1, help="length of the simulated market in minutes (one step a minute)"),
    out: Path | None = typer.Option(
        None, "--out", file_okay=False, show_default=False,
        help="folder for the plots and summary tables (default: dlpe/simulation/seed-SEED in the XDG data "
             "folder, ~/.local/share unless XDG_DATA_HOME is set)"),
    as_json: bool = typer.Option(False, "--json", help=JSON_KEYS_HELP + "; progress goes to stderr"),
) -> None:
    """Simulate a day of market making: the DLPE against a static AMM-style quoter (plots + summary in OUT)."""
    from rich.progress import Progress  # the study's imports load only when it runs: `dlpe` starts fast

    from study.backtest import StudyConfig, run_study

    out = out if out is not None else data_dir() / "simulation" / f"seed-{seed}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        fail(f"--out {out}: cannot create the folder ({err.strerror})")
    config = StudyConfig()
    config = dataclasses.replace(config, market=dataclasses.replace(config.market, n_steps=minutes))
    with Progress(console=Console(stderr=True) if as_json else console) as progress:
        task = progress.add_task("quoting, trading, hedging", total=2 * (config.market.n_steps + 1))
        result = run_study(seed, out, config, progress=lambda n: progress.advance(task, n))
    if as_json:
        print_json({
            "seed": seed, "minutes": minutes, "out": str(out.resolve()), "files": [str(p) for p in result.files],
            "run_seconds": result.run_seconds,
            "dlpe": dataclasses.asdict(result.dlpe), "static_amm": dataclasses.asdict(result.amm),
            "breaker_pauses": result.breaker_pauses, "regime_detection_accuracy": result.regime_detection_accuracy,
        })
        return
    table = Table(title=f"Simulated market, seed {seed}, {minutes} minutes: DLPE vs static AMM")
    for col in ("metric", "DLPE", "static AMM"):
        table.add_column(col, justify="right")
    for label, key in (
        ("LP PnL (USD)", "lp_pnl"), ("spread capture (USD)", "spread_capture"),
        ("adverse-selection loss (USD)", "adverse_selection_loss"), ("hedging cost (USD)", "hedging_cost"),
        ("max drawdown (USD)", "max_drawdown"),
    ):
        table.add_row(label, f"{getattr(result.dlpe, key):,.0f}", f"{getattr(result.amm, key):,.0f}")
    table.add_row("trades (informed)", f"{result.dlpe.trades} ({result.dlpe.informed_trades})",
                  f"{result.amm.trades} ({result.amm.informed_trades})")
    console.print(table)
    console.print(f"breaker pauses {result.breaker_pauses}, regime accuracy {result.regime_detection_accuracy:.1%}, "
                  f"{result.run_seconds:.1f} s")
    console.print(f"wrote {len(result.files)} files to {escape(str(out.resolve()))}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `simulate` to the `dlpe` app."""
    app.command(epilog=SIMULATE_JSON_KEYS)(simulate)
