"""Progress lines: one per step change, rate-limited within a step, the last one always shown, same text in the log."""

import io
import re

from solver.progress import ProgressLines

STAMP = re.compile(r"^\[\s*\d+\.\d s\] ")


def test_lines_are_stamped_rate_limited_and_mirrored_to_the_log(tmp_path):
    out, log = io.StringIO(), tmp_path / "run.log"
    progress = ProgressLines(out, log, interval=3600.0)
    progress("building the circuit")
    progress("setup", 0.0)
    progress("setup", 0.5)  # within the interval of the same step: not shown
    progress("setup", 1.0)  # done: always shown
    progress.sub("prove")("MSM", None)
    lines = out.getvalue().splitlines()
    assert [STAMP.sub("", line) for line in lines] == [
        "building the circuit", "setup 0%", "setup 100%", "prove: MSM"]
    assert all(STAMP.match(line) for line in lines)
    assert log.read_text().splitlines() == lines


def test_a_step_repeats_after_the_interval():
    out = io.StringIO()
    progress = ProgressLines(out, interval=0.0)
    progress("setup", 0.1)
    progress("setup", 0.2)
    assert [STAMP.sub("", line) for line in out.getvalue().splitlines()] == ["setup 10%", "setup 20%"]
