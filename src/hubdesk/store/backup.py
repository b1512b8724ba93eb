"""Encrypted, self-checking backups that restore on another machine.

A backup is one file:

    HUBDESK-BACKUP 1\\n
    <header JSON>\\n          store id, hub, time, size and SHA-256 of the database copy,
                              and the key slot file itself
    <database copy>           SQLCipher-encrypted with the store's own key
    <HMAC-SHA256, 32 bytes>   over all of the above, keyed from the database key

The SHA-256 lets anyone check the file is whole without a key; the HMAC proves it
was made by someone holding the key. The slots inside mean a passphrase or the
recovery key opens it anywhere. Nothing in it is in clear but ids and the hub code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hubdesk.store import sqlcipher
from hubdesk.store.errors import StoreError, StoreExists, WrongPassphrase
from hubdesk.store.keys import RECOVERY, KeySlotFile, normalise_recovery_code
from hubdesk.store.store import Store, db_path, slots_path, store_exists

MAGIC = b"HUBDESK-BACKUP 1\n"
MAC_LEN = 32


class BackupDamaged(StoreError):
    pass


def _mac_key(db_key: bytes | bytearray) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hubdesk backup v1").derive(bytes(db_key))


def make_backup(store: Store, target: Path) -> dict:
    """Write an encrypted backup of an unlocked store to `target`; returns its header.

    Works on a store opened read-only (its data folder's disk full): the temporary copy is
    made beside the target, not in the data folder; query_only is lifted only for the
    export, which writes nothing but that copy; and no closing audit entry is written
    (the read-only unlock's owed entry, written at the next writable unlock, says "backup")."""
    store._require_open()
    target = Path(target)
    if target.exists():
        raise StoreExists(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise StoreError(f"Could not write the backup: there is no folder {target.parent}")
    assert store._key is not None
    copy = target.with_name(f".{target.name}.{os.getpid()}-{time.time_ns()}.db")
    try:
        hexkey = bytes(store._key).hex()
        if store.read_only:
            store._conn.execute("PRAGMA query_only = OFF")
        try:
            store._conn.execute(f"ATTACH DATABASE ? AS backup KEY \"x'{hexkey}'\"", [str(copy)])
            try:
                store._conn.execute("SELECT sqlcipher_export('backup')")
            finally:
                store._conn.execute("DETACH DATABASE backup")
        finally:
            if store.read_only:
                store._conn.execute("PRAGMA query_only = ON")
        db_bytes = copy.read_bytes()
    except sqlcipher.DatabaseError as exc:
        raise sqlcipher.translate(exc, "make the backup", target.parent) from None
    except OSError as exc:
        raise StoreError(f"Could not make the backup: {exc.strerror or 'read failed'}") from None
    finally:
        for leftover in (copy, copy.with_name(copy.name + "-journal")):
            leftover.unlink(missing_ok=True)
    header = {
        "store_id": store.slots.store_id,
        "hub_code": store.hub_code,
        "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "db_size": len(db_bytes),
        "db_sha256": hashlib.sha256(db_bytes).hexdigest(),
        "slots": json.loads(store.slots.path.read_text()),
    }
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    mac = hmac.new(_mac_key(store._key), head + db_bytes, hashlib.sha256).digest()
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(head + db_bytes + mac)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"Could not write the backup: {exc.strerror or 'write failed'}") from None
    if not store.read_only:
        with store._save() as now:
            store._audit(now, "backup", "store", None, header["db_sha256"][:16])
    return header


def read_backup(source: Path) -> tuple[dict, bytes, bytes, bytes]:
    """(header, head bytes, database bytes, mac); checks shape and SHA-256 only."""
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise StoreError(f"Cannot read {source}: {exc.strerror or 'read failed'}") from None
    if not data.startswith(MAGIC):
        raise BackupDamaged(f"{source} is not a hubdesk backup")
    try:
        end = data.index(b"\n", len(MAGIC))
        header = json.loads(data[len(MAGIC) : end])
        size = int(header["db_size"])
        head = data[: end + 1]
        db_bytes = data[end + 1 : end + 1 + size]
        mac = data[end + 1 + size :]
    except (ValueError, KeyError, TypeError):
        raise BackupDamaged(f"{source} is damaged: its header cannot be read") from None
    if len(db_bytes) != size or len(mac) != MAC_LEN:
        raise BackupDamaged(f"{source} is damaged or cut short ({len(data):,} bytes)")
    if hashlib.sha256(db_bytes).hexdigest() != header.get("db_sha256"):
        raise BackupDamaged(f"{source} is damaged: the database copy does not match its checksum")
    return header, head, db_bytes, mac


class RestoreRefused(StoreError):
    """Restoring would lose records or mix up hubs: nothing was changed."""


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup's header, the new device id the restored store took,
    and where the store it replaced was kept (None if there was none)."""

    header: dict
    device_id: str
    kept: Path | None
    server: str | None


def _live_store_state(
    data_dir: Path, login: str | None, passphrase: str | None, recovery_code: str | None
) -> tuple[str, dict[str, int]] | None:
    """(hub code, outbox rows the central record does not hold, by state) of the store in
    data_dir, or None if these credentials do not open it."""
    from hubdesk.store import sync_state

    try:
        if recovery_code is not None:
            live = Store.recover(data_dir, recovery_code)
        else:
            live = Store.unlock(data_dir, login or "", passphrase or "")
    except StoreError:
        return None
    with live:
        return live.hub_code, sync_state.not_held(live)


def _unsent_words(counts: dict[str, int]) -> str:
    waiting = counts.get("waiting", 0) + counts.get("sending", 0)
    attention = counts.get("conflict", 0) + counts.get("quarantined", 0)
    parts = []
    if waiting:
        parts.append(f"{waiting:,} waiting to be sent")
    if attention:
        parts.append(f"{attention:,} sent but not taken (needing attention)")
    return f"{waiting + attention:,} record(s) the central record does not hold ({', '.join(parts)})"


def _keep_aside(data_dir: Path, now: str) -> Path:
    """Move the live store's files (database, WAL, key slots) into a folder beside the data
    folder: still encrypted, still opened by its own passphrases with --data-dir there."""
    kept = data_dir.with_name(f"{data_dir.name}.replaced-{now}")
    n = 1
    while kept.exists():
        n += 1
        kept = data_dir.with_name(f"{data_dir.name}.replaced-{now}-{n}")
    kept.mkdir(mode=0o700)
    for name in (db_path(data_dir), slots_path(data_dir)):
        for suffix in ("-wal", "-shm", ""):  # the WAL before its database: never a database without its log
            path = Path(str(name) + suffix)
            if path.exists():
                os.replace(path, kept / path.name)
    sqlcipher.fsync_dir(kept)
    sqlcipher.fsync_dir(data_dir)
    return kept


def restore_backup(
    source: Path,
    data_dir: Path,
    *,
    login: str | None = None,
    passphrase: str | None = None,
    recovery_code: str | None = None,
    replace: bool = False,
    force: bool = False,
    other_hub: bool = False,
) -> Restored:
    """Check a backup fully (checksum, key, HMAC, every page) and put it in data_dir.

    Never loses a record: over a live store (`replace`) it refuses while that store holds
    records the central record does not (unless `force`), refuses a backup of another hub's
    store (unless `other_hub`), and keeps the replaced store, encrypted, in a folder beside
    the data folder. The restored store takes a new device identity (and must enrol again),
    so neither its audit sequence nor what it sends can collide with what the old device
    already sent; its receipt numbers move to a new block (see `_new_receipt_block`)."""
    header, head, db_bytes, mac = read_backup(source)
    data_dir = Path(data_dir).resolve()  # `--data-dir .` has no name to put folders beside
    live = store_exists(data_dir)
    if live and not replace:
        raise StoreExists(f"There is already a store in {data_dir}; restore into an empty folder, or pass --replace")
    if live:
        state = _live_store_state(data_dir, login, passphrase, recovery_code)
        if state is None and not force:
            raise RestoreRefused(
                f"These credentials do not open the store in {data_dir}, so it cannot be checked for records "
                "not yet sent: open it and sync first, or pass --force to replace it anyway (it is kept, "
                "encrypted, beside the data folder)"
            )
        if state is not None:
            live_hub, unsent = state
            if live_hub != header.get("hub_code") and not other_hub:
                raise RestoreRefused(
                    f"The backup is of a {header.get('hub_code')} store and the store in {data_dir} is {live_hub}'s: "
                    "pass --other-hub if this desk is to become a desk of that hub. Nothing was changed"
                )
            if unsent and not force:
                raise RestoreRefused(
                    f"The store in {data_dir} has {_unsent_words(unsent)}: sync it first, or pass --force to "
                    "replace it anyway (it is kept, encrypted, beside the data folder). Nothing was changed"
                )
    slot_data = header["slots"]
    tmp_dir = data_dir.with_name(data_dir.name + f".restoring-{os.getpid()}")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True, mode=0o700)
    kept: Path | None = None
    key = bytearray()
    try:
        (tmp_dir / slots_path(tmp_dir).name).write_text(json.dumps(slot_data))
        slots = KeySlotFile.load(slots_path(tmp_dir))
        if recovery_code is not None:
            key = slots.open(RECOVERY, normalise_recovery_code(recovery_code))
        elif login and passphrase is not None:
            key = slots.open(login.strip().lower(), passphrase.encode())
        else:
            raise WrongPassphrase("Give a user and passphrase, or the recovery key")
        expected = hmac.new(_mac_key(key), head + db_bytes, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, mac):
            raise BackupDamaged(f"{source} fails its HMAC: it was altered after it was made")
        db_path(tmp_dir).write_bytes(db_bytes)
        conn = sqlcipher.connect(db_path(tmp_dir), key)
        try:
            bad = conn.execute("PRAGMA cipher_integrity_check").fetchall()
            if bad:
                raise BackupDamaged(f"{source} holds a damaged database ({len(bad)} bad page(s))")
        finally:
            conn.close()
        device_id, server = _as_new_device(tmp_dir, key, slots, None if recovery_code is not None else login)
        data_dir.mkdir(parents=True, exist_ok=True)
        if live:
            kept = _keep_aside(data_dir, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        os.replace(db_path(tmp_dir), db_path(data_dir))
        os.replace(slots_path(tmp_dir), slots_path(data_dir))
        sqlcipher.fsync_dir(data_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        for i in range(len(key)):
            key[i] = 0
    return Restored(header=header, device_id=device_id, kept=kept, server=server)


RECEIPT_BLOCK = 1_000_000


def _new_receipt_block(store: Store) -> int:
    """Move the receipt counter to the start of the next block of a million.

    The device the backup came from may have gone on numbering receipts after the backup
    was made (and sent them): carrying on from the backup's counter would hand out those
    numbers again. No device hands out a million receipts, so the next block is clear of
    everything the old device numbered. Returns the counter's new value."""
    rows = store._rows("SELECT value FROM counters WHERE name = 'receipt'")
    current = rows[0][0] if rows else 0
    held = store._rows(
        "SELECT max(CAST(substr(receipt_no, length(?) + 1) AS INTEGER)) FROM payments WHERE receipt_no LIKE ? || '%'",
        [f"{store.hub_code}-{store.device_no}-", f"{store.hub_code}-{store.device_no}-"],
    )[0][0]
    floor = max(current, held or 0)
    value = (floor // RECEIPT_BLOCK + 1) * RECEIPT_BLOCK
    store.db.execute(
        "INSERT INTO counters(name, value) VALUES ('receipt', ?) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        [value],
    )
    return value


def _as_new_device(data_dir: Path, key: bytearray, slots: KeySlotFile, login: str | None) -> tuple[str, str | None]:
    """Open the restored copy (still in its temporary folder) and make it a new device, in
    one transaction: the new identity, the receipt block, and the audit entry saying so."""
    from hubdesk.store import sync_state

    store = Store(data_dir, bytearray(key), slots, login.strip().lower() if login else None)
    with store:
        with store._save() as now:
            receipts = _new_receipt_block(store)
            device_id = sync_state.become_new_device(
                store, now, f"restored from a backup; receipts from {receipts + 1}"
            )
        return device_id, sync_state.get(store, sync_state.K_SERVER)
