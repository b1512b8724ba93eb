"""The desk's working set from the central record: the hub's events recorded at its other
desks, young people's recent-activity summaries, and pulled items set aside unread.

Writes run inside the caller's save (one pulled page is one transaction, with its cursor);
the pulled events go into the same tables as the desk's own, so every screen that reads the
hub's day shows them, and `record_desks` says which desk recorded each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    EmergencyPayment,
    PaymentDecision,
    Reversal,
)
from hubdesk.domain.money import format_pence
from hubdesk.store.store import Store, _iso

PULLED_MODELS: dict[str, Any] = {
    "contact": Contact,
    "payment": EmergencyPayment,
    "payment_decision": PaymentDecision,
    "reversal": Reversal,
    "session": DropInSession,
    "attendance": Attendance,
}
RECENT_PAYMENT_DAYS = 7


class NotHeld(ValueError):
    """A pulled record hangs on one this desk does not hold (set aside, with this reason)."""


# Each pulled kind's table, and the (table, field) of what it hangs on.
TABLES = {
    "contact": "contacts",
    "payment": "payments",
    "payment_decision": "payment_decisions",
    "reversal": "reversals",
    "session": "sessions",
    "attendance": "attendance",
}
PARENT_FIELDS = {
    "person_id": "people",
    "payment_id": "payments",
    "session_id": "sessions",
}

# A pulled page's writes, one statement a table, in this order: what a row hangs on (its
# person, payment, session) is always written before it.
WRITE_SQL = {
    "people": "INSERT INTO people(id, version, case_id, hub_code, walk_in, needs_matching, allocated_pa, body, "
    "audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
    "case_id = excluded.case_id, hub_code = excluded.hub_code, walk_in = excluded.walk_in, "
    "needs_matching = excluded.needs_matching, allocated_pa = excluded.allocated_pa, body = excluded.body, "
    "audit_seq = excluded.audit_seq",
    "people_versions": "INSERT OR REPLACE INTO people_versions(id, version, body, audit_seq) VALUES (?, ?, ?, ?)",
    "person_activity": "INSERT INTO person_activity(person_id, body) VALUES (?, ?) "
    "ON CONFLICT(person_id) DO UPDATE SET body = excluded.body",
    "contacts": "INSERT INTO contacts(id, contact_id, version, amends, person_id, hub_code, contact_type, "
    "started_at, ended_at, recorded_at, recorded_by, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "person_contact_summary": "INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) "
    "VALUES (?, ?, ?, ?) ON CONFLICT(person_id) DO UPDATE SET "
    "last_type = CASE WHEN excluded.last_at >= coalesce(last_at, '') THEN excluded.last_type ELSE last_type END, "
    "last_at = max(coalesce(last_at, ''), excluded.last_at), "
    "last_touch_at = CASE WHEN excluded.last_touch_at IS NULL THEN last_touch_at "
    "ELSE max(coalesce(last_touch_at, ''), excluded.last_touch_at) END",
    "payments": "INSERT INTO payments(id, receipt_no, person_id, hub_code, category, method, amount_pence, "
    "status, recorded_at, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "sessions": "INSERT INTO sessions(id, version, hub_code, session_type, starts_at, closed_at, body, audit_seq) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
    "closed_at = excluded.closed_at, body = excluded.body, audit_seq = excluded.audit_seq",
    "payment_decisions": "INSERT OR IGNORE INTO payment_decisions(id, payment_id, decision, decided_at, body, "
    "audit_seq) VALUES (?, ?, ?, ?, ?, ?)",
    "reversals": "INSERT OR IGNORE INTO reversals(id, payment_id, hub_code, recorded_at, body, audit_seq) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    "attendance": "INSERT INTO attendance(id, session_id, person_id, kind, body, audit_seq, amends) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)",
}
WRITE_ORDER = tuple(WRITE_SQL)


class PageIndex:
    """What of one pulled page's events, and of what they hang on, this desk already holds:
    read in a few queries per page, not several per event; kept up to date as the page is
    applied. Also collects which desk recorded each event, written once at the end."""

    def __init__(self, store: Store, changes: Any) -> None:
        wanted: dict[str, set[str]] = {}
        receipts: set[str] = set()
        for change in changes:
            table = TABLES.get(change.kind)
            if table is None:
                continue
            if change.kind == "payment" and isinstance(change.body.get("receipt_no"), str):
                receipts.add(change.body["receipt_no"])
            wanted.setdefault(table, set()).add(str(change.record_id))
            body = change.body
            for field, parent in PARENT_FIELDS.items():
                if isinstance(body.get(field), str):
                    wanted.setdefault(parent, set()).add(body[field])
            if isinstance(body.get("amends"), str):
                wanted[table].add(body["amends"])
        self.held: dict[str, set[str]] = {}
        self.session_versions: dict[str, int] = {}
        for table, ids in wanted.items():
            found: set[str] = set()
            ordered = sorted(ids)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                marks = ",".join("?" * len(chunk))
                if table == "sessions":
                    rows = store._rows(f"SELECT id, version FROM sessions WHERE id IN ({marks})", chunk)
                    self.session_versions.update((r[0], r[1]) for r in rows)
                else:
                    rows = store._rows(f"SELECT id FROM {table} WHERE id IN ({marks})", chunk)
                found.update(r[0] for r in rows)
            self.held[table] = found
        # Receipt numbers already given here, and to which payment: a pulled payment with
        # another's receipt number (two desks numbering from one place) is set aside.
        self.receipts: dict[str, str] = {}
        ordered = sorted(receipts)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT receipt_no, id FROM payments WHERE receipt_no IN ({marks})"
            self.receipts.update(store._rows(sql, chunk))
        self.desks: list[tuple[str, str]] = []
        # The page's rows, written table by table (WRITE_ORDER) with one executemany each
        # instead of one statement a row; each table's rows in the order they arrived.
        self.rows: dict[str, list[list[Any]]] = {}
        # Each person's latest new contact in the page: one summary upsert a person, not one a contact.
        self.latest: dict[str, list[Any]] = {}

    def has(self, table: str, record_id: str | None) -> bool:
        return record_id is None or record_id in self.held.get(table, set())

    def add(self, table: str, record_id: str) -> None:
        self.held.setdefault(table, set()).add(record_id)

    def queue(self, table: str, row: list[Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def saw_contact(self, person_id: str, started: str, contact_type: str, in_touch: bool) -> None:
        """A new contact can only move the person's latest contact forward: folded here as the
        upsert would fold it (a later arrival at the same time wins), written once a page."""
        latest = self.latest.get(person_id)
        if latest is None:
            self.latest[person_id] = [person_id, started, contact_type, started if in_touch else None]
            return
        if started >= latest[1]:
            latest[1], latest[2] = started, contact_type
        if in_touch and (latest[3] is None or started > latest[3]):
            latest[3] = started

    def write(self, store: Store) -> None:
        """Write the rows queued so far, parents before what hangs on them (called before
        anything that reads the tables, and at the end of the page)."""
        if self.latest:
            self.rows["person_contact_summary"] = list(self.latest.values())
            self.latest = {}
        conn = store.db.conn
        for table in WRITE_ORDER:
            rows = self.rows.pop(table, None)
            if rows:
                conn.executemany(WRITE_SQL[table], rows)

    def flush(self, store: Store) -> None:
        self.write(store)
        if self.desks:
            store.db.conn.executemany("INSERT OR REPLACE INTO record_desks(record_id, desk) VALUES (?, ?)", self.desks)
            self.desks = []


def put_event(
    store: Store, kind: str, record: Any, desk: str, audit_seq: int, touched: set[str], index: PageIndex
) -> bool:
    """Keep one of the hub's events recorded at another desk; False if already held.
    `touched` collects the people whose contact summary needs recomputing. The row is queued
    on the page's `index` and written with the page's others (PageIndex.write)."""
    _held = index.has
    table = TABLES[kind]
    body = record.model_dump_json()
    if kind == "contact":
        c: Contact = record
        if _held("contacts", c.id):
            return False
        if not _held("people", c.person_id):
            raise NotHeld("its young person is not held on this desk")
        if c.amends and not _held("contacts", c.amends):
            raise NotHeld("the version it amends is not held on this desk")
        index.queue(
            "contacts",
            [
                c.id,
                c.contact_id,
                c.version,
                c.amends,
                c.person_id,
                c.hub_code,
                c.contact_type.value,
                _iso(c.started_at),
                _iso(c.ended_at) if c.ended_at else None,
                _iso(c.recorded_at),
                c.recorded_by,
                body,
                audit_seq,
            ],
        )
        if c.amends:
            touched.add(c.person_id)  # an amendment may change what is latest: recomputed
        else:
            # A new contact can only move the person's latest contact forward: folded into
            # one cheap upsert a person a page instead of recomputing from every contact.
            in_touch = c.contact_type.value in ("phone", "video") or c.seen
            index.saw_contact(c.person_id, _iso(c.started_at), c.contact_type.value, in_touch)
    elif kind == "payment":
        p: EmergencyPayment = record
        if _held("payments", p.id):
            return False
        if not _held("people", p.person_id):
            raise NotHeld("its young person is not held on this desk")
        if index.receipts.get(p.receipt_no, p.id) != p.id:
            raise NotHeld("it clashes with a record held here (its receipt number is another payment's)")
        index.receipts[p.receipt_no] = p.id
        index.queue(
            "payments",
            [
                p.id,
                p.receipt_no,
                p.person_id,
                p.hub_code,
                p.category,
                p.method.value,
                p.amount_pence,
                p.status.value,
                _iso(p.recorded_at),
                body,
                audit_seq,
            ],
        )
    elif kind == "payment_decision":
        d: PaymentDecision = record
        if _held("payment_decisions", d.id):
            return False
        if not _held("payments", d.payment_id):
            raise NotHeld("its payment is not held on this desk")
        index.queue(
            "payment_decisions",
            [d.id, d.payment_id, d.decision.value, _iso(d.decided_at), body, audit_seq],
        )
    elif kind == "reversal":
        r: Reversal = record
        if _held("reversals", r.id):
            return False
        if not _held("payments", r.payment_id):
            raise NotHeld("its payment is not held on this desk")
        index.queue(
            "reversals",
            [r.id, r.payment_id, r.hub_code, _iso(r.recorded_at), body, audit_seq],
        )
    elif kind == "session":
        s: DropInSession = record
        held = index.session_versions.get(s.id)
        if held is not None and held >= s.version:
            return False
        index.session_versions[s.id] = s.version
        index.queue(
            "sessions",
            [
                s.id,
                s.version,
                s.hub_code,
                s.session_type,
                _iso(s.starts_at),
                _iso(s.closed_at) if s.closed_at else None,
                body,
                audit_seq,
            ],
        )
    elif kind == "attendance":
        a: Attendance = record
        if _held("attendance", a.id):
            return False
        if not _held("sessions", a.session_id):
            raise NotHeld("its session is not held on this desk")
        if not _held("people", a.person_id):
            raise NotHeld("its young person is not held on this desk")
        if a.amends and not _held("attendance", a.amends):
            raise NotHeld("the line it corrects is not held on this desk")
        index.queue(
            "attendance",
            [a.id, a.session_id, a.person_id, a.kind.value, body, audit_seq, a.amends],
        )
    else:
        raise ValueError(f"{kind} is not a kind of event this desk keeps")
    index.add(table, record.id)
    if desk:
        index.desks.append((record.id, desk))
    return True


def put_summary(index: PageIndex, person_id: str, body: str) -> None:
    index.queue("person_activity", [person_id, body])


def set_aside(store: Store, seq: int, kind: str, record_id: str, reason: str, now: datetime) -> None:
    """Keep a pulled item this desk could not read: its place, kind, id and why (no content)."""
    store.db.execute(
        "INSERT OR REPLACE INTO pulled_aside(seq, kind, record_id, reason, set_aside_at) VALUES (?, ?, ?, ?, ?)",
        [seq, kind[:40], record_id[:64], reason[:300], _iso(now)],
    )


# --- reading -------------------------------------------------------------------------------


def set_aside_items(store: Store, limit: int = 500) -> list[tuple[int, str, str, str, str]]:
    """(feed seq, kind, record id, reason, when) of pulled items set aside, newest first."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in store._rows(
            "SELECT seq, kind, record_id, reason, set_aside_at FROM pulled_aside ORDER BY seq DESC LIMIT ?", [limit]
        )
    ]


