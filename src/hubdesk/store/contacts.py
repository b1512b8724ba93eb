"""Contacts (visits, calls, messages) and each person's contact summary: Store's methods for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hubdesk.domain.enums import ContactType
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Contact
from hubdesk.store.common import _iso, _json
from hubdesk.store.errors import (
    NotAllowed,
    NotFound,
    StoreError,
)

_CURRENT_C = "NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)"
_IN_TOUCH_C = "(c.contact_type IN ('phone', 'video') OR json_extract(c.body, '$.seen') = 1)"
# A person's (p.id) latest current contact, its type, and latest current contact in touch.
SUMMARY_SELECT = (
    f"(SELECT started_at FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} "
    "ORDER BY started_at DESC LIMIT 1), "
    f"(SELECT contact_type FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} "
    "ORDER BY started_at DESC LIMIT 1), "
    f"(SELECT started_at FROM contacts c WHERE c.person_id = p.id AND {_CURRENT_C} AND {_IN_TOUCH_C} "
    "ORDER BY started_at DESC LIMIT 1)"
)


class ContactsRepo:
    """Contacts and their amendments.

    A part of Store, which inherits it: it uses Store's _save, _audit, _outbox, _rows and _models."""

    # --- contacts -------------------------------------------------------------------------

    def refuse_closed_day(self, hub_code: str, moment: datetime) -> None:
        """A closed day is read-only on the device except by amendment."""
        from zoneinfo import ZoneInfo

        day = moment.astimezone(ZoneInfo("Europe/London")).date()
        if self._rows("SELECT 1 FROM day_closures WHERE hub_code = ? AND day = ?", [hub_code, day.isoformat()]):
            raise NotAllowed(f"{day:%d %b %Y} is closed at {hub_code}: its records can only be amended, not added to")

    def record_contact(self, contact: Contact) -> Contact:
        if contact.version != 1:
            raise StoreError("Use amend_contact for a new version")
        self.get_person(contact.person_id)
        self.refuse_closed_day(contact.hub_code, contact.started_at)
        return self._insert_contact(contact, "create")

    def _insert_contact(self, contact: Contact, action: str) -> Contact:
        body = _json(contact)
        with self._save() as now:
            seq = self._audit(now, action, "contact", contact.id, f"version {contact.version}", body)
            self.db.execute(
                "INSERT INTO contacts(id, contact_id, version, amends, person_id, hub_code, contact_type, "
                "started_at, ended_at, recorded_at, recorded_by, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    contact.id,
                    contact.contact_id,
                    contact.version,
                    contact.amends,
                    contact.person_id,
                    contact.hub_code,
                    contact.contact_type.value,
                    _iso(contact.started_at),
                    _iso(contact.ended_at) if contact.ended_at else None,
                    _iso(contact.recorded_at),
                    contact.recorded_by,
                    body,
                    seq,
                ],
            )
            self._outbox(now, "contact", contact.id, body)
            from hubdesk.store import actions as followed_up

            if contact.actions or contact.tell_allocated_pa:  # else it makes nothing: spare the save its reads
                previous = self._models(Contact, "SELECT body FROM contacts WHERE id = ?", [contact.amends or ""])
                followed_up.from_contact(self, contact, previous[0] if previous else None, now)
            if contact.amends:
                people = {contact.person_id}
                before = self._rows("SELECT person_id FROM contacts WHERE id = ?", [contact.amends])
                people |= {row[0] for row in before}
                self.refresh_contact_summary(sorted(people))
            else:
                self._summary_add(contact)
        return contact

    def _summary_add(self, contact: Contact) -> None:
        """A new contact (amending none) in its person's summary (inside its save). Nothing
        stops being current, so the summary is the newer of what it held and this contact:
        what refresh_contact_summary would find, without reading the person's contacts
        again (that read was a quarter of the save's time)."""
        at = _iso(contact.started_at)
        in_touch = contact.contact_type.value in ("phone", "video") or contact.seen
        self.db.execute(
            "INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(person_id) DO UPDATE SET "
            "last_type = CASE WHEN last_at IS NULL OR excluded.last_at >= last_at "
            "THEN excluded.last_type ELSE last_type END, "
            "last_at = CASE WHEN last_at IS NULL OR excluded.last_at >= last_at "
            "THEN excluded.last_at ELSE last_at END, "
            "last_touch_at = CASE WHEN excluded.last_touch_at IS NOT NULL AND "
            "(last_touch_at IS NULL OR excluded.last_touch_at > last_touch_at) "
            "THEN excluded.last_touch_at ELSE last_touch_at END",
            [contact.person_id, at, contact.contact_type.value, at if in_touch else None],
        )

    def refresh_contact_summary(self, person_ids: list[str]) -> None:
        """Recompute the people's latest contact and latest in-touch time (inside a save)."""
        for person_id in person_ids:
            self.db.execute(
                "INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) "
                f"SELECT p.id, {SUMMARY_SELECT} FROM people p WHERE p.id = ? "
                "ON CONFLICT(person_id) DO UPDATE SET last_at = excluded.last_at, "
                "last_type = excluded.last_type, last_touch_at = excluded.last_touch_at",
                [person_id],
            )

    def current_contact(self, contact_id: str) -> Contact:
        found = self._models(
            Contact,
            "SELECT body FROM contacts c WHERE contact_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM contacts n WHERE n.amends = c.id)",
            [contact_id],
        )
        if not found:
            raise NotFound("No such contact")
        return found[0]

    def amend_contact(self, contact_id: str, changes: dict[str, Any], reason: str = "") -> Contact:
        """A new version of a contact; the old one stays in the history."""
        current = self.current_contact(contact_id)
        data = current.model_dump()
        data.update(changes)
        data.update(
            id=uuid7(),
            contact_id=current.contact_id,
            version=current.version + 1,
            amends=current.id,
            amend_reason=reason or data.get("amend_reason", ""),
        )
        amended = Contact.model_validate(data)
        return self._insert_contact(amended, "amend")

    def sign_out(self, contact_id: str, at: datetime | None = None) -> Contact:
        current = self.current_contact(contact_id)
        if not current.in_building:
            raise NotAllowed("That visit is already signed out")
        at = at or self.clock()
        if at < current.started_at:
            raise NotAllowed("Sign-out time is before the sign-in time")
        return self.amend_contact(contact_id, {"ended_at": at, "recorded_by": self._actor()}, "signed out")

    def contacts_for_person(self, person_id: str, limit: int = 50) -> list[Contact]:
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE person_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at DESC LIMIT ?",
            [person_id, limit],
        )

    def contacts_between(self, hub_code: str, start: datetime, end: datetime) -> list[Contact]:
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE hub_code = ? AND started_at >= ? AND started_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at",
            [hub_code, _iso(start), _iso(end)],
        )

    def in_building(self, hub_code: str | None = None) -> list[Contact]:
        """Drop-in visits signed in and not out."""
        return self._models(
            Contact,
            "SELECT body FROM contacts c WHERE contact_type = ? AND ended_at IS NULL AND hub_code = ? "
            "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id) ORDER BY started_at",
            [ContactType.DROP_IN.value, hub_code or self.hub_code],
        )
