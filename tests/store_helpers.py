"""Helpers shared by the store tests (keys, migrations, atomic saves, crash trials)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from hubdesk.domain.models import Contact, Person
from hubdesk.store.audit import AuditEntry, AuditProblem, chain_key, verify_chain
from hubdesk.store.store import Store

PASSPHRASE = "correct horse battery"  # the same as tests/conftest.py

AUDIT_COLUMNS = "seq, at, actor, action, kind, record_id, detail, body_hash, mac"


def a_contact(store: Store, person: Person, summary: str = "Came in about the gas meter.") -> Contact:
    now = store.clock()
    assert store.user is not None
    return Contact(
        person_id=person.id,
        hub_code=store.hub_code,
        contact_type="phone",
        recorded_by=store.user.login,
        started_at=now,
        recorded_at=now,
        seen=False,
        purposes=("money",),
        summary=summary,
    )


def audit_entries(store: Store) -> list[AuditEntry]:
    rows = store._rows(f"SELECT {AUDIT_COLUMNS} FROM audit ORDER BY seq")
    return [AuditEntry(*row) for row in rows]


def chain_problems(store: Store) -> list[AuditProblem]:
    """verify_chain over the whole audit table, with the head kept in meta."""
    head_seq, head_mac = store.meta("audit_head").split(":", 1)
    assert store._key is not None
    return verify_chain(audit_entries(store), chain_key(store._conn, store._key), (int(head_seq), head_mac))


def counts(store: Store) -> dict[str, int]:
    """Records kept (not audit: every unlock adds an entry)."""
    return {t: store.count(t) for t in ("people", "contacts", "payments", "users", "outbox")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@contextmanager
def small_disk(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A real small file system (tmpfs, needs root) mounted on `folder`, for full-disk tests."""
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def fill_disk(filler: Path) -> None:
    """Fill the disk `filler` is on to the last byte (unlink `filler` to free it again)."""
    with open(filler, "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"\0" * 4096)
        except OSError:
            pass
