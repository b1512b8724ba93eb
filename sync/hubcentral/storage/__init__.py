"""The central record's storage: one interface (CentralStore), two engines (SQLite, PostgreSQL).

Each concern is its own module, mixed into CentralStore: `engine` (connections and the
write lock), `schema`, `devices` (enrolment, nonces), `reference` (reference data and
caseload), `push`, `feed` (what devices pull), `audit` (the devices' chains), `exports`.
"""

from __future__ import annotations

from hubcentral.storage.audit import AuditMixin
from hubcentral.storage.common import (
    AUDIT_COLUMNS,
    AUDIT_KEYS,
    GENESIS,
    IMMUTABLE,
    MODELS,
    NONCE_KEEP_SECONDS,
    CaseloadError,
    CentralError,
    Device,
    EnrolmentRefused,
    iso,
    new_enrolment_code,
)
from hubcentral.storage.devices import DevicesMixin
from hubcentral.storage.engine import Engine, PostgresEngine, SQLiteEngine, Tx, engine_for
from hubcentral.storage.exports import ExportsMixin
from hubcentral.storage.feed import FeedMixin
from hubcentral.storage.push import FED_EVENTS, PushMixin
from hubcentral.storage.reference import ReferenceMixin
from hubcentral.storage.schema import SCHEMA


class CentralStore(DevicesMixin, ReferenceMixin, FeedMixin, PushMixin, AuditMixin, ExportsMixin):
    """Everything the service keeps: devices, received outbox items, records, caseload,
    reference data and the change feed devices pull."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.init_schema()

    @classmethod
    def open(cls, db: str) -> CentralStore:
        return cls(engine_for(db))

    def close(self) -> None:
        self.engine.close()


__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_KEYS",
    "FED_EVENTS",
    "GENESIS",
    "IMMUTABLE",
    "MODELS",
    "NONCE_KEEP_SECONDS",
    "SCHEMA",
    "CaseloadError",
    "CentralError",
    "CentralStore",
    "Device",
    "Engine",
    "EnrolmentRefused",
    "PostgresEngine",
    "SQLiteEngine",
    "Tx",
    "engine_for",
    "iso",
    "new_enrolment_code",
]
