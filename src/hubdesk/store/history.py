"""A contact's history: every saved version, oldest first, with who saved it and when.

An amendment is a new version pointing at the one it replaces, never an update, so the
history is the versions themselves; the audit entry of each says who saved it and when.
Screens call these instead of writing SQL; each takes an unlocked Store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hubdesk.domain.models import Contact
from hubdesk.store.errors import NotFound
from hubdesk.store.store import Store

# What a version carries about itself rather than about the contact: never a "change".
_BOOKKEEPING = frozenset({"id", "version", "amends", "amend_reason", "recorded_by", "recorded_at"})


@dataclass(frozen=True)
class ContactVersion:
    """One saved version and what it changed from the version before it."""

    contact: Contact
    saved_at: datetime
    saved_by: str  # a login
    changed: tuple[str, ...]  # Contact field names; empty for the first version


def changed_fields(before: Contact, after: Contact) -> tuple[str, ...]:
    """The contact's fields that differ between two versions, in the record's own order."""
    return tuple(
        name
        for name in Contact.model_fields
        if name not in _BOOKKEEPING and getattr(before, name) != getattr(after, name)
    )


def contact_history(store: Store, contact_id: str) -> list[ContactVersion]:
    """Every version of a contact, oldest first. Who and when come from the audit entry
    written with each version (a record fetched from the central record without one falls
    back on the version's own recorded_by and recorded_at)."""
    rows = store._rows(
        "SELECT c.body, a.at, a.actor FROM contacts c LEFT JOIN audit a ON a.seq = c.audit_seq "
        "WHERE c.contact_id = ? ORDER BY c.version",
        [contact_id],
    )
    if not rows:
        raise NotFound("No such contact")
    versions: list[ContactVersion] = []
    before: Contact | None = None
    for body, at, actor in rows:
        contact = Contact.model_validate_json(body)
        versions.append(
            ContactVersion(
                contact=contact,
                saved_at=datetime.fromisoformat(at) if at else contact.recorded_at,
                saved_by=actor or contact.recorded_by,
                changed=changed_fields(before, contact) if before is not None else (),
            )
        )
        before = contact
    return versions
