"""Connections, transactions and the write lock: one interface, two engines (SQLite, PostgreSQL).

The SQL is written once with `?` placeholders; an engine supplies connections, its
DDL spelling and its write lock. Every write takes one lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: a transaction-scoped advisory lock), so the change sequence is handed out
in commit order and a reader can never pass a change still being written.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


SQLITE_CACHE_KIB = 512
"""Each pooled SQLite connection's page cache (SQLite's default is 2 MB a connection; with a
pool of 40 that is 80 MB of the service's memory, filled as each connection reads). The
file's pages stay in the operating system's cache, which the connections share."""


class SQLiteEngine(Engine):
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"
    integrity_errors = (sqlite3.IntegrityError,)
    name = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        # The central record is personal data: a folder made here is the service account's
        # alone (0700), and a new database file is made 0600 before SQLite opens it (SQLite
        # gives its WAL and shared-memory files the database file's mode).
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=60)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
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
