"""Sync bookkeeping inside the encrypted store: device key, cursor, outbox states, conflicts.

Functions over a Store, each write one transaction, so a process killed mid-sync keeps
either all of a pushed batch's answers or none, and a pulled page lands together with
the cursor that covers it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Person, User
from hubdesk.store import actions as followed_up
from hubdesk.store import day_pull, working_set
from hubdesk.store.store import OutboxItem, Store, _iso

# Outbox states; what the desk shows for each.
WAITING, SENDING, SYNCED, CONFLICT, QUARANTINED = "waiting", "sending", "synced", "conflict", "quarantined"
SHOWN = {
    WAITING: "waiting",
    SENDING: "sending",
    SYNCED: "synced",
    CONFLICT: "needs attention",
    QUARANTINED: "needs attention",
}

K_KEY = "device_key"
K_SERVER = "server_url"
K_ENROLLED = "enrolled_at"
K_CURSOR = "cursor"
K_FIRST_PULL = "first_pull"  # a first pull's place at the service while it goes on (newest first)
K_LAST_SYNC = "last_sync_at"
K_BUNDLE_KEY = "service_bundle_key"
K_DATABASE = "service_database_id"
K_AUDIT_ACKED = "audit_acked"  # the service holds this desk's audit entries 1..this
K_RESTORED = "restored_from"  # set on a store restored from a backup until it enrols again


def get(store: Store, key: str) -> str | None:
    rows = store._rows("SELECT value FROM sync_state WHERE key = ?", [key])
    return rows[0][0] if rows else None


def _put(store: Store, key: str, value: str) -> None:
    store.db.execute(
        "INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def put(store: Store, **values: str) -> None:
    with store._save():
        for key, value in values.items():
            _put(store, key, value)


def device_id(store: Store) -> str:
    return store.meta("device_id")


def enrolled(store: Store) -> bool:
    return bool(get(store, K_ENROLLED))


def restored_from(store: Store) -> str | None:
    """The device id this store was restored from, while it waits to enrol as a new device."""
    return get(store, K_RESTORED) or None


# Unsent, or sent and not taken: what the central record does not hold from this desk.
NOT_HELD = (WAITING, SENDING, CONFLICT, QUARANTINED)


def not_held(store: Store) -> dict[str, int]:
    """Outbox rows the central record does not hold, by state (waiting, sending, conflict, quarantined)."""
    return {state: n for state, n in states(store).items() if state in NOT_HELD and n}


def become_new_device(store: Store, now: Any, why: str) -> str:
    """Give this store a new device identity inside the caller's transaction (a restored
    store): a new device id, no device key or enrolment, the change feed and the audit
    history the service holds for it starting from nothing. The service then holds this
    desk's audit chain under the new id from entry 1, so its sequence numbers can never
    collide with what the old device sent. Returns the new device id."""
    old = store.meta("device_id")
    new = uuid7()
    store.db.execute("UPDATE meta SET value = ? WHERE key = 'device_id'", [new])
    for key in (K_KEY, K_ENROLLED, K_BUNDLE_KEY, "pending_device_key", "pending_server_url"):
        store.db.execute("DELETE FROM sync_state WHERE key = ?", [key])
    for key, value in {K_CURSOR: "0", K_FIRST_PULL: "", K_DATABASE: "", K_AUDIT_ACKED: "0", K_RESTORED: old}.items():
        _put(store, key, value)
    store._audit(now, "restore", "device", None, f"{why}; was device {old}, now {new}")
    return new


def cursor(store: Store) -> int:
    return int(get(store, K_CURSOR) or 0)


# --- the outbox -----------------------------------------------------------------------


def pending(store: Store, limit: int, after_seq: int = 0) -> list[OutboxItem]:
    """Items still to send (waiting, or left 'sending' by an interrupted sync), in order."""
    return [item for item, _ in pending_with_times(store, limit, after_seq)]


def pending_with_times(store: Store, limit: int, after_seq: int = 0) -> list[tuple[OutboxItem, str]]:
    """As pending, each with the time its outbox row was made.

    One query a state, each read in seq order straight off the outbox_state index and cut
    at the limit, then merged: with `state IN (...)` SQLite read every pending row after
    the cursor and sorted them all for each batch, so a push grew with the square of the
    outbox (100,000 records took 20 times as long as 10,000)."""
    rows = sorted(
        (
            row
            for state in ("waiting", "sending")
            for row in store._rows(
                "SELECT seq, id, kind, record_id, body, state, attempts, last_error, created_at FROM outbox "
                "WHERE state = ? AND seq > ? ORDER BY seq LIMIT ?",
                [state, after_seq, limit],
            )
        ),
        key=lambda row: row[0],
    )[:limit]
    return [(OutboxItem(*row[:8]), row[8]) for row in rows]


def reset_sending(store: Store) -> int:
    """Items left 'sending' by a sync that never heard back go back to waiting."""
    with store._save():
        store.db.execute("UPDATE outbox SET state = 'waiting' WHERE state = 'sending'")
        return store._rows("SELECT changes()")[0][0]


def mark_sending(store: Store, ids: Sequence[str]) -> None:
    with store._save():
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            store.db.execute(
                # By id (+state keeps the planner off outbox_state: with 500 ids it chose to
                # walk every waiting row instead, 0.2 s a batch with 100,000 waiting).
                f"UPDATE outbox SET state = 'sending' WHERE +state = 'waiting' AND id IN ({marks})",
                list(chunk),
            )


@dataclass
class PushTally:
    accepted: int = 0
    already_had: int = 0
    conflicts: int = 0
    quarantined: int = 0

    def add(self, other: PushTally) -> None:
        self.accepted += other.accepted
        self.already_had += other.already_had
        self.conflicts += other.conflicts
        self.quarantined += other.quarantined


def record_results(store: Store, items: Sequence[OutboxItem], results: Iterable[Any]) -> PushTally:
    """Store the service's answers for one batch, in one transaction.

    accepted / already had -> synced; conflict -> kept with both sides, needs attention;
    rejected -> quarantined with the reason (never deleted, never blocks the queue).
    """
    by_id = {item.id: item for item in items}
    tally = PushTally()
    with store._save() as now:
        for result in results:
            item = by_id.get(result.id)
            if item is None:
                continue
            status = str(result.status)
            if status in ("accepted", "already_had"):
                state, error = SYNCED, None
                if status == "accepted":
                    tally.accepted += 1
                else:
                    tally.already_had += 1
            elif status == "conflict":
                state, error = CONFLICT, result.reason
                tally.conflicts += 1
                remote = json.dumps(result.remote or {})
                _keep_conflict(store, item.kind, item.record_id, item.body, remote, now)
                # Later unsent edits of the same record were built on this one: they
                # conflict too, so hold them back with both sides kept.
                for later_id, later_body in store._rows(
                    "SELECT id, body FROM outbox WHERE kind = ? AND record_id = ? AND seq > ? "
                    "AND state IN ('waiting', 'sending')",
                    [item.kind, item.record_id, item.seq],
                ):
                    if later_id in by_id:
                        continue
                    _keep_conflict(store, item.kind, item.record_id, later_body, remote, now)
                    store.db.execute(
                        "UPDATE outbox SET state = 'conflict', last_error = ? WHERE id = ?",
                        ["built on an edit that conflicted with the central record", later_id],
                    )
            else:
                state, error = QUARANTINED, f"{result.code}: {result.reason}"
                tally.quarantined += 1
            store.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                [state, error, item.id],
            )
        store._audit(
            now,
            "sync",
            "outbox",
            None,
            f"pushed {len(by_id)}: {tally.accepted} accepted, {tally.already_had} already had, "
            f"{tally.conflicts} conflicts, {tally.quarantined} quarantined",
        )
    return tally


def _keep_conflict(store: Store, kind: str, record_id: str, local: str, remote: str, now: Any) -> None:
    store.db.execute(
        "INSERT INTO conflicts(id, kind, record_id, local_body, remote_body, detected_at) VALUES (?, ?, ?, ?, ?, ?)",
        [uuid7(), kind, record_id, local, remote, _iso(now)],
    )


def states(store: Store) -> dict[str, int]:
    return dict(store._rows("SELECT state, count(*) FROM outbox GROUP BY state"))


@dataclass(frozen=True)
class SyncStatus:
    """What the desk's status bar and end-of-day checklist show about sync."""

    enrolled: bool
    server: str | None
    waiting: int
    needs_attention: int
    open_conflicts: int
    last_sync_at: str | None
    cursor: int


