"""The central record's storage: one interface (CentralStore), two engines (SQLite, PostgreSQL).

The SQL is written once with `?` placeholders; an engine supplies connections, its
DDL spelling and its write lock. Every write takes one lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: a transaction-scoped advisory lock), so the change sequence is handed out
in commit order and a reader can never pass a change still being written.
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import BaseModel, ValidationError

from hubdesk.domain.errors import field_errors
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    EmergencyPayment,
    PaymentDecision,
    Person,
    Reversal,
)
from hubdesk.sync.protocol import (
    AuditItem,
    AuditPage,
    AuditResult,
    CentralReference,
    Change,
    ChangesPage,
    ItemResult,
    ItemStatus,
    PushItem,
    b64,
    canonical_json,
    content_hash,
)

MODELS: dict[str, type[BaseModel]] = {
    "person": Person,
    "contact": Contact,
    "payment": EmergencyPayment,
    "payment_decision": PaymentDecision,
    "reversal": Reversal,
    "session": DropInSession,
    "attendance": Attendance,
}
GENESIS = "0" * 64  # the prev_mac of a device's first audit entry (hubdesk.store.audit.GENESIS)
AUDIT_COLUMNS = "seq, at, actor, action, kind, record_id, detail, body_hash, mac, prev_mac"
AUDIT_KEYS = tuple(AUDIT_COLUMNS.split(", "))
IMMUTABLE = ("contact", "payment", "payment_decision", "reversal", "attendance")
NONCE_KEEP_SECONDS = 15 * 60


class CentralError(Exception):
    """A refusal with a message fit for the admin or the device (no personal data)."""


class EnrolmentRefused(CentralError):
    pass


class CaseloadError(CentralError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
        self.problems = problems


@dataclass(frozen=True)
class Device:
    device_id: str
    hub_code: str
    public_key: str
    label: str
    enrolled_at: str
    revoked_at: str | None
    last_seen_at: str | None


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def new_enrolment_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL, enrolled_at TEXT NOT NULL, revoked_at TEXT, last_seen_at TEXT
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash TEXT PRIMARY KEY, hub_code TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT, public_key TEXT
);
CREATE TABLE IF NOT EXISTS nonces (
    device_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX IF NOT EXISTS nonces_seen ON nonces(seen_at);
CREATE TABLE IF NOT EXISTS received (
    outbox_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, device_seq BIGINT NOT NULL,
    kind TEXT NOT NULL, record_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    status TEXT NOT NULL, code INTEGER NOT NULL, reason TEXT, acting_user TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, record_id TEXT NOT NULL, version BIGINT NOT NULL, hub_code TEXT,
    device_id TEXT NOT NULL, outbox_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    body TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (kind, record_id)
);
CREATE INDEX IF NOT EXISTS records_received ON records(kind, received_at);
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY, version BIGINT NOT NULL, case_id TEXT UNIQUE, hub_code TEXT NOT NULL,
    content_hash TEXT NOT NULL, body TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq {serial}, kind TEXT NOT NULL, record_id TEXT NOT NULL, body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conflicts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL, device_id TEXT NOT NULL,
    outbox_id TEXT NOT NULL, local_body TEXT NOT NULL, remote_body TEXT NOT NULL,
    detected_at TEXT NOT NULL, settled_at TEXT
);
CREATE TABLE IF NOT EXISTS reference (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service_keys (name TEXT PRIMARY KEY, private_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    device_id TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT, detail TEXT NOT NULL,
    body_hash TEXT NOT NULL, mac TEXT NOT NULL, prev_mac TEXT NOT NULL, acting_user TEXT NOT NULL,
    received_at TEXT NOT NULL, PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS audit_refusals (
    device_id TEXT NOT NULL, seq BIGINT NOT NULL, offered_mac TEXT NOT NULL, offered_hash TEXT NOT NULL,
    reason TEXT NOT NULL, acting_user TEXT NOT NULL, refused_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_refusals_device ON audit_refusals(device_id, seq);
"""


