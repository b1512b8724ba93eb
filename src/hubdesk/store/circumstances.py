"""Changing a young person's circumstances at the desk: a new version of their person record.

The change is one save (record, audit entry and outbox row, under BEGIN IMMEDIATE) through
Store.update_person, made against the version the PA opened: a change made on this desk
meanwhile is refused here, and one made at another desk is found by the central record at
push and kept there, both sides, as a conflict for a person to settle.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from hubdesk.domain.circumstances import AccommodationType, Circumstances, Flag, flags
from hubdesk.domain.enums import LegalStatus
from hubdesk.domain.models import ContactDetails, Person
from hubdesk.store.errors import NotAllowed, StoreError
from hubdesk.store.store import Store


def with_circumstances(
    person: Person,
    *,
    contact: ContactDetails,
    circumstances: Circumstances,
    expected_contact_days: int | None,
) -> Person:
    """The person with these details; the older yes/no facts follow them (staying put and
    custody from the accommodation, young parent from a number of children)."""
    update: dict[str, Any] = {
        "contact": contact,
        "circumstances": circumstances,
        "expected_contact_days": expected_contact_days,
    }
    acc = circumstances.accommodation
    if acc is not None:
        update["staying_put"] = acc.kind is AccommodationType.STAYING_PUT
        update["custody"] = acc.kind is AccommodationType.CUSTODY
    if circumstances.children is not None:
        update["young_parent"] = circumstances.children > 0
    if circumstances.immigration is not None:
        update["uasc"] = True
    return Person.model_validate({**person.model_dump(), **{k: _dump(v) for k, v in update.items()}})


def _dump(value: Any) -> Any:
    return value.model_dump() if hasattr(value, "model_dump") else value


def change_circumstances(
    store: Store,
    person_id: str,
    base_version: int,
    *,
    contact: ContactDetails,
    circumstances: Circumstances,
    expected_contact_days: int | None,
) -> Person:
    """Save the change as version base_version + 1. VersionConflict if the record moved on
    since it was opened; NotAllowed for another hub's young person (their desk changes them)."""
    current = store.get_person(person_id)
    if current.hub_code != store.hub_code:
        raise NotAllowed(f"This young person belongs to hub {current.hub_code}: a desk there changes their details")
    try:
        updated = with_circumstances(
            current, contact=contact, circumstances=circumstances, expected_contact_days=expected_contact_days
        )
    except ValidationError as exc:
        from hubdesk.domain.errors import field_errors

        field, message = next(iter(field_errors(exc).items()))
        raise StoreError(f"Not saved: {field or 'record'}: {message}") from None
    return store.update_person(updated, base_version)


def out_of_date(person: Person, today: date) -> list[Flag]:
    """What the person screen marks (walk-ins not yet matched have no circumstances to mark)."""
    if person.walk_in:
        return []
    found = flags(person.circumstances, today)
    if person.legal_status is LegalStatus.QUALIFYING:
        # Qualifying young people have advice and support, not a pathway plan.
        found = [f for f in found if f is not Flag.NO_PLAN]
    return found


def open_conflicts(store: Store, person_id: str) -> int:
    """How many conflicts about this person wait for someone to settle them."""
    return store._rows(
        "SELECT count(*) FROM conflicts WHERE kind = 'person' AND record_id = ? AND settled_at IS NULL", [person_id]
    )[0][0]
