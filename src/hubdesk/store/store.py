"""The Store: one unlocked, encrypted hub database and everything saved through it.

Every user-level save is one transaction holding the record, its audit entry and
its outbox row, so a process killed at any instant leaves all of them or none.
A Store belongs to the thread that opened it (sqlcipher3 enforces this).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import (
    Hub,
    User,
)
from hubdesk.store import sqlcipher
from hubdesk.store.audit import GENESIS, AuditEntry, body_hash, chain_key
from hubdesk.store.common import _iso as _iso
from hubdesk.store.common import _json as _json
from hubdesk.store.common import _utcnow as _utcnow
from hubdesk.store.common import dumps as dumps
from hubdesk.store.common import validation_message as validation_message
from hubdesk.store.contacts import SUMMARY_SELECT as SUMMARY_SELECT
from hubdesk.store.contacts import ContactsRepo
from hubdesk.store.errors import (
    NoStore,
    NotAllowed,
    NotFound,
    StoreError,
    StoreExists,
    StoreLocked,
)
from hubdesk.store.keys import (
    RECOVERY,
    KdfParams,
    KeySlotFile,
    calibrate,
    new_database_key,
    new_recovery_code,
    new_slot,
    normalise_recovery_code,
    wipe,
)
from hubdesk.store.outbox import OutboxItem as OutboxItem
from hubdesk.store.outbox import OutboxRepo
from hubdesk.store.payments import PaymentsRepo
from hubdesk.store.payments import Receipt as Receipt
from hubdesk.store.people import PeopleRepo
from hubdesk.store.schema import migrate, schema_version
from hubdesk.store.sessions import SessionsRepo
from hubdesk.store.unlocks import UnlockLog
from hubdesk.store.users import UsersRepo, _check_passphrase

DB_NAME = "hubdesk.db"
SLOTS_NAME = "hubdesk.keys"
M = TypeVar("M", bound=BaseModel)


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def slots_path(data_dir: Path) -> Path:
    return Path(data_dir) / SLOTS_NAME


def store_exists(data_dir: Path) -> bool:
    return db_path(data_dir).exists() or slots_path(data_dir).exists()


@dataclass
class StoreHandle:
    """A copy of an unlocked store's key and identity, for a worker thread's own connection."""

    data_dir: Path
    key: bytearray
    slots: KeySlotFile
    login: str | None
    clock: Callable[[], datetime]

    def open(self) -> Store:
        """The worker's own Store (call on the worker's thread); it zeroes the key on lock."""
        return Store(self.data_dir, self.key, self.slots, self.login, clock=self.clock)

    def discard(self) -> None:
        wipe(self.key)


class Store(PeopleRepo, ContactsRepo, PaymentsRepo, SessionsRepo, UsersRepo, OutboxRepo):
    """An unlocked store. Make one with Store.create, Store.unlock or Store.recover.

    Opening, locking, transactions, the audit chain and the outbox are here; each record
    kind's saves and reads are in its own repository (people, contacts, payments, sessions,
    users, outbox), which Store inherits, so callers keep calling store.record_contact(...)."""

    def __init__(
        self,
        data_dir: Path,
        key: bytearray,
        slots: KeySlotFile,
        login: str | None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self._key: bytearray | None = key
        self._audit_key: bytearray | None = None
        self.slots = slots
        self.clock = clock
        self.read_only = read_only
        self.notices: list[str] = []
        """What the unlock could not finish (a removal held back), for the desk or CLI to say."""
        self._conn = None
        try:
            if read_only:
                self._conn = sqlcipher.connect_read_only(db_path(self.data_dir), key)
            else:
                self._conn = sqlcipher.connect(db_path(self.data_dir), key, create=True)
        except BaseException:
            self.lock()
            raise
        self.db = sqlcipher.database(self._conn)
        self._person_index: Any = None
        try:
            if read_only:
                # backup and export on a full disk: nothing is written (no migration, no audit
                # entry: that is owed, beside the slots, until the next writable unlock).
                from hubdesk.store.schema import migrations

                if list(migrations.pending(self.db)):
                    raise StoreError("This store needs an upgrade first, which needs room to write")
            else:
                migrate(self.db)
            self._audit_key = bytearray(chain_key(self._conn, key))
        except sqlcipher.DatabaseError as exc:
            self.lock()
            raise sqlcipher.translate(exc, "prepare the database") from None
        except BaseException:
            self.lock()
            raise
        self.user: User | None = None
        if login is not None:
            self.user = self.get_user(login)
            if not self.user.active:
                self.lock()
                raise NotAllowed(f"{login} is no longer an active user on this desk")

    # --- opening and closing ----------------------------------------------------------

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        hub: Hub,
        first_user: User,
        passphrase: str,
        device_no: int = 1,
        kdf: KdfParams | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> tuple[Store, str]:
        """Make a new store; returns it unlocked, and the recovery code to show once."""
        data_dir = Path(data_dir)
        if store_exists(data_dir):
            raise StoreExists(f"There is already a store in {data_dir}; refusing to overwrite it")
        if not 1 <= device_no <= 9999:
            raise StoreError("Device number must be between 1 and 9999")
        _check_passphrase(passphrase)
        data_dir.mkdir(parents=True, exist_ok=True)
        _private_dir(data_dir)
        kdf = kdf or calibrate()
        key = new_database_key()
        store_id = uuid7()
        recovery = new_recovery_code()
        slots = KeySlotFile(slots_path(data_dir), store_id, {})
        slots.put(new_slot(store_id, first_user.login, passphrase.encode(), {0: key}, kdf))
        slots.put(new_slot(store_id, RECOVERY, normalise_recovery_code(recovery), {0: key}, kdf))
        slots.save()
        UnlockLog(data_dir).ensure()
        store = cls(data_dir, key, slots, None, clock=clock)
        with store._save() as now:
            for k, v in {
                "store_id": store_id,
                "hub_code": hub.code,
                "device_no": str(device_no),
                "device_id": uuid7(),
                "audit_head": f"0:{GENESIS}",
            }.items():
                store.db.execute("INSERT INTO meta(key, value) VALUES (?, ?)", [k, v])
            store.db.execute(
                "INSERT INTO reference(kind, code, active, body) VALUES ('hub', ?, 1, ?)",
                [hub.code, _json(hub)],
            )
            store._put_user(first_user, first_user.login, now, action="create")
        store.user = first_user
        return store, recovery

    @classmethod
    def unlock(
        cls,
        data_dir: Path,
        login: str,
        passphrase: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only: bool = False,
        purpose: str = "",
        progress: Callable[[float], None] | None = None,
    ) -> Store:
        """Open with a user's passphrase. read_only=True writes nothing to the database (for
        backup and export on a full disk); its audit entry is written at the next unlock."""
        from hubdesk.store.access import open_store

        data_dir = Path(data_dir)
        _require_store(data_dir)
        login = login.strip().lower()
        return open_store(
            cls,
            data_dir,
            login,
            passphrase.encode(),
            login=login,
            how="passphrase",
            clock=clock,
            read_only=read_only,
            purpose=purpose,
            progress=progress,
        )

    @classmethod
    def recover(
        cls,
        data_dir: Path,
        recovery_code: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        read_only: bool = False,
        purpose: str = "",
        progress: Callable[[float], None] | None = None,
    ) -> Store:
        """Open with the recovery key (no user yet: set a passphrase next)."""
        from hubdesk.store.access import open_store

        data_dir = Path(data_dir)
        _require_store(data_dir)
        return open_store(
            cls,
            data_dir,
            RECOVERY,
            normalise_recovery_code(recovery_code),
            login=None,
            how="recovery key",
            clock=clock,
            read_only=read_only,
            purpose=purpose,
            progress=progress,
        )

    def _check_store_id(self) -> None:
        if self.meta("store_id") != self.slots.store_id:
            self.lock()
            raise StoreError(
                "The key slot file belongs to another store than this database. "
                "Put back the right hubdesk.keys (from a backup of this store)."
            )

    def handle(self) -> StoreHandle:
        """What another thread needs to open its own connection to this store, as the same
        user (a Store belongs to the thread that opened it). Holds a copy of the key: open
        it once with StoreHandle.open, or discard it."""
        self._require_open()
        assert self._key is not None
        login = self.user.login if self.user else None
        return StoreHandle(self.data_dir, bytearray(self._key), self.slots, login, self.clock)

    def refresh_search(self) -> None:
        """Rebuild the person search on next use (after a pull brought in people)."""
        self._person_index = None

    @property
    def locked(self) -> bool:
        return self._key is None

    def lock(self) -> None:
        """Close the database and drop the key from memory."""
        wipe(self._key, self._audit_key)
        self._key = None
        self._audit_key = None
        self._person_index = None
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlcipher.Error:
                pass

    close = lock

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.lock()

    def _require_open(self) -> None:
        if self._key is None or self._conn is None:
            raise StoreLocked("The store is locked: unlock it first")

    # --- transactions, audit and outbox -------------------------------------------------

    @contextmanager
    def _save(self) -> Iterator[datetime]:
        """One user-level save: one transaction, one clock reading.

        The outermost save takes the write lock at BEGIN (IMMEDIATE): with a sync worker's
        connection open beside the desk's, a deferred transaction that read first could
        fail at its first write instead of waiting its turn. Nested saves are savepoints."""
        self._require_open()
        conn = self._conn
        try:
            if conn.in_transaction:
                with self.db.atomic():
                    yield self.clock()
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.clock()
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlcipher.IntegrityError as exc:
            raise StoreError(f"Not saved: {_integrity_message(exc)}") from None
        except sqlcipher.DatabaseError as exc:
            raise sqlcipher.translate(exc, "save", self.data_dir) from None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many saves in one transaction (loading a caseload, building a demo)."""
        with self._save():
            yield

    def _actor(self) -> str:
        return self.user.login if self.user else "recovery"

    def _audit(
        self,
        now: datetime,
        action: str,
        kind: str,
        record_id: str | None,
        detail: str = "",
        body: str = "",
    ) -> int:
        assert self._audit_key is not None
        head_seq, head_mac = self.meta("audit_head").split(":", 1)
        entry = AuditEntry(
            seq=int(head_seq) + 1,
            at=_iso(now),
            actor=self._actor(),
            action=action,
            kind=kind,
            record_id=record_id,
            detail=detail,
            body_hash=body_hash(body) if body else "",
        )
        mac = entry.sign(self._audit_key, head_mac)
        self.db.execute(
            "INSERT INTO audit(seq, at, actor, action, kind, record_id, detail, body_hash, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [entry.seq, entry.at, entry.actor, action, kind, record_id, detail, entry.body_hash, mac],
        )
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", [f"{entry.seq}:{mac}"])
        return entry.seq

    def _outbox(self, now: datetime, kind: str, record_id: str, body: str) -> None:
        self.db.execute(
            "INSERT INTO outbox(id, kind, record_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            [uuid7(), kind, record_id, body, _iso(now)],
        )

    def meta(self, key: str) -> str:
        self._require_open()
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is None:
            raise NotFound(f"The store has no {key} setting")
        return row[0]

    @property
    def hub_code(self) -> str:
        return self.meta("hub_code")

    @property
    def device_no(self) -> int:
        return int(self.meta("device_no"))

    @property
    def schema_version(self) -> int:
        return schema_version(self.db)

    def _rows(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        self._require_open()
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlcipher.DatabaseError as exc:
            raise sqlcipher.translate(exc, "read the store", self.data_dir) from None

    def _models(self, model: type[M], sql: str, params: list | tuple = ()) -> list[M]:
        return [model.model_validate_json(row[0]) for row in self._rows(sql, params)]

    # --- day boundaries -------------------------------------------------------------------

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """A hub day is local (England) midnight to midnight."""
        from zoneinfo import ZoneInfo

        tz = ZoneInfo("Europe/London")
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _require_store(data_dir: Path) -> None:
    if not db_path(data_dir).exists():
        if slots_path(data_dir).exists():
            raise NoStore(
                f"The database file is missing from {data_dir} (its key slots are there). "
                "Restore it from a backup; hubdesk will not start an empty store in its place."
            )
        raise NoStore(f"There is no hubdesk store in {data_dir}. Make one with `hubdesk init`.")


def _private_dir(path: Path) -> None:
    if os.name == "posix":
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass


def _integrity_message(exc: BaseException) -> str:
    text = str(exc)
    if "never edited" in text or "never deleted" in text:
        return "saved records are never edited or deleted; record an amendment or a reversal"
    if "UNIQUE" in text:
        return "that record is already saved"
    if "FOREIGN KEY" in text:
        return "it refers to a record that is not on this desk"
    return "the record breaks a rule of the store"
