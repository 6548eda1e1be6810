"""The `dlpe` command line as its users drive it: exit codes, one-line errors, JSON keys.

Nothing here proves: demo runs with --no-prove, simulate over a few minutes of market.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import math
import re
from importlib.metadata import version as package_version
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from engine.bsm import Greeks, bsm_greeks, bsm_price
from solver.cli import GREEK_UNITS, app
from solver.cli_base import ENVIRONMENT_ERRORS, INPUT_ERRORS, DlpeGroup, positionals_last

WIDE = {"COLUMNS": "240"}  # help text on one line per paragraph, so that no word is cut


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={**WIDE, **(env or {})})


def run_json(*args: str, env: dict[str, str] | None = None) -> dict:
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result, exit_code: int = 2) -> str:
    """The result failed with `exit_code` and exactly one line `error: ...` on stderr; returns the line."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr.strip()


# Objects whose keys are data (gadget names, devnet steps), not part of the documented layout.
DATA_MAPS = ("gadgets", "gas")


def keys(payload: object) -> set[str]:
    """Every key of a JSON document, at any depth (list items included), except inside DATA_MAPS."""
    if isinstance(payload, dict):
        return set(payload) | {k for name, v in payload.items() if name not in DATA_MAPS for k in keys(v)}
    if isinstance(payload, list):
        return {k for v in payload for k in keys(v)}
    return set()


# ---------------------------------------------------------------- dlpe price


@pytest.mark.parametrize(
    ("spot", "strike", "extra", "field"),
    [
        ("95000", "100000", ("--vol", "100"), "vol"),
        ("1e12", "1e12", ("--vol", "0.6"), "spot"),
        ("1e18", "1e18", ("--vol", "0.6"), "spot"),  # beyond the fixed-point number range itself
        ("2e-5", "2e-5", ("--vol", "0.6"), "spot"),
        ("95000", "1", ("--vol", "0.6"), "strike"),
        ("95000", "100000", ("--vol", "0.6", "--rate", "5"), "rate"),
    ],
)
def test_price_accepts_the_float_domain_and_says_why_fixed_point_is_missing(spot, strike, extra, field):
    payload = run_json("price", spot, strike, "--t", "0.25", *extra)
    g = payload["float64"]
    assert all(math.isfinite(x) for x in g.values())
    assert g["price"] == pytest.approx(bsm_price(float(spot), float(strike), 0.25, payload["inputs"]["rate"],
                                                 payload["inputs"]["vol"], True), rel=1e-12, abs=0)
    assert payload["fixed_point"] is None
    assert payload["fixed_point_outside_domain"].startswith(f"{field}:")

    result = run("price", spot, strike, "--t", "0.25", *extra)
    assert result.exit_code == 0, result.stderr
    assert "fixed point (2^-48)" not in result.stdout
    notes = [line for line in result.stdout.splitlines() if "outside its domain" in line]
    assert len(notes) == 1 and f"({field}:" in notes[0]


def test_price_shows_fixed_point_beside_float64_inside_its_domain():
    payload = run_json("price", "95000", "100000", "--t", "0.25", "--vol", "0.6", "--rate", "0.04")
    assert payload["fixed_point_outside_domain"] is None
    fixed, g = payload["fixed_point"], payload["float64"]
    assert set(fixed) == {"price", "delta", "gamma", "vega"}
    assert fixed["price"] == pytest.approx(g["price"], abs=1e-8 * 95000)
    assert fixed["delta"] == pytest.approx(g["delta"], abs=1e-9)
    result = run("price", "95000", "100000", "--t", "0.25", "--vol", "0.6", "--rate", "0.04")
    assert result.exit_code == 0 and "fixed point (2^-48)" in result.stdout
    assert "outside its domain" not in result.stdout


def test_price_shows_every_greek_the_engine_computes_with_its_unit():
    names = [f.name for f in dataclasses.fields(Greeks)]
    assert set(GREEK_UNITS) == set(names)
    payload = run_json("price", "49", "50", "--t", "0.3846", "--vol", "0.2", "--rate", "0.05")
    expected = bsm_greeks(49.0, 50.0, 0.3846, 0.05, 0.2, True)
    assert list(payload["float64"]) == names and list(payload["units"]) == names
    for name in names:
        assert payload["float64"][name] == getattr(expected, name)
    assert payload["float64"]["theta"] == pytest.approx(-4.31, abs=0.005)  # Hull, chapter 19
    assert payload["float64"]["rho"] == pytest.approx(8.91, abs=0.005)
    table = run("price", "49", "50", "--t", "0.3846", "--vol", "0.2", "--rate", "0.05").stdout
    for name in names:
        row = next(line for line in table.splitlines() if re.search(rf"\b{name}\b", line))
        assert GREEK_UNITS[name] in row


