"""Exports are safe to open in a spreadsheet, and only their owner can read them.

Real processes and real files: `hubdesk export`, `hubdesk report`, `hubdesk-central export`
and the central SQLite file a new service makes.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubdesk.domain.models import Contact, Person
from hubdesk.domain.spreadsheet import FORMULA_STARTS, csv_text, records_csv, safe_cell
from hubdesk.store.store import Store

POSIX = os.name == "posix"
FORMULA_NAME = '=HYPERLINK("http://evil.example","Click")'
FORMULA_SUMMARY = "@SUM(1+1)*cmd|' /C calc'!A0"
SRC = Path(__file__).resolve().parents[1] / "src"
SYNC = Path(__file__).resolve().parents[1] / "sync"


def run(program: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    full_env |= {"HUBDESK_KDF_PROFILE": "fast", "HUBDESK_PASSPHRASE": "correct horse battery"} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", program, *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_live_formula(text: str) -> None:
    for cell in cells(text):
        assert not cell.startswith(FORMULA_STARTS) or re.fullmatch(r"[+-]?[\d.]+", cell), cell


# --- the helper ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


def test_plain_text_numbers_and_non_strings_are_left_alone() -> None:
    for value in ("Gas top-up", "", "O'Neill", "-12.50", "+3", "42", 7, None, 1.5):
        assert safe_cell(value) == value
    assert safe_cell("-1+2") == "'-1+2"
    assert safe_cell("+44 7700 900123") == "'+44 7700 900123"


def test_csv_text_and_records_csv_make_every_cell_safe() -> None:
    text = csv_text([["=1+1", 3, "@x"]], ["-h", "ok", "c"])
    assert cells(text) == ["'-h", "ok", "c", "'=1+1", "3", "'@x"]
    text = records_csv([{"a": "=x", "b": ["=y"]}, {"c": "\tz"}])
    assert cells(text) == ["a", "b", "c", "'=x", '["=y"]', "", "", "", "'\tz"]


def test_one_helper_for_every_csv_the_project_writes() -> None:
    """No module but the helper builds CSV itself: a new export cannot forget the escaping."""
    writers = []
    for root in (SRC, SYNC):
        for path in root.rglob("*.py"):
            if path.name == "spreadsheet.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"csv\.(writer|DictWriter)\(|def _csv_cell", text):
                writers.append(str(path.relative_to(root)))
    assert writers == []


# --- the desk -------------------------------------------------------------------------------------


@pytest.fixture
def planted(store: Store, data_dir: Path) -> Path:
    """A person whose name, and a contact whose summary, would run as formulas."""
    person = store.add_person(
        Person(first_name="Zeb", last_name=FORMULA_NAME, date_of_birth="2006-11-25", hub_code="DEW")
    )
    store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="phone",
            recorded_by="sam",
            started_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
            recorded_at=datetime(2026, 11, 23, 10, 5, tzinfo=UTC),
            seen=False,
            purposes=("money",),
            summary=FORMULA_SUMMARY,
        )
    )
    store.lock()
    return data_dir


def test_desk_export_is_spreadsheet_safe_0600_and_never_overwrites(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "people.csv"
    out.parent.mkdir()
    desk = ("hubdesk", "export", "--data-dir", str(planted), "--user", "sam", "--format", "csv")
    made = run(*desk, "--what", "people", "--output", str(out))
    assert made.returncode == 0, made.stderr
    text = out.read_text(encoding="utf-8")
    assert "'" + FORMULA_NAME.replace('"', '""') in text
    assert_no_live_formula(text)
    if POSIX:
        assert mode(out) == 0o600
    one_line_error(run(*desk, "--what", "people", "--output", str(out)), "already exists", "--force")
    assert out.read_text(encoding="utf-8") == text
    out.write_text("old", encoding="utf-8")
    again = run(*desk, "--what", "contacts", "--output", str(out), "--force")
    assert again.returncode == 0, again.stderr
    replaced = out.read_text(encoding="utf-8")
    assert "'" + FORMULA_SUMMARY.replace('"', '""') in replaced
    assert_no_live_formula(replaced)
    if POSIX:
        assert mode(out) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["people.csv"]  # no temp file left behind
    # And to stdout: the same escaping.
    shown = run(*desk, "--what", "people")
    assert shown.returncode == 0 and "'" + FORMULA_NAME.replace('"', '""') in shown.stdout


def test_desk_reports_are_spreadsheet_safe_and_take_force(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "in-touch.csv"
    report = (
        "hubdesk",
        "report",
        "in-touch",
        "--data-dir",
        str(planted),
        "--user",
        "sam",
        "--date",
        "2026-11-24",
        "--format",
        "csv",
        "--output",
        str(out),
    )
    assert run(*report).returncode == 0
    assert_no_live_formula(out.read_text(encoding="utf-8"))
    assert FORMULA_NAME.replace('"', '""') in out.read_text(encoding="utf-8")  # in "Zeb =HYPERLINK...": text
    one_line_error(run(*report), "already exists")
    assert run(*report, "--force").returncode == 0
    if POSIX:
        assert mode(out) == 0o600


# --- the central record service --------------------------------------------------------------------

CASELOAD = (
    "case_id,first_name,last_name,date_of_birth,hub_code\n"
    f'KC-1,Ada,"{FORMULA_NAME.replace(chr(34), chr(34) * 2)}",2005-01-02,DEW\n'
    "KC-2,Bo,-Minus,2005-01-03,N11\n"
)


@pytest.fixture
def central_db(tmp_path: Path) -> Path:
    db = tmp_path / "central" / "records" / "central.db"
    caseload = tmp_path / "caseload.csv"
    caseload.write_text(CASELOAD, encoding="utf-8")
    loaded = run("hubcentral.cli", "--db", str(db), "caseload", "load", str(caseload))
    assert loaded.returncode == 0, loaded.stderr
    return db


def test_central_database_file_and_folder_are_private(central_db: Path) -> None:
    if not POSIX:
        pytest.skip("POSIX file modes")
    assert mode(central_db.parent) == 0o700
    for path in central_db.parent.iterdir():  # the database, and its WAL and shared-memory files
        assert mode(path) == 0o600, path.name


def test_central_export_accepts_the_desks_words(central_db: Path, tmp_path: Path) -> None:
    for word, kind in (("people", "person"), ("contacts", "contact"), ("payments", "payment"), ("sessions", "session")):
        by_word = run("hubcentral.cli", "--db", str(central_db), "export", "--what", word)
        by_kind = run("hubcentral.cli", "--db", str(central_db), "export", "--what", kind)
        assert by_word.returncode == 0 and by_kind.returncode == 0, by_word.stderr + by_kind.stderr
        assert by_word.stdout == by_kind.stdout
    people = run("hubcentral.cli", "--db", str(central_db), "export", "--what", "people", "--format", "csv")
    assert people.returncode == 0
    assert len(list(csv.DictReader(io.StringIO(people.stdout)))) == 2
    assert_no_live_formula(people.stdout)
    assert "'-Minus" in people.stdout


@pytest.mark.parametrize("what", ["contactz", "peoples", "everything"])
def test_central_export_refuses_an_unknown_kind(central_db: Path, tmp_path: Path, what: str) -> None:
    out = tmp_path / "x.json"
    result = run("hubcentral.cli", "--db", str(central_db), "export", "--what", what, "--out", str(out))
    one_line_error(result, f"'{what}' is not a kind of record", "people, contacts, payments, sessions")
    assert result.returncode == 2
    assert not out.exists()


def test_central_export_file_is_0600_and_never_overwritten_without_force(central_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "people.csv"
    args = ("hubcentral.cli", "--db", str(central_db), "export", "--what", "people", "--format", "csv", "--out")
    made = run(*args, str(out))
    assert made.returncode == 0, made.stderr
    first = out.read_text(encoding="utf-8")
    assert "'" + FORMULA_NAME.replace('"', '""') in first
    if POSIX:
        assert mode(out) == 0o600
    refused = run(*args, str(out))
    one_line_error(refused, "already exists", "--force")
    assert out.read_text(encoding="utf-8") == first
    out.chmod(0o644)
    forced = run(*args, str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.read_text(encoding="utf-8") == first
    if POSIX:
        assert mode(out) == 0o600
