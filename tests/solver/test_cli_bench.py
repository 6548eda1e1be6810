"""`dlpe bench`: the research sweep on one quote in both circuit modes end to end (bounded: N = 1, one timed
proof each, a fresh development setup each: ~0.6 s at N = 1), its table and its fixed-point error; the full
sweep is a benchmark, never a test."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from solver.cli import app
from solver.research_sweep import SweepError, SweepRow, check_modes, fixed_point_error, markdown_table, plot
from solver.samples import sample_batch_request

WIDE = {"COLUMNS": "240"}


def _row(quotes: int, **changes) -> SweepRow:
    values = dict(
        quotes=quotes, mode="bits", constraints=20_000 * quotes, public_inputs=3, witness_s=0.5, setup_s=2.0,
        prove_s=1.5, prove_all_s=[1.5], verify_s=0.2, proof_bytes=256, peak_rss_mib=300.0, fixed_error=1e-10,
        fixed_error_over_spot=1e-15, float_s=0.0005, backend="fast", key_setup="development, not for value",
        verify_gas=262_000,
    )
    return SweepRow(**(values | changes))


def test_markdown_table_has_one_row_per_n_and_mode_the_ratio_and_what_the_keys_are():
    lookup = _row(1, mode="lookup", constraints=8_000, proof_bytes=384, key_setup="development, sigma of no ceremony")
    table = markdown_table([_row(1), lookup, _row(4, verify_gas=None)]).splitlines()
    assert len(table) == 8 and table[0].count("|") == table[1].count("|") == table[2].count("|") == table[3].count("|")
    assert table[2].startswith("| 1 | bits | 20,000 |") and "| 262,000 |" in table[2]
    assert table[2].endswith("| 3,000x |")
    assert table[3].startswith("| 1 | lookup | 8,000 |") and "| 384 |" in table[3]
    assert "| - |" in table[4]  # no gas measured
    assert table[5:] == ["", "bits mode keys: development, not for value",
                         "lookup mode keys: development, sigma of no ceremony"]


@pytest.mark.parametrize("modes", [(), ("bits", "bits"), ("bits", "plonk")])
def test_check_modes_refuses_empty_repeated_and_unknown_modes(modes):
    with pytest.raises(SweepError, match="distinct values among bits, lookup"):
        check_modes(modes)


def test_fixed_point_error_is_small_but_measured():
    error, over_spot = fixed_point_error(sample_batch_request(4))
    assert 0 < over_spot < 1e-9 and error == pytest.approx(over_spot * 95_000.0)


@pytest.mark.parametrize("args, message", [
    (["--quotes", "0"], "--quotes"), (["--reps", "0"], "--reps"), (["--modes", "plonk"], "--modes: "),
    (["--modes", "bits,bits"], "got bits, bits"),  # split at the comma
])
def test_bad_sizes_are_refused(tmp_path, args, message):
    result = CliRunner().invoke(app, ["bench", "--out", str(tmp_path), *args], env=WIDE)
    assert result.exit_code == 2 and message in result.stderr
    assert not list(tmp_path.iterdir())


def test_bench_on_one_quote_in_both_modes_writes_json_markdown_and_plot(tmp_path, capfd):
    out = tmp_path / "sweep"
    log = tmp_path / "bench.log"
    result = CliRunner().invoke(
        app, ["bench", "--quotes", "1", "--reps", "1", "--out", str(out), "--log", str(log), "--json"], env=WIDE
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["sweep"] == "custom" and document["reps"] == 1 and document["modes"] == ["bits", "lookup"]
    bits, lookup = document["rows"]
    for row in (bits, lookup):
        assert row["quotes"] == 1 and "development" in row["key_setup"]
        assert 0 < row["float_s"] < row["prove_s"] < 60 and row["proof_over_float"] > 1
        assert 0 < row["witness_s"] and 0 < row["setup_s"] and 0 < row["verify_s"] and row["peak_rss_mib"] > 100
        assert 0 < row["fixed_error_over_spot"] < 1e-9
        assert 181_000 < row["verify_gas"] < 500_000  # above the pairing floor of the precompiles
    assert bits["mode"] == "bits" and bits["constraints"] > 20_000 and bits["proof_bytes"] == 256
    assert lookup["mode"] == "lookup" and lookup["constraints"] < bits["constraints"] and lookup["proof_bytes"] == 384
    assert lookup["public_inputs"] == bits["public_inputs"] + 1  # the challenge
    assert "sigma" in lookup["key_setup"] and "sigma" not in bits["key_setup"]
    assert lookup["fixed_error"] == bits["fixed_error"]  # the same fixed-point outputs, bit for bit
    assert document["keys"] == [f"bits mode keys: {bits['key_setup']}", f"lookup mode keys: {lookup['key_setup']}"]
    child = capfd.readouterr().err  # the measuring processes write to the file descriptor themselves
    for mode in ("bits", "lookup"):
        assert f"1 quote(s), {mode}: setup:" in child and f"1 quote(s), {mode}: proving" in child
        assert f"measuring 1 quote(s) in {mode} mode" in result.stderr
        assert f"1 quote(s), {mode}: deploying the verifier" in result.stderr
    assert "lookup mode keys: development" in result.stderr
    logged = log.read_text()
    assert "1 quote(s), lookup: proving" in logged and "gas: starting" in logged  # both processes' lines
    assert json.loads((out / "sweep.json").read_text())["rows"] == document["rows"]
    table = (out / "sweep.md").read_text().splitlines()
    assert table[2].startswith("| 1 | bits |") and table[3].startswith("| 1 | lookup |")
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_draws_a_sweep_of_one_mode(tmp_path):
    rows = [_row(n, mode="lookup", prove_s=0.1 * n, proof_bytes=384) for n in (1, 4)]
    plot(rows, tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