def status(store: Store) -> SyncStatus:
    counts = states(store)
    conflicts_open = store._rows("SELECT count(*) FROM conflicts WHERE settled_at IS NULL")[0][0]
    return SyncStatus(
        enrolled=enrolled(store),
        server=get(store, K_SERVER),
        waiting=counts.get(WAITING, 0) + counts.get(SENDING, 0),
        needs_attention=counts.get(QUARANTINED, 0) + counts.get(CONFLICT, 0),
        open_conflicts=conflicts_open,
        last_sync_at=get(store, K_LAST_SYNC),
        cursor=cursor(store),
    )


def record_sync_state(store: Store, record_id: str) -> str | None:
    """What the desk shows beside a record: waiting, sending, synced or needs attention."""
    rows = store._rows("SELECT state FROM outbox WHERE record_id = ? ORDER BY seq DESC LIMIT 1", [record_id])
    return SHOWN.get(rows[0][0], rows[0][0]) if rows else None


def quarantined(store: Store) -> list[OutboxItem]:
    return store.outbox(state=QUARANTINED, limit=10_000)


def requeue(store: Store, outbox_id: str) -> None:
    """Send a quarantined item again (after the cause was put right centrally)."""
    with store._save():
        store.db.execute("UPDATE outbox SET state = 'waiting' WHERE id = ? AND state = 'quarantined'", [outbox_id])


