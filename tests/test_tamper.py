"""Tamper: damage to the database, the key slots or the audit chain is found by doctor
and reported in plain words (which page, slot or entry), never as a traceback."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubdesk.domain.models import Contact
from hubdesk.store import sqlcipher
from hubdesk.store.doctor import doctor
from hubdesk.store.store import Store, db_path, slots_path
from tests.conftest import PASSPHRASE

PAGE = 4096


def _fill(store: Store, person) -> None:
    now = datetime.now(UTC)
    for i in range(30):
        store.record_contact(
            Contact(
                person_id=person.id,
                hub_code="DEW",
                contact_type="phone",
                recorded_by="sam",
                started_at=now,
                recorded_at=now,
                seen=False,
                purposes=("money",),
                summary=f"Rang about the gas meter, call number {i} " + "x" * 200,
            )
        )
    store.record_payment(
        person_id=person.id, category="gas", amount_pence=2000, method="utility_top_up", reason="No gas since Saturday"
    )


def _checkpointed_key(store: Store) -> bytes:
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    key = bytes(store._key)
    store.lock()
    return key


def _doctor(data_dir: Path):
    return doctor(data_dir, login="sam", passphrase=PASSPHRASE)


def test_healthy_store_passes(store, person, data_dir):
    _fill(store, person)
    store.lock()
    report = _doctor(data_dir)
    assert report.ok, report.text()


@pytest.mark.parametrize("trial", range(12))
def test_flipped_byte_anywhere_in_database_is_found(store, person, data_dir, trial):
    _fill(store, person)
    _checkpointed_key(store)
    path = db_path(data_dir)
    data = bytearray(path.read_bytes())
    rng = random.Random(trial)
    offset = rng.randrange(len(data)) if trial > 1 else (20 if trial == 0 else PAGE * 2 + 7)
    data[offset] ^= 1 << rng.randrange(8)
    path.write_bytes(data)
    report = _doctor(data_dir)
    assert not report.ok
    page = offset // PAGE + 1
    assert any(f"page {page}" in p for p in report.problems), report.text()


def test_damage_on_one_page_leaves_the_rest_readable(store, person, data_dir):
    _fill(store, person)
    _checkpointed_key(store)
    path = db_path(data_dir)
    data = bytearray(path.read_bytes())
    last_page = len(data) // PAGE
    data[(last_page - 1) * PAGE + 100] ^= 0xFF
    path.write_bytes(data)
    report = _doctor(data_dir)
    assert any(f"page {last_page}" in p for p in report.problems)
    assert any("records open" in c for c in report.checked), report.text()


def test_garbage_slot_file_is_reported(store, data_dir):
    store.lock()
    slots_path(data_dir).write_bytes(b"\x00\xffnot json at all")
    report = _doctor(data_dir)
    assert not report.ok
    assert "key slot file" in report.problems[0] and "damaged" in report.problems[0]


def test_damaged_slot_is_named(store, data_dir):
    store.lock()
    path = slots_path(data_dir)
    data = json.loads(path.read_text())
    for slot in data["slots"]:
        if slot["slot_id"] == "nadia":
            wrapped = bytearray(slot["wrapped"].encode())
            wrapped[5] = ord("A") if wrapped[5] != ord("A") else ord("B")
            slot["wrapped"] = wrapped.decode()
    path.write_text(json.dumps(data))
    report = _doctor(data_dir)
    assert any("key slot for nadia is damaged" in p for p in report.problems), report.text()
    # Sam's own slot is fine, so the rest is still checked and readable.
    assert any("records open" in c for c in report.checked)


def _raw(data_dir: Path, key: bytes):
    conn = sqlcipher.connect(db_path(data_dir), key)
    for table in ("audit", "contacts"):
        conn.execute(f"DROP TRIGGER {table}_no_update")
        conn.execute(f"DROP TRIGGER {table}_no_delete")
    return conn


def test_audit_entry_edited_by_key_holder_is_found(store, person, data_dir):
    _fill(store, person)
    key = _checkpointed_key(store)
    conn = _raw(data_dir, key)
    conn.execute("UPDATE audit SET actor = 'nadia' WHERE seq = 10")
    conn.close()
    report = _doctor(data_dir)
    assert any("audit entry 10" in p and "altered" in p for p in report.problems), report.text()


def test_audit_entry_deleted_in_middle_is_found(store, person, data_dir):
    _fill(store, person)
    key = _checkpointed_key(store)
    conn = _raw(data_dir, key)
    conn.execute("DELETE FROM audit WHERE seq = 12")
    conn.close()
    report = _doctor(data_dir)
    assert any("audit entries 12 are missing" in p for p in report.problems), report.text()


def test_last_audit_entry_deleted_is_found(store, person, data_dir):
    _fill(store, person)
    key = _checkpointed_key(store)
    conn = _raw(data_dir, key)
    top = conn.execute("SELECT max(seq) FROM audit").fetchone()[0]
    conn.execute("DELETE FROM audit WHERE seq = ?", [top])
    conn.close()
    report = _doctor(data_dir)
    assert any(f"{top}-{top} are missing from the end" in p for p in report.problems), report.text()


def test_record_edited_by_key_holder_is_found(store, person, data_dir):
    _fill(store, person)
    key = _checkpointed_key(store)
    conn = _raw(data_dir, key)
    row_id, body = conn.execute("SELECT id, body FROM contacts LIMIT 1").fetchone()
    conn.execute("UPDATE contacts SET body = ? WHERE id = ?", [body.replace("gas meter", "gas  meter"), row_id])
    conn.close()
    report = _doctor(data_dir)
    assert any(f"contacts record {row_id} was changed outside hubdesk" in p for p in report.problems)


def test_doctor_on_wrong_passphrase_says_so(store, data_dir):
    store.lock()
    report = doctor(data_dir, login="sam", passphrase="not the passphrase")
    assert not report.ok and "Wrong passphrase" in report.problems[0]
