"""Store errors: each carries a message a person can act on, never personal data."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose; str() is the plain message."""


class NoStore(StoreError):
    """There is no store in this data dir (or part of it is missing)."""


class StoreExists(StoreError):
    """Refusing to make a store over an existing one."""


class WrongPassphrase(StoreError):
    """The passphrase or recovery key does not open this slot."""


class UnknownUser(StoreError):
    pass


class KeySlotDamaged(StoreError):
    pass


class DatabaseDamaged(StoreError):
    pass


class StoreLocked(StoreError):
    pass


class NotAllowed(StoreError):
    """A rule of the service forbids this (e.g. approving over one's own limit)."""


class VersionConflict(StoreError):
    """An edit was made against an old version of a record."""


class NotFound(StoreError):
    pass


class DiskFull(StoreError):
    pass