# --- the audit chain, sent to the central record ------------------------------------------

AUDIT_COLUMNS = ("seq", "at", "actor", "action", "kind", "record_id", "detail", "body_hash", "mac")
GENESIS = "0" * 64  # the prev_mac of the first entry (hubdesk.store.audit.GENESIS)


def audit_acked(store: Store) -> int:
    return int(get(store, K_AUDIT_ACKED) or 0)


def audit_after(store: Store, after: int, limit: int) -> list[dict[str, Any]]:
    """Audit entries after `after`, oldest first, each with the MAC of the entry before it
    (so the service can check its copy continues). Ids, actions and logins only."""
    rows = store._rows(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE seq >= ? ORDER BY seq LIMIT ?",
        [max(after, 1), limit + 1],
    )
    prev = GENESIS
    if after and rows and rows[0][0] == after:
        prev = rows.pop(0)[-1]
    elif after:
        prev = "f" * 64  # the entry before is gone here: the service will say the chain does not continue
    items = []
    for row in rows[:limit]:
        entry = dict(zip(AUDIT_COLUMNS, row, strict=True))
        entry["prev_mac"] = prev
        prev = entry["mac"]
        items.append(entry)
    return items


def audit_between(store: Store, first: int, last: int) -> dict[int, dict[str, Any]]:
    rows = store._rows(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit WHERE seq BETWEEN ? AND ? ORDER BY seq", [first, last]
    )
    return {row[0]: dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in rows}


def record_audit_ack(store: Store, acked: int, problem: str | None = None) -> None:
    """Keep what the service acknowledged holding, in one transaction; a refusal (the central
    copy differs from this desk's history) is itself audited."""
    with store._save() as now:
        _put(store, K_AUDIT_ACKED, str(acked))
        if problem:
            store._audit(now, "sync", "audit", None, problem[:200])


def record_sync_done(store: Store, at: str, detail: str) -> None:
    """A completed sync: its time and its audit entry, in one transaction."""
    with store._save() as now:
        _put(store, K_LAST_SYNC, at)
        store._audit(now, "sync", "service", None, detail)