def recorded_at_desk(store: Store, record_ids: list[str]) -> dict[str, str]:
    """Which other desk recorded each of these records (records made here are absent)."""
    found: dict[str, str] = {}
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(store._rows(f"SELECT record_id, desk FROM record_desks WHERE record_id IN ({marks})", list(chunk)))
    return found


@dataclass(frozen=True)
class RecentPayment:
    id: str
    at: str
    amount_pence: int
    category: str
    hub_code: str


@dataclass(frozen=True)
class ActivitySummary:
    """What a desk knows of a young person's recent activity at every hub."""

    last_contact_at: str | None
    last_contact_type: str | None
    last_contact_hub: str | None
    payments: tuple[RecentPayment, ...]


def activity(store: Store, person_id: str, now: datetime, days: int = RECENT_PAYMENT_DAYS) -> ActivitySummary:
    """The last contact and the payments of the last `days` days, at this hub (from this
    store) and at every other hub (from the central record's summary), each payment once;
    reversed and declined payments left out."""
    since = _iso(now - timedelta(days=days))
    rows = store._rows("SELECT body FROM person_activity WHERE person_id = ?", [person_id])
    summary: dict[str, Any] = json.loads(rows[0][0]) if rows else {}
    payments: dict[str, RecentPayment] = {}
    for p in summary.get("payments", []):
        at = _iso(datetime.fromisoformat(p["at"]))
        if at >= since:
            payments[p["id"]] = RecentPayment(p["id"], at, p["amount_pence"], p["category"], p["hub_code"])
    for pid, at, amount, category, hub in store._rows(
        "SELECT p.id, p.recorded_at, p.amount_pence, p.category, p.hub_code FROM payments p "
        "WHERE p.person_id = ? AND p.recorded_at >= ? AND p.status != 'declined' "
        "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id) "
        "AND NOT EXISTS (SELECT 1 FROM payment_decisions d WHERE d.payment_id = p.id AND d.decision = 'declined')",
        [person_id, since],
    ):
        payments[pid] = RecentPayment(pid, at, amount, category, hub)
    last = summary.get("last_contact") or {}
    local = store._rows(
        "SELECT started_at, contact_type, hub_code FROM contacts WHERE person_id = ? ORDER BY started_at DESC LIMIT 1",
        [person_id],
    )
    last_at = _iso(datetime.fromisoformat(last["at"])) if last.get("at") else None
    if local and (last_at is None or local[0][0] >= last_at):
        last_at, last_type, last_hub = local[0]
    else:
        last_type, last_hub = last.get("contact_type"), last.get("hub_code")
    return ActivitySummary(
        last_contact_at=last_at,
        last_contact_type=last_type,
        last_contact_hub=last_hub,
        payments=tuple(sorted(payments.values(), key=lambda p: p.at, reverse=True)),
    )


