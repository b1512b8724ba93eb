"""No personal data in clear on disk: plant unusual strings, use the store every way a
duty day does (save, amend, reverse, search, backup, export, a killed process), then
scan every byte of every file under the data dir and of the process's open files."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hubdesk.cli import main as cli_main
from hubdesk.domain.models import Alert, Contact, ContactDetails, Person
from hubdesk.store.backup import make_backup
from hubdesk.store.store import Store, db_path
from tests.conftest import PASSPHRASE

PLANTED = {
    "first": "Quillonaxe",
    "last": "Vrabelsworth",
    "preferred": "Zorquindle",
    "address": "41 Glimmerquay Parade",
    "phone": "07700 918273",
    "alert": "Interpreter for Blorvian",
    "note": "Plinthwobble ferocity at the flat",
    "voice": "I want the marmalisk back",
    "reason": "Kettlewhisk emergency",
    "reversal": "Brimblecorn typo fix",
    "crash": "Snorkelgrist during the crash",
}


def _scan(paths: list[Path]) -> list[str]:
    needles = [v.encode() for v in PLANTED.values()] + [v.lower().encode() for v in PLANTED.values()]
    found = []
    for path in paths:
        try:
            data = path.read_bytes()
        except (OSError, PermissionError):
            continue
        for needle in needles:
            if needle in data:
                found.append(f"{path}: {needle.decode()}")
    return found


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _open_files() -> list[Path]:
    paths = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = Path(os.readlink(fd))
        except OSError:
            continue
        if target.is_file():
            paths.append(target)
    return paths


def _crash_child(data_dir: Path, person_id: str) -> None:
    pid = os.fork()
    if pid == 0:
        try:
            store = Store.unlock(data_dir, "sam", PASSPHRASE)
            now = datetime.now(UTC)
            while True:
                store.record_contact(
                    Contact(
                        person_id=person_id,
                        hub_code="DEW",
                        contact_type="phone",
                        recorded_by="sam",
                        started_at=now,
                        recorded_at=now,
                        seen=False,
                        purposes=("money",),
                        summary=PLANTED["crash"],
                    )
                )
        finally:
            os._exit(0)
    time.sleep(0.8)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to list open files")
def test_no_planted_string_reaches_disk_in_clear(store, data_dir, tmp_path, monkeypatch):
    person = store.add_person(
        Person(
            first_name=PLANTED["first"],
            last_name=PLANTED["last"],
            preferred_name=PLANTED["preferred"],
            date_of_birth=date(2005, 6, 1),
            hub_code="DEW",
            contact=ContactDetails(address=PLANTED["address"], phone=PLANTED["phone"]),
            alerts=(Alert(kind="interpreter_needed", text=PLANTED["alert"]),),
        )
    )
    now = datetime.now(UTC)
    visit = store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=now,
            recorded_at=now,
            seen=True,
            purposes=("housing",),
            summary=PLANTED["note"],
            voice=PLANTED["voice"],
        )
    )
    store.sign_out(visit.contact_id)
    store.update_person(person.model_copy(update={"preferred_name": PLANTED["preferred"] + "a"}), 1)
    payment = store.record_payment(
        person_id=person.id, category="gas", amount_pence=1500, method="utility_top_up", reason=PLANTED["reason"]
    )
    store.reverse_payment(payment.id, PLANTED["reversal"])
    assert store.search_people("quillon")[0].person_id == person.id
    (data_dir / "backups").mkdir()
    make_backup(store, data_dir / "backups" / "today.hubbak")

    # While the store is open, its WAL and the open handles must be clean too.
    assert _scan(_files_under(data_dir)) == []
    assert _scan(_open_files()) == []

    monkeypatch.setenv("HUBDESK_PASSPHRASE", PASSPHRASE)
    export = tmp_path / "outside" / "people.csv"
    export.parent.mkdir()
    assert (
        cli_main(["export", "--data-dir", str(data_dir), "--user", "sam", "--what", "people", "--output", str(export)])
        == 0
    )
    assert PLANTED["first"] in export.read_text()  # the export is the one place in clear, by request
    assert (
        cli_main(
            [
                "export",
                "--data-dir",
                str(data_dir),
                "--user",
                "sam",
                "--what",
                "people",
                "--output",
                str(data_dir / "leak.csv"),
            ]
        )
        == 1
    )  # never inside the data dir

    _crash_child(data_dir, person.id)
    store.lock()

    files = _files_under(data_dir)
    assert {p.name for p in files} >= {"hubdesk.db", "hubdesk.keys", "today.hubbak"}
    assert _scan(files) == []
    assert _scan(_open_files()) == []

    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(db_path(data_dir)).execute("SELECT * FROM sqlite_master").fetchall()