def record_audit_check(store: Store, compared: int, problems: int) -> None:
    with store._save() as now:
        store._audit(
            now, "verify", "audit", None, f"{compared} entries compared with the central copy, {problems} problems"
        )


# --- conflicts --------------------------------------------------------------------------


def conflicts(store: Store, open_only: bool = True) -> list[dict[str, Any]]:
    where = " WHERE settled_at IS NULL" if open_only else ""
    rows = store._rows(
        "SELECT id, kind, record_id, local_body, remote_body, detected_at, settled_at, settled_by, resolution "
        f"FROM conflicts{where} ORDER BY detected_at"
    )
    keys = (
        "id",
        "kind",
        "record_id",
        "local_body",
        "remote_body",
        "detected_at",
        "settled_at",
        "settled_by",
        "resolution",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def settle(store: Store, conflict_id: str, resolution: str) -> None:
    """Mark a conflict settled (the person re-applies what they keep as a normal edit)."""
    with store._save() as now:
        store.db.execute(
            "UPDATE conflicts SET settled_at = ?, settled_by = ?, resolution = ? WHERE id = ? AND settled_at IS NULL",
            [_iso(now), store._actor(), resolution, conflict_id],
        )
        store._audit(now, "settle", "conflict", conflict_id, resolution[:40])


# --- pulled changes -----------------------------------------------------------------------


@dataclass
class PullTally:
    people: int = 0
    skipped: int = 0
    reference: int = 0
    events: int = 0
    set_aside: int = 0


def apply_changes(
    store: Store,
    changes: Sequence[Any],
    new_cursor: int,
    database_id: str = "",
    unreadable: Sequence[tuple[int, str, str, str]] = (),
    first_pull: str = "",
) -> PullTally:
    """Apply one pulled page and store the cursor that covers it, in one transaction.

    Never deletes: a person the device has edited and not yet sent is left alone (the
    edit goes up next time and the service keeps both sides if they clash). A change this
    desk cannot read, and the `unreadable` ones the client could not even parse ((seq,
    kind, record id, reason)), are set aside with the reason and the rest applied: one bad
    item never stops a desk's pull.
    """
    tally = PullTally()
    ids = [c.record_id for c in changes if c.kind == "person"]
    touched: set[str] = set()
    with store._save() as now:
        index = working_set.PageIndex(store, changes)
        seq = store._audit(now, "sync", "pull", None, f"{len(changes)} changes to cursor {new_cursor}")
        local: dict[str, tuple[int, str]] = {}
        unsent: set[str] = set()
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            local.update(
                (r[0], (r[1], r[2]))
                for r in store._rows(f"SELECT id, version, body FROM people WHERE id IN ({marks})", list(chunk))
            )
            unsent.update(
                r[0]
                for r in store._rows(
                    f"SELECT DISTINCT record_id FROM outbox WHERE state IN ('waiting', 'sending') AND kind = 'person' "
                    f"AND record_id IN ({marks})",
                    list(chunk),
                )
            )
        for change in changes:
            try:
                if change.kind == "person":
                    if _apply_person(index, change.body, seq, local, unsent):
                        tally.people += 1
                        index.add("people", change.record_id)
                    else:
                        tally.skipped += 1
                elif change.kind == "reference":
                    index.write(store)  # what is queued so far goes first: the rest reads the tables
                    _apply_reference(store, change.body, now)
                    tally.reference += 1
                elif change.kind == "handover_note":
                    index.write(store)
                    _apply_handover(store, change.body, now)
                elif change.kind in day_pull.KINDS:
                    index.write(store)
                    if day_pull.apply(store, change.kind, change.body, now):
                        tally.events += 1
                elif change.kind == "summary":
                    working_set.put_summary(index, change.record_id, _summary_json(change.body))
                elif change.kind in followed_up.PULLED:
                    index.write(store)
                    if followed_up.apply_pulled(store, change.kind, change.body, seq):
                        tally.events += 1
                elif change.kind in working_set.PULLED_MODELS:
                    record = working_set.PULLED_MODELS[change.kind].model_validate(change.body)
                    if working_set.put_event(store, change.kind, record, change.desk, seq, touched, index):
                        tally.events += 1
                else:
                    raise working_set.NotHeld(f"{change.kind} is not a kind this desk knows: update hubdesk")
            except ValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in e["loc"]) or "record" for e in exc.errors()[:5])
                working_set.set_aside(store, change.seq, change.kind, change.record_id, f"not readable: {fields}", now)
                tally.set_aside += 1
            except (ValueError, KeyError, TypeError) as exc:
                reason = str(exc) if isinstance(exc, working_set.NotHeld) else f"not readable ({type(exc).__name__})"
                working_set.set_aside(store, change.seq, change.kind, change.record_id, reason, now)
                tally.set_aside += 1
        for item_seq, kind, record_id, reason in unreadable:
            working_set.set_aside(store, item_seq, kind, record_id, reason, now)
            tally.set_aside += 1
        index.flush(store)
        if touched:
            store.refresh_contact_summary(sorted(touched))
        _put(store, K_CURSOR, str(new_cursor))
        _put(store, K_FIRST_PULL, first_pull)
        if database_id:
            _put(store, K_DATABASE, database_id)
    if tally.people:
        store._person_index = None  # rebuilt on the next search
    return tally


