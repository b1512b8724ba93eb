"""Who can open the store: unlocking, removing users' key slots, and rekeying.

Unlock checks the wait after wrong passphrases, opens the user's slot, takes whichever
key generation opens the database (a rekey cut short is carried to its end), writes the
unlock (and any read-only unlocks owed) to the audit chain, turns a first-format slot
into a key-pair slot, and removes the slots of users the central record has made
inactive. Removing a slot seals a new database key to every remaining slot and the
recovery key (rekey.py says in which order), with no one else's passphrase.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hubdesk.store import rekey
from hubdesk.store.audit import CHAIN_KEY_META
from hubdesk.store.errors import KeySlotDamaged, NotAllowed, StoreError, UnknownUser, WrongPassphrase
from hubdesk.store.keys import (
    RECOVERY,
    KeySlotFile,
    OpenedSlot,
    binding_holds,
    new_database_key,
    new_slot,
    seal_to,
    wipe,
)
from hubdesk.store.unlocks import UnlockLog

if TYPE_CHECKING:
    from hubdesk.store.store import Store

REKEY_OWED = "rekey_owed"


@dataclass
class Removal:
    """What removing slots did: who lost their slot, and whether the key changed yet."""

    removed: list[str]
    rekeyed: bool
    waiting_for: list[str] = field(default_factory=list)  # first-format slots holding the rekey back

    def text(self) -> str:
        names = ", ".join(self.removed) or "no one"
        if self.rekeyed:
            return f"Removed {names}; the database has a new key, sealed to every remaining user and the recovery key"
        return (
            f"Removed {names}; the database key changes once {', '.join(self.waiting_for)} "
            "(key slots of the old kind) have unlocked once"
        )


def open_store(
    cls: type[Store],
    data_dir: Path,
    slot_id: str,
    secret: bytes,
    *,
    login: str | None,
    how: str,
    clock: Callable[[], datetime],
    read_only: bool = False,
    purpose: str = "",
    progress: rekey.Progress | None = None,
) -> Store:
    from hubdesk.store.store import db_path, slots_path

    slots = KeySlotFile.load(slots_path(data_dir))
    log = UnlockLog(data_dir)
    known = slot_id in slots.slots
    if known:
        log.check(slot_id)
    try:
        opened = slots.unlock(slot_id, secret)
    except WrongPassphrase:
        if known:
            log.failed(slot_id)
        raise
    try:
        if known and not read_only:
            log.succeeded(slot_id)
        generation, key = rekey.choose_key(db_path(data_dir), slots, opened, read_only)
        store = cls(data_dir, key, slots, login, clock=clock, read_only=read_only)
        try:
            store._check_store_id()
            if read_only:
                entry = {"at": store.clock().isoformat(), "actor": login or RECOVERY, "how": how, "purpose": purpose}
                if not log.owe(entry):
                    raise StoreError(
                        "Could not open the store read-only: the unlock cannot be recorded anywhere on this disk"
                    )
            else:
                _after_unlock(store, opened, generation, slot_id, secret, how, progress)
        except BaseException:
            store.lock()
            raise
        return store
    finally:
        opened.wipe()


def _after_unlock(
    store: Store,
    opened: OpenedSlot,
    generation: int,
    slot_id: str,
    secret: bytes,
    how: str,
    progress: rekey.Progress | None,
) -> None:
    slots = store.slots
    if slots.next_generation is not None:
        if generation == slots.generation:
            # The database is still under the current key: carry the rekey on (the next key is
            # sealed in this slot already), so a removed user's old slot file stops working.
            next_key = opened.key(slots.next_generation)
            if next_key is not None:
                try:
                    _rekey_to(store, bytearray(next_key), progress)
                except StoreError as exc:
                    store.notices.append(str(exc))
        else:
            rekey.finish(slots)
    log = UnlockLog(store.data_dir)
    owed, dropped = log.owed()
    with store._save() as now:
        for entry in owed:
            detail = f"read-only by {entry.get('actor', '?')} at {entry.get('at', '?')}: {entry.get('purpose', '')}"
            store._audit(now, "unlock", "store", None, detail.strip())
        if dropped:
            store._audit(now, "unlock", "store", None, f"{dropped} more read-only unlocks (not kept singly)")
        store._audit(now, "unlock", "store", None, how)
    if owed or dropped:
        log.settle()
    log.ensure()
    if slots.slots[slot_id].first_format:
        try:
            convert_slot(store, slot_id, secret)
        except StoreError as exc:
            store.notices.append(str(exc))
    try:
        remove_inactive(store, progress)
    except StoreError as exc:
        store.notices.append(f"Could not remove the key slots of inactive users yet: {exc}")


def convert_slot(store: Store, slot_id: str, secret: bytes) -> None:
    """A first-format slot becomes a key-pair slot (its owner's passphrase is at hand)."""
    slots = store.slots
    assert store._key is not None
    old = slots.slots[slot_id]
    with store._save() as now:
        store._audit(now, "convert", "key_slot", slot_id, "key pair made; database key sealed to it")
    slots.put(new_slot(slots.store_id, slot_id, secret, {slots.generation: store._key}, old.kdf))
    slots.save()


def remove_inactive(store: Store, progress: rekey.Progress | None = None) -> Removal | None:
    """Slots of users the users table (pulled from the central record) says are inactive go,
    and any rekey owed is made once it can be."""
    inactive = [
        login
        for (login,) in store._rows("SELECT login FROM users WHERE active = 0")
        if login in store.slots.slots and login != RECOVERY
    ]
    owed = bool(store._rows("SELECT 1 FROM meta WHERE key = ?", [REKEY_OWED]))
    if inactive or (owed and not store.slots.first_format_slots()):
        return remove_slots(store, inactive, "made inactive in the central record", progress)
    return None


def remove_users(store: Store, logins: list[str], progress: rekey.Progress | None = None) -> Removal:
    """`hubdesk users remove`: a duty manager or admin drops users' slots and rekeys."""
    from hubdesk.domain.enums import Role

    store._require_role(Role.DUTY_MANAGER, Role.ADMIN)
    wanted = sorted({login.strip().lower() for login in logins})
    for login in wanted:
        if login == RECOVERY:
            raise NotAllowed("The recovery key slot cannot be removed")
        if store.user is not None and login == store.user.login:
            raise NotAllowed("You cannot remove yourself; ask another duty manager or admin")
        if login not in store.slots.slots:
            raise UnknownUser(f"{login} has no key slot on this desk")
    by = store.user.login if store.user else RECOVERY
    return remove_slots(store, wanted, f"removed by {by}", progress)


def remove_slots(store: Store, logins: list[str], detail: str, progress: rekey.Progress | None = None) -> Removal:
    slots = store.slots
    assert store._key is not None
    remaining = [s for sid, s in slots.slots.items() if sid not in logins]
    damaged = [sid for sid in slots.damaged_slots() if sid not in logins]
    if damaged:
        who = ", ".join("the recovery key" if sid == RECOVERY else sid for sid in sorted(damaged))
        raise KeySlotDamaged(
            f"The key slot of {who} is damaged, so a new key cannot be sealed to it. Nothing was changed: "
            "set that passphrase again (with the recovery key), or remove that user too."
        )
    for slot in remaining:
        if not slot.first_format and not binding_holds(slot, slots.store_id, slots.generation, store._key):
            raise KeySlotDamaged(
                f"The key slot for {slot.slot_id} was changed outside hubdesk (its public key is not the one "
                "this store made). Nothing was changed; set that user's passphrase again first."
            )
    waiting = sorted(s.slot_id for s in remaining if s.first_format)
    rekey_now = not waiting
    next_generation = slots.generation + 1
    if rekey_now:
        from hubdesk.store.store import db_path

        rekey.prepare(store._conn, db_path(store.data_dir))
    with store._save() as now:
        store.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
            [CHAIN_KEY_META, bytes(store._audit_key or b"")],  # the driver binds a blob from bytes
        )
        for login in logins:
            _mark_inactive(store, login, now)
            store._audit(now, "remove", "key_slot", login, detail)
        if rekey_now:
            store._audit(now, "rekey", "store", None, f"key generation {next_generation}")
        else:
            store.db.execute(
                "INSERT INTO meta(key, value) VALUES (?, '1') ON CONFLICT(key) DO UPDATE SET value = '1'", [REKEY_OWED]
            )
    pending = slots.copy()
    for login in logins:
        pending.remove(login)
    if not rekey_now:
        pending.save()
        store.slots = pending
        return Removal(list(logins), False, waiting)
    new_key = new_database_key()
    try:
        for slot in pending.slots.values():
            seal_to(slot, pending.store_id, next_generation, new_key)
            pending.put(slot)
        pending.next_generation = next_generation
        pending.save()
        store.slots = pending
        _rekey_to(store, new_key, progress)
    except BaseException:
        wipe(new_key)
        raise
    with store._save():
        store.db.execute("DELETE FROM meta WHERE key = ?", [REKEY_OWED])
    return Removal(list(logins), True)


def _mark_inactive(store: Store, login: str, now: datetime) -> None:
    try:
        user = store.get_user(login)
    except UnknownUser:
        return
    if user.active:
        store._put_user(user.model_copy(update={"active": False}), login, now, action="remove")


def _rekey_to(store: Store, new_key: bytearray, progress: rekey.Progress | None) -> None:
    """Steps 2-5 of rekey.py on the store's own connection; the store keeps the new key."""
    from hubdesk.store.store import db_path

    store._require_open()
    rekey.rekey_database(store._conn, db_path(store.data_dir), new_key, progress)
    old, store._key = store._key, new_key
    wipe(old)
    rekey.finish(store.slots)
