"""Plumbing of the `dlpe` command line: one-line errors, negative numbers as values, JSON output.

- `DlpeGroup` runs every command so that bad input ends with exit status 2 and one
  line on stderr (`error: <message>`), never a traceback: the typed errors of the
  engine, circuits and prover, and the usage errors of the parser alike. Failures of
  the environment (devnet, solc, snarkjs) end with status 1 and one line.
- `NumericArgsCommand` lets positional arguments be negative numbers: the parser
  would otherwise read `-95000` as the short options `-9 -5 ...` and answer
  "No such option: -9" instead of the engine's message about the value.
- `json_number` / `print_json`: strict JSON (no NaN/Infinity literals), infinities
  written as the strings "inf" / "-inf".
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.20 vendors click; older releases use the click package
    from typer._click.exceptions import ClickException
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import ClickException

# Typed errors that mean "the input is wrong": exit status 2. Looked up among the
# modules already imported, so that the CLI does not import the prover or web3 just
# to name their errors (an error cannot come from a module that was never imported).
INPUT_ERRORS = (
    ("engine.errors", "DLPEError"),  # engine and circuits
    ("prover.errors", "ProverError"),
    ("bn254.iden3", "Iden3FormatError"),
    ("bn254.curve", "InvalidPoint"),
    ("bn254.r1cs", "InvalidWitness"),
)
# Typed errors that mean "the environment failed" (devnet, compiler, peer tool): exit status 1.
ENVIRONMENT_ERRORS = (
    ("verifier_contracts.devnet", "DevnetError"),
    ("verifier_contracts.build", "SolidityCompileError"),
    ("verifier_contracts.snarkjs", "SnarkjsError"),
    ("verifier_contracts.client", "TransactionFailed"),
    ("verifier_contracts.client", "ContractReverted"),
)

BAD_INPUT_EXIT = 2
ENVIRONMENT_EXIT = 1


JSON_HELP = "print one JSON document on stdout instead of text"
JSON_KEYS_HELP = JSON_HELP + " (its keys: below)"


def _loaded_classes(names: Sequence[tuple[str, str]]) -> tuple[type[BaseException], ...]:
    found = []
    for module, name in names:
        if module in sys.modules and isinstance(cls := getattr(sys.modules[module], name, None), type):
            found.append(cls)
    return tuple(found)


def one_line(message: str) -> str:
    """The message with its whitespace runs (newlines included) collapsed to single spaces."""
    return " ".join(message.split())


def fail(message: str) -> NoReturn:
    """End the command on bad input: one line on stderr, exit status 2."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(BAD_INPUT_EXIT)


class DlpeGroup(TyperGroup):
    """The `dlpe` command group: every error a user can cause ends in one line on stderr."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            # standalone_mode=False: the parser's errors and the commands' exceptions come
            # back here instead of being printed as a panel or a traceback.
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as err:
            # NoArgsIsHelpError carries the help text, which typer has already printed.
            if type(err).__name__ != "NoArgsIsHelpError":
                ctx = getattr(err, "ctx", None)
                hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                typer.echo(f"error: {one_line(err.format_message())}{hint}", err=True)
            sys.exit(err.exit_code)
        except Exception as err:
            if isinstance(err, _loaded_classes(INPUT_ERRORS)):
                code = BAD_INPUT_EXIT
            elif isinstance(err, _loaded_classes(ENVIRONMENT_ERRORS)):
                code = ENVIRONMENT_EXIT
            else:
                raise  # a bug, not bad input: its traceback is wanted
            typer.echo(f"error: {one_line(str(err))}", err=True)
            sys.exit(code)
        # With standalone_mode=False typer returns the exit code of typer.Exit, or the
        # command's return value (None for every dlpe command).
        sys.exit(result if isinstance(result, int) else 0)


_NEGATIVE_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|-(inf|infinity|nan)", re.IGNORECASE)


def positionals_last(args: list[str], value_options: set[str]) -> list[str]:
    """Reorder a command line as OPTIONS -- POSITIONALS, negative numbers counted as positionals.

    `value_options` are the option names that take a value: the token after one of
    them is its value whatever it looks like (`--rate -0.05`).
    """
    options: list[str] = []
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            positionals.extend(args[i + 1:])
            break
        if arg == "-" or not arg.startswith("-") or _NEGATIVE_NUMBER.fullmatch(arg):
            positionals.append(arg)
        else:
            options.append(arg)
            if arg in value_options and i + 1 < len(args):
                i += 1
                options.append(args[i])
        i += 1
    return [*options, "--", *positionals]


class NumericArgsCommand(TyperCommand):
    """A command whose positional arguments may be negative numbers (see the module docstring)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        value_options = {
            name
            for param in self.get_params(ctx)
            if param.param_type_name == "option" and not param.is_flag and not param.count
            for name in (*param.opts, *param.secondary_opts)
        }
        return super().parse_args(ctx, positionals_last(list(args), value_options))


def read_book_request(path: Path):
    """The book batch request in the JSON file `path` (solver.service.store's format), or exit 2 with one line."""
    from engine.errors import DLPEError
    from solver.service.store import request_from_json

    try:
        return request_from_json(path.read_text())
    except OSError as error:
        fail(f"cannot read the request {path}: {error.strerror}")
    except (ValueError, TypeError, KeyError, DLPEError) as error:
        fail(f"{path} is not a book batch request: {error}")


def json_number(x: float) -> float | str:
    """A float for strict JSON: finite values as numbers, infinities as "inf" / "-inf"."""
    if math.isnan(x):
        raise ValueError("NaN has no JSON form here; the engine never returns it unasked")
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def print_json(payload: Any) -> None:
    """Write one JSON document on stdout (strict: json.dumps refuses NaN and inf)."""
    typer.echo(json.dumps(payload, indent=2, allow_nan=False))