def test_price_call_and_put_flags():
    common = ("price", "100", "95", "--t", "0.5", "--vol", "0.3", "--rate", "0.02", "--carry", "0.01")
    default, call, put = run_json(*common), run_json(*common, "--call"), run_json(*common, "--put")
    assert default == call and call["inputs"]["type"] == "call" and put["inputs"]["type"] == "put"
    assert put["float64"]["price"] == bsm_price(100.0, 95.0, 0.5, 0.02, 0.3, False, carry=0.01)
    assert call["float64"]["price"] == bsm_price(100.0, 95.0, 0.5, 0.02, 0.3, True, carry=0.01)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("price", "-95000", "100000", "--t", "1", "--vol", "0.5"), "error: spot: must be > 0 (got -95000.0)"),
        (("price", "95000", "-1e5", "--t", "1", "--vol", "0.5"), "error: strike: must be > 0 (got -100000.0)"),
        (("price", "95000", "100000", "--t", "1", "--vol", "-.5"), "error: vol: must be > 0 (got -0.5)"),
        (("price", "-inf", "100000", "--t", "1", "--vol", "0.5"), "error: spot: must be finite (got -inf)"),
        (("iv", "5", "-100", "100", "--t", "1"), "error: spot: must be > 0 (got -100.0)"),
        (("iv", "-5", "100", "100", "--t", "1"), "error: price: must be > 0 (got -5.0)"),
    ],
)
def test_negative_numbers_reach_validation(args, message):
    assert assert_one_line_error(run(*args)) == message


def test_negative_option_values_and_unknown_options_still_parse_as_options():
    payload = run_json("price", "--rate", "-0.05", "100", "--carry=-0.01", "100", "--t", "1", "--vol", "0.2")
    assert payload["inputs"]["rate"] == -0.05 and payload["inputs"]["carry"] == -0.01
    assert payload["inputs"]["spot"] == 100.0 and payload["inputs"]["strike"] == 100.0
    line = assert_one_line_error(run("price", "100", "100", "--t", "1", "--vool", "0.2"))
    assert "No such option: --vool" in line


def test_positionals_last_keeps_option_values_with_their_options():
    args = ["--rate", "-0.05", "-95000", "--put", "--t", "1", "100", "--", "-x"]
    assert positionals_last(args, {"--rate", "--t"}) == ["--rate", "-0.05", "--put", "--t", "1", "--", "-95000",
                                                         "100", "-x"]


@pytest.mark.parametrize(
    ("spot", "strike", "call", "price", "delta"),
    [
        (100_000.0, 95_000.0, True, 5_000.0, 1.0),
        (100_000.0, 95_000.0, False, 0.0, 0.0),
        (90_000.0, 95_000.0, False, 5_000.0, -1.0),
        (95_000.0, 95_000.0, True, 0.0, 0.5),
    ],
)
def test_price_at_expiry_is_intrinsic_value(spot, strike, call, price, delta):
    payload = run_json("price", str(spot), str(strike), "--t", "0", "--vol", "0.5", "--call" if call else "--put")
    g = payload["float64"]
    assert g["price"] == price and g["delta"] == delta
    assert g["gamma"] == 0.0 and g["vega"] == 0.0
    assert payload["fixed_point"] is None and payload["fixed_point_outside_domain"].startswith("t:")


# ---------------------------------------------------------------- dlpe iv


def test_iv_of_one_option_recovers_the_vol():
    for call in (True, False):
        p = bsm_price(95_000.0, 100_000.0, 0.25, 0.04, 0.6, call, carry=0.01)
        args = ("iv", repr(p), "95000", "100000", "--t", "0.25", "--rate", "0.04", "--carry", "0.01",
                "--call" if call else "--put")
        payload = run_json(*args)
        [record] = payload["options"]
        assert set(record) == {"row", "price", "spot", "strike", "t", "rate", "carry", "type", "implied_vol"}
        assert record["type"] == ("call" if call else "put")
        assert record["implied_vol"] == pytest.approx(0.6, abs=1e-12)
        result = run(*args)
        assert result.exit_code == 0 and "implied vol 0.6" in result.stdout


