"""`dlpe bench`: the research sweep on one quote end to end (bounded: N = 1, one timed proof), its table and
its fixed-point error; the full sweep is a benchmark, never a test."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from solver.cli import app
from solver.research_sweep import SweepRow, fixed_point_error, markdown_table
from solver.samples import sample_batch_request

WIDE = {"COLUMNS": "240"}


def _row(quotes: int, **changes) -> SweepRow:
    values = dict(
        quotes=quotes, constraints=20_000 * quotes, public_inputs=3, witness_s=0.5, setup_s=2.0, prove_s=1.5,
        prove_all_s=[1.5], verify_s=0.2, proof_bytes=256, peak_rss_mib=300.0, fixed_error=1e-10,
        fixed_error_over_spot=1e-15, float_s=0.0005, backend="fast", verify_gas=262_000,
    )
    return SweepRow(**(values | changes))


def test_markdown_table_has_one_row_per_n_and_the_ratio():
    table = markdown_table([_row(1), _row(4, verify_gas=None)]).splitlines()
    assert len(table) == 4 and table[0].count("|") == table[1].count("|") == table[2].count("|")
    assert table[2].startswith("| 1 | 20,000 |") and "| 262,000 |" in table[2] and table[2].endswith("| 3,000x |")
    assert "| - |" in table[3]  # no gas measured


def test_fixed_point_error_is_small_but_measured():
    error, over_spot = fixed_point_error(sample_batch_request(4))
    assert 0 < over_spot < 1e-9 and error == pytest.approx(over_spot * 95_000.0)


@pytest.mark.parametrize("args, message", [(["--quotes", "0"], "--quotes"), (["--reps", "0"], "--reps")])
def test_bad_sizes_are_refused(tmp_path, args, message):
    result = CliRunner().invoke(app, ["bench", "--out", str(tmp_path), *args], env=WIDE)
    assert result.exit_code == 2 and message in result.stderr
    assert not list(tmp_path.iterdir())


def test_bench_on_one_quote_writes_json_markdown_and_plot(tmp_path, capfd):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(app, ["bench", "--quotes", "1", "--reps", "1", "--out", str(out), "--json"], env=WIDE)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["mode"] == "custom" and document["reps"] == 1
    (row,) = document["rows"]
    assert row["quotes"] == 1 and row["constraints"] > 20_000 and row["proof_bytes"] == 256
    assert 0 < row["float_s"] < row["prove_s"] < 60 and row["proof_over_float"] > 1
    assert 0 < row["witness_s"] and 0 < row["setup_s"] and 0 < row["verify_s"] and row["peak_rss_mib"] > 100
    assert 0 < row["fixed_error_over_spot"] < 1e-9
    assert 181_000 < row["verify_gas"] < 400_000  # above the pairing floor of the precompiles
    child = capfd.readouterr().err  # the measuring process writes to the file descriptor itself
    assert "1 quote(s): setup:" in child and "1 quote(s): proving" in child
    assert "measuring 1 quote(s)" in result.stderr and "gas: starting" in result.stderr
    assert json.loads((out / "sweep.json").read_text())["rows"] == document["rows"]
    assert (out / "sweep.md").read_text().splitlines()[2].startswith("| 1 |")
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
