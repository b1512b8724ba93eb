"""Rekey: a new database key for every remaining slot, in an order no kill can break.

The order (each step durable before the next):

1. The slot file is rewritten (temp file, fsync, rename) holding, in every remaining
   slot, seals of both the current key and the next; the removed slots are gone.
2. The database leaves WAL for a rollback journal (`journal_mode = DELETE`): SQLCipher
   journals each page under the key it was read with, so a rekey cut short rolls back
   to the current key when the database is next opened with that key.
3. `PRAGMA rekey` re-encrypts every page under the next key, in one transaction.
4. The database goes back to WAL.
5. The slot file is rewritten again with the next key only.

A kill before 3 commits leaves a database the current key opens; after, one the next
key opens; the slot file holds both until 5. On open the current key is tried first
(only it can roll back a cut-short rekey: the journal's pages are under it), then the
next; a rekey found half-done is carried to its end by whoever unlocks next (the seals
of the next key are already in their slots), so a removed user's old slot file never
opens the store again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from hubdesk.store import sqlcipher
from hubdesk.store.errors import DatabaseDamaged, StoreError
from hubdesk.store.keys import KeySlotFile, OpenedSlot

Progress = Callable[[float], None]


def _opens(path: Path, key: bytearray, read_only: bool = False) -> bool:
    """Does this key open the database? (With the current key, this also rolls back a
    rekey that was cut short.)"""
    if read_only:
        try:
            sqlcipher.connect_read_only(path, key).close()
            return True
        except DatabaseDamaged:
            return False
    conn = sqlcipher.dbapi2.connect(str(path), isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(sqlcipher.key_pragma(key))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher.DatabaseError as exc:
        text = str(exc).lower()
        if "not a database" in text or "encrypted" in text:
            return False
        raise sqlcipher.translate(exc, "open the database", path) from None
    finally:
        conn.close()


def choose_key(db: Path, slots: KeySlotFile, opened: OpenedSlot, read_only: bool = False) -> tuple[int, bytearray]:
    """The generation whose key opens the database, and a copy of that key."""
    if read_only and journal_exists(db):
        raise StoreError("A change of the database key was cut short: free some space so it can finish, then try again")
    generations = [slots.generation]
    if slots.next_generation is not None:
        generations.append(slots.next_generation)
    for generation in generations:
        key = opened.key(generation)
        if key is not None and _opens(db, key, read_only):
            return generation, bytearray(key)
    raise DatabaseDamaged(
        "Could not open the database: the database is damaged or does not match its key slots. "
        "Run `hubdesk doctor`, and restore from a backup if it reports damage."
    )


def _watch(db: Path, progress: Progress, done: threading.Event) -> None:
    """Report how far the rekey is: every page is journaled before it is rewritten, so the
    journal's size against the database's is the share done."""
    journal = db.with_name(db.name + "-journal")
    try:
        total = max(db.stat().st_size, 1)
    except OSError:
        return
    while not done.wait(0.2):
        try:
            size = journal.stat().st_size
        except OSError:
            continue
        progress(min(size / total, 0.99))


def prepare(conn, db: Path) -> None:
    """Step 2: leave WAL for a rollback journal. It needs this connection to be the only one,
    so it is done before anything else changes: with the desk open elsewhere, nothing is."""
    in_use = StoreError(
        "Could not change the database key: the store is open in another program (the desk?). "
        "Close it and try again; nothing was changed."
    )
    # Another program holding the store will not let go within a few seconds (the desk holds
    # it all day): ask briefly rather than for the connection's usual ten seconds.
    conn.execute("PRAGMA busy_timeout = 1000")
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlcipher.DatabaseError as exc:
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            raise in_use from None
        raise sqlcipher.translate(exc, "prepare the rekey", db) from None
    finally:
        conn.execute("PRAGMA busy_timeout = 10000")
    if str(mode).lower() != "delete":
        raise in_use


def rekey_database(conn, db: Path, new_key: bytearray, progress: Progress | None = None) -> None:
    """Steps 2-4 on an open connection, the only one to this database."""
    prepare(conn, db)
    done = threading.Event()
    watcher = None
    if progress is not None:
        watcher = threading.Thread(target=_watch, args=(db, progress, done), daemon=True)
        watcher.start()
    try:
        conn.execute(sqlcipher.rekey_pragma(new_key))
    except sqlcipher.DatabaseError as exc:
        raise sqlcipher.translate(exc, "change the database key", db) from None
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    if progress is not None:
        progress(1.0)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlcipher.DatabaseError:
        pass  # the next open sets WAL again (sqlcipher.connect does)


def finish(slots: KeySlotFile) -> None:
    """Step 5: the next generation becomes the current one; the old seals go."""
    if slots.next_generation is None:
        return
    old, new = str(slots.generation), slots.next_generation
    for slot in slots.slots.values():
        slot.sealed.pop(old, None)
        slot.binding.pop(old, None)
        slots.put(slot)
    slots.generation, slots.next_generation = new, None
    slots.save()


def journal_exists(db: Path) -> bool:
    journal = db.with_name(db.name + "-journal")
    return journal.exists() and os.path.getsize(journal) > 0
