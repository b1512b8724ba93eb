"""Retention on the device: synced events older than the window leave the laptop after a sync.

A lost laptop should hold as little as it can (issue 12). After each successful sync the desk
removes the hub's events that are both synced (the central record holds them) and older
than the retention window from the central reference data (`retention_days`, default 90;
nothing is removed until the desk has pulled it).

What is never removed:
- anything not yet synced: a record with any outbox row still waiting, sending, in conflict
  or quarantined stays, however old, and so does everything it hangs on or that hangs on it
  (a payment with an unsent decision, a contact with an unsent amendment or open action);
- anything when the time is in doubt: the window is measured from the **service's** clock,
  as read at the last successful sync (each pulled page says the service's time), never the
  desk's own. If the desk's clock is more than a day away from that time, nothing is
  removed and the skip is audited: one of the two clocks is wrong and the desk cannot tell
  which.

Records go by family, so nothing is left pointing at a removed row: a contact with all its
versions (and its actions and their updates, once done); a payment with its decision,
reversal and carry-overs; a session with its register; a handover note alone. The event
tables refuse DELETE by trigger except for rows named in `purge_grants`, which this
module fills and empties inside its one transaction. One audit entry says what went
(counts; its body hash covers the removed ids), so the chain stays verifiable and
`hubdesk doctor` passes after a purge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hubdesk.store.store import Store, _iso

K_RETENTION_DAYS = "retention_days"  # sync_state: the window, from the pulled reference data
K_SERVICE_TIME = "service_time"  # sync_state: the service's clock at the last successful sync
MAX_CLOCK_GAP = timedelta(days=1)

# An outbox row not yet acknowledged by the service: its record is not synced.
_UNSENT = "EXISTS (SELECT 1 FROM outbox x WHERE x.record_id = {col} AND x.state != 'synced')"


@dataclass
class RetentionResult:
    """What one retention pass did."""

    removed: dict[str, int] = field(default_factory=dict)
    cutoff: str | None = None
    skipped: str | None = None

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def line(self) -> str:
        if self.skipped:
            return f"Retention: nothing removed ({self.skipped})"
        if not self.total:
            return "Retention: nothing older than the window to remove"
        parts = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in self.removed.items() if n)
        return f"Retention: removed {parts} (synced, before {self.cutoff[:10] if self.cutoff else '?'})"


def _get(store: Store, key: str) -> str | None:
    rows = store._rows("SELECT value FROM sync_state WHERE key = ?", [key])
    return rows[0][0] if rows else None


def window_days(store: Store) -> int | None:
    """The retention window the central reference data sets (its default is 90 days), or
    None until this desk has pulled reference data: the service decides, never a guess here."""
    text = _get(store, K_RETENTION_DAYS)
    try:
        days = int(text) if text else None
    except ValueError:
        return None
    return days if days is not None and days >= 1 else None


def service_time(store: Store) -> datetime | None:
    """The service's clock as read at the last successful sync, or None."""
    text = _get(store, K_SERVICE_TIME)
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _has_table(store: Store, name: str) -> bool:
    return bool(store._rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]))


def _families(store: Store, cut: str) -> dict[str, list[str]]:
    """The ids to remove, by table: old families every member of which is synced."""
    cut_day = cut[:10]
    out: dict[str, list[str]] = {}
    has_actions = _has_table(store, "actions") and _has_table(store, "action_updates")

    # Contacts: every version of a contact (and, once done, its actions) old and synced.
    # A contact's family is kept while an action it made is open, recent or unsent.
    held_by_action = "0"
    if has_actions:
        held_by_action = (
            "EXISTS (SELECT 1 FROM actions a WHERE (a.contact_id = c.contact_id OR a.contact_id = c.id) "
            f"AND (a.done = 0 OR a.recorded_at >= :cut OR {_UNSENT.format(col='a.id')} "
            "OR EXISTS (SELECT 1 FROM action_updates u WHERE u.action_id = a.id "
            f"AND (u.recorded_at >= :cut OR {_UNSENT.format(col='u.id')}))))"
        )
    contact_ids = [
        r[0]
        for r in store._rows(
            # Only contacts begun before the cut are candidates (contacts_started): a sync with
            # nothing old to remove costs one index probe, not a walk through every contact.
            "SELECT c.contact_id FROM contacts c WHERE c.contact_id IN "
            "(SELECT contact_id FROM contacts WHERE started_at < :cut) GROUP BY c.contact_id HAVING "
            "max(max(c.started_at, c.recorded_at, coalesce(c.ended_at, ''))) < :cut AND "
            f"sum(CASE WHEN {_UNSENT.format(col='c.id')} OR {held_by_action} THEN 1 ELSE 0 END) = 0",
            {"cut": cut},
        )
    ]
    versions: list[str] = []
    for chunk in _chunks(contact_ids):
        marks = ",".join("?" * len(chunk))
        versions += [r[0] for r in store._rows(f"SELECT id FROM contacts WHERE contact_id IN ({marks})", chunk)]
    out["contacts"] = versions
    if has_actions and versions:
        action_ids: list[str] = []
        keys = contact_ids + versions
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            action_ids += [r[0] for r in store._rows(f"SELECT id FROM actions WHERE contact_id IN ({marks})", chunk)]
        out["actions"] = sorted(set(action_ids))
        updates: list[str] = []
        for chunk in _chunks(out["actions"]):
            marks = ",".join("?" * len(chunk))
            updates += [r[0] for r in store._rows(f"SELECT id FROM action_updates WHERE action_id IN ({marks})", chunk)]
        out["action_updates"] = updates

    # Payments: the payment, its decision, reversal and carry-overs, all old and synced.
    payments = [
        r[0]
        for r in store._rows(
            "SELECT p.id FROM payments p WHERE p.recorded_at < :cut "
            f"AND NOT {_UNSENT.format(col='p.id')} "
            "AND NOT EXISTS (SELECT 1 FROM payment_decisions d WHERE d.payment_id = p.id "
            f"AND (d.decided_at >= :cut OR {_UNSENT.format(col='d.id')})) "
            "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id "
            f"AND (r.recorded_at >= :cut OR {_UNSENT.format(col='r.id')})) "
            "AND NOT EXISTS (SELECT 1 FROM payment_carry_overs o WHERE o.payment_id = p.id "
            f"AND (o.recorded_at >= :cut OR {_UNSENT.format(col='o.id')}))",
            {"cut": cut},
        )
    ]
    out["payments"] = payments
    for table in ("payment_decisions", "reversals", "payment_carry_overs"):
        found: list[str] = []
        for chunk in _chunks(payments):
            marks = ",".join("?" * len(chunk))
            found += [r[0] for r in store._rows(f"SELECT id FROM {table} WHERE payment_id IN ({marks})", chunk)]
        out[table] = found

    # Sessions: the session and its whole register, all synced, the session over before the cut.
    sessions = [
        r[0]
        for r in store._rows(
            "SELECT s.id FROM sessions s WHERE s.starts_at < :cut AND coalesce(s.closed_at, s.starts_at) < :cut "
            f"AND NOT {_UNSENT.format(col='s.id')} "
            f"AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.session_id = s.id AND {_UNSENT.format(col='a.id')})",
            {"cut": cut},
        )
    ]
    out["sessions"] = sessions
    lines: list[str] = []
    for chunk in _chunks(sessions):
        marks = ",".join("?" * len(chunk))
        lines += [r[0] for r in store._rows(f"SELECT id FROM attendance WHERE session_id IN ({marks})", chunk)]
    out["attendance"] = lines

    # Handover notes: free text about the day, so they go too once old and synced.
    out["handover_notes"] = [
        r[0]
        for r in store._rows(
            f"SELECT n.id FROM handover_notes n WHERE n.day < :day AND n.written_at < :cut "
            f"AND NOT {_UNSENT.format(col='n.id')}",
            {"day": cut_day, "cut": cut},
        )
    ]
    return out