def recent_payments_warning(store: Store, person_id: str, now: datetime) -> str | None:
    """What the payment form says before a PA saves, when the young person had emergency
    payments in the last 7 days at either hub: "1 emergency payment in the last 7 days:
    £30.00 gas top-up, at Dewsbury"."""
    recent = activity(store, person_id, now).payments
    if not recent:
        return None
    categories = {c.code: c.name for c in store.reference(include_retired=True).payment_categories}
    hubs = {h.code: h.name for h in store.reference(include_retired=True).hubs}
    total = sum(p.amount_pence for p in recent)
    count = f"{len(recent)} emergency payment{'s' if len(recent) != 1 else ''} in the last {RECENT_PAYMENT_DAYS} days"
    each = "; ".join(
        f"{format_pence(p.amount_pence)} {categories.get(p.category, p.category).lower()}, "
        f"at {_hub_short(hubs.get(p.hub_code, p.hub_code))}"
        for p in recent[:5]
    )
    more = f" (and {len(recent) - 5} more)" if len(recent) > 5 else ""
    head = f"{count} (total {format_pence(total)})" if len(recent) > 1 else count
    return f"{head}: {each}{more}"


def _hub_short(name: str) -> str:
    """'Dewsbury hub' reads 'at Dewsbury'."""
    return name[: -len(" hub")] if name.lower().endswith(" hub") else name


def activity_lines(store: Store, person_id: str, now: datetime) -> list[str]:
    """The person screen's lines on recent activity at every hub: the last contact (when,
    type, which hub) and the payments of the last 7 days (count, total, categories)."""
    seen = activity(store, person_id, now)
    hubs = {h.code: h.name for h in store.reference(include_retired=True).hubs}
    lines = []
    if seen.last_contact_at:
        at = datetime.fromisoformat(seen.last_contact_at).astimezone(ZoneInfo("Europe/London"))
        kind = (seen.last_contact_type or "contact").replace("_", " ")
        hub = _hub_short(hubs.get(seen.last_contact_hub or "", seen.last_contact_hub or "?"))
        lines.append(f"Last contact: {at:%-d %b %Y %H:%M}, {kind}, at {hub}")
    warning = recent_payments_warning(store, person_id, now)
    if warning:
        lines.append(warning[:1].upper() + warning[1:])
    return lines
