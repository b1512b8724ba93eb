"""Small guards found in review: a failed user save leaves no slot; a stale close or edit
from a second process is refused; bidi overrides in names are refused; digits find case ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hubdesk.domain.models import DropInSession, Person, User
from hubdesk.store.errors import VersionConflict
from hubdesk.store.store import Store
from tests.conftest import PASSPHRASE


def test_add_user_rolls_back_slot(store, monkeypatch, data_dir):
    store.lock()
    manager = Store.unlock(data_dir, "nadia", PASSPHRASE)

    def broken(*args, **kwargs):
        raise RuntimeError("disk went away")

    monkeypatch.setattr(manager, "_put_user", broken)
    with pytest.raises(RuntimeError):
        manager.add_user(User(login="newbie", display_name="New Bie", role="pa"), PASSPHRASE)
    assert "newbie" not in manager.slots.slots
    monkeypatch.undo()
    manager.add_user(User(login="newbie", display_name="New Bie", role="pa"), PASSPHRASE)
    manager.lock()
    Store.unlock(data_dir, "newbie", PASSPHRASE).lock()


def test_stale_close_is_refused_and_leaves_nothing(store):
    now = datetime.now(UTC)
    session = store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=now, opened_by="sam")
    )
    # Another writer moved the row on between this desk reading it and closing it.
    store.db.execute("UPDATE sessions SET version = 7 WHERE id = ?", [session.id])
    audit_before, outbox_before = store.count("audit"), store.count("outbox")
    with pytest.raises(VersionConflict):
        store.close_session(session.id)
    assert (store.count("audit"), store.count("outbox")) == (audit_before, outbox_before)


def test_bidi_override_in_a_name_is_refused():
    with pytest.raises(ValidationError):
        Person(first_name="Ann\u202eeb", date_of_birth="2006-01-01", hub_code="DEW")
    assert Person(first_name="أمل", date_of_birth="2006-01-01", hub_code="DEW").first_name == "أمل"


def test_digits_alone_find_a_case_id(store):
    person = store.add_person(
        Person(first_name="Digit", last_name="Finder", case_id="DEMO-2001", date_of_birth="2006-01-01", hub_code="DEW")
    )
    assert [h.person_id for h in store.search_people("2001")] == [person.id]


def test_retired_payment_category_reads_as_retired(store):
    from tests.conftest import REFERENCE

    kept = tuple(c for c in REFERENCE.payment_categories if c.code != "travel")
    store.set_reference(REFERENCE.model_copy(update={"payment_categories": kept}))
    assert store.payment_category("travel").active is False
    assert "travel" not in [c.code for c in store.reference().payment_categories]
    assert store.payment_category("gas").active is True


def test_concurrent_unlocks_do_not_hang(store, data_dir):
    import threading

    store.lock()
    results: list[str] = []

    def unlock() -> None:
        s = Store.unlock(data_dir, "sam", PASSPHRASE)
        results.append(s.user.login)
        s.lock()

    threads = [threading.Thread(target=unlock) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == ["sam"] * 4


def test_a_closed_day_takes_amendments_but_no_new_records(store, person):
    from hubdesk.domain.models import Contact
    from hubdesk.store import day as day_store
    from hubdesk.store.errors import NotAllowed

    now = datetime.now(UTC)
    visit = store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=now,
            recorded_at=now,
            seen=True,
            purposes=("money",),
            summary="In for the gas meter",
        )
    )
    store.sign_out(visit.contact_id)
    day_store.close_day(store)
    with pytest.raises(NotAllowed, match="is closed"):
        store.record_contact(
            Contact(
                person_id=person.id,
                hub_code="DEW",
                contact_type="phone",
                recorded_by="sam",
                started_at=now,
                recorded_at=now,
                seen=False,
                purposes=("money",),
                summary="Late entry",
            )
        )
    with pytest.raises(NotAllowed, match="is closed"):
        store.record_payment(person_id=person.id, category="gas", amount_pence=500, method="cash", reason="Late")
    amended = store.amend_contact(
        visit.contact_id, {"summary": "In for the gas meter and a food parcel"}, "more detail"
    )
    assert amended.version == 3
