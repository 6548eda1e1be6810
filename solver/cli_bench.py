"""`dlpe bench`: the research sweep (solver.research_sweep) from the command line.

It measures N = 1, 4, 16, 64 quotes (--quick: 1 and 4; --quotes to choose) in both circuit
modes (bits and lookup; --modes to choose), each N and mode in a fresh process, writes
sweep.json, sweep.md and sweep.png to --out, prints the table, and shows stamped progress
lines on stderr throughout (solver.progress.ProgressLines).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from solver.cli_base import fail, print_json

BENCH_EPILOG = (
    "Example: dlpe bench --quick --out bench/ (N = 1 and 4 in both modes, a few minutes on two cores); "
    "dlpe bench --modes lookup (or --modes bits --modes lookup, or --modes bits,lookup). Every key is a development "
    "key (lookup mode: the commitment key's sigma is no ceremony's). JSON keys (--json): sweep (full, quick or "
    "custom), modes, reps, keys (a line per mode on its keys), machine, rows (one per N and mode: quotes, mode, "
    "constraints, public_inputs, witness_s, setup_s, prove_s, prove_all_s, verify_s, proof_bytes, peak_rss_mib, "
    "fixed_error, fixed_error_over_spot, float_s, backend, key_setup, verify_gas, proof_over_float), "
    "files {json, markdown, png}."
)


def bench(
    out: Path = typer.Option(Path("bench"), "--out", file_okay=False, help="folder for sweep.json, sweep.md, sweep.png"),
    quick: bool = typer.Option(False, "--quick", help="N = 1 and 4, one timed proof each (under 5 minutes on 2 cores)"),
    modes: Optional[list[str]] = typer.Option(
        None, "--modes", show_default=False,
        help="circuit modes: bits, lookup (repeat the option or separate by commas; default both)",
    ),
    quotes: Optional[list[int]] = typer.Option(
        None, "--quotes", show_default=False, help="the N to measure (repeat the option); replaces the default sizes"
    ),
    reps: Optional[int] = typer.Option(
        None, "--reps", show_default=False,
        help="timed proofs per N and mode, the fastest reported (default 3; --quick: 1)",
    ),
    gas: bool = typer.Option(True, "--gas/--no-gas",
                             help="charge one verifyProof transaction per N and mode on a devnet"),
    log: Optional[Path] = typer.Option(None, "--log", dir_okay=False, show_default=False,
                                       help="also append the progress lines to this file"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON document on stdout instead of the table"),
) -> None:
    """What proving N quotes costs against quoting them without a proof (the research sweep).

    For each N and circuit mode: constraints, witness time, setup, prove, verify (Python and gas), proof size,
    peak memory, the fixed-point error, and the float64 path's latency for the same N quotes.
    """
    from solver.progress import ProgressLines
    from solver.research_sweep import (
        FULL_SIZES,
        MODES,
        QUICK_SIZES,
        SweepError,
        check_modes,
        key_notes,
        markdown_table,
        run_sweep,
        write_results,
    )

    sizes = tuple(quotes) if quotes else (QUICK_SIZES if quick else FULL_SIZES)
    if any(n < 1 for n in sizes):
        fail(f"--quotes must be at least 1, got {min(sizes)}")
    reps = reps if reps is not None else (1 if quick else 3)
    if reps < 1:
        fail(f"--reps must be at least 1, got {reps}")
    chosen = tuple(m.strip() for value in modes for m in value.split(",")) if modes else MODES
    try:
        check_modes(chosen)
    except SweepError as error:
        fail(f"--modes: {error}")
    progress = ProgressLines(sys.stderr, log_file=log)
    progress.line(f"dlpe bench: N = {', '.join(map(str, sizes))} in {' and '.join(chosen)} mode, {reps} timed "
                  f"proof(s) each, results to {out}; every key is a development setup's, never saved")
    rows = run_sweep(sizes, reps, progress, modes=chosen, gas=gas, log_file=log)
    sweep = "quick" if quick and not quotes else ("custom" if quotes else "full")
    paths = write_results(rows, out, sweep, reps)
    for note in key_notes(rows):
        progress.line(note)
    progress.line(f"wrote {', '.join(str(p) for p in paths.values())}")
    if as_json:
        import json

        document = json.loads(paths["json"].read_text())
        print_json(document | {"files": {kind: str(path) for kind, path in paths.items()}})
        return
    typer.echo(markdown_table(rows), nl=False)


def register(app: typer.Typer) -> None:
    """Add `dlpe bench` to the app."""
    app.command("bench", epilog=BENCH_EPILOG)(bench)
