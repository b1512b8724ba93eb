"""The one place hubdesk opens SQLCipher, and points sqlite-utils at its exceptions."""

from __future__ import annotations

import os
from pathlib import Path

import sqlcipher3.dbapi2 as dbapi2
import sqlite_utils.db
import sqlite_utils.utils
from sqlite_utils import Database

from hubdesk.store.errors import DatabaseDamaged, DiskFull, StoreError

# sqlite-utils catches the standard library's sqlite3 exceptions by class; a
# sqlcipher3 connection raises its own. Point sqlite-utils at sqlcipher3 here, once,
# so its error paths (table exists checks, fallbacks) keep working.
sqlite_utils.utils.sqlite3 = dbapi2  # type: ignore[attr-defined]
sqlite_utils.utils.OperationalError = dbapi2.OperationalError  # type: ignore[attr-defined]
sqlite_utils.db.sqlite3 = dbapi2  # type: ignore[attr-defined]
sqlite_utils.db.OperationalError = dbapi2.OperationalError  # type: ignore[attr-defined]

Error = dbapi2.Error
OperationalError = dbapi2.OperationalError
IntegrityError = dbapi2.IntegrityError
DatabaseError = dbapi2.DatabaseError

KEY_BYTES = 32


def _raw_key_pragma(name: str, key: bytes | bytearray) -> str:
    if len(key) != KEY_BYTES:
        raise StoreError("The database key has the wrong length")
    # A raw key in x'..' form: SQLCipher uses it as is, no KDF at open. The one place the
    # key becomes text: the driver takes a pragma only as a SQL string (sqlcipher3 has no
    # bytes key API). The string is built here, handed straight to execute and dropped; it
    # is never logged or kept (Python cannot zero it, so it lives as briefly as we can make it).
    return f"PRAGMA {name} = \"x'{key.hex()}'\""


def key_pragma(key: bytes | bytearray) -> str:
    return _raw_key_pragma("key", key)


def rekey_pragma(key: bytes | bytearray) -> str:
    return _raw_key_pragma("rekey", key)


_key_pragma = key_pragma


def connect(path: Path, key: bytes | bytearray, *, create: bool = False) -> dbapi2.Connection:
    """Open (or with create=True, make) the SQLCipher database; check the key works."""
    if not create and not path.exists():
        from hubdesk.store.errors import NoStore

        raise NoStore(f"No database at {path}")
    conn = dbapi2.connect(str(path), isolation_level=None, timeout=10.0)
    try:
        # SQLCipher logs decryption failures to stderr by default; we report them in
        # plain words instead (doctor names the page).
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(_key_pragma(key))
        conn.execute("PRAGMA cipher_memory_security = ON")
        # Touch the schema: this is where a wrong key or a damaged first page shows.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        # 32 MB of page cache (the default is 2 MB): a pulled page of 500 changes dirties more
        # than 2 MB, and spilling it mid-transaction, encrypted page by page, doubled the time
        # of a desk's first pull of its working set (issue 9).
        conn.execute("PRAGMA cache_size = -32768")
    except dbapi2.DatabaseError as exc:
        conn.close()
        raise translate(exc, "open the database", path) from None
    return conn


def connect_read_only(path: Path, key: bytes | bytearray) -> dbapi2.Connection:
    """Open without writing a byte (a full disk: backup and export to another disk).

    A WAL database normally needs its -shm file, which a full disk cannot grow. With no
    WAL content (the store was closed cleanly, or every commit is checkpointed) the main
    file holds everything, so it is opened as immutable: no -shm, no locks, nothing
    written. With WAL content still to be folded in, it is opened read-only the usual
    way, which works while the -shm file is there."""
    from hubdesk.store.errors import NoStore

    if not path.exists():
        raise NoStore(f"No database at {path}")
    wal = path.with_name(path.name + "-wal")
    has_wal = wal.exists() and wal.stat().st_size > 0
    uri = path.resolve().as_uri() + ("?mode=ro" if has_wal else "?mode=ro&immutable=1")
    conn = dbapi2.connect(uri, uri=True, isolation_level=None, timeout=10.0)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(key_pragma(key))
        conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
    except dbapi2.DatabaseError as exc:
        conn.close()
        raise translate(exc, "open the database read-only", path) from None
    return conn


def connect_for_checks(path: Path, key: bytes | bytearray) -> dbapi2.Connection:
    """A bare keyed connection that reads nothing yet: for doctor, which must look at
    each page even when the schema pages themselves are damaged."""
    conn = dbapi2.connect(str(path), isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(_key_pragma(key))
    conn.execute("PRAGMA query_only = ON")
    return conn


def database(conn: dbapi2.Connection) -> Database:
    return Database(conn)


def _free_bytes(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        stat = os.statvfs(path if path.is_dir() else path.parent)
    except (OSError, AttributeError):
        return None
    return stat.f_bavail * stat.f_frsize


def translate(exc: BaseException, doing: str, path_hint: Path | None = None) -> StoreError:
    """A sqlcipher error as a plain StoreError (no SQL, no values)."""
    text = str(exc).lower()
    if "full" in text and ("disk" in text or "database" in text):
        return DiskFull(f"Could not {doing}: the disk is full. Nothing was saved; free space and try again.")
    if "not a database" in text or "malformed" in text or "hmac" in text:
        return DatabaseDamaged(
            f"Could not {doing}: the database is damaged or does not match its key slots. "
            "Run `hubdesk doctor`, and restore from a backup if it reports damage."
        )
    if "disk i/o" in text or "unable to open" in text:
        free = _free_bytes(path_hint)
        if free is not None and free < 1024 * 1024:
            return DiskFull(f"Could not {doing}: the disk is full. Nothing was saved; free space and try again.")
        return StoreError(f"Could not {doing}: the disk could not be read or written (is it full or failing?)")
    if "locked" in text or "busy" in text:
        return StoreError(f"Could not {doing}: the store is busy in another program. Try again.")
    if "readonly" in text or "read-only" in text or "permission" in text:
        return StoreError(f"Could not {doing}: the data folder is read-only.")
    return StoreError(f"Could not {doing}: {type(exc).__name__}")


def fsync_dir(path: Path) -> None:
    if os.name == "posix":
        fd = os.open(str(path), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
