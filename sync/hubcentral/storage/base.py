"""The store's core: its engine, its schema, and the writes every concern shares
(a change in the feed, a person, reading a device)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hubcentral.storage.common import Device, iso
from hubcentral.storage.engine import Engine, Tx
from hubcentral.storage.schema import ADDED_COLUMNS, SCHEMA
from hubdesk.sync.protocol import CentralReference, canonical_json, content_hash


class StoreBase:
    """The engine and the shared writes; each concern is a mixin on top (see CentralStore)."""

    engine: Engine

    def init_schema(self) -> None:
        ddl = SCHEMA.replace("{serial}", self.engine.serial)
        with self.engine.transaction(write=True) as tx:
            for statement in ddl.split(";"):
                if statement.strip():
                    tx.execute(statement)
        for table, column, kind in ADDED_COLUMNS:
            try:
                with self.engine.transaction(write=False) as tx:
                    tx.execute(f"SELECT {column} FROM {table} WHERE 1 = 0")
            except Exception:  # the column is missing: a database made before it existed
                with self.engine.transaction(write=True) as tx:
                    tx.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def _reference(self, tx: Tx) -> CentralReference | None:
        row = tx.one("SELECT body FROM reference WHERE key = 'current'")
        return CentralReference.model_validate_json(row[0]) if row else None

    def _device(self, tx: Tx, device_id: str) -> Device | None:
        row = tx.one(
            "SELECT device_id, hub_code, public_key, label, enrolled_at, revoked_at, last_seen_at "
            "FROM devices WHERE device_id = ?",
            [device_id],
        )
        return Device(*row) if row else None

    def _put_person(self, tx: Tx, body: dict[str, Any], now: datetime) -> int:
        tx.execute(
            "INSERT INTO people(id, version, case_id, hub_code, content_hash, body, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
            "case_id = excluded.case_id, hub_code = excluded.hub_code, content_hash = excluded.content_hash, "
            "body = excluded.body, updated_at = excluded.updated_at",
            [
                body["id"],
                body["version"],
                body.get("case_id"),
                body["hub_code"],
                content_hash("person", body["id"], body),
                canonical_json(body),
                iso(now),
            ],
        )
        return self._change(tx, "person", body["id"], body, now)

    def _change(
        self, tx: Tx, kind: str, record_id: str, body: dict[str, Any], now: datetime, hub_code: str | None = None
    ) -> int:
        """Append to the feed: to every desk (hub_code None) or to the desks of one hub."""
        row = tx.one(
            "INSERT INTO changes(kind, record_id, body, at, hub_code) VALUES (?, ?, ?, ?, ?) RETURNING seq",
            [kind, record_id, canonical_json(body), iso(now), hub_code],
        )
        assert row is not None
        return int(row[0])
