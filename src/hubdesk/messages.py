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
