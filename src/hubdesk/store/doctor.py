"""`hubdesk doctor`: check a store without changing it, and say in plain words what is wrong.

Checks, in order: that hubdesk can write in the data folder (a read-only folder is
said to be one, and the store is then checked read-only, not called damaged); the key
slot file and each slot; that the key opens the database; every page's HMAC
(SQLCipher's cipher_integrity_check); SQLite's own integrity check; that every record,
end-of-day records included, opens as its model; the audit chain and its head; and that
every record's body still matches the hash its audit entry holds. A record pulled from
the central record points at the pull's audit entry (which names no record and holds
no body hash): it is counted as pulled, not as damage. Last, how many local audit
entries the central record does not hold yet (not anchored centrally). Each problem
names the page, slot, record (by id, never by content) or audit entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from hubdesk.domain.actions import ActionItem, ActionUpdate
from hubdesk.domain.day import (
    CashFloatEvent,
    DayClosure,
    FloatCount,
    HandoverNote,
    PaymentCarryOver,
    VoucherStockEvent,
)
from hubdesk.domain.local_offer import OfferGiven
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
from hubdesk.store.audit import AuditEntry, body_hash, chain_key, verify_chain
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
    "cash_float_events": (CashFloatEvent, "id"),
    "float_counts": (FloatCount, "id"),
    "voucher_stock": (VoucherStockEvent, "id"),
    "handover_notes": (HandoverNote, "id"),
    "payment_carry_overs": (PaymentCarryOver, "id"),
    "day_closures": (DayClosure, "id"),
    "actions": (ActionItem, "id"),
    "action_updates": (ActionUpdate, "id"),
    "offer_given": (OfferGiven, "id"),
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
    "cash_float_events": "cash_float",
    "float_counts": "float_count",
    "voucher_stock": "voucher_stock",
    "handover_notes": "handover_note",
    "payment_carry_overs": "payment_carry_over",
    "day_closures": "day_closure",
    "actions": "action",
    "action_updates": "action",
    "offer_given": "offer",
}


@dataclass
class DoctorReport:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cannot_write: str | None = None
    """Why hubdesk cannot write in the data folder (read-only): not damage, but the desk
    cannot work there until it can."""
    unanchored: int | None = None
    """Local audit entries the central record does not hold yet (None: not known)."""

    @property
    def ok(self) -> bool:
        return not self.problems and self.cannot_write is None

    def text(self) -> str:
        lines = [f"ok: {c}" for c in self.checked]
        lines += [f"note: {n}" for n in self.notes]
        if self.cannot_write:
            lines.append(f"CANNOT WRITE HERE: {self.cannot_write}")
        lines += [f"PROBLEM: {p}" for p in self.problems]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s) found.")
        elif self.cannot_write:
            lines.append(
                "Nothing found damaged (checked read-only), but hubdesk cannot write in this folder: "
                "make it writable for this user (no restore is needed)."
            )
        else:
            lines.append("The store is healthy.")
        return "\n".join(lines)


def _cannot_write(data_dir: Path) -> str | None:
    """Why hubdesk could not write its files here, or None. A read-only mount or folder is
    told apart from damage before anything is opened (SQLite reads it as 'malformed')."""
    names = [data_dir, db_path(data_dir), slots_path(data_dir)]
    for name in names:
        if name.exists() and not os.access(name, os.W_OK):
            what = "the data folder" if name == data_dir else name.name
            return f"{what} ({data_dir}) is read-only for this user, or on a read-only disk"
    try:
        stat = os.statvfs(data_dir)
    except (OSError, AttributeError):
        return None
    if stat.f_flag & getattr(os, "ST_RDONLY", 1):
        return f"the data folder ({data_dir}) is on a disk mounted read-only"
    return None


def _connect_read_only(path: Path, key: bytes | bytearray):
    """A keyed connection that writes nothing, not even the WAL's shared-memory file:
    what a read-only folder allows."""
    conn = sqlcipher.dbapi2.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True, isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(sqlcipher._key_pragma(key))
    conn.execute("PRAGMA query_only = ON")
    return conn


def doctor(
    data_dir: Path,
    *,
    login: str | None = None,
    passphrase: str | None = None,
    recovery_code: str | None = None,
) -> DoctorReport:
    report = DoctorReport()
    data_dir = Path(data_dir)
    if data_dir.is_dir():
        report.cannot_write = _cannot_write(data_dir)
        if report.cannot_write and Path(str(db_path(data_dir)) + "-wal").exists():
            report.notes.append(
                "a write-ahead log is left beside the database: changes in it are not checked until "
                "hubdesk can write here again"
            )
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

    if report.cannot_write:
        conn = _connect_read_only(db_path(data_dir), key)
    else:
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
    try:
        mac_key = chain_key(conn, key)  # kept in meta once the store was rekeyed (a user removed)
    except sqlcipher.DatabaseError:
        mac_key = b""
        report.problems.append("the audit chain's key cannot be read (damaged pages)")
    chain_problems = verify_chain(audit, mac_key, head)
    report.problems.extend(p.message for p in chain_problems)
    if not chain_problems:
        report.checked.append(f"audit chain: {len(audit):,} entries intact")

    tables = _tables(conn)
    total = pulled = 0
    for table, (model, id_col) in RECORD_TABLES.items():
        if table not in tables:
            continue  # a store made before this table's migration
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
            elif _is_pull(entry):
                # Brought by a pull from the central record: the pull's entry covers the page
                # and names no record, so there is no body hash here to compare.
                pulled += 1
            elif entry.record_id != row_id and not (
                table in ("payment_decisions", "reversals", "action_updates") and entry.body_hash == body_hash(body)
            ):
                report.problems.append(f"{label} does not match its audit entry {audit_seq}")
            elif entry.body_hash != body_hash(body):
                report.problems.append(
                    f"{label} was changed outside hubdesk (it does not match audit entry {audit_seq})"
                )
    report.checked.append(
        f"{total:,} records open and match the audit chain"
        + (f" ({pulled:,} of them pulled from the central record, covered by their pull's entry)" if pulled else "")
    )
    _anchoring(conn, tables, len(audit), report)


def _is_pull(entry: AuditEntry) -> bool:
    return entry.action == "sync" and entry.kind == "pull" and entry.record_id is None


def _tables(conn) -> set[str]:
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()}
    except sqlcipher.DatabaseError:
        return set()


def _anchoring(conn, tables: set[str], entries: int, report: DoctorReport) -> None:
    """How much of the local audit chain the central record holds (acknowledged at sync):
    entries it holds can no longer be rewritten here unseen; the rest can, by anyone who
    can unlock this store."""
    state: dict[str, str] = {}
    if "sync_state" in tables:
        try:
            state = dict(conn.execute("SELECT key, value FROM sync_state").fetchall())
        except sqlcipher.DatabaseError:
            state = {}
    try:
        acked = int(state.get("audit_acked") or 0)
    except ValueError:
        acked = 0
    report.unanchored = max(entries - acked, 0)
    if not state.get("enrolled_at"):
        report.notes.append(
            f"this desk is not enrolled with a central record service: none of its {entries:,} audit "
            "entries is anchored centrally"
        )
    else:
        report.notes.append(
            f"{report.unanchored:,} of {entries:,} local audit entries are not yet anchored centrally "
            "(the central record holds them after the next sync)"
        )


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
