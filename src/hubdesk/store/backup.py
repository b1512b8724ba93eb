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
    """Write an encrypted backup of an unlocked store to `target`; returns its header."""
    store._require_open()
    target = Path(target)
    if target.exists():
        raise StoreExists(f"{target} already exists; choose a new file name")
    assert store._key is not None
    copy = store.data_dir / f".backup-{os.getpid()}-{time.time_ns()}.db"
    try:
        hexkey = bytes(store._key).hex()
        store._conn.execute(f"ATTACH DATABASE ? AS backup KEY \"x'{hexkey}'\"", [str(copy)])
        try:
            store._conn.execute("SELECT sqlcipher_export('backup')")
        finally:
            store._conn.execute("DETACH DATABASE backup")
        db_bytes = copy.read_bytes()
    except sqlcipher.DatabaseError as exc:
        raise sqlcipher.translate(exc, "make the backup") from None
    finally:
        copy.unlink(missing_ok=True)
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


def restore_backup(
    source: Path,
    data_dir: Path,
    *,
    login: str | None = None,
    passphrase: str | None = None,
    recovery_code: str | None = None,
    replace: bool = False,
) -> dict:
    """Check a backup fully (checksum, key, HMAC, every page) and put it in data_dir."""
    header, head, db_bytes, mac = read_backup(source)
    data_dir = Path(data_dir)
    if store_exists(data_dir) and not replace:
        raise StoreExists(f"There is already a store in {data_dir}; restore into an empty folder, or pass --replace")
    slot_data = header["slots"]
    tmp_dir = data_dir.with_name(data_dir.name + f".restoring-{os.getpid()}")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
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
        data_dir.mkdir(parents=True, exist_ok=True)
        if replace:
            for name in (db_path(data_dir), slots_path(data_dir)):
                for suffix in ("", "-wal", "-shm"):
                    Path(str(name) + suffix).unlink(missing_ok=True)
        os.replace(db_path(tmp_dir), db_path(data_dir))
        os.replace(slots_path(tmp_dir), slots_path(data_dir))
        sqlcipher.fsync_dir(data_dir)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return header
