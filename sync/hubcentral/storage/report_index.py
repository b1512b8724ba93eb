"""What the service report reads, kept narrow: one row per contact, payment and action with the
few columns the figures need, written in the push's transaction (and rebuilt from the records
when they differ), so a report over 500,000 records is column scans, not JSON parsing.

Amendments, decisions, reversals and action updates change the row of what they point at:
a contact amended is superseded, a payment reversed or decided, an action done.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hubcentral.storage.common import iso
from hubcentral.storage.engine import Tx
from hubdesk.domain.rules import SPOKEN_CONTACT_TYPES

INDEXED = ("contact", "payment", "payment_decision", "reversal", "action", "action_update")

DDL = """
CREATE TABLE IF NOT EXISTS report_contacts (
    record_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, at TEXT NOT NULL, touch INTEGER NOT NULL,
    amends TEXT, superseded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS report_contacts_touch ON report_contacts(touch, superseded, person_id, at);
CREATE TABLE IF NOT EXISTS report_payments (
    record_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, hub_code TEXT NOT NULL, category TEXT NOT NULL,
    amount_pence BIGINT NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL, decided TEXT, reversed_at TEXT
);
CREATE INDEX IF NOT EXISTS report_payments_at ON report_payments(at);
CREATE TABLE IF NOT EXISTS report_actions (
    record_id TEXT PRIMARY KEY, person_hub TEXT NOT NULL, due TEXT, recorded_at TEXT NOT NULL, done_at TEXT
);
"""


def _utc(value: Any) -> str:
    return iso(datetime.fromisoformat(str(value)))


def index_events(tx: Tx, rows: Iterable[tuple[str, str, Any]]) -> None:
    """Index pushed events (kind, record id, body as JSON text or data); others are ignored.
    Each record once, whatever is resent."""
    contacts, payments, actions = [], [], []
    superseded, decided, reversed_, done = [], [], [], []
    seen: set[str] = set()
    for kind, record_id, body in rows:
        if kind not in INDEXED or record_id in seen:
            continue
        seen.add(record_id)
        data = json.loads(body) if isinstance(body, str) else body
        if kind == "contact":
            touch = data.get("contact_type") in SPOKEN_CONTACT_TYPES or bool(data.get("seen"))
            contacts.append([record_id, data["person_id"], _utc(data["started_at"]), int(touch), data.get("amends")])
            if data.get("amends"):
                superseded.append([data["amends"]])
        elif kind == "payment":
            payments.append(
                [
                    record_id,
                    data["person_id"],
                    data["hub_code"],
                    data["category"],
                    int(data["amount_pence"]),
                    _utc(data["recorded_at"]),
                    data["status"],
                ]
            )
        elif kind == "payment_decision":
            decided.append([data["decision"], data["payment_id"]])
        elif kind == "reversal":
            reversed_.append([_utc(data["recorded_at"]), data["payment_id"]])
        elif kind == "action":
            due = data.get("due")
            actions.append([record_id, data["person_hub"], due, _utc(data["recorded_at"])])
        elif kind == "action_update" and data.get("kind") == "done":
            done.append([_utc(data["recorded_at"]), data["action_id"]])
    tx.executemany(
        "INSERT INTO report_contacts(record_id, person_id, at, touch, amends) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(record_id) DO NOTHING",
        contacts,
    )
    tx.executemany("UPDATE report_contacts SET superseded = 1 WHERE record_id = ?", superseded)
    tx.executemany(
        "INSERT INTO report_payments(record_id, person_id, hub_code, category, amount_pence, at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(record_id) DO NOTHING",
        payments,
    )
    tx.executemany("UPDATE report_payments SET decided = ? WHERE record_id = ?", decided)
    tx.executemany("UPDATE report_payments SET reversed_at = ? WHERE record_id = ?", reversed_)
    tx.executemany(
        "INSERT INTO report_actions(record_id, person_hub, due, recorded_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(record_id) DO NOTHING",
        actions,
    )
    # Done is final: the first done update counts (an update for an action not held is ignored).
    tx.executemany(
        "UPDATE report_actions SET done_at = ? WHERE record_id = ? AND done_at IS NULL",
        done,
    )


def up_to_date(tx: Tx) -> bool:
    """Whether the index holds the newest contact, payment and action the records hold (ids are
    UUIDv7, and push writes both in one transaction: a database made before the index existed,
    or filled by another way, is the case this catches). Index lookups only, never a scan."""
    for kind, table in (("contact", "report_contacts"), ("payment", "report_payments"), ("action", "report_actions")):
        held = tx.one("SELECT max(record_id) FROM records WHERE kind = ?", [kind])
        indexed = tx.one(f"SELECT max(record_id) FROM {table}")
        if (held[0] if held else None) != (indexed[0] if indexed else None):
            return False
    return True


def rebuild(tx: Tx, page: int = 5000) -> int:
    """Index every record held (parents before what points at them); returns how many read."""
    read = 0
    for kinds in (("contact", "payment", "action"), ("payment_decision", "reversal", "action_update")):
        marks = ",".join("?" * len(kinds))
        after = ""
        while True:
            rows = tx.all(
                f"SELECT kind, record_id, body FROM records WHERE kind IN ({marks}) AND record_id > ? "
                f"ORDER BY record_id LIMIT {page}",
                [*kinds, after],
            )
            if not rows:
                break
            index_events(tx, [(r[0], r[1], r[2]) for r in rows])
            read += len(rows)
            after = rows[-1][1]
    return read