class Tx:
    """One transaction on one connection; `?` placeholders in every engine."""

    def __init__(self, cursor: Any, paramstyle: str) -> None:
        self._cur = cursor
        self._pg = paramstyle == "pg"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._pg:
            sql = sql.replace("?", "%s")
        return self._cur.execute(sql, list(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Many rows, one statement: psycopg pipelines them (one round trip, not one a row)."""
        if not rows:
            return
        if self._pg:
            sql = sql.replace("?", "%s")
        self._cur.executemany(sql, [list(r) for r in rows])

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        name = "sp_" + secrets.token_hex(6)
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")


class Engine:
    """Connections, DDL and the write lock for one kind of database."""

    paramstyle = "qmark"
    serial = ""
    integrity_errors: tuple[type[BaseException], ...] = ()
    name = ""

    def __init__(self) -> None:
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        self._all: list[Any] = []

    def _connect(self) -> Any:
        raise NotImplementedError

    @contextmanager
    def _borrow(self) -> Iterator[Any]:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._connect()
            self._all.append(conn)
        broken = False
        try:
            yield conn
        except BaseException:
            broken = self._is_broken(conn)
            raise
        finally:
            if broken:
                self._all.remove(conn)
                _close_quietly(conn)
            else:
                self._pool.put(conn)

    def _is_broken(self, conn: Any) -> bool:
        return False

    def transaction(self, write: bool, serial: bool = True) -> Any:
        """write: the transaction writes; serial: it also takes the one write lock that
        keeps the change sequence in commit order (not needed for nonces)."""
        raise NotImplementedError

    def lock_device(self, tx: Tx, device_id: str) -> None:
        """Serialise one device's writes that need not wait for the change sequence's lock
        (its audit entries). SQLite's BEGIN IMMEDIATE already serialises every writer."""

    def close(self) -> None:
        while self._all:
            _close_quietly(self._all.pop())
        self._pool = queue.LifoQueue()


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: S110 - closing a dead connection may fail; nothing to do
        pass


class SQLiteEngine(Engine):
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"
    integrity_errors = (sqlite3.IntegrityError,)
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=60)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 60000")
        return conn

    @contextmanager
    def transaction(self, write: bool, serial: bool = True) -> Iterator[Tx]:
        with self._borrow() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield Tx(conn.cursor(), self.paramstyle)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def __str__(self) -> str:
        return f"SQLite file {self.path}"


class PostgresEngine(Engine):
    paramstyle = "pg"
    serial = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    name = "postgresql"
    WRITE_LOCK = 7_246_012_311
    DEVICE_LOCKS = 7_246  # with hashtext(device_id): the two-key lock space, apart from WRITE_LOCK's

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg = psycopg
        self.integrity_errors = (psycopg.IntegrityError,)
        self.url = url

    def _connect(self) -> Any:
        return self._psycopg.connect(self.url, autocommit=True)

    def _is_broken(self, conn: Any) -> bool:
        return bool(conn.closed or conn.broken)

    @contextmanager
    def transaction(self, write: bool, serial: bool = True) -> Iterator[Tx]:
        with self._borrow() as conn, conn.transaction(), conn.cursor() as cur:
            if write and serial:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [self.WRITE_LOCK])
            yield Tx(cur, self.paramstyle)

    def lock_device(self, tx: Tx, device_id: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?, hashtext(?))", [self.DEVICE_LOCKS, device_id])

    def __str__(self) -> str:
        return "PostgreSQL " + re.sub(r"//[^@/]*@", "//***@", self.url)


def engine_for(db: str) -> Engine:
    """A `postgresql://` URL or a SQLite file path."""
    if db.startswith(("postgresql://", "postgres://")):
        return PostgresEngine(db)
    return SQLiteEngine(Path(db).expanduser())


FED_EVENTS = frozenset({"handover_note"})


