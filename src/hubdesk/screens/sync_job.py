"""What the desk's sync thread workers run: their own Store connection, the sync client, plain answers.

The desk's Store belongs to the main thread (sqlcipher3 refuses a connection used from
another thread), so a worker opens its own connection to the same data dir from a copy of
the key, and closes it when done, which zeroes the copy. Nothing here imports Textual: the
app's workers call these and post messages with what they return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hubdesk.store import sync_state
from hubdesk.store.errors import StoreError
from hubdesk.store.keys import KeySlotFile
from hubdesk.store.store import Store
from hubdesk.sync.client import NotEnrolled, Reachability, Refused, SyncClient, SyncError, SyncReport, Unreachable

NOT_ENROLLED = "This desk is not enrolled: ask central admin for a code, then run hubdesk enrol"
OFFLINE = (
    "Offline: the central record service cannot be reached. Everything waiting stays on this desk "
    "and is sent when the service can be reached."
)
# A sync from the desk waits at most this long for one answer (the CLI's default is 30 s):
# a lock or a quit cancels the worker, which stops at its next progress report.
DESK_TIMEOUT = 15.0


class SyncCancelled(Exception):
    """The worker was cancelled (the desk locked or closed): stop at the next progress report."""


@dataclass
class SyncJob:
    """Everything a worker thread needs to open its own Store; made on the main thread."""

    data_dir: Path
    key: bytearray
    slots: KeySlotFile
    login: str
    clock: Callable[[], datetime]
    full: bool = True
    background: bool = False

    @classmethod
    def from_store(
        cls, store: Store, *, clock: Callable[[], datetime], full: bool = True, background: bool = False
    ) -> SyncJob:
        if store.locked or store.user is None:
            raise StoreError("Unlock the desk to sync")
        # A copy of the key: the worker's Store zeroes its own when it closes, the desk's stays.
        handle = store.handle()
        return cls(store.data_dir, handle.key, handle.slots, store.user.login, clock, full, background)

    def open(self) -> Store:
        """The worker's own connection (call it on the worker's thread)."""
        return Store(self.data_dir, self.key, self.slots, self.login, clock=self.clock)

    def discard(self) -> None:
        for i in range(len(self.key)):
            self.key[i] = 0


Progress = Callable[[str, int, "int | None"], None]


def run_sync(job: SyncJob, progress: Progress) -> SyncReport:
    """Push (and for a full sync, then pull) on the worker's own Store; raises SyncError in plain words."""
    try:
        store = job.open()
    except BaseException:
        job.discard()
        raise
    try:
        if not sync_state.enrolled(store):
            raise NotEnrolled(NOT_ENROLLED)
        with SyncClient(store, progress=progress, timeout=DESK_TIMEOUT) as client:
            if job.full:
                return client.sync()
            return client.push()
    finally:
        store.close()
        job.discard()


def check_reachable(job: SyncJob, reach: Reachability, *, force: bool = False) -> tuple[bool | None, str]:
    """The signed ping (rate-limited by `reach`) on the worker's own Store."""
    try:
        store = job.open()
    except BaseException:
        job.discard()
        raise
    try:
        online = reach.check(store, force=force)
        return online, reach.reason
    finally:
        store.close()
        job.discard()


def failure_text(error: BaseException) -> tuple[str, bool, bool]:
    """(what to tell the person, offline?, not enrolled?) for an error out of a sync worker.

    Only our own messages are shown: an unexpected error shows its type, never its text,
    which could hold anything."""
    if isinstance(error, NotEnrolled):
        return NOT_ENROLLED, False, True
    if isinstance(error, Unreachable):
        return OFFLINE, True, False
    if isinstance(error, Refused):
        return f"Sync did not finish: {error}", False, False
    if isinstance(error, (SyncError, StoreError)):
        return f"Sync did not finish: {error}", False, False
    if isinstance(error, SyncCancelled):
        return "Sync stopped; what was sent is kept.", False, False
    return (
        f"Sync did not finish: an unexpected error ({type(error).__name__}). Nothing is lost; sync again.",
        False,
        False,
    )
