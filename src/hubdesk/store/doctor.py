"""`hubdesk doctor`: check a store without changing it, and say in plain words what is wrong.

Checks, in order: the key slot file and each slot; that the key opens the database;
every page's HMAC (SQLCipher's cipher_integrity_check); SQLite's own integrity
check; that every record opens as its model; the audit chain and its head; and that
every record's body still matches the hash its audit entry holds. Each problem names
the page, slot, record (by id, never by content) or audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    EmergencyPayment,
    PaymentDecision,
    Person,
    Reversal,
    User,
)
from hubdesk.store import sqlcipher
from hubdesk.store.audit import AuditEntry, audit_key, body_hash, verify_chain
from hubdesk.store.errors import StoreError
from hubdesk.store.keys import RECOVERY, KeySlotFile, normalise_recovery_code
from hubdesk.store.store import db_path, slots_path

RECORD_TABLES: dict[str, tuple[type[BaseModel], str]] = {
    "users": (User, "login"),
    "people": (Person, "id"),
    "contacts": (Contact, "id"),
    "payments": (EmergencyPayment, "id"),
    "payment_decisions": (PaymentDecision, "id"),
    "reversals": (Reversal, "id"),
    "sessions": (DropInSession, "id"),
    "attendance": (Attendance, "id"),
}
KIND_OF_TABLE = {
    "users": "user",
    "people": "person",
    "contacts": "contact",
    "payments": "payment",
    "payment_decisions": "payment",
    "reversals": "payment",
    "sessions": "session",
    "attendance": "attendance",
}


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        lines = [f"ok: {c}" for c in self.checked]
        lines += [f"PROBLEM: {p}" for p in self.problems]
        lines.append("The store is healthy." if self.ok else f"{len(self.problems)} problem(s) found.")
        return "\n".join(lines)


def doctor(
    data_dir: Path,
    *,
    login: str | None = None,
    passphrase: str | None = None,
    recovery_code: str | None = None,
) -> DoctorReport:
    report = DoctorReport()
    data_dir = Path(data_dir)
    try:
        slots = KeySlotFile.load(slots_path(data_dir))
    except StoreError as exc:
        report.problems.append(str(exc))
        return report
    damaged = slots.damaged_slots()
    for slot_id in damaged:
        what = "the recovery key slot" if slot_id == RECOVERY else f"the key slot for {slot_id}"
        report.problems.append(f"{what} is damaged (its checksum does not match)")
    report.checked.append(f"key slot file: {len(slots.slots)} slot(s), {len(damaged)} damaged")
    if not db_path(data_dir).exists():
        report.problems.append("the database file is missing")
        return report

    try:
        if recovery_code is not None:
            key = slots.open(RECOVERY, normalise_recovery_code(recovery_code))
        else:
            key = slots.open((login or "").strip().lower(), (passphrase or "").encode())
    except StoreError as exc:
        report.problems.append(f"cannot check further: {exc}")
        return report

    conn = sqlcipher.connect_for_checks(db_path(data_dir), key)
    try:
        conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except sqlcipher.DatabaseError:
        conn.close()
        report.problems.append(
            "page 1 of the database does not decrypt with its key: the first page is damaged, "
            "or the key slot file is from another store. Restore from a backup."
        )
        return report
    try:
        _check_database(conn, bytes(key), slots.store_id, report)
    finally:
        conn.close()
        for i in range(len(key)):
            key[i] = 0
    return report


def _check_database(conn, key: bytes, store_id: str, report: DoctorReport) -> None:
    try:
        bad_pages = [row[0] for row in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    except sqlcipher.DatabaseError as exc:
        bad_pages = [f"the page check could not finish ({type(exc).__name__})"]
    for message in bad_pages:
        text = str(message)
        if text.startswith("HMAC verification failed for page"):
            page = text.rsplit(" ", 1)[-1]
            report.problems.append(f"page {page} of the database is damaged (its HMAC does not verify)")
        else:
            report.problems.append(f"database page check: {text}")
    if not bad_pages:
        report.checked.append("every database page verifies (HMAC)")
        try:
            result = conn.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                report.problems.append(f"SQLite integrity check reports {len(result)} problem(s)")
        except sqlcipher.DatabaseError:
            report.problems.append("SQLite integrity check could not finish: the file is malformed")

    try:
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    except sqlcipher.DatabaseError:
        report.problems.append(
            "the database's table of contents (its schema pages) is damaged: no record can be "
            "read. Restore from a backup."
        )
        return
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlcipher.DatabaseError:
        report.problems.append("the store's settings table cannot be read")
        meta = {}
    if meta.get("store_id") and meta["store_id"] != store_id:
        report.problems.append("the key slot file belongs to another store than this database")

    audit = _read_audit(conn, report)
    by_seq = {entry.seq: entry for entry in audit}
    head = None
    if "audit_head" in meta:
        seq, mac = meta["audit_head"].split(":", 1)
        head = (int(seq), mac)
    chain_problems = verify_chain(audit, audit_key(key), head)
    report.problems.extend(p.message for p in chain_problems)
    if not chain_problems:
        report.checked.append(f"audit chain: {len(audit):,} entries intact")

    total = 0
    for table, (model, id_col) in RECORD_TABLES.items():
        for row_id, body, audit_seq in _read_rows(conn, table, id_col, report):
            total += 1
            label = f"{table} record {row_id}"
            try:
                model.model_validate_json(body)
            except ValidationError:
                report.problems.append(f"{label} does not open (its content is not a valid record)")
                continue
            entry = by_seq.get(audit_seq)
            if entry is None:
                report.problems.append(f"{label} has no audit entry (entry {audit_seq} is missing)")
            elif entry.record_id != row_id and not (
                table in ("payment_decisions", "reversals") and entry.body_hash == body_hash(body)
            ):
                report.problems.append(f"{label} does not match its audit entry {audit_seq}")
            elif entry.body_hash != body_hash(body):
                report.problems.append(
                    f"{label} was changed outside hubdesk (it does not match audit entry {audit_seq})"
                )
    report.checked.append(f"{total:,} records open and match the audit chain")


def _read_audit(conn, report: DoctorReport) -> list[AuditEntry]:
    cols = "seq, at, actor, action, kind, record_id, detail, body_hash, mac"
    try:
        rows = conn.execute(f"SELECT {cols} FROM audit ORDER BY seq").fetchall()
    except sqlcipher.DatabaseError:
        report.problems.append("part of the audit chain cannot be read (damaged pages)")
        rows = _rows_one_by_one(conn, "audit", cols)
    return [AuditEntry(*row) for row in rows]


def _read_rows(conn, table: str, id_col: str, report: DoctorReport) -> list[tuple]:
    cols = f"{id_col}, body, audit_seq"
    try:
        return conn.execute(f"SELECT {cols} FROM {table}").fetchall()
    except sqlcipher.DatabaseError:
        rows = _rows_one_by_one(conn, table, cols)
        report.problems.append(f"some {table} records cannot be read (damaged pages); {len(rows):,} could be read")
        return rows


def _rows_one_by_one(conn, table: str, cols: str) -> list[tuple]:
    """Read what can be read around damaged pages, row by row."""
    try:
        top = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlcipher.DatabaseError:
        top = 1_000_000
    rows = []
    misses = 0
    for rowid in range(1, top + 1):
        try:
            row = conn.execute(f"SELECT {cols} FROM {table} WHERE rowid = ?", [rowid]).fetchone()
        except sqlcipher.DatabaseError:
            row = None
        if row is None:
            misses += 1
            if misses > 2_000:  # past the end, or a run of damage too long to walk
                break
            continue
        misses = 0
        rows.append(row)
    return rows
