"""The Store: one unlocked, encrypted hub database and everything saved through it.

Every user-level save is one transaction holding the record, its audit entry and
its outbox row, so a process killed at any instant leaves all of them or none.
A Store belongs to the thread that opened it (sqlcipher3 enforces this).
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hubdesk.domain.enums import AttendanceKind, ContactType, PaymentStatus, Role
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    EmergencyPayment,
    Hub,
    PaymentDecision,
    Person,
    ReferenceData,
    Reversal,
    User,
)
from hubdesk.domain.rules import can_approve, check_authorisation
from hubdesk.domain.service_rules import ServiceRules
from hubdesk.store import sqlcipher
from hubdesk.store.audit import GENESIS, AuditEntry, body_hash, chain_key
from hubdesk.store.errors import (
    NoStore,
    NotAllowed,
    NotFound,
    StoreError,
    StoreExists,
    StoreLocked,
    UnknownUser,
    VersionConflict,
    WrongPassphrase,
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
from hubdesk.store.schema import migrate, schema_version
from hubdesk.store.unlocks import UnlockLog

DB_NAME = "hubdesk.db"

_CURRENT_C = "NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)"
_IN_TOUCH_C = "(c.contact_type IN ('phone', 'video') OR json_extract(c.body, '$.seen') = 1)"
# A person's (p.id) latest current contact, its type, and latest current contact in touch.
SUMMARY_SELECT = (
    f"(SELECT started_at FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} "
    "ORDER BY started_at DESC LIMIT 1), "
    f"(SELECT contact_type FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} "
    "ORDER BY started_at DESC LIMIT 1), "
    f"(SELECT started_at FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} AND {_IN_TOUCH_C} "
    "ORDER BY started_at DESC LIMIT 1)"
)
SLOTS_NAME = "hubdesk.keys"
M = TypeVar("M", bound=BaseModel)


def db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


def slots_path(data_dir: Path) -> Path:
    return Path(data_dir) / SLOTS_NAME


def store_exists(data_dir: Path) -> bool:
    return db_path(data_dir).exists() or slots_path(data_dir).exists()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _json(model: BaseModel) -> str:
    return model.model_dump_json()


@dataclass(frozen=True)
class Receipt:
    """What save_payment returns: the payment, and what the desk should say."""

    payment: EmergencyPayment


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    id: str
    kind: str
    record_id: str
    body: str
    state: str
    attempts: int
    last_error: str | None


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


class Store:
    """An unlocked store. Make one with Store.create, Store.unlock or Store.recover."""

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

    # --- users and passphrases ----------------------------------------------------------

    def _put_user(self, user: User, login: str, now: datetime, action: str) -> None:
        body = _json(user)
        seq = self._audit(now, action, "user", login, user.role.value, body)
        self.db.execute(
            "INSERT INTO users(login, role, hub_code, active, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(login) DO UPDATE SET role = excluded.role, hub_code = excluded.hub_code, "
            "active = excluded.active, body = excluded.body, audit_seq = excluded.audit_seq",
            [login, user.role.value, user.hub_code, int(user.active), body, seq],
        )

    def get_user(self, login: str) -> User:
        users = self._models(User, "SELECT body FROM users WHERE login = ?", [login.strip().lower()])
        if not users:
            raise UnknownUser(f"No user called {login} on this desk")
        return users[0]

    def users(self) -> list[User]:
        return self._models(User, "SELECT body FROM users ORDER BY login")

    def add_user(self, user: User, passphrase: str) -> None:
        """Add a user with their own key slot. Only a duty manager or admin may."""
        self._require_role(Role.DUTY_MANAGER, Role.ADMIN)
        _check_passphrase(passphrase)
        if user.login in self.slots.slots or user.login == RECOVERY:
            raise StoreExists(f"There is already a user called {user.login}")
        assert self._key is not None
        kdf = self.slots.slot(self._actor()).kdf if self.user else calibrate()
        self.slots.put(new_slot(self.slots.store_id, user.login, passphrase.encode(), self._own_keys(), kdf))
        self.slots.save()
        try:
            with self._save() as now:
                self._put_user(user, user.login, now, action="create")
        except BaseException:
            # No user row, so no slot either: a retry must not find a half-made user.
            self.slots.remove(user.login)
            self.slots.save()
            raise

    def set_passphrase(self, login: str, new_passphrase: str, old_passphrase: str | None = None) -> None:
        """Rewrap one slot. Your own needs the old passphrase; after recovery, any user's."""
        _check_passphrase(new_passphrase)
        login = login.strip().lower()
        self.get_user(login)
        assert self._key is not None
        if self.user is not None:
            if login != self.user.login:
                raise NotAllowed("You can change only your own passphrase")
            if old_passphrase is None:
                raise WrongPassphrase("Give your current passphrase")
            self._verify_slot(login, old_passphrase)
        kdf = self.slots.slots[login].kdf if login in self.slots.slots else calibrate()
        slot = new_slot(self.slots.store_id, login, new_passphrase.encode(), self._own_keys(), kdf)
        # The audit entry first: a kill between the two leaves an entry for a change that did
        # not happen (the old passphrase still works), never a change with no entry.
        with self._save() as now:
            self._audit(now, "passphrase", "user", login, "slot rewrapped")
        try:
            self.slots.put(slot)
            self.slots.save()
        except StoreError as exc:
            try:
                with self._save() as now:
                    self._audit(now, "passphrase", "user", login, "not changed: the slot file could not be written")
            except StoreError:
                pass
            raise exc from None

    def _own_keys(self) -> dict[int, bytearray]:
        """The database key by generation, to seal into a new slot."""
        assert self._key is not None
        return {self.slots.generation: self._key}

    def remove_users(self, logins: list[str], progress: Callable[[float], None] | None = None):
        """Drop users' key slots and seal a new database key to everyone else (duty manager or
        admin). Returns an access.Removal saying what happened."""
        from hubdesk.store.access import remove_users

        self._require_open()
        if self.read_only:
            raise StoreError("The store was opened read-only")
        return remove_users(self, logins, progress)

    def _verify_slot(self, login: str, passphrase: str) -> None:
        assert self._key is not None
        key = self.slots.open(login, passphrase.encode())
        try:
            if not hmac.compare_digest(key, self._key):
                raise WrongPassphrase(f"Wrong passphrase for {login}")
        finally:
            wipe(key)

    def verify_manager(self, login: str, passphrase: str, amount_pence: int) -> User:
        """A duty manager's approval on this device: their own passphrase, their own limit."""
        try:
            manager = self.get_user(login)
        except UnknownUser:
            raise WrongPassphrase("Unknown manager or wrong passphrase") from None
        ok, why = can_approve(manager, amount_pence, self.service_rules())
        if not ok:
            raise NotAllowed(why)
        try:
            self._verify_slot(manager.login, passphrase)
        except (UnknownUser, WrongPassphrase):
            raise WrongPassphrase(f"Wrong passphrase for {manager.display_name}") from None
        return manager

    def _require_role(self, *roles: Role) -> None:
        if self.user is not None and self.user.role not in roles:
            names = " or ".join(r.label.lower() for r in roles)
            raise NotAllowed(f"Only a {names} may do that")

    # --- reference data -------------------------------------------------------------------

    def set_reference(self, reference: ReferenceData) -> None:
        """Replace reference data (as pulled from the central record). Codes are retired,
        never deleted, so records that use them stay readable and sendable."""
        with self._save() as now:
            groups = {
                "hub": reference.hubs,
                "session_type": reference.session_types,
                "contact_purpose": reference.contact_purposes,
                "payment_category": reference.payment_categories,
                "entitlement": reference.local_offer,
            }
            for kind, items in groups.items():
                if kind != "hub":
                    self.db.execute("UPDATE reference SET active = 0 WHERE kind = ?", [kind])
                for item in items:
                    self.db.execute(
                        "INSERT INTO reference(kind, code, active, body) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT(kind, code) DO UPDATE SET active = excluded.active, body = excluded.body",
                        [kind, item.code, int(getattr(item, "active", True)), _json(item)],
                    )
            # The service's rules (age bands, in-touch defaults, who may authorise): one row.
            self.db.execute(
                "INSERT INTO reference(kind, code, active, body) VALUES ('service_rules', 'rules', 1, ?) "
                "ON CONFLICT(kind, code) DO UPDATE SET body = excluded.body",
                [_json(reference.service_rules)],
            )
            if reference.example:
                self.db.execute(
                    "INSERT INTO meta(key, value) VALUES ('reference_example', '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = '1'"
                )
            self._audit(now, "set", "reference", None, "example" if reference.example else "")

    def reference(self, *, include_retired: bool = False) -> ReferenceData:
        from hubdesk.domain.local_offer import Entitlement
        from hubdesk.domain.models import ContactPurpose, PaymentCategory, SessionType

        where = "" if include_retired else " AND active = 1"
        kinds = {
            "hubs": ("hub", Hub),
            "session_types": ("session_type", SessionType),
            "contact_purposes": ("contact_purpose", ContactPurpose),
            "payment_categories": ("payment_category", PaymentCategory),
            "local_offer": ("entitlement", Entitlement),
        }
        data: dict[str, Any] = {}
        for field, (kind, model) in kinds.items():
            rows = self._rows(f"SELECT body, active FROM reference WHERE kind = ?{where} ORDER BY code", [kind])
            items = [model.model_validate_json(body) for body, _active in rows]
            # The column says whether a code is retired (set_reference retires what the central
            # record no longer lists); the stored body keeps what it was when last sent.
            data[field] = tuple(
                item.model_copy(update={"active": bool(active)}) if "active" in type(item).model_fields else item
                for item, (_body, active) in zip(items, rows, strict=True)
            )
        example = self._rows("SELECT value FROM meta WHERE key = 'reference_example'")
        return ReferenceData(**data, service_rules=self.service_rules(), example=bool(example))

    def service_rules(self) -> ServiceRules:
        """The council's rules of the service as last pulled (the example ones until then)."""
        rows = self._rows("SELECT body FROM reference WHERE kind = 'service_rules' AND code = 'rules'")
        return ServiceRules.model_validate_json(rows[0][0]) if rows else ServiceRules()

    def payment_category(self, code: str):
        """One category, retired or not (its row alone: reading the whole reference for it
        was a third of a payment's save)."""
        from hubdesk.domain.models import PaymentCategory

        rows = self._rows("SELECT body, active FROM reference WHERE kind = 'payment_category' AND code = ?", [code])
        if not rows:
            raise NotFound(f"No payment category {code}")
        body, active = rows[0]
        return PaymentCategory.model_validate_json(body).model_copy(update={"active": bool(active)})

    # --- people ---------------------------------------------------------------------------

    def add_person(self, person: Person) -> Person:
        """A new person: loaded from the caseload, or a walk-in marked for matching."""
        body = _json(person)
        with self._save() as now:
            seq = self._audit(now, "create", "person", person.id, "walk-in" if person.walk_in else "", body)
            self.db.execute(
                "INSERT INTO people(id, version, case_id, hub_code, walk_in, needs_matching, allocated_pa, "
                "body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    person.id,
                    person.version,
                    person.case_id,
                    person.hub_code,
                    int(person.walk_in),
                    int(person.needs_matching),
                    person.allocated_pa,
                    body,
                    seq,
                ],
            )
            self.db.execute(
                "INSERT INTO people_versions(id, version, body, audit_seq) VALUES (?, ?, ?, ?)",
                [person.id, person.version, body, seq],
            )
            self._outbox(now, "person", person.id, body)
        self._index_person(person)
        return person

    def update_person(self, person: Person, base_version: int) -> Person:
        """An edit made against base_version; refused if someone else changed it since."""
        current = self.get_person(person.id)
        if current.version != base_version:
            raise VersionConflict("This record was changed since you opened it; reopen it and make the change again")
        updated = person.model_copy(update={"version": base_version + 1})
        updated = Person.model_validate(updated.model_dump())
        body = _json(updated)
        with self._save() as now:
            seq = self._audit(now, "amend", "person", person.id, f"version {updated.version}", body)
            changed = self.db.execute(
                "UPDATE people SET version = ?, case_id = ?, hub_code = ?, walk_in = ?, needs_matching = ?, "
                "allocated_pa = ?, body = ?, audit_seq = ? WHERE id = ? AND version = ?",
                [
                    updated.version,
                    updated.case_id,
                    updated.hub_code,
                    int(updated.walk_in),
                    int(updated.needs_matching),
                    updated.allocated_pa,
                    body,
                    seq,
                    person.id,
                    base_version,
                ],
            ).rowcount
            if changed != 1:
                raise VersionConflict(
                    "This record was changed since you opened it; reopen it and make the change again"
                )
            self.db.execute(
                "INSERT INTO people_versions(id, version, body, audit_seq) VALUES (?, ?, ?, ?)",
                [updated.id, updated.version, body, seq],
            )
            self._outbox(now, "person", person.id, body)
        self._index_person(updated)
        return updated

    def get_person(self, person_id: str) -> Person:
        people = self._models(Person, "SELECT body FROM people WHERE id = ?", [person_id])
        if not people:
            raise NotFound("No such person on this desk")
        return people[0]

    def view_person(self, person_id: str) -> Person:
        """Open a person's record for a user: audited as a view."""
        person = self.get_person(person_id)
        with self._save() as now:
            self._audit(now, "view", "person", person_id)
        return person

    def people(self, ids: list[str] | None = None) -> list[Person]:
        if ids is None:
            return self._models(Person, "SELECT body FROM people ORDER BY rowid")
        found: dict[str, Person] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for p in self._models(Person, f"SELECT body FROM people WHERE id IN ({marks})", chunk):
                found[p.id] = p
        return [found[i] for i in ids if i in found]

    def count(self, table: str) -> int:
        if table not in {
            "people",
            "contacts",
            "payments",
            "reversals",
            "sessions",
            "attendance",
            "audit",
            "outbox",
            "users",
            "payment_decisions",
        }:
            raise ValueError(table)
        return self._rows(f"SELECT count(*) FROM {table}")[0][0]

    # --- search ---------------------------------------------------------------------------

    def _index_person(self, person: Person) -> None:
        if self._person_index is not None:
            self._person_index.put(person)

    def search_people(self, query: str, limit: int = 30):
        """Fuzzy search on names, preferred name, date of birth and case id."""
        return self.find_people(query, limit).hits

    def find_people(self, query: str, limit: int = 30):
        """search_people's hits, and how many people match in all ("first 20 of 42")."""
        from hubdesk.store.search import NAMED_SQL, PersonIndex, named

        self._require_open()
        if self._person_index is None:
            self._person_index = PersonIndex.build(named(row) for row in self.db.execute(NAMED_SQL))
        return self._person_index.find(query, limit=limit)

    def last_contacts(self, person_ids: list[str]) -> dict[str, str]:
        """person_id -> ISO time of their latest contact."""
        result: dict[str, str] = {}
        for start in range(0, len(person_ids), 500):
            chunk = person_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, at in self._rows(
                f"SELECT person_id, max(started_at) FROM contacts WHERE person_id IN ({marks}) GROUP BY person_id",
                chunk,
            ):
                result[pid] = at
        return result

    # --- contacts -------------------------------------------------------------------------

    def refuse_closed_day(self, hub_code: str, moment: datetime) -> None:
        """A closed day is read-only on the device except by amendment."""
        from zoneinfo import ZoneInfo

        day = moment.astimezone(ZoneInfo("Europe/London")).date()
        if self._rows("SELECT 1 FROM day_closures WHERE hub_code = ? AND day = ?", [hub_code, day.isoformat()]):
            raise NotAllowed(f"{day:%d %b %Y} is closed at {hub_code}: its records can only be amended, not added to")

    def record_contact(self, contact: Contact) -> Contact:
        if contact.version != 1:
            raise StoreError("Use amend_contact for a new version")
        self.get_person(contact.person_id)
        self.refuse_closed_day(contact.hub_code, contact.started_at)
        return self._insert_contact(contact, "create")

    def _insert_contact(self, contact: Contact, action: str) -> Contact:
        body = _json(contact)
        with self._save() as now:
            seq = self._audit(now, action, "contact", contact.id, f"version {contact.version}", body)
            self.db.execute(
                "INSERT INTO contacts(id, contact_id, version, amends, person_id, hub_code, contact_type, "
                "started_at, ended_at, recorded_at, recorded_by, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    contact.id,
                    contact.contact_id,
                    contact.version,
                    contact.amends,
                    contact.person_id,
                    contact.hub_code,
                    contact.contact_type.value,
                    _iso(contact.started_at),
                    _iso(contact.ended_at) if contact.ended_at else None,
                    _iso(contact.recorded_at),
                    contact.recorded_by,
                    body,
                    seq,
                ],
            )
            self._outbox(now, "contact", contact.id, body)
            from hubdesk.store import actions as followed_up

            if contact.actions or contact.tell_allocated_pa:  # else it makes nothing: spare the save its reads
                previous = self._models(Contact, "SELECT body FROM contacts WHERE id = ?", [contact.amends or ""])
                followed_up.from_contact(self, contact, previous[0] if previous else None, now)
            if contact.amends:
                people = {contact.person_id}
                before = self._rows("SELECT person_id FROM contacts WHERE id = ?", [contact.amends])
                people |= {row[0] for row in before}
                self.refresh_contact_summary(sorted(people))
            else:
                self._summary_add(contact)
        return contact

    def _summary_add(self, contact: Contact) -> None:
        """A new contact (amending none) in its person's summary (inside its save). Nothing
        stops being current, so the summary is the newer of what it held and this contact:
        what refresh_contact_summary would find, without reading the person's contacts
        again (that read was a quarter of the save's time)."""
        at = _iso(contact.started_at)
        in_touch = contact.contact_type.value in ("phone", "video") or contact.seen
        self.db.execute(
            "INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(person_id) DO UPDATE SET "
            "last_type = CASE WHEN last_at IS NULL OR excluded.last_at >= last_at "
            "THEN excluded.last_type ELSE last_type END, "
            "last_at = CASE WHEN last_at IS NULL OR excluded.last_at >= last_at "
            "THEN excluded.last_at ELSE last_at END, "
            "last_touch_at = CASE WHEN excluded.last_touch_at IS NOT NULL AND "
            "(last_touch_at IS NULL OR excluded.last_touch_at > last_touch_at) "
            "THEN excluded.last_touch_at ELSE last_touch_at END",
            [contact.person_id, at, contact.contact_type.value, at if in_touch else None],
        )

    def refresh_contact_summary(self, person_ids: list[str]) -> None:
        """Recompute the people's latest contact and latest in-touch time (inside a save)."""
        for person_id in person_ids:
            self.db.execute(
                "INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) "
                f"SELECT p.id, {SUMMARY_SELECT} FROM people p WHERE p.id = ? "
                "ON CONFLICT(person_id) DO UPDATE SET last_at = excluded.last_at, "
                "last_type = excluded.last_type, last_touch_at = excluded.last_touch_at",
                [person_id],
            )

    def current_contact(self, contact_id: str) -> Contact:
        found = self._models(
            Contact,
            "SELECT body FROM contacts c WHERE contact_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM contacts n WHERE n.amends = c.id)",
            [contact_id],
        )
        if not found:
            raise NotFound("No such contact")
        return found[0]

    def amend_contact(self, contact_id: str, changes: dict[str, Any], reason: str = "") -> Contact:
        """A new version of a contact; the old one stays in the history."""
        current = self.current_contact(contact_id)
        data = current.model_dump()
        data.update(changes)
        data.update(
            id=uuid7(),
            contact_id=current.contact_id,
            version=current.version + 1,
            amends=current.id,
            amend_reason=reason or data.get("amend_reason", ""),
        )
        amended = Contact.model_validate(data)
        return self._insert_contact(amended, "amend")

    def sign_out(self, contact_id: str, at: datetime | None = None) -> Contact:
        current = self.current_contact(contact_id)
        if not current.in_building:
            raise NotAllowed("That visit is already signed out")
        at = at or self.clock()
        if at < current.started_at:
            raise NotAllowed("Sign-out time is before the sign-in time")
        return self.amend_contact(contact_id, {"ended_at": at, "recorded_by": self._actor()}, "signed out")

    def contacts_for_person(self, person_id: str, limit: int = 50) -> list[Contact]:
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE person_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at DESC LIMIT ?",
            [person_id, limit],
        )

    def contacts_between(self, hub_code: str, start: datetime, end: datetime) -> list[Contact]:
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE hub_code = ? AND started_at >= ? AND started_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at",
            [hub_code, _iso(start), _iso(end)],
        )

    def in_building(self, hub_code: str | None = None) -> list[Contact]:
        """Drop-in visits signed in and not out."""
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE contact_type = ? AND ended_at IS NULL AND hub_code = ? "
            "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at",
            [ContactType.DROP_IN.value, hub_code or self.hub_code],
        )

    # --- payments -------------------------------------------------------------------------

    def next_receipt_no(self) -> str:
        """Peek at the receipt number the next payment here will get."""
        rows = self._rows("SELECT value FROM counters WHERE name = 'receipt'")
        nxt = (rows[0][0] if rows else 0) + 1
        return f"{self.hub_code}-{self.device_no}-{nxt:06d}"

    def record_payment(
        self,
        *,
        person_id: str,
        category: str,
        amount_pence: int,
        method: str,
        reason: str,
        voucher_serial: str | None = None,
        voice: str = "",
        receipt: str = "signed",
        approver: User | None = None,
        corrects: str | None = None,
    ) -> EmergencyPayment:
        """Save a payment with its receipt number. Over a limit it needs a verified
        approver (see verify_manager), else it is saved awaiting approval."""
        self._require_open()
        if self.user is None:
            raise NotAllowed("Unlock as a user to record a payment")
        self.get_person(person_id)
        cat = self.payment_category(category)
        if not cat.active:
            raise NotAllowed(f"{cat.name} is no longer a payment category")
        check = check_authorisation(self.user, cat, amount_pence)
        self.refuse_closed_day(self.hub_code, self.clock())
        if approver is not None:
            ok, why = can_approve(approver, amount_pence, self.service_rules())
            if not ok:
                raise NotAllowed(why)
        with self._save() as now:
            if check.needs_manager and approver is None:
                status, by, at = PaymentStatus.AWAITING_APPROVAL, None, None
            else:
                status, by, at = PaymentStatus.APPROVED, (approver or self.user).login, now
            self.db.execute(
                "INSERT INTO counters(name, value) VALUES ('receipt', 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1"
            )
            number = self._rows("SELECT value FROM counters WHERE name = 'receipt'")[0][0]
            payment = EmergencyPayment(
                receipt_no=f"{self.hub_code}-{self.device_no}-{number:06d}",
                person_id=person_id,
                hub_code=self.hub_code,
                category=category,
                amount_pence=amount_pence,
                method=method,
                voucher_serial=voucher_serial or None,
                reason=reason,
                voice=voice,
                recorded_by=self.user.login,
                recorded_at=now,
                status=status,
                authorised_by=by,
                authorised_at=at,
                receipt=receipt,
                corrects=corrects,
            )
            body = _json(payment)
            seq = self._audit(now, "create", "payment", payment.id, payment.receipt_no, body)
            self.db.execute(
                "INSERT INTO payments(id, receipt_no, person_id, hub_code, category, method, amount_pence, "
                "status, recorded_at, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    payment.id,
                    payment.receipt_no,
                    person_id,
                    payment.hub_code,
                    category,
                    payment.method.value,
                    amount_pence,
                    status.value,
                    _iso(now),
                    body,
                    seq,
                ],
            )
            if approver is not None:
                self._audit(now, "approve", "payment", payment.id, f"by {approver.login}")
            self._outbox(now, "payment", payment.id, body)
        return payment

    def get_payment(self, payment_id: str) -> EmergencyPayment:
        found = self._models(EmergencyPayment, "SELECT body FROM payments WHERE id = ?", [payment_id])
        if not found:
            raise NotFound("No such payment")
        return found[0]

    def payment_by_receipt(self, receipt_no: str) -> EmergencyPayment:
        found = self._models(EmergencyPayment, "SELECT body FROM payments WHERE receipt_no = ?", [receipt_no])
        if not found:
            raise NotFound(f"No payment with receipt {receipt_no}")
        return found[0]

    def payment_state(self, payment_id: str) -> str:
        """approved / awaiting_approval / declined / reversed, after later decisions."""
        if self._rows("SELECT 1 FROM reversals WHERE payment_id = ?", [payment_id]):
            return "reversed"
        decision = self._rows("SELECT decision FROM payment_decisions WHERE payment_id = ?", [payment_id])
        if decision:
            return decision[0][0]
        return self.get_payment(payment_id).status.value

    def decide_payment(self, payment_id: str, approve: bool, manager: User, reason: str = "") -> PaymentDecision:
        """Approve or decline a payment saved awaiting approval (manager already verified)."""
        payment = self.get_payment(payment_id)
        if self.payment_state(payment_id) != PaymentStatus.AWAITING_APPROVAL.value:
            raise NotAllowed("That payment is not awaiting approval")
        if approve:
            ok, why = can_approve(manager, payment.amount_pence, self.service_rules())
            if not ok:
                raise NotAllowed(why)
        with self._save() as now:
            decision = PaymentDecision(
                payment_id=payment_id,
                decision=PaymentStatus.APPROVED if approve else PaymentStatus.DECLINED,
                decided_by=manager.login,
                decided_at=now,
                reason=reason,
            )
            body = _json(decision)
            seq = self._audit(now, "approve" if approve else "decline", "payment", payment_id, "", body)
            self.db.execute(
                "INSERT INTO payment_decisions(id, payment_id, decision, decided_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [decision.id, payment_id, decision.decision.value, _iso(now), body, seq],
            )
            self._outbox(now, "payment_decision", decision.id, body)
        return decision

    def reverse_payment(self, payment_id: str, reason: str) -> Reversal:
        """Put right a saved payment. It stays in the history, with this pointing at it."""
        self._require_open()
        payment = self.get_payment(payment_id)
        if self._rows("SELECT 1 FROM reversals WHERE payment_id = ?", [payment_id]):
            raise NotAllowed(f"Payment {payment.receipt_no} is already reversed")
        with self._save() as now:
            reversal = Reversal(
                payment_id=payment_id,
                hub_code=self.hub_code,
                reason=reason,
                recorded_by=self._actor(),
                recorded_at=now,
            )
            body = _json(reversal)
            seq = self._audit(now, "reverse", "payment", payment_id, payment.receipt_no, body)
            self.db.execute(
                "INSERT INTO reversals(id, payment_id, hub_code, recorded_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [reversal.id, payment_id, self.hub_code, _iso(now), body, seq],
            )
            self._outbox(now, "reversal", reversal.id, body)
        return reversal

    def payments_for_person(self, person_id: str, limit: int = 50) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments WHERE person_id = ? ORDER BY recorded_at DESC LIMIT ?",
            [person_id, limit],
        )

    def payments_between(self, hub_code: str, start: datetime, end: datetime) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments WHERE hub_code = ? AND recorded_at >= ? AND recorded_at < ? "
            "ORDER BY recorded_at",
            [hub_code, _iso(start), _iso(end)],
        )

    def awaiting_approval(self, hub_code: str | None = None) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments p WHERE hub_code = ? AND status = 'awaiting_approval' "
            "AND NOT EXISTS (SELECT 1 FROM payment_decisions d WHERE d.payment_id = p.id) "
            "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id) ORDER BY recorded_at",
            [hub_code or self.hub_code],
        )

    def reversals(self) -> list[Reversal]:
        return self._models(Reversal, "SELECT body FROM reversals ORDER BY recorded_at")

    # --- drop-in sessions -----------------------------------------------------------------

    def open_session(self, session: DropInSession) -> DropInSession:
        self.refuse_closed_day(session.hub_code, session.starts_at)
        body = _json(session)
        with self._save() as now:
            seq = self._audit(now, "create", "session", session.id, session.session_type, body)
            self.db.execute(
                "INSERT INTO sessions(id, version, hub_code, session_type, starts_at, closed_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session.id,
                    session.version,
                    session.hub_code,
                    session.session_type,
                    _iso(session.starts_at),
                    None,
                    body,
                    seq,
                ],
            )
            self._outbox(now, "session", session.id, body)
        return session

    def get_session(self, session_id: str) -> DropInSession:
        found = self._models(DropInSession, "SELECT body FROM sessions WHERE id = ?", [session_id])
        if not found:
            raise NotFound("No such session")
        return found[0]

    def close_session(self, session_id: str, at: datetime | None = None) -> DropInSession:
        current = self.get_session(session_id)
        if current.closed_at is not None:
            raise NotAllowed("That session is already closed")
        at = at or self.clock()
        closed = DropInSession.model_validate(
            current.model_dump() | {"closed_at": at, "ends_at": current.ends_at or at, "version": current.version + 1}
        )
        body = _json(closed)
        with self._save() as now:
            seq = self._audit(now, "close", "session", session_id, f"version {closed.version}", body)
            changed = self.db.execute(
                "UPDATE sessions SET version = ?, closed_at = ?, body = ?, audit_seq = ? WHERE id = ? AND version = ?",
                [closed.version, _iso(at), body, seq, session_id, current.version],
            ).rowcount
            if changed != 1:
                raise VersionConflict("That session was changed elsewhere since it was opened here; reopen it")
            self._outbox(now, "session", session_id, body)
        return closed

    def add_attendance(self, attendance: Attendance) -> Attendance:
        if attendance.amends or attendance.version != 1:
            raise StoreError("Use amend_attendance to correct a register line")
        session = self.get_session(attendance.session_id)
        if session.closed_at is not None:
            raise NotAllowed("That session is closed")
        if attendance.person_id:
            self.get_person(attendance.person_id)
            if any(a.person_id == attendance.person_id for a in self.attendance(attendance.session_id)):
                raise NotAllowed("Already on this session's register")
        body = _json(attendance)
        with self._save() as now:
            seq = self._audit(now, "create", "attendance", attendance.id, attendance.kind.value, body)
            self._insert_attendance(attendance, body, seq)
            self._outbox(now, "attendance", attendance.id, body)
        return attendance

    def _insert_attendance(self, attendance: Attendance, body: str, seq: int) -> None:
        self.db.execute(
            "INSERT INTO attendance(id, session_id, person_id, kind, body, audit_seq, amends) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                attendance.id,
                attendance.session_id,
                attendance.person_id,
                attendance.kind.value,
                body,
                seq,
                attendance.amends,
            ],
        )

    def amend_attendance(
        self, attendance_id: str, *, children: int | None = None, remove: bool = False, reason: str = ""
    ) -> Attendance:
        """Correct a register line: a new version of it, the old one kept in the history.

        `children` corrects a children count (0 takes the line off); `remove` takes off
        someone added by mistake. Allowed after the session (or the day) is closed: a
        correction is an amendment, not an addition."""
        found = self._models(Attendance, "SELECT body FROM attendance WHERE id = ?", [attendance_id])
        if not found:
            raise NotFound("No such line on the register")
        current = found[0]
        if current.removed:
            raise NotAllowed("That line was already taken off the register")
        if children is not None and current.kind is not AttendanceKind.CHILDREN:
            raise NotAllowed("Only a line of children has a count to correct")
        if children == 0:
            remove, children = True, None
        if not remove and (children is None or children == current.children):
            raise NotAllowed("Nothing to correct: the register already says that")
        with self._save() as now:
            # Under the write lock: a line already corrected (here or by a sync) is not the
            # register as it stands, and a version is amended at most once.
            if self._rows("SELECT 1 FROM attendance WHERE amends = ?", [current.id]):
                raise VersionConflict("That line was corrected since the register was shown; look again")
            data = current.model_dump()
            data.update(
                id=uuid7(),
                version=current.version + 1,
                amends=current.id,
                recorded_by=self._actor(),
                recorded_at=now,
                removed=remove,
                amend_reason=reason,
            )
            if children is not None:
                data["children"] = children
            amended = Attendance.model_validate(data)
            body = _json(amended)
            detail = "taken off" if remove else f"children {current.children} to {amended.children}"
            seq = self._audit(now, "amend", "attendance", amended.id, detail, body)
            self._insert_attendance(amended, body, seq)
            self._outbox(now, "attendance", amended.id, body)
        return amended

    def attendance_history(self, session_id: str) -> list[Attendance]:
        """Every version of every line of a session's register, in the order saved."""
        return self._models(Attendance, "SELECT body FROM attendance WHERE session_id = ? ORDER BY rowid", [session_id])

    def attendance(self, session_id: str) -> list[Attendance]:
        """The register as it stands: each line's latest version, where the line was first
        added; lines taken off are left out."""
        history = self.attendance_history(session_id)
        replaced = {a.amends for a in history if a.amends}
        first: dict[str, int] = {}  # each version -> where its line was first added
        for position, line in enumerate(history):
            first[line.id] = first.get(line.amends, position) if line.amends else position
        current = [a for a in history if a.id not in replaced and not a.removed]
        return sorted(current, key=lambda a: first[a.id])

    def sessions_between(self, hub_code: str, start: datetime, end: datetime) -> list[DropInSession]:
        return self._models(
            DropInSession,
            "SELECT body FROM sessions WHERE hub_code = ? AND starts_at >= ? AND starts_at < ? ORDER BY starts_at",
            [hub_code, _iso(start), _iso(end)],
        )

    # --- outbox ---------------------------------------------------------------------------

    def outbox(self, state: str | None = "waiting", limit: int = 500, after_seq: int = 0) -> list[OutboxItem]:
        where, params = "seq > ?", [after_seq]
        if state is not None:
            where += " AND state = ?"
            params.append(state)
        rows = self._rows(
            f"SELECT seq, id, kind, record_id, body, state, attempts, last_error FROM outbox WHERE {where} "
            "ORDER BY seq LIMIT ?",
            [*params, limit],
        )
        return [OutboxItem(*row) for row in rows]

    def outbox_waiting(self) -> int:
        return self._rows("SELECT count(*) FROM outbox WHERE state IN ('waiting', 'sending')")[0][0]

    def mark_outbox(self, results: dict[str, tuple[str, str | None]]) -> None:
        """Record the service's answer per outbox id: synced / quarantined (with reason)."""
        with self._save():
            for outbox_id, (state, error) in results.items():
                self.db.execute(
                    "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                    [state, error, outbox_id],
                )

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


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < 8:
        raise NotAllowed("A passphrase must be at least 8 characters; a few words are best")
    if len(passphrase) > 1024:
        raise NotAllowed("A passphrase must be at most 1,024 characters")


def _integrity_message(exc: BaseException) -> str:
    text = str(exc)
    if "never edited" in text or "never deleted" in text:
        return "saved records are never edited or deleted; record an amendment or a reversal"
    if "UNIQUE" in text:
        return "that record is already saved"
    if "FOREIGN KEY" in text:
        return "it refers to a record that is not on this desk"
    return "the record breaks a rule of the store"


def validation_message(error: ValidationError) -> str:
    from hubdesk.domain.errors import field_errors

    return "; ".join(f"{k}: {v}" if k else v for k, v in field_errors(error).items())


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
