"""The save path made cheaper (issue 12) keeps what it kept: a new contact updates its person's
contact summary in place, and the summary always equals the full walk through the contacts
(refresh_contact_summary's query); a payment finds its category, retired or not."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from hubdesk.domain.models import Contact, Person
from hubdesk.store.errors import NotAllowed, NotFound
from hubdesk.store.store import SUMMARY_SELECT, Store


def _recomputed(store: Store) -> list[tuple]:
    return store._rows(f"SELECT p.id, {SUMMARY_SELECT} FROM people p ORDER BY p.id")


def _kept(store: Store) -> list[tuple]:
    return store._rows(
        "SELECT p.id, s.last_at, s.last_type, s.last_touch_at FROM people p "
        "LEFT JOIN person_contact_summary s ON s.person_id = p.id ORDER BY p.id"
    )


def test_kept_summary_equals_the_walk_after_contacts_in_any_order(store: Store) -> None:
    rng = random.Random(7)
    people = [
        store.add_person(
            Person(first_name=f"Testfirst{n}", last_name="Testperson", date_of_birth=date(2005, 1, 2), hub_code="DEW")
        )
        for n in range(4)
    ]
    base = datetime(2026, 11, 2, 10, tzinfo=UTC)
    saved: list[Contact] = []
    for i in range(60):
        # Out of order, some at the very same minute, texts (a contact, not in touch), calls, visits.
        at = base + timedelta(minutes=rng.choice([0, 5, 5, 30, 90, 200]) + rng.randint(0, 2) * 600)
        kind = rng.choice(["text", "phone", "drop_in", "video", "other_setting"])
        contact = Contact(
            person_id=rng.choice(people).id,
            hub_code="DEW",
            contact_type=kind,
            recorded_by="sam",
            started_at=at,
            ended_at=at + timedelta(minutes=20) if kind == "drop_in" else None,
            recorded_at=at,
            seen=kind == "drop_in" or (kind == "other_setting" and rng.random() < 0.5),
            purposes=("money",),
            summary=f"Synthetic contact {i}",
        )
        saved.append(store.record_contact(contact))
        if i % 9 == 8:  # an amendment moves a contact's time: the full walk, as before
            old = rng.choice(saved)
            store.amend_contact(old.contact_id, {"started_at": old.started_at - timedelta(days=1)}, "wrong day")
        assert _kept(store) == _recomputed(store), f"after contact {i}"


def test_a_payment_finds_its_category_and_a_retired_one_is_refused(store: Store, person: Person) -> None:
    payment = store.record_payment(
        person_id=person.id, category="travel", amount_pence=500, method="cash", reason="Bus fare"
    )
    assert payment.category == "travel" and store.payment_category("travel").limit_pence == 2000
    with pytest.raises(NotFound):
        store.payment_category("no-such-category")
    nadia = Store.unlock(store.data_dir, "nadia", "correct horse battery")
    try:
        reference = nadia.reference()
        nadia.set_reference(
            reference.model_copy(
                update={"payment_categories": tuple(c for c in reference.payment_categories if c.code != "travel")}
            )
        )
    finally:
        nadia.lock()
    assert store.payment_category("travel").active is False
    with pytest.raises(NotAllowed, match="no longer a payment category"):
        store.record_payment(person_id=person.id, category="travel", amount_pence=500, method="cash", reason="Bus")