# Children before the rows they point at (foreign keys are on).
_ORDER = (
    "action_updates",
    "actions",
    "contacts",
    "payment_carry_overs",
    "payment_decisions",
    "reversals",
    "payments",
    "attendance",
    "sessions",
    "handover_notes",
)


def apply(store: Store) -> RetentionResult:
    """Remove synced events older than the window, measured from the service's time at the
    last successful sync; one transaction, one audit entry. Safe to run at any time."""
    result = RetentionResult()
    reference = service_time(store)
    if reference is None:
        result.skipped = "the service's time is not known yet: sync first"
        return result
    days = window_days(store)
    if days is None:
        result.skipped = "the retention window is not known yet: the reference data comes with a sync"
        return result
    with store._save() as now:
        if abs(now - reference) > MAX_CLOCK_GAP:
            result.skipped = (
                f"this desk's clock ({_iso(now)[:16]}) and the service's at the last sync "
                f"({_iso(reference)[:16]}) differ by more than a day: check the clock"
            )
            store._audit(now, "purge", "retention", None, f"skipped: {result.skipped}"[:300])
            return result
        cut = _iso(reference - timedelta(days=days))
        result.cutoff = cut
        families = _families(store, cut)
        removed_ids = {t: sorted(ids) for t, ids in families.items() if ids}
        if not removed_ids:
            return result
        conn = store.db.conn
        touched = set()
        for chunk in _chunks(families.get("contacts", [])):
            marks = ",".join("?" * len(chunk))
            touched.update(r[0] for r in store._rows(f"SELECT person_id FROM contacts WHERE id IN ({marks})", chunk))
        for table in _ORDER:
            ids = families.get(table) or []
            if not ids:
                continue
            conn.executemany(
                "INSERT OR IGNORE INTO purge_grants(tbl, record_id) VALUES (?, ?)", [(table, i) for i in ids]
            )
            conn.execute(f"DELETE FROM {table} WHERE id IN (SELECT record_id FROM purge_grants WHERE tbl = ?)", [table])
            result.removed[table] = len(ids)
            # What the service acknowledged, and which desk recorded it, go with the record.
            conn.executemany("DELETE FROM outbox WHERE record_id = ? AND state = 'synced'", [(i,) for i in ids])
            conn.executemany("DELETE FROM record_desks WHERE record_id = ?", [(i,) for i in ids])
        conn.execute("DELETE FROM purge_grants")
        if touched:
            store.refresh_contact_summary(sorted(touched))
        counts = ", ".join(f"{n} {t}" for t, n in result.removed.items())
        store._audit(
            now,
            "purge",
            "retention",
            None,
            f"removed {counts}: synced and before {cut[:10]} ({days} days before the service's time "
            f"{_iso(reference)[:16]} at the last sync)",
            json.dumps(removed_ids, sort_keys=True),
        )
    store._person_index = None
    return result


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def after_sync(store: Store, service_now: datetime) -> RetentionResult:
    """Keep the service's time from the sync that just succeeded, then apply the window."""
    with store._save():
        store.db.execute(
            "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [K_SERVICE_TIME, _iso(service_now)],
        )
    return apply(store)
