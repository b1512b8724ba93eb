"""Small messages the desk posts; tests collect them with run_test(message_hook=...)."""

from __future__ import annotations

from textual.message import Message


class Saved(Message):
    """A record was saved through the store (kind: contact, payment, reversal, ...)."""

    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id


class Locked(Message):
    """The desk locked (idle or by hand); the key is dropped."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class Unlocked(Message):
    """Someone unlocked the desk."""

    def __init__(self, login: str) -> None:
        super().__init__()
        self.login = login


class SyncStarted(Message):
    """A sync began in its thread worker (full: push then pull; else push only)."""

    def __init__(self, full: bool, background: bool) -> None:
        super().__init__()
        self.full = full
        self.background = background


class SyncProgress(Message):
    """How far a sync has got: a flood of these coalesces to the latest (can_replace)."""

    def __init__(self, phase: str, done: int, total: int | None) -> None:
        super().__init__()
        self.phase = phase
        self.done = done
        self.total = total

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncProgress)


class SyncDone(Message):
    """A sync finished; the counts come from the client's report."""

    def __init__(
        self,
        *,
        full: bool,
        background: bool,
        pushed: int,
        accepted: int,
        already_had: int,
        conflicts: int,
        quarantined: int,
        pulled: int,
        people: int,
        notes: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.full = full
        self.background = background
        self.pushed = pushed
        self.accepted = accepted
        self.already_had = already_had
        self.conflicts = conflicts
        self.quarantined = quarantined
        self.pulled = pulled
        self.people = people
        self.notes = notes

    @property
    def needs_attention(self) -> bool:
        return bool(self.conflicts or self.quarantined)


class SyncFailed(Message):
    """A sync did not finish (offline, refused, not enrolled, ...): text says what to do."""

    def __init__(self, text: str, *, offline: bool = False, not_enrolled: bool = False) -> None:
        super().__init__()
        self.text = text
        self.offline = offline
        self.not_enrolled = not_enrolled


class ServiceReachable(Message):
    """The once-a-minute check: online True/False, or None when the desk is not enrolled."""

    def __init__(self, online: bool | None, reason: str = "") -> None:
        super().__init__()
        self.online = online
        self.reason = reason