def test_iv_on_the_arbitrage_bounds_gives_zero_and_inf():
    # call at intrinsic (S - K, r = q = 0) -> 0; call at the upper bound S -> inf
    assert run_json("iv", "50", "100", "50", "--t", "1")["options"][0]["implied_vol"] == 0.0
    assert run_json("iv", "100", "100", "50", "--t", "1")["options"][0]["implied_vol"] == "inf"
    line = assert_one_line_error(run("iv", "101", "100", "50", "--t", "1"))
    assert line.startswith("error: price:") and "above the upper bound" in line


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_iv_of_a_csv_file(tmp_path):
    rows = [(95_000.0, 100_000.0, 0.25, 0.04, 0.01, True, 0.6), (95_000.0, 90_000.0, 0.5, 0.0, 0.0, False, 0.8),
            (10.0, 12.0, 1.0, 0.05, 0.02, True, 0.25)]
    types = ["C", "put", "Call"]
    lines = ["Strike,price,spot,t,rate,type,carry"]
    for (s, k, t, r, q, c, v), kind in zip(rows, types):
        lines.append(f"{k},{bsm_price(s, k, t, r, v, c, carry=q)!r},{s},{t},{r},{kind},{q}")
    source = write_csv(tmp_path / "options.csv", "\n".join(lines) + "\n")
    out = tmp_path / "vols.csv"
    payload = run_json("iv", "--csv", str(source), "--out", str(out))
    assert [r["row"] for r in payload["options"]] == [1, 2, 3]
    assert [r["type"] for r in payload["options"]] == ["call", "put", "call"]
    for record, row in zip(payload["options"], rows):
        assert record["implied_vol"] == pytest.approx(row[-1], abs=1e-11)
    with open(out, newline="") as f:
        written = list(csv.DictReader(f))
    assert [float(r["implied_vol"]) for r in written] == [r["implied_vol"] for r in payload["options"]]
    table = run("iv", "--csv", str(source))
    assert table.exit_code == 0 and "3 options" in table.stdout


def test_iv_csv_without_carry_column_uses_zero(tmp_path):
    p = bsm_price(100.0, 100.0, 1.0, 0.01, 0.2, False)
    source = write_csv(tmp_path / "o.csv", f"price,spot,strike,t,rate,type\n{p!r},100,100,1,0.01,P\n")
    [record] = run_json("iv", "--csv", str(source))["options"]
    assert record["carry"] == 0.0 and record["implied_vol"] == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("price,spot,strike,t,rate,type\n5,100,100,1,0,C\n5,100,abc,1,0,C\n",
         "row 2 (line 3), column 'strike': not a number (got 'abc')"),
        ("price,spot,strike,t,rate,type\n5,100,100,1,0,X\n", "row 1 (line 2), column 'type': must be call, put"),
        ("price,spot,strike,t,rate,type\n5,100,100,1,0,C\n\n5,100,-100,1,0,C\n",
         "row 2 (line 4), column 'strike': must be > 0 (got -100.0)"),
        ("price,spot,strike,t,rate,type\n5,100,100,1,0,C\n200,100,100,1,0,C\n",
         "row 2 (line 3), column 'price':"),
        ("price,spot,strike,t,rate,type\n5,100,100,nan,0,C\n", "row 1 (line 2), column 't': must be finite"),
        ("price,spot,strike,t,rate,type\n5,100,100,1,0\n", "row 1 (line 2) has 5 fields, the header 6"),
        ("price,spot,strike,t,rate,type,cary\n5,100,100,1,0,C,0\n", "unknown column(s) cary"),
        ("price,spot,t,rate,type\n5,100,1,0,C\n", "missing column(s) strike"),
        ("price,spot,strike,t,rate,type\n", "no option rows after the header"),
        ("", "empty file"),
    ],
)
def test_iv_csv_bad_rows_name_row_and_column(tmp_path, text, message):
    source = write_csv(tmp_path / "bad.csv", text)
    assert message in assert_one_line_error(run("iv", "--csv", str(source)))


def test_iv_needs_one_option_or_a_csv(tmp_path):
    source = write_csv(tmp_path / "o.csv", "price,spot,strike,t,rate,type\n5,100,100,1,0,C\n")
    assert "not both" in assert_one_line_error(run("iv", "5", "100", "100", "--csv", str(source)))
    assert "--t" in assert_one_line_error(run("iv", "5", "100", "100"))
    assert "--csv FILE" in assert_one_line_error(run("iv"))
    assert "does not exist" in assert_one_line_error(run("iv", "--csv", str(tmp_path / "missing.csv")))