def _summary_json(body: dict[str, Any]) -> str:
    """A young person's activity summary, checked: ids, times, amounts and codes only."""
    for payment in body.get("payments", []):
        if not isinstance(payment["amount_pence"], int) or not isinstance(payment["id"], str):
            raise TypeError("payment")
        datetime.fromisoformat(payment["at"])
    last = body.get("last_contact")
    if last is not None:
        datetime.fromisoformat(last["at"])
    return json.dumps({"person_id": body["person_id"], "last_contact": last, "payments": body.get("payments", [])})


def _apply_handover(store: Store, body: dict[str, Any], now: Any) -> None:
    """Another desk's handover note for this hub: kept (once) so the next duty here sees it.
    Notes for other hubs are not this desk's business and are skipped."""
    from hubdesk.domain.day import HandoverNote
    from hubdesk.store.store import _iso

    note = HandoverNote.model_validate(body)
    if note.hub_code != store.hub_code or store._rows("SELECT 1 FROM handover_notes WHERE id = ?", [note.id]):
        return
    text = note.model_dump_json()
    seq = store._audit(now, "pull", "handover_note", note.id, f"{note.hub_code} {note.day.isoformat()}", text)
    store.db.execute(
        "INSERT INTO handover_notes(id, hub_code, day, written_at, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?)",
        [note.id, note.hub_code, note.day.isoformat(), _iso(note.written_at), text, seq],
    )


def _apply_person(
    index: working_set.PageIndex,
    body: dict[str, Any],
    audit_seq: int,
    local: dict[str, tuple[int, str]],
    unsent: set[str],
) -> bool:
    """Queue a pulled version of a person on the page (written with the page's others)."""
    person = Person.model_validate(body)
    held = local.get(person.id)
    if held is not None:
        version, local_body = held
        if json.loads(local_body) == person.model_dump(mode="json"):
            return False
        if version > person.version or (person.id in unsent and version >= person.version):
            return False
    text = person.model_dump_json()
    local[person.id] = (person.version, text)  # a later change in the same page sees this one
    index.queue(
        "people",
        [
            person.id,
            person.version,
            person.case_id,
            person.hub_code,
            int(person.walk_in),
            int(person.needs_matching),
            person.allocated_pa,
            text,
            audit_seq,
        ],
    )
    index.queue("people_versions", [person.id, person.version, text, audit_seq])
    return True


def _apply_reference(store: Store, body: dict[str, Any], now: Any) -> None:
    from hubdesk.sync.protocol import CentralReference

    reference = CentralReference.model_validate(body)
    store.set_reference(reference.device_reference())
    _put(store, "retention_days", str(reference.retention_days))  # retention.K_RETENTION_DAYS
    for user in reference.users:
        _put_user(store, user, now)


def _put_user(store: Store, user: User, now: Any) -> None:
    store._put_user(user, user.login, now, action="sync")


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
