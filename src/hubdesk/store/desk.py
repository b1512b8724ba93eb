"""Read queries the duty desk needs: today at this hub, gathered in one place.

Screens call these instead of writing SQL; each takes an unlocked Store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from hubdesk.domain.models import Contact, DropInSession, EmergencyPayment, Hub, Person, User
from hubdesk.store.errors import NotFound
from hubdesk.store.store import Store

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class PaymentLine:
    payment: EmergencyPayment
    state: str  # approved / awaiting_approval / declined / reversed


@dataclass(frozen=True)
class DeskToday:
    """Everything the desk shows for one hub day, read in one go."""

    hub: Hub | None
    user: User | None
    in_building: list[Contact]
    contacts: list[Contact]
    payments: list[PaymentLine]
    sessions: list[DropInSession]
    people: dict[str, Person]
    attendance: dict[str, int]
    waiting: int
    last_sync: str | None
    awaiting_approval: list[EmergencyPayment] = field(default_factory=list)


def hub(store: Store) -> Hub | None:
    code = store.hub_code
    for h in store.reference(include_retired=True).hubs:
        if h.code == code:
            return h
    return None


def payment_lines(store: Store, payments: list[EmergencyPayment]) -> list[PaymentLine]:
    return [PaymentLine(p, store.payment_state(p.id)) for p in payments]


def last_sync(store: Store) -> str | None:
    try:
        return store.meta("last_sync")
    except NotFound:
        return None


def today(store: Store, now: datetime) -> DeskToday:
    """Today (England's calendar day of `now`) at this device's hub."""
    code = store.hub_code
    start, end = store.day_bounds(now.astimezone(LONDON).date())
    in_building = store.in_building(code)
    contacts = store.contacts_between(code, start, end)
    payments = store.payments_between(code, start, end)
    sessions = store.sessions_between(code, start, end)
    awaiting = store.awaiting_approval(code)
    ids = {c.person_id for c in (*in_building, *contacts)} | {p.person_id for p in (*payments, *awaiting)}
    people = {p.id: p for p in store.people(sorted(ids))}
    attendance = {s.id: len(store.attendance(s.id)) for s in sessions}
    return DeskToday(
        hub=hub(store),
        user=store.user,
        in_building=in_building,
        contacts=contacts,
        payments=payment_lines(store, payments),
        sessions=sessions,
        people=people,
        attendance=attendance,
        waiting=store.outbox_waiting(),
        last_sync=last_sync(store),
        awaiting_approval=awaiting,
    )


def visit_in_building(store: Store, person_id: str) -> Contact | None:
    """This person's open drop-in visit here, if they are signed in."""
    for contact in store.in_building():
        if contact.person_id == person_id:
            return contact
    return None


def duty_managers(store: Store) -> list[User]:
    return [u for u in store.users() if u.active and u.role in store.service_rules().approver_roles]


def user_names(store: Store) -> dict[str, str]:
    return {u.login: u.display_name for u in store.users()}


def slot_logins(store_dir) -> list[str]:
    """Logins that have a key slot (readable before unlock: names only, no secrets)."""
    from hubdesk.store.keys import RECOVERY, KeySlotFile
    from hubdesk.store.store import slots_path

    try:
        slots = KeySlotFile.load(slots_path(store_dir))
    except Exception:
        return []
    return sorted(s for s in slots.slots if s != RECOVERY)


# --- sync, as the desk shows it ------------------------------------------------------------


@dataclass(frozen=True)
class SyncCounts:
    """What waits to go, what needs a person, and when the desk last synced."""

    waiting: int
    quarantined: int
    open_conflicts: int
    last_sync_at: str | None  # as the sync client keeps it (Unix seconds)
    enrolled: bool


def sync_counts(store: Store) -> SyncCounts:
    """Counted down the outbox's state index one state at a time (never a scan of the
    synced rows, which grow with the years)."""

    def count(sql: str) -> int:
        return store._rows(sql)[0][0]

    state = dict(store._rows("SELECT key, value FROM sync_state WHERE key IN ('last_sync_at', 'enrolled_at')"))
    return SyncCounts(
        waiting=count("SELECT count(*) FROM outbox WHERE state IN ('waiting', 'sending')"),
        quarantined=count("SELECT count(*) FROM outbox WHERE state = 'quarantined'"),
        open_conflicts=count("SELECT count(*) FROM conflicts WHERE settled_at IS NULL"),
        last_sync_at=state.get("last_sync_at"),
        enrolled="enrolled_at" in state,
    )


def record_sync_states(store: Store, record_ids: list[str]) -> dict[str, str]:
    """record id -> what the desk shows beside it: waiting, sending, synced or needs attention.

    Every contact, payment and session on a desk was made there with an outbox row, so one
    that is not among the unsent rows (read down the state index, a short list however old
    the store) has reached the central record."""
    shown = {
        "waiting": "waiting",
        "sending": "sending",
        "conflict": "needs attention",
        "quarantined": "needs attention",
    }
    found = dict.fromkeys(record_ids, "synced")
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for record_id, state in store._rows(
            "SELECT record_id, state FROM outbox WHERE state IN ('waiting', 'sending', 'conflict', 'quarantined') "
            f"AND record_id IN ({marks}) ORDER BY seq",
            chunk,
        ):
            found[record_id] = shown.get(state, state)
    return found


def quarantined_items(store: Store, limit: int = 500) -> list[tuple[str, str, str, str, int, str | None]]:
    """(outbox id, kind, record id, queued at, attempts, reason) for records the service refused."""
    return [
        tuple(row)  # type: ignore[misc]
        for row in store._rows(
            "SELECT id, kind, record_id, created_at, attempts, last_error FROM outbox "
            "WHERE state = 'quarantined' ORDER BY seq LIMIT ?",
            [limit],
        )
    ]