# ---------------------------------------------------------------- other commands, JSON, help, version


def test_simulate_writes_outside_the_working_folder_by_default(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    data = tmp_path / "data"
    payload = run_json("simulate", "--minutes", "5", "--seed", "3", env={"XDG_DATA_HOME": str(data)})
    out = data / "dlpe" / "simulation" / "seed-3"
    assert payload["out"] == str(out.resolve()) and payload["seed"] == 3 and payload["minutes"] == 5
    assert sorted(Path(f).name for f in payload["files"]) == ["market.png", "pnl_inventory.png", "summary.json",
                                                             "summary.md"]
    assert all(Path(f).parent == out for f in payload["files"])
    assert set(payload["dlpe"]) == set(payload["static_amm"]) and "lp_pnl" in payload["dlpe"]
    assert list(work.iterdir()) == []

    chosen = tmp_path / "chosen"
    result = run("simulate", "--minutes", "5", "--out", str(chosen))
    assert result.exit_code == 0, result.stderr
    assert f"wrote 4 files to {chosen.resolve()}" in result.stdout
    assert (chosen / "summary.json").is_file() and list(work.iterdir()) == []


def test_output_paths_that_cannot_be_written_are_one_line(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = assert_one_line_error(run("simulate", "--minutes", "1", "--out", str(blocker / "sub")))
    assert line.startswith(f"error: --out {blocker / 'sub'}: cannot create the folder")
    source = write_csv(tmp_path / "o.csv", "price,spot,strike,t,rate,type\n5,100,100,1,0,C\n")
    line = assert_one_line_error(run("iv", "--csv", str(source), "--out", str(tmp_path / "missing" / "v.csv")))
    assert "cannot write" in line


def test_circuit_info_json():
    payload = run_json("circuit-info", "--quotes", "1", "--depth", "1")
    assert payload["batch"]["quotes"] == 1 and payload["batch"]["constraints"] > payload["batch"]["wires"] / 4
    assert payload["gadgets"] and all(n > 0 for n in payload["gadgets"].values())
    scopes = [p["scope"] for p in payload["profile"]]
    assert "quote[0]" in scopes and all("/" not in s for s in scopes)
    assert payload["batch"]["constraints_per_quote"] == next(
        p["constraints"] for p in payload["profile"] if p["scope"] == "quote[0]")


def test_demo_without_proof_json():
    payload = run_json("demo", "--no-prove")
    assert payload["batch"] is None
    chain = payload["chain"]
    assert chain["spot"] == 95_000.0 and len(chain["rows"]) == 35
    assert chain["worst_error_over_spot"] < 1e-9
    assert max(r["abs_diff"] for r in chain["rows"]) / chain["spot"] == chain["worst_error_over_spot"]


def test_demo_json_carries_the_proven_batch(monkeypatch):
    """The batch part of demo --json, with the proving job replaced by a fixed report (no proving here)."""
    import solver.demo

    def fake_batch(n_quotes, progress):
        progress("proving the batch at the oracle's price")
        return solver.demo.ProvenBatchReport(
            quotes=n_quotes, constraints=20_000, public_inputs=3, backend="fast", devnet="py-evm",
            witness_seconds=0.5, setup_seconds=10.0, key_reused=False, prove_seconds=3.0, verify_seconds=0.2, proof_bytes=256,
            gas={"submit": 400_000, "fill": 90_000}, fast_path_seconds=2e-5,
            onchain_quotes=[(100_000.0, True, 5_000.0, 5_100.0)], filled_premium=5_100.0,
            mode="lookup", bits_constraints=80_000, lookup_constraints=20_000)

    monkeypatch.setattr(solver.demo, "run_proven_batch", fake_batch)
    payload = run_json("demo", "--quotes", "1")
    batch = payload["batch"]
    assert batch["quotes"] == 1 and batch["gas"] == {"submit": 400_000, "fill": 90_000}
    assert (batch["mode"], batch["bits_constraints"], batch["lookup_constraints"]) == ("lookup", 80_000, 20_000)
    assert batch["onchain_quotes"] == [{"strike": 100_000.0, "type": "call", "bid": 5_000.0, "ask": 5_100.0}]
    help_text = run("demo", "--help").stdout
    for key in keys(payload):
        assert re.search(rf"\b{re.escape(key)}\b", help_text), f"demo --help does not document {key!r}"
    table = run("demo", "--quotes", "1")
    assert table.exit_code == 0 and "gas: submit" in table.stdout and "Proven quotes" in table.stdout
    assert "80,000" in table.stdout and "DEVELOPMENT keys" in table.stdout  # both modes' counts; the keys said


def test_demo_bad_spot_is_one_line():
    assert assert_one_line_error(run("demo", "--no-prove", "--spot", "-1")) == "error: spot: must be > 0 (got -1.0)"


@pytest.mark.parametrize(
    "args",
    [
        ("price", "95000", "100000", "--t", "0.25", "--vol", "0.6"),
        ("iv", "5", "100", "100", "--t", "1"),
        ("circuit-info", "--quotes", "1"),
        ("demo", "--no-prove"),
    ],
)
def test_json_keys_are_documented_in_help(args):
    help_text = run(args[0], "--help").stdout
    for key in keys(run_json(*args)):
        assert re.search(rf"\b{re.escape(key)}\b", help_text), f"{args[0]} --help does not document {key!r}"


def test_simulate_json_keys_are_documented_in_help():
    help_text = run("simulate", "--help").stdout
    summary_keys = {f.name for f in dataclasses.fields(importlib.import_module("study.backtest").StrategySummary)}
    for key in {"seed", "minutes", "out", "files", "run_seconds", "dlpe", "static_amm", "breaker_pauses",
                "regime_detection_accuracy"} | summary_keys:
        assert re.search(rf"\b{key}\b", help_text), key


def test_every_option_and_argument_has_help():
    group = get_command(app)
    commands = {"": group, **group.commands}
    for name, command in commands.items():
        for param in command.params:
            assert getattr(param, "help", None), f"dlpe {name}: {param.name} has no help text"


def test_version_comes_from_the_package_metadata():
    result = run("--version")
    assert result.exit_code == 0 and result.stdout == f"dlpe {package_version('dlpe')}\n"


def test_usage_errors_are_one_line():
    assert "'spot'" in assert_one_line_error(run("price", "abc", "1", "--t", "1", "--vol", "0.2"))
    assert "Missing option '--vol'" in assert_one_line_error(run("price", "1", "1", "--t", "1"))
    assert "No such command 'pricee'" in assert_one_line_error(run("pricee"))


# ---------------------------------------------------------------- the error wrapper itself


def test_error_classes_named_by_the_wrapper_exist():
    for module, name in INPUT_ERRORS + ENVIRONMENT_ERRORS:
        cls = getattr(importlib.import_module(module), name)
        assert isinstance(cls, type) and issubclass(cls, Exception)


def _toy_app(error: Exception) -> typer.Typer:
    toy = typer.Typer(cls=DlpeGroup)

    @toy.command()
    def fail_once() -> None:
        """Raise the given error."""
        raise error

    @toy.command()
    def other() -> None:
        """A second command, so that the toy is a group."""

    return toy


def test_wrapper_maps_typed_errors_to_exit_codes_and_lets_bugs_through():
    from prover.errors import KeyFormatError
    from verifier_contracts.devnet import DevnetError

    runner = CliRunner()
    for error, code in ((KeyFormatError("zkey: bad magic\n  at byte 0"), 2), (DevnetError("anvil did not start"), 1)):
        result = runner.invoke(_toy_app(error), ["fail-once"])
        assert_one_line_error(result, code)
        assert result.stderr == f"error: {' '.join(str(error).split())}\n"
    result = runner.invoke(_toy_app(RuntimeError("a bug")), ["fail-once"])
    assert isinstance(result.exception, RuntimeError)


def test_circuit_info_lookup_mode_prints_the_per_quote_figure():
    payload = run_json("circuit-info", "--mode", "lookup", "--quotes", "4", "--depth", "1")
    per_quote = payload["per_quote"]
    assert payload["mode"] == "lookup" and payload["per_quote_constraints"] == per_quote["per_quote_constraints"]
    assert payload["per_quote_constraints"] <= 1_500  # issue 14's goal (required: 3,000)
    batch = payload["batch"]
    assert batch["table_constraints"] == (1 << batch["limb_bits"]) + 2 == per_quote["table_constraints"]["4"]
    assert batch["constraints"] == 4 * per_quote["per_quote_constraints"] + per_quote["shared_constraints"] + \
        batch["table_constraints"]
    assert "lookup" in [p["scope"] for p in payload["profile"]]
