"""No test may depend on today's date: the clock-sensitive modules are run again with the
whole process's clock moved by libfaketime (Debian package `faketime`) to a winter date, to
the minute before the clocks go forward (last Sunday of March) and to a day next year.

Two end-of-day tests once built records with the wall clock and opened the desk on a clock
fixed at 25 Nov 2026, and main went red on 30 Nov. This test would have caught them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FAKETIME = shutil.which("faketime")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        FAKETIME is None and os.environ.get("CI") != "true", reason="needs libfaketime (apt-get install faketime)"
    ),
]

ROOT = Path(__file__).resolve().parent.parent

# Modules whose results turn on "today": ages and bands, the day's bounds, keeping in touch,
# weekly trends, and the end of day on the desk.
CLOCK_SENSITIVE = [
    "tests/test_rules.py",
    "tests/reports/test_day_store.py",
    "tests/reports/test_in_touch.py",
    "tests/reports/test_trends.py",
    "tests/reports/test_daily_figures.py",
]
DESK_END_OF_DAY = [
    "tests/ui/test_desk_more.py::test_end_of_day_lists_who_is_in_and_awaiting_approval",
    "tests/ui/test_desk_more.py::test_end_of_day_manager_declines_with_reason",
]

MOVED_CLOCKS = {
    "winter": "2026-12-20 10:00:00",
    # 00:59:30 UTC: the run crosses 01:00 UTC, when England's clocks go forward.
    "clocks-go-forward": "2027-03-28 00:59:30",
    "next-year": "2027-08-14 15:00:00",
}


def run_under(stamp: str, tests: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    assert FAKETIME is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    # -m: one clock for every thread. Not --exclude-monotonic: with it, time.sleep fails
    # with EINVAL under this libfaketime.
    command = [FAKETIME, "-m", stamp, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    command += ["--basetemp", str(tmp_path / "inner")]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("stamp", MOVED_CLOCKS.values(), ids=MOVED_CLOCKS.keys())
def test_clock_sensitive_modules_pass_on_another_day(stamp: str, tmp_path: Path) -> None:
    tests = CLOCK_SENSITIVE + (DESK_END_OF_DAY if stamp == MOVED_CLOCKS["clocks-go-forward"] else [])
    result = run_under(stamp, tests, tmp_path)
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
    assert result.returncode == 0, f"under faketime {stamp!r}:\n{tail}"
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1], tail


def test_faketime_really_moves_the_clock(tmp_path: Path) -> None:
    """The check above means nothing if the clock did not move."""
    assert FAKETIME is not None
    code = "import datetime; print(datetime.date.today().isoformat())"
    out = subprocess.run(
        [FAKETIME, "-m", "2027-08-14 15:00:00", sys.executable, "-c", code], capture_output=True, text=True
    )
    assert out.stdout.strip() == "2027-08-14"
