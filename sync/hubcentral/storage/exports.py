"""Reading what is held, for export and tests."""

from __future__ import annotations

import json
from typing import Any

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import MODELS


class ExportsMixin(StoreBase):
    def kinds(self) -> list[str]:
        """Every kind of record held, for export."""
        with self.engine.transaction(write=False) as tx:
            held = [r[0] for r in tx.all("SELECT DISTINCT kind FROM records ORDER BY kind")]
        return sorted({*held, *MODELS})

    def records(self, kind: str, since: str | None = None) -> list[dict[str, Any]]:
        if kind == "person":
            sql, params = "SELECT body FROM people", []
            if since:
                sql, params = sql + " WHERE updated_at >= ?", [since]
            sql += " ORDER BY id"
        else:
            sql, params = "SELECT body FROM records WHERE kind = ?", [kind]
            if since:
                sql, params = sql + " AND received_at >= ?", [kind, since]
            sql += " ORDER BY record_id"
        with self.engine.transaction(write=False) as tx:
            return [json.loads(r[0]) for r in tx.all(sql, params)]

    def conflicts(self) -> list[dict[str, Any]]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                "SELECT id, kind, record_id, device_id, outbox_id, local_body, remote_body, detected_at, settled_at "
                "FROM conflicts ORDER BY detected_at"
            )
        keys = (
            "id",
            "kind",
            "record_id",
            "device_id",
            "outbox_id",
            "local_body",
            "remote_body",
            "detected_at",
            "settled_at",
        )
        out = []
        for r in rows:
            d = dict(zip(keys, r, strict=True))
            d["local_body"], d["remote_body"] = json.loads(d["local_body"]), json.loads(d["remote_body"])
            out.append(d)
        return out

    def count(self, table: str) -> int:
        if table not in {"received", "records", "people", "changes", "conflicts", "devices", "nonces"}:
            raise ValueError(table)
        with self.engine.transaction(write=False) as tx:
            row = tx.one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0