class _Batch:
    """One push batch's view of the records it touches, and the rows it writes at the end."""

    def __init__(self, records: dict[tuple[str, str], tuple]) -> None:
        self.records = records
        self.inserts: dict[tuple[str, str], list[Any]] = {}
        self.updates: dict[tuple[str, str], list[Any]] = {}
        self.received: list[list[Any]] = []

    def put(
        self,
        key: tuple[str, str],
        version: int,
        hub: str | None,
        device_id: str,
        outbox_id: str,
        digest: str,
        body: str,
        at: str,
    ) -> None:
        held = key in self.records
        self.records[key] = (version, digest, body, hub)
        if key in self.inserts or not held:
            self.inserts[key] = [key[0], key[1], version, hub, device_id, outbox_id, digest, body, at]
        else:
            self.updates[key] = [version, hub, device_id, outbox_id, digest, body, at, key[0], key[1]]

    def flush(self, tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO records(kind, record_id, version, hub_code, device_id, outbox_id, content_hash, body, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(self.inserts.values()),
        )
        # A handover note is for the next duty at its hub, whichever desk they unlock:
        # it goes into the change feed that every desk pulls.
        tx.executemany(
            "INSERT INTO changes(kind, record_id, body, at) VALUES (?, ?, ?, ?)",
            [[row[0], row[1], row[7], row[8]] for row in self.inserts.values() if row[0] in FED_EVENTS],
        )
        tx.executemany(
            "UPDATE records SET version = ?, hub_code = ?, device_id = ?, outbox_id = ?, content_hash = ?, "
            "body = ?, received_at = ? WHERE kind = ? AND record_id = ?",
            list(self.updates.values()),
        )
        tx.executemany(
            "INSERT INTO received(outbox_id, device_id, device_seq, kind, record_id, content_hash, status, code, "
            "reason, acting_user, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.received,
        )


class CentralStore:
    """Everything the service keeps: devices, received outbox items, records, caseload,
    reference data and the change feed devices pull."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.init_schema()

    @classmethod
    def open(cls, db: str) -> CentralStore:
        return cls(engine_for(db))

    def close(self) -> None:
        self.engine.close()

    def init_schema(self) -> None:
        ddl = SCHEMA.replace("{serial}", self.engine.serial)
        with self.engine.transaction(write=True) as tx:
            for statement in ddl.split(";"):
                if statement.strip():
                    tx.execute(statement)

    # --- devices and enrolment --------------------------------------------------------

    def bundle_key(self) -> X25519PrivateKey:
        """The service's key that offline bundles are sealed to; made on first use."""
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO service_keys(name, private_key) VALUES ('bundle', ?) ON CONFLICT(name) DO NOTHING",
                [X25519PrivateKey.generate().private_bytes_raw().hex()],
            )
            row = tx.one("SELECT private_key FROM service_keys WHERE name = 'bundle'")
        assert row is not None
        return X25519PrivateKey.from_private_bytes(bytes.fromhex(row[0]))

    def database_id(self) -> str:
        """A random id made with this database: a restored or replaced one is told apart."""
        if getattr(self, "_database_id", None) is None:
            with self.engine.transaction(write=True) as tx:
                tx.execute(
                    "INSERT INTO service_keys(name, private_key) VALUES ('database_id', ?) "
                    "ON CONFLICT(name) DO NOTHING",
                    [uuid7()],
                )
                row = tx.one("SELECT private_key FROM service_keys WHERE name = 'database_id'")
            assert row is not None
            self._database_id: str | None = row[0]
        assert self._database_id is not None
        return self._database_id

    def bundle_public_key(self) -> str:
        return b64(self.bundle_key().public_key().public_bytes_raw())

    def make_enrolment_code(self, hub_code: str, expires_at: datetime, now: datetime) -> str:
        code = new_enrolment_code()
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO enrolment_codes(code_hash, hub_code, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [_hash_code(code), hub_code, iso(now), iso(expires_at)],
            )
        return code

    def enrol(self, code: str, device_id: str, hub_code: str, public_key: str, label: str, now: datetime) -> Device:
        """Use a one-time code. Sending the same enrolment again (a lost answer) is safe."""
        with self.engine.transaction(write=True) as tx:
            row = tx.one(
                "SELECT hub_code, expires_at, used_at, device_id, public_key FROM enrolment_codes WHERE code_hash = ?",
                [_hash_code(code)],
            )
            if row is None:
                raise EnrolmentRefused("That enrolment code is not known; ask the central admin for a new one")
            code_hub, expires_at, used_at, used_by, used_key = row
            if used_at is not None:
                if used_by == device_id and used_key == public_key:
                    device = self._device(tx, device_id)
                    assert device is not None
                    return device
                raise EnrolmentRefused("That enrolment code has already been used")
            if expires_at < iso(now):
                raise EnrolmentRefused("That enrolment code has expired; ask the central admin for a new one")
            if code_hub != hub_code:
                raise EnrolmentRefused(f"That enrolment code is for hub {code_hub}, not {hub_code}")
            if self._device(tx, device_id) is not None:
                raise EnrolmentRefused("A device with this id is already enrolled")
            if tx.one("SELECT 1 FROM devices WHERE public_key = ?", [public_key]):
                raise EnrolmentRefused("This device key is already enrolled")
            tx.execute(
                "INSERT INTO devices(device_id, hub_code, public_key, label, enrolled_at) VALUES (?, ?, ?, ?, ?)",
                [device_id, hub_code, public_key, label, iso(now)],
            )
            tx.execute(
                "UPDATE enrolment_codes SET used_at = ?, device_id = ?, public_key = ? WHERE code_hash = ?",
                [iso(now), device_id, public_key, _hash_code(code)],
            )
            device = self._device(tx, device_id)
            assert device is not None
            return device

    def _device(self, tx: Tx, device_id: str) -> Device | None:
        row = tx.one(
            "SELECT device_id, hub_code, public_key, label, enrolled_at, revoked_at, last_seen_at "
            "FROM devices WHERE device_id = ?",
            [device_id],
        )
        return Device(*row) if row else None

    def device(self, device_id: str) -> Device | None:
        with self.engine.transaction(write=False) as tx:
            return self._device(tx, device_id)

    def devices(self) -> list[Device]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                "SELECT device_id, hub_code, public_key, label, enrolled_at, revoked_at, last_seen_at "
                "FROM devices ORDER BY enrolled_at"
            )
        return [Device(*r) for r in rows]

    def revoke(self, device_id: str, now: datetime) -> bool:
        with self.engine.transaction(write=True) as tx:
            if self._device(tx, device_id) is None:
                return False
            tx.execute(
                "UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                [iso(now), device_id],
            )
        return True

    def use_nonce(self, device_id: str, nonce: str, now: datetime) -> bool:
        """Remember a nonce; False if this device has used it before (a replay)."""
        t = int(now.timestamp())
        try:
            with self.engine.transaction(write=True, serial=False) as tx:
                tx.execute("DELETE FROM nonces WHERE seen_at < ?", [t - NONCE_KEEP_SECONDS])
                tx.execute("INSERT INTO nonces(device_id, nonce, seen_at) VALUES (?, ?, ?)", [device_id, nonce, t])
                tx.execute("UPDATE devices SET last_seen_at = ? WHERE device_id = ?", [iso(now), device_id])
        except self.engine.integrity_errors:
            return False
        return True

    # --- reference data and caseload --------------------------------------------------

    def set_reference(self, reference: CentralReference, now: datetime) -> int:
        body = reference.model_dump(mode="json")
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO reference(key, body, updated_at) VALUES ('current', ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                [canonical_json(body), iso(now)],
            )
            return self._change(tx, "reference", "reference", body, now)

    def reference(self) -> CentralReference | None:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT body FROM reference WHERE key = 'current'")
        return CentralReference.model_validate_json(row[0]) if row else None

    def active_user(self, login: str) -> bool:
        ref = self.reference()
        if ref is None:
            return False
        return any(u.login == login and u.active for u in ref.users)

    def load_caseload(self, people: list[dict[str, Any]], now: datetime) -> tuple[int, int, int]:
        """Upsert people keyed by case_id, all in one transaction. Returns (new, changed, same)."""
        new = changed = same = 0
        with self.engine.transaction(write=True) as tx:
            for data in people:
                row = tx.one("SELECT id, version, body FROM people WHERE case_id = ?", [data["case_id"]])
                if row is None:
                    person = Person.model_validate({**data, "id": uuid7(), "version": 1})
                    self._put_person(tx, person.model_dump(mode="json"), now)
                    new += 1
                    continue
                current = json.loads(row[2])
                merged = {**current, **data, "id": row[0], "version": row[1]}
                person = Person.model_validate(merged)
                if person.model_dump(mode="json") == Person.model_validate(current).model_dump(mode="json"):
                    same += 1
                    continue
                person = Person.model_validate({**merged, "version": row[1] + 1})
                self._put_person(tx, person.model_dump(mode="json"), now)
                changed += 1
        return new, changed, same

    def person_by_case_id(self, case_id: str) -> dict[str, Any] | None:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT body FROM people WHERE case_id = ?", [case_id])
        return json.loads(row[0]) if row else None

    def _put_person(self, tx: Tx, body: dict[str, Any], now: datetime) -> int:
        tx.execute(
            "INSERT INTO people(id, version, case_id, hub_code, content_hash, body, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
            "case_id = excluded.case_id, hub_code = excluded.hub_code, content_hash = excluded.content_hash, "
            "body = excluded.body, updated_at = excluded.updated_at",
            [
                body["id"],
                body["version"],
                body.get("case_id"),
                body["hub_code"],
                content_hash("person", body["id"], body),
                canonical_json(body),
                iso(now),
            ],
        )
        return self._change(tx, "person", body["id"], body, now)

    def _change(self, tx: Tx, kind: str, record_id: str, body: dict[str, Any], now: datetime) -> int:
        row = tx.one(
            "INSERT INTO changes(kind, record_id, body, at) VALUES (?, ?, ?, ?) RETURNING seq",
            [kind, record_id, canonical_json(body), iso(now)],
        )
        assert row is not None
        return int(row[0])

    # --- the change feed ----------------------------------------------------------------

    def head(self) -> int:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT max(seq) FROM changes")
        return int(row[0] or 0) if row else 0

    def changes(self, since: int, limit: int) -> ChangesPage:
        with self.engine.transaction(write=False) as tx:
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
            reset = since > head
            if reset:
                since = 0
            rows = tx.all(
                "SELECT seq, kind, record_id, body FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [since, limit + 1],
            )
        more = len(rows) > limit
        rows = rows[:limit]
        changes = [Change(seq=r[0], kind=r[1], record_id=r[2], body=json.loads(r[3])) for r in rows]
        cursor = changes[-1].seq if changes else since
        return ChangesPage(changes=changes, cursor=cursor, more=more, reset=reset, database_id=self.database_id())

    # --- push ---------------------------------------------------------------------------

    def push(self, device: Device, user: str, items: list[PushItem], now: datetime) -> tuple[list[ItemResult], int]:
        """Apply a batch: each outbox id at most once, whatever is resent or sent at once.

        A batch costs a handful of round trips, not a few per item: what is already held
        (receipts, records and the parents of decisions and attendance) is read at once,
        and the new records and receipts are written together at the end (psycopg
        pipelines executemany). Persons still go one by one (their case id can clash)."""
        results: list[ItemResult] = []
        conflicted: set[tuple[str, str]] = set()
        with self.engine.transaction(write=True) as tx:
            seen = self._received(tx, [item.id for item in items])
            batch = _Batch(self._held_records(tx, items))
            for item in items:
                follows = (item.kind, item.record_id) in conflicted
                # Built on an edit of this batch that conflicted: it conflicts too.
                result = self._push_one(tx, device, user, item, now, seen, batch, follows_conflict=follows)
                if result.status is ItemStatus.CONFLICT:
                    conflicted.add((item.kind, item.record_id))
                results.append(result)
            batch.flush(tx)
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
        return results, head

    def _received(self, tx: Tx, ids: list[str]) -> dict[str, tuple]:
        """What of these outbox ids was received before: one query per batch, not per item."""
        found: dict[str, tuple] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in tx.all(
                f"SELECT outbox_id, content_hash, device_id, status, code, reason FROM received "
                f"WHERE outbox_id IN ({marks})",
                chunk,
            ):
                found[row[0]] = tuple(row[1:])
        return found

    def _held_records(self, tx: Tx, items: list[PushItem]) -> dict[tuple[str, str], tuple]:
        """The records a batch touches, and the payments and sessions its decisions and
        attendance hang on, read at once: (kind, id) -> (version, content_hash, body, hub)."""
        wanted: set[tuple[str, str]] = set()
        for item in items:
            if item.kind == "person":
                continue
            wanted.add((item.kind, item.record_id))
            for parent_kind, field in (("payment", "payment_id"), ("session", "session_id")):
                parent = item.body.get(field)
                if isinstance(parent, str) and item.kind in ("payment_decision", "attendance"):
                    wanted.add((parent_kind, parent))
        ids = sorted({record_id for _, record_id in wanted})
        found: dict[tuple[str, str], tuple] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in tx.all(
                f"SELECT kind, record_id, version, content_hash, body, hub_code FROM records "
                f"WHERE record_id IN ({marks})",
                chunk,
            ):
                if (row[0], row[1]) in wanted:
                    found[(row[0], row[1])] = tuple(row[2:])
        return found

    def _push_one(
        self,
        tx: Tx,
        device: Device,
        user: str,
        item: PushItem,
        now: datetime,
        received: dict[str, tuple],
        batch: _Batch,
        follows_conflict: bool = False,
    ) -> ItemResult:
        digest = content_hash(item.kind, item.record_id, item.body)
        seen = received.get(item.id)
        if seen is not None:
            if seen[0] != digest or seen[1] != device.device_id:
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.REJECTED,
                    code=409,
                    reason="This outbox id was already received with different content",
                )
            if seen[2] == ItemStatus.REJECTED:
                return ItemResult(id=item.id, status=ItemStatus.REJECTED, code=seen[3], reason=seen[4])
            if seen[2] == ItemStatus.CONFLICT:
                # The device may not have heard the first answer: tell it again, with both sides.
                row = tx.one("SELECT remote_body FROM conflicts WHERE outbox_id = ?", [item.id])
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.CONFLICT,
                    code=409,
                    reason=seen[4],
                    remote=json.loads(row[0]) if row else None,
                )
            return ItemResult(id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason=f"first answered {seen[2]}")
        # Only a person can break a constraint after the checks made under the write lock
        # (its case_id is unique); a savepoint costs two round trips, so only persons pay.
        guard = tx.savepoint() if item.kind == "person" else nullcontext()
        try:
            with guard:
                if follows_conflict:
                    if item.kind == "person":
                        row = tx.one("SELECT body FROM people WHERE id = ?", [item.record_id])
                        remote = json.loads(row[0]) if row else {}
                    else:
                        held = batch.records.get((item.kind, item.record_id))
                        remote = json.loads(held[2]) if held else {}
                    result = self._conflict(tx, device, item, remote, now)
                else:
                    result = self._apply(tx, device, item, digest, now, batch)
        except self.engine.integrity_errors:
            result = ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=409,
                reason="The record clashes with one already held (a duplicate id or receipt number)",
            )
        batch.received.append(
            [
                item.id,
                device.device_id,
                item.seq,
                item.kind,
                item.record_id,
                digest,
                result.status.value,
                result.code,
                result.reason,
                user,
                iso(now),
            ]
        )
        # The same id twice in one batch: the second is answered like a resend.
        received[item.id] = (digest, device.device_id, result.status.value, result.code, result.reason)
        return result

    def _apply(self, tx: Tx, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        model = MODELS.get(item.kind)
        if model is None:
            return self._apply_event(device, item, digest, now, batch)
        try:
            record = model.model_validate(item.body)
        except ValidationError as exc:
            fields = "; ".join(f"{k or 'record'}: {v}" for k, v in field_errors(exc).items())
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason=f"Not a valid {item.kind}: {fields}"
            )
        if getattr(record, "id", None) != item.record_id:
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason="record_id does not match the record's id"
            )
        hub = getattr(record, "hub_code", None)
        if hub is None and item.kind in ("payment_decision", "attendance"):
            parent_key = (
                ("payment", record.payment_id) if item.kind == "payment_decision" else ("session", record.session_id)  # type: ignore[attr-defined]
            )
            parent = batch.records.get(parent_key)
            hub = parent[3] if parent else None
        if item.kind != "person" and hub is not None and hub != device.hub_code:
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=403,
                reason=f"The record is for hub {hub}; this device is enrolled at {device.hub_code}",
            )
        if item.kind == "person":
            return self._apply_person(tx, device, item, digest, now)
        version = int(getattr(record, "version", 1))
        key = (item.kind, item.record_id)
        row = batch.records.get(key)
        if row is not None:
            if row[1] == digest:
                return ItemResult(
                    id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held"
                )
            if item.kind in IMMUTABLE:
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.REJECTED,
                    code=409,
                    reason="A different record with this id is already held",
                )
            if version <= row[0]:
                return self._conflict(tx, device, item, json.loads(row[2]), now)
        batch.put(key, version, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now))
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def _apply_event(self, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        """A kind this service has no model for: kept as an immutable event, hub checked."""
        if item.body.get("id") != item.record_id:
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason="record_id does not match the record's id"
            )
        hub = item.body.get("hub_code")
        if hub is not None and hub != device.hub_code:
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=403,
                reason=f"The record is for hub {hub}; this device is enrolled at {device.hub_code}",
            )
        key = (item.kind, item.record_id)
        row = batch.records.get(key)
        if row is not None:
            if row[1] == digest:
                return ItemResult(
                    id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held"
                )
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=409,
                reason="A different record with this id is already held",
            )
        batch.put(key, 1, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now))
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def kinds(self) -> list[str]:
        """Every kind of record held, for export."""
        with self.engine.transaction(write=False) as tx:
            held = [r[0] for r in tx.all("SELECT DISTINCT kind FROM records ORDER BY kind")]
        return sorted({*held, *MODELS})

    def _apply_person(self, tx: Tx, device: Device, item: PushItem, digest: str, now: datetime) -> ItemResult:
        """A person edit is accepted only on top of the version it was made against."""
        version = int(item.body.get("version", 1))
        row = tx.one("SELECT version, content_hash, body FROM people WHERE id = ?", [item.record_id])
        if row is None or row[0] == version - 1:
            self._put_person(tx, item.body, now)
            return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)
        if row[1] == digest:
            return ItemResult(id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held")
        return self._conflict(tx, device, item, json.loads(row[2]), now)

    def _conflict(self, tx: Tx, device: Device, item: PushItem, remote: dict[str, Any], now: datetime) -> ItemResult:
        tx.execute(
            "INSERT INTO conflicts(id, kind, record_id, device_id, outbox_id, local_body, remote_body, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                uuid7(),
                item.kind,
                item.record_id,
                device.device_id,
                item.id,
                canonical_json(item.body),
                canonical_json(remote),
                iso(now),
            ],
        )
        return ItemResult(
            id=item.id,
            status=ItemStatus.CONFLICT,
            code=409,
            reason=f"Edited against an old version; the central record has version {remote.get('version')}. "
            "Both sides are kept for a person to settle.",
            remote=remote,
        )

    def import_bundle(self, data: bytes, now: datetime) -> dict[str, int]:
        """Apply an offline bundle with the push rules: importing it twice changes nothing."""
        from hubdesk.sync.bundle import BundleError, envelope, open_sealed
        from hubdesk.sync.protocol import MAX_BATCH, unb64

        env = envelope(data)
        device = self.device(env.device_id)
        if device is None:
            raise BundleError("The bundle is from a device this service has not enrolled")
        if device.revoked_at is not None:
            raise BundleError("The bundle is from a revoked device: refused")
        content = open_sealed(env, device_public_key=unb64(device.public_key), service_key=self.bundle_key())
        if content.hub_code != device.hub_code:
            raise BundleError(f"The device is enrolled at hub {device.hub_code}, not {content.hub_code}: refused")
        if not self.active_user(env.user):
            raise BundleError(f"User {env.user} is not an active user in the central reference data")
        tally = {status.value: 0 for status in ItemStatus}
        for start in range(0, len(content.items), MAX_BATCH):
            results, _ = self.push(device, env.user, content.items[start : start + MAX_BATCH], now)
            for result in results:
                tally[result.status.value] += 1
        return tally

    # --- the devices' audit chains ------------------------------------------------------

    def push_audit(
        self, device: Device, user: str, items: list[AuditItem], now: datetime
    ) -> tuple[list[AuditResult], int]:
        """Hold a device's audit entries: each (device, seq) at most once, in seq order with
        no gap, each continuing the chain already held (its prev_mac is the MAC held for the
        entry before). An entry that differs from the copy held, or does not continue it, is
        refused and the refusal kept for `hubdesk-central audit verify`. Returns the answers
        and the last seq held (the service holds 1..held)."""
        results: list[AuditResult] = []
        new_rows: list[list[Any]] = []
        refused: list[tuple[AuditItem, str]] = []
        dev = device.device_id
        # The audit chains are not in the change feed: one device's lock, not everyone's.
        with self.engine.transaction(write=True, serial=False) as tx:
            self.engine.lock_device(tx, dev)
            row = tx.one("SELECT max(seq) FROM audit WHERE device_id = ?", [dev])
            held = int(row[0] or 0) if row else 0
            low = min(item.seq for item in items)
            high = min(max(item.seq for item in items), held)
            have: dict[int, AuditItem] = {}
            if low <= held:
                have = {
                    r[0]: AuditItem(**dict(zip(AUDIT_KEYS, r, strict=True)))
                    for r in tx.all(
                        f"SELECT {AUDIT_COLUMNS} FROM audit WHERE device_id = ? AND seq BETWEEN ? AND ?",
                        [dev, low, high],
                    )
                }
            last_mac = GENESIS
            if held:
                mac_row = tx.one("SELECT mac FROM audit WHERE device_id = ? AND seq = ?", [dev, held])
                last_mac = mac_row[0] if mac_row else GENESIS
            next_seq = held + 1
            stopped = False
            for item in items:
                if item.seq <= held:
                    if have.get(item.seq) == item:
                        results.append(AuditResult(seq=item.seq, status=ItemStatus.ALREADY_HAD, code=200))
                    else:
                        reason = (
                            f"Audit entry {item.seq} differs from the copy the central record holds: "
                            "this desk's history was changed after it was synced"
                        )
                        results.append(AuditResult(seq=item.seq, status=ItemStatus.REJECTED, code=409, reason=reason))
                        refused.append((item, reason))
                    continue
                if stopped:
                    results.append(
                        AuditResult(
                            seq=item.seq,
                            status=ItemStatus.REJECTED,
                            code=409,
                            reason="Not held: an earlier entry of this batch was refused",
                        )
                    )
                    continue
                if item.seq != next_seq:
                    stopped = True
                    results.append(
                        AuditResult(
                            seq=item.seq,
                            status=ItemStatus.REJECTED,
                            code=409,
                            reason=f"Audit entries {next_seq}-{item.seq - 1} are missing: the central record holds "
                            f"entries up to {next_seq - 1}; send from entry {next_seq}",
                        )
                    )
                    continue
                if item.prev_mac != last_mac:
                    stopped = True
                    reason = (
                        f"Audit entry {item.seq} does not continue the chain the central record holds "
                        f"(entry {item.seq - 1} differs): this desk's history was changed after it was synced"
                    )
                    results.append(AuditResult(seq=item.seq, status=ItemStatus.REJECTED, code=409, reason=reason))
                    refused.append((item, reason))
                    continue
                new_rows.append(
                    [
                        dev,
                        item.seq,
                        item.at,
                        item.actor,
                        item.action,
                        item.kind,
                        item.record_id,
                        item.detail,
                        item.body_hash,
                        item.mac,
                        item.prev_mac,
                        user,
                        iso(now),
                    ]
                )
                results.append(AuditResult(seq=item.seq, status=ItemStatus.ACCEPTED, code=201))
                last_mac = item.mac
                next_seq += 1
            tx.executemany(
                f"INSERT INTO audit(device_id, {AUDIT_COLUMNS}, acting_user, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                new_rows,
            )
            if refused:
                known = {
                    (r[0], r[1])
                    for r in tx.all(
                        "SELECT seq, offered_mac FROM audit_refusals WHERE device_id = ? AND seq BETWEEN ? AND ?",
                        [dev, min(i.seq for i, _ in refused), max(i.seq for i, _ in refused)],
                    )
                }
                tx.executemany(
                    "INSERT INTO audit_refusals(device_id, seq, offered_mac, offered_hash, reason, acting_user, "
                    "refused_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            dev,
                            i.seq,
                            i.mac,
                            hashlib.sha256(i.model_dump_json().encode()).hexdigest(),
                            reason,
                            user,
                            iso(now),
                        ]
                        for i, reason in refused
                        if (i.seq, i.mac) not in known
                    ],
                )
        return results, next_seq - 1

    def audit_page(self, device_id: str, since: int, limit: int) -> AuditPage:
        """A device's audit entries after `since`, oldest first (the device compares them with its own)."""
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                f"SELECT {AUDIT_COLUMNS} FROM audit WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [device_id, since, limit + 1],
            )
            row = tx.one("SELECT max(seq) FROM audit WHERE device_id = ?", [device_id])
        items = [AuditItem(**dict(zip(AUDIT_KEYS, r, strict=True))) for r in rows[:limit]]
        return AuditPage(items=items, more=len(rows) > limit, held=int(row[0] or 0) if row else 0)

    def audit_entries(self, device_id: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
        """Held audit entries (ids, actions and logins only), by device then seq, for export."""
        sql = f"SELECT device_id, {AUDIT_COLUMNS}, acting_user, received_at FROM audit"
        where, params = [], []
        if device_id:
            where.append("device_id = ?")
            params.append(device_id)
        if since:
            where.append("received_at >= ?")
            params.append(since)
        if where:
            sql += " WHERE " + " AND ".join(where)
        keys = ("device_id", *AUDIT_KEYS, "acting_user", "received_at")
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(sql + " ORDER BY device_id, seq", params)
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def audit_devices(self) -> list[str]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all("SELECT device_id FROM audit UNION SELECT device_id FROM audit_refusals ORDER BY 1")
        return [r[0] for r in rows]

    def verify_audit(self, device_id: str) -> tuple[int, list[str]]:
        """Check a device's held chain: no gaps, each entry continuing the one before, and
        every rewrite the device tried to send. Returns (entries held, problems)."""
        with self.engine.transaction(write=False) as tx:
            rows = tx.all("SELECT seq, mac, prev_mac FROM audit WHERE device_id = ? ORDER BY seq", [device_id])
            refusals = tx.all(
                "SELECT seq, min(refused_at), count(*) FROM audit_refusals WHERE device_id = ? "
                "GROUP BY seq ORDER BY seq",
                [device_id],
            )
        problems: list[str] = []
        expected, prev_mac = 1, GENESIS
        for seq, mac, prev in rows:
            if seq != expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                problems.append(f"audit entries {missing} are missing from the central copy (deleted)")
            elif prev != prev_mac:
                problems.append(
                    f"audit entry {seq} does not continue entry {seq - 1} in the central copy "
                    "(edited or replaced centrally)"
                )
            expected, prev_mac = seq + 1, mac
        for seq, first, count in refusals:
            times = f" ({count} times)" if count > 1 else ""
            problems.append(
                f"audit entry {seq}: the device sent a different version{times} from {first[:16]}: "
                "its history was changed after it was synced"
            )
        return len(rows), problems

    # --- reading for export and tests -----------------------------------------------------

    def records(self, kind: str, since: str | None = None) -> list[dict[str, Any]]:
        if kind == "person":
            sql, params = "SELECT body FROM people", []
            if since:
                sql, params = sql + " WHERE updated_at >= ?", [since]
            sql += " ORDER BY id"
        else:
            sql, params = "SELECT body FROM records WHERE kind = ?", [kind]
            if since:
                sql, params = sql + " AND received_at >= ?", [kind, since]
            sql += " ORDER BY record_id"
        with self.engine.transaction(write=False) as tx:
            return [json.loads(r[0]) for r in tx.all(sql, params)]

    def conflicts(self) -> list[dict[str, Any]]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                "SELECT id, kind, record_id, device_id, outbox_id, local_body, remote_body, detected_at, settled_at "
                "FROM conflicts ORDER BY detected_at"
            )
        keys = (
            "id",
            "kind",
            "record_id",
            "device_id",
            "outbox_id",
            "local_body",
            "remote_body",
            "detected_at",
            "settled_at",
        )
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["local_body"], d["remote_body"] = json.loads(d["local_body"]), json.loads(d["remote_body"])
            out.append(d)
        return out

    def count(self, table: str) -> int:
        if table not in {"received", "records", "people", "changes", "conflicts", "devices", "nonces"}:
            raise ValueError(table)
        with self.engine.transaction(write=False) as tx:
            row = tx.one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0
