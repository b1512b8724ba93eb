"""Actions that get followed up, in the desk's store: made from a saved contact, done or passed
on, pulled from the other desks, and read back as "for me" and "for my caseload".

Every write runs inside a save (the contact's own, or its own), with its audit entry and its
outbox row. The `actions` row keeps the current owner and done flag (recomputed from the
action's updates whenever one arrives), so the lists are indexed queries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from hubdesk.domain.actions import (
    ActionItem,
    ActionKind,
    ActionState,
    ActionUpdate,
    UpdateKind,
    fold,
    is_overdue,
)
from hubdesk.domain.models import Contact, Person
from hubdesk.store.errors import NotAllowed, NotFound, UnknownUser

if TYPE_CHECKING:
    from hubdesk.store.store import Store

PULLED = ("action", "action_update", "offer_given")  # the local offer given travels the same way
# Owner words that mean the young person's allocated PA.
_PA_WORDS = {"pa", "allocated pa", "the allocated pa", "allocated", "their pa", "the pa"}


def _iso(dt: datetime) -> str:
    from hubdesk.store.store import _iso as store_iso

    return store_iso(dt)


@dataclass(frozen=True)
class ActionRow:
    """An action as a list shows it."""

    item: ActionItem
    owner: str | None
    done: bool
    overdue: bool


# --- made from a contact -------------------------------------------------------------------


def resolve_owner(store: Store, owner_text: str, person: Person) -> str | None:
    """The login an action's "who owns it" names: a login, a user's name or first name (one
    match only), or words for the allocated PA; blank means the allocated PA. None if it
    names nobody on this desk (the text is kept and shown)."""
    text = re.sub(r"\s+", " ", owner_text.strip().lower())
    if not text or text in _PA_WORDS:
        return person.allocated_pa
    users = [u for u in store.users() if u.active]
    for user in users:
        if text == user.login or text == user.display_name.lower():
            return user.login
    firsts = [u for u in users if u.display_name.lower().split(" ")[0] == text]
    return firsts[0].login if len(firsts) == 1 else None


def from_contact(store: Store, contact: Contact, previous: Contact | None, now: datetime) -> list[ActionItem]:
    """Inside the contact's save: an item for each of its actions (an amendment adds items only
    for actions it added) and one for "tell the allocated PA" when that is newly ticked."""
    person = store.get_person(contact.person_id)
    before = {(a.text, a.owner, a.due) for a in previous.actions} if previous else set()
    items = []
    for action in contact.actions:
        if (action.text, action.owner, action.due) in before:
            continue
        items.append(
            ActionItem(
                contact_id=contact.contact_id,
                person_id=person.id,
                hub_code=contact.hub_code,
                person_hub=person.hub_code,
                text=action.text,
                # Nobody on this desk by that name (or no PA allocated): the PA who wrote it follows it up.
                owner=resolve_owner(store, action.owner, person) or contact.recorded_by,
                owner_text=action.owner,
                due=action.due,
                recorded_by=contact.recorded_by,
                recorded_at=now,
            )
        )
    if contact.tell_allocated_pa and not (previous and previous.tell_allocated_pa):
        day = contact.started_at.date()
        items.append(
            ActionItem(
                kind=ActionKind.TELL_PA,
                contact_id=contact.contact_id,
                person_id=person.id,
                hub_code=contact.hub_code,
                person_hub=person.hub_code,
                text=f"Read the {contact.contact_type.label.lower()} contact of {day.day} {day:%b %Y}",
                owner=person.allocated_pa or contact.recorded_by,
                owner_text="allocated PA" if person.allocated_pa else "no allocated PA: whoever wrote it",
                recorded_by=contact.recorded_by,
                recorded_at=now,
            )
        )
    for item in items:
        body = item.model_dump_json()
        seq = store._audit(now, "create", "action", item.id, item.kind.value, body)
        _insert_item(store, item, body, seq)
        store._outbox(now, "action", item.id, body)
    return items


def _insert_item(store: Store, item: ActionItem, body: str, seq: int) -> None:
    store.db.execute(
        "INSERT INTO actions(id, kind, contact_id, person_id, hub_code, person_hub, owner, due, done, done_at, "
        "recorded_at, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)",
        [
            item.id,
            item.kind.value,
            item.contact_id,
            item.person_id,
            item.hub_code,
            item.person_hub,
            item.owner,
            item.due.isoformat() if item.due else None,
            _iso(item.recorded_at),
            body,
            seq,
        ],
    )


def _insert_update(store: Store, update: ActionUpdate, body: str, seq: int) -> None:
    store.db.execute(
        "INSERT INTO action_updates(id, action_id, recorded_at, body, audit_seq) VALUES (?, ?, ?, ?, ?)",
        [update.id, update.action_id, _iso(update.recorded_at), body, seq],
    )
    _restate(store, update.action_id)


def _restate(store: Store, action_id: str) -> ActionState:
    item = get(store, action_id)
    state = fold(item, updates(store, action_id))
    store.db.execute(
        "UPDATE actions SET owner = ?, done = ?, done_at = ? WHERE id = ?",
        [state.owner, int(state.done), state.done_at, action_id],
    )
    return state


# --- done, passed on -------------------------------------------------------------------------


def mark_done(store: Store, action_id: str, note: str) -> ActionUpdate:
    return _update(store, action_id, UpdateKind.DONE, note, None)


def pass_on(store: Store, action_id: str, to: str, note: str = "") -> ActionUpdate:
    login = to.strip().lower()
    try:
        user = store.get_user(login)
    except UnknownUser:
        raise NotAllowed(f"No user called {to} on this desk") from None
    if not user.active:
        raise NotAllowed(f"{user.display_name} is no longer an active user")
    return _update(store, action_id, UpdateKind.PASSED_ON, note, user.login)


def _update(store: Store, action_id: str, kind: UpdateKind, note: str, to: str | None) -> ActionUpdate:
    if store.user is None:
        raise NotAllowed("Unlock as a user to follow up an action")
    with store._save() as now:
        state = _restate(store, action_id)
        if state.done:
            raise NotAllowed("That action is already done")
        if kind is UpdateKind.PASSED_ON and to == state.owner:
            raise NotAllowed("The action is already theirs")
        update = ActionUpdate(
            action_id=action_id,
            hub_code=store.hub_code,
            kind=kind,
            note=note,
            to=to,
            recorded_by=store.user.login,
            recorded_at=now,
        )
        body = update.model_dump_json()
        seq = store._audit(now, kind.value, "action", action_id, f"to {to}" if to else "", body)
        _insert_update(store, update, body, seq)
        store._outbox(now, "action_update", update.id, body)
    return update


# --- pulled from the central record ----------------------------------------------------------


def apply_pulled(store: Store, kind: str, body: dict[str, Any], audit_seq: int) -> bool:
    """Keep an action or an update another desk recorded (inside the pull's save); False if
    already held. Raises ValueError (set aside) when what it hangs on is not held here."""
    from hubdesk.store.working_set import NotHeld

    if kind == "offer_given":
        from hubdesk.store import local_offer

        return local_offer.apply_pulled(store, kind, body, audit_seq)
    if kind == "action":
        item = ActionItem.model_validate(body)
        if store._rows("SELECT 1 FROM actions WHERE id = ?", [item.id]):
            return False
        if not store._rows("SELECT 1 FROM people WHERE id = ?", [item.person_id]):
            raise NotHeld("its young person is not held on this desk")
        _insert_item(store, item, item.model_dump_json(), audit_seq)
        # An update that came before its action (it cannot, in feed order) would be folded here.
        _restate(store, item.id)
        return True
    update = ActionUpdate.model_validate(body)
    if store._rows("SELECT 1 FROM action_updates WHERE id = ?", [update.id]):
        return False
    if not store._rows("SELECT 1 FROM actions WHERE id = ?", [update.action_id]):
        raise NotHeld("its action is not held on this desk")
    _insert_update(store, update, update.model_dump_json(), audit_seq)
    return True


# --- reading ---------------------------------------------------------------------------------


def get(store: Store, action_id: str) -> ActionItem:
    rows = store._rows("SELECT body FROM actions WHERE id = ?", [action_id])
    if not rows:
        raise NotFound("No such action on this desk")
    return ActionItem.model_validate_json(rows[0][0])


def updates(store: Store, action_id: str) -> list[ActionUpdate]:
    sql = "SELECT body FROM action_updates WHERE action_id = ? ORDER BY recorded_at, id"
    return [ActionUpdate.model_validate_json(r[0]) for r in store._rows(sql, [action_id])]


def state(store: Store, action_id: str) -> ActionState:
    return fold(get(store, action_id), updates(store, action_id))


_ORDER = "ORDER BY (due IS NOT NULL AND due < ?) DESC, due IS NULL, due, recorded_at"


def _rows(store: Store, where: str, params: list[Any], today: date, limit: int) -> list[ActionRow]:
    rows = store._rows(
        f"SELECT body, owner, done, due FROM actions a WHERE {where} {_ORDER} LIMIT ?",
        [*params, today.isoformat(), limit],
    )
    out = []
    for body, owner, done, due in rows:
        out.append(
            ActionRow(
                item=ActionItem.model_validate_json(body),
                owner=owner,
                done=bool(done),
                overdue=is_overdue(date.fromisoformat(due) if due else None, bool(done), today),
            )
        )
    return out


def for_user(store: Store, login: str, today: date, *, include_done: bool = False, limit: int = 500) -> list[ActionRow]:
    """Actions owned by `login`, overdue first, then by due date (undated last)."""
    where = "owner = ?" + ("" if include_done else " AND done = 0")
    return _rows(store, where, [login], today, limit)


def for_caseload(store: Store, login: str, today: date, *, limit: int = 500) -> list[ActionRow]:
    """Open actions for the young people `login` is allocated PA to, whoever owns them."""
    where = "done = 0 AND person_id IN (SELECT id FROM people WHERE allocated_pa = ?)"
    return _rows(store, where, [login], today, limit)


def for_person(store: Store, person_id: str, today: date, *, limit: int = 50) -> list[ActionRow]:
    return _rows(store, "person_id = ? AND done = 0", [person_id], today, limit)


def counts(store: Store, login: str, today: date) -> tuple[int, int]:
    """(open actions for `login`, of which overdue)."""
    row = store._rows(
        "SELECT count(*), coalesce(sum(due IS NOT NULL AND due < ?), 0) FROM actions WHERE owner = ? AND done = 0",
        [today.isoformat(), login],
    )[0]
    return int(row[0]), int(row[1])
