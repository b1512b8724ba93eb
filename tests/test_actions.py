"""Actions that get followed up (issue 11, item 2), in one desk's store: every action a contact
creates becomes an item with its owner resolved; "tell the allocated PA" is one too; for me,
overdue first; done with a note or passed on, each an event with its audit entry and outbox row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hubdesk.domain.actions import ActionKind, unlock_line
from hubdesk.domain.models import Action
from hubdesk.store import actions
from hubdesk.store.errors import NotAllowed
from hubdesk.store.store import Store
from store_helpers import PASSPHRASE, a_contact, chain_problems


def _contact_with(store: Store, person, *acts: Action, tell: bool = False):
    contact = a_contact(store, person).model_copy(update={"actions": acts, "tell_allocated_pa": tell})
    return store.record_contact(contact)


def test_each_action_and_tell_the_pa_become_items_with_owners_resolved(store: Store, person) -> None:
    today = store.clock().date()
    _contact_with(
        store,
        person,
        Action(text="Ring the gas supplier", owner="sam", due=today + timedelta(days=2)),
        tell=True,
    )
    _contact_with(store, person, Action(text="Check the housing form", owner="Nadia Test-Manager", due=today))
    _contact_with(store, person, Action(text="Ask about the bus pass", owner="Someone Unknown"))
    mine = actions.for_user(store, "sam", today)
    # An owner nobody on this desk is called: the PA who wrote it (sam) follows it up.
    assert [r.item.text for r in mine] == ["Ring the gas supplier", "Ask about the bus pass"]
    assert mine[1].item.owner_text == "Someone Unknown"
    nadia = actions.for_user(store, "nadia", today)
    # The allocated PA (nadia) gets the dated action first, then "tell the allocated PA" (undated).
    assert [r.item.kind for r in nadia] == [ActionKind.ACTION, ActionKind.TELL_PA]
    assert store._rows("SELECT count(*) FROM actions WHERE owner IS NULL")[0][0] == 0
    assert store._rows("SELECT count(*) FROM outbox WHERE kind = 'action'")[0][0] == 4
    # nadia is the young person's allocated PA: her caseload shows all four open ones.
    assert len(actions.for_caseload(store, "nadia", today)) == 4


def test_overdue_first_and_the_unlock_line(store: Store, person) -> None:
    today = store.clock().date()
    _contact_with(store, person, Action(text="Later one", owner="sam", due=today + timedelta(days=5)))
    _contact_with(store, person, Action(text="No date", owner="sam"))
    with store.batch():
        # An action recorded days ago whose due date has passed since.
        _contact_with(store, person, Action(text="Due today", owner="sam", due=today))
    item = actions.for_user(store, "sam", today)[0].item
    assert item.text == "Due today"
    later = today + timedelta(days=1)
    rows = actions.for_user(store, "sam", later)
    assert [r.item.text for r in rows] == ["Due today", "Later one", "No date"]
    assert [r.overdue for r in rows] == [True, False, False]
    assert actions.counts(store, "sam", later) == (3, 1)
    assert unlock_line(*actions.counts(store, "sam", later)) == "3 actions for you, 1 overdue"
    assert unlock_line(1, 0) == "1 action for you"
    assert unlock_line(0, 0) is None


def test_done_with_a_note_and_passed_on(store: Store, person) -> None:
    today = store.clock().date()
    _contact_with(store, person, Action(text="Ring the gas supplier", owner="sam", due=today))
    item = actions.for_user(store, "sam", today)[0].item
    with pytest.raises(NotAllowed):
        actions.pass_on(store, item.id, "nobody-here")
    actions.pass_on(store, item.id, "nadia", "she knows the supplier")
    assert actions.for_user(store, "sam", today) == []
    assert [r.item.id for r in actions.for_user(store, "nadia", today)] == [item.id]
    actions.mark_done(store, item.id, "Supplier rang back, meter fixed")
    assert actions.for_user(store, "nadia", today) == []
    done = actions.for_user(store, "nadia", today, include_done=True)
    assert done[0].done and not done[0].overdue
    assert actions.state(store, item.id).note == "Supplier rang back, meter fixed"
    with pytest.raises(NotAllowed, match="already done"):
        actions.mark_done(store, item.id, "again")
    kinds = [r[0] for r in store._rows("SELECT kind FROM outbox ORDER BY seq")]
    assert kinds[-2:] == ["action_update", "action_update"]
    assert not chain_problems(store)
    # The updates are events: never edited.
    with pytest.raises(Exception, match="never edited"):
        store.db.execute("UPDATE action_updates SET body = '{}'")


def test_an_amendment_adds_items_only_for_actions_it_added(store: Store, person) -> None:
    first = _contact_with(store, person, Action(text="Ring the gas supplier", owner="sam"))
    store.amend_contact(
        first.contact_id,
        {"actions": [*[a.model_dump() for a in first.actions], {"text": "Book the GP", "owner": "sam", "due": None}]},
        "added an action",
    )
    texts = sorted(r.item.text for r in actions.for_user(store, "sam", date(2099, 1, 1)))
    assert texts == ["Book the GP", "Ring the gas supplier"]


def test_doctor_checks_actions_and_their_updates_against_the_audit_chain(store: Store, person, data_dir) -> None:
    from hubdesk.store.doctor import doctor

    _contact_with(store, person, Action(text="Ring the gas supplier", owner="sam"))
    item = actions.for_user(store, "sam", date(2099, 1, 1))[0].item
    actions.pass_on(store, item.id, "nadia", "hers now")
    report = doctor(data_dir, login="sam", passphrase=PASSPHRASE)
    assert report.problems == [], report.problems
    assert any("records open and match" in line for line in report.checked)
    # An action edited outside hubdesk is found.
    store.db.execute("UPDATE actions SET body = replace(body, 'gas supplier', 'gas board') WHERE id = ?", [item.id])
    report = doctor(data_dir, login="sam", passphrase=PASSPHRASE)
    assert any(f"actions record {item.id}" in p for p in report.problems), report.problems
