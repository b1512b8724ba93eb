"""`hubdesk report daily` and `hubdesk report in-touch` as a script uses them."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hubdesk.cli import main
from hubdesk.demo import DEMO_PASSPHRASE
from hubdesk.store.store import Store


@pytest.fixture
def run(demo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    monkeypatch.setenv("HUBDESK_PASSPHRASE", DEMO_PASSPHRASE)

    def go(*args: str) -> tuple[int, str, str]:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return go


def one_line_error(err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_daily_csv_to_stdout_is_audited(run, demo):
    code, out, err = run(
        "report",
        "daily",
        "--data-dir",
        str(demo.data_dir),
        "--user",
        "sam",
        "--hub",
        "dew",
        "--date",
        "2026-03-24",
        "--format",
        "csv",
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    figures = {(r["section"], r["item"]): r for r in rows}
    assert figures[("cash float", "difference")]["amount_gbp"] == "-2.50"
    assert figures[("cash float", "difference")]["note"] == "Coins <dropped> behind the till"
    assert figures[("session children", "Stay and play 12:00-14:00")]["count"] == "3"
    assert {r["hub"] for r in rows} == {"DEW"} and {r["day"] for r in rows} == {"2026-03-24"}
    with Store.unlock(demo.data_dir, "sam", DEMO_PASSPHRASE) as store:
        last = store._rows("SELECT action, kind, detail FROM audit WHERE action = 'export' ORDER BY seq DESC LIMIT 1")
    assert last == [("export", "report", "daily DEW 2026-03-24 csv")]


def test_options_before_or_after_the_report_name(run, demo):
    code, out, err = run(
        "report", "--data-dir", str(demo.data_dir), "--user", "sam", "daily", "--date", "24/03/2026", "--format", "md"
    )
    assert code == 0, err
    assert out.startswith("# Daily summary: Dewsbury hub (DEW)") and "Tuesday 24 March 2026" in out


def test_output_file_is_new_private_and_never_inside_the_data_folder(run, demo, tmp_path: Path):
    target = tmp_path / "day.html"
    args = [
        "report",
        "daily",
        "--data-dir",
        str(demo.data_dir),
        "--user",
        "sam",
        "--date",
        "2026-03-24",
        "--format",
        "html",
        "--output",
    ]
    code, out, err = run(*args, str(target))
    assert code == 0, err and out == ""
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    code, _, err = run(*args, str(target))
    assert code == 1
    one_line_error(err, "already exists")
    code, _, err = run(*args, str(demo.data_dir / "day.html"))
    assert code == 1
    one_line_error(err, "outside the data folder")
    assert not (demo.data_dir / "day.html").exists()


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-02-30", "'2026-02-30' is not a date"),
        ("next tuesday", "'next tuesday' is not a date"),
        ("1999-12-31", "between 2000 and 2099"),
    ],
)
def test_bad_dates_get_a_plain_message(run, demo, date, message):
    code, out, err = run("report", "daily", "--data-dir", str(demo.data_dir), "--user", "sam", "--date", date)
    assert code == 2 and out == ""
    one_line_error(err, message)


def test_unknown_hub_and_bad_format(run, demo):
    code, _, err = run("report", "daily", "--data-dir", str(demo.data_dir), "--user", "sam", "--hub", "XYZ")
    assert code == 1
    one_line_error(err, "No hub with the code XYZ")
    code, _, err = run("report", "in-touch", "--data-dir", str(demo.data_dir), "--user", "sam", "--format", "html")
    assert code == 2
    one_line_error(err, "invalid choice")


def test_in_touch_filtered_by_pa_and_hub(run, demo):
    code, out, err = run(
        "report",
        "in-touch",
        "--data-dir",
        str(demo.data_dir),
        "--user",
        "sam",
        "--pa",
        "sam",
        "--hub",
        "DEW",
        "--date",
        "2026-04-03",
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["allocated_pa"] for r in rows} == {"sam"} and {r["hub"] for r in rows} == {"DEW"}
    assert "EDGE-5" in {r["case_id"] for r in rows}
    code, out, err = run(
        "report",
        "in-touch",
        "--data-dir",
        str(demo.data_dir),
        "--user",
        "sam",
        "--format",
        "md",
        "--date",
        "2026-04-03",
    )
    assert code == 0, err
    assert out.startswith("# Keeping in touch")


def test_a_real_process(demo, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    env.update(HUBDESK_PASSPHRASE=DEMO_PASSPHRASE, HUBDESK_KDF_PROFILE="fast")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubdesk",
            "report",
            "daily",
            "--data-dir",
            str(demo.data_dir),
            "--user",
            "sam",
            "--date",
            "2026-03-24",
            "--format",
            "md",
        ],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "## Cash float" in result.stdout and "£2.50 short" in result.stdout
