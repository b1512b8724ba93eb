"""Correcting a session's register: a children count or an attendee added by mistake is put
right by an amendment (a new version pointing at the one it replaces), saved with its audit
entry and outbox row in one transaction; the history keeps every version, and the central
record accepts the amendment when it syncs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hubcentral.storage import CentralStore, Device
from hubdesk.domain.enums import AttendanceKind
from hubdesk.domain.models import Attendance, DropInSession, Person, head_count
from hubdesk.store import sqlcipher
from hubdesk.store.audit import body_hash
from hubdesk.store.errors import NotAllowed, StoreError, VersionConflict
from hubdesk.store.store import Store
from hubdesk.sync.protocol import ItemStatus, PushItem
from store_helpers import chain_problems
from tests.sync.sync_helpers import CENTRAL_REFERENCE

TABLES = ("attendance", "audit", "outbox")


def everything(store: Store) -> dict[str, Any]:
    state: dict[str, Any] = {t: store._rows(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}
    state["audit_head"] = store.meta("audit_head")
    return state


@pytest.fixture
def session(store: Store) -> DropInSession:
    return store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=store.clock(), opened_by="sam")
    )


def attend(store: Store, session: DropInSession, person: Person | None = None, children: int = 0) -> Attendance:
    if person is None:
        kind = AttendanceKind.CHILDREN
    else:
        kind = AttendanceKind.WALK_IN if person.walk_in else AttendanceKind.PERSON
    return store.add_attendance(
        Attendance(
            session_id=session.id,
            kind=kind,
            person_id=person.id if person else None,
            children=children,
            recorded_by="sam",
            recorded_at=store.clock(),
        )
    )


def test_a_children_count_is_corrected_by_a_new_version_and_the_old_one_stays(
    store: Store, session: DropInSession, person: Person
) -> None:
    attend(store, session, person)
    five = attend(store, session, children=5)
    outbox_before = store.count("outbox")

    three = store.amend_attendance(five.id, children=3, reason="counted twice")

    assert three.id != five.id and three.amends == five.id and three.version == 2
    assert three.children == 3 and three.kind is AttendanceKind.CHILDREN and three.amend_reason == "counted twice"
    # The register as it stands has the corrected count, in the place of the old line.
    assert [(a.kind, a.children) for a in store.attendance(session.id)] == [
        (AttendanceKind.PERSON, 0),
        (AttendanceKind.CHILDREN, 3),
    ]
    assert head_count(store.attendance(session.id)).children == 3
    # The history keeps both versions, as saved.
    history = store.attendance_history(session.id)
    assert [a.id for a in history][-2:] == [five.id, three.id]
    assert store._rows("SELECT amends FROM attendance WHERE id = ?", [three.id]) == [(five.id,)]
    # One audit entry and one outbox row carry it, with the body saved.
    (body, seq) = store._rows("SELECT body, audit_seq FROM attendance WHERE id = ?", [three.id])[0]
    action, kind, record_id, audit_hash = store._rows(
        "SELECT action, kind, record_id, body_hash FROM audit WHERE seq = ?", [seq]
    )[0]
    assert (action, kind, record_id, audit_hash) == ("amend", "attendance", three.id, body_hash(body))
    assert store.count("outbox") == outbox_before + 1
    assert [(i.kind, i.record_id, i.body) for i in store.outbox()][-1] == ("attendance", three.id, body)
    assert chain_problems(store) == []


def test_an_attendee_added_by_mistake_is_taken_off_and_can_come_back(
    store: Store, session: DropInSession, person: Person
) -> None:
    wrong = attend(store, session, person)
    off = store.amend_attendance(wrong.id, remove=True, reason="added by mistake")
    assert off.removed and off.amends == wrong.id and off.person_id == person.id
    assert store.attendance(session.id) == []
    assert [a.id for a in store.attendance_history(session.id)] == [wrong.id, off.id]
    # Taken off, the person may be added again (they did come after all); still only once.
    again = attend(store, session, person)
    assert [a.id for a in store.attendance(session.id)] == [again.id]
    with pytest.raises(NotAllowed, match="Already on this session's register"):
        attend(store, session, person)


def test_a_children_count_corrected_to_none_takes_the_line_off(store: Store, session: DropInSession) -> None:
    two = attend(store, session, children=2)
    off = store.amend_attendance(two.id, children=0)
    assert off.removed and off.children == 2  # the count it had stays readable in the history
    assert store.attendance(session.id) == []
    assert head_count(store.attendance(session.id)).children == 0


def test_only_the_register_as_it_stands_can_be_corrected(store: Store, session: DropInSession, person: Person) -> None:
    five = attend(store, session, children=5)
    store.amend_attendance(five.id, children=4)
    with pytest.raises(VersionConflict):
        store.amend_attendance(five.id, children=3)  # a version already corrected
    who = attend(store, session, person)
    off = store.amend_attendance(who.id, remove=True)
    with pytest.raises(NotAllowed, match="already taken off"):
        store.amend_attendance(off.id, remove=True)
    with pytest.raises(NotAllowed):
        store.amend_attendance(who.id, children=3)  # a person's line has no children count to correct
    with pytest.raises(ValidationError, match="name the version it replaces"):
        Attendance.model_validate({**five.model_dump(), "version": 2})
    # Nor can the database hold two corrections of one version (a fork), whatever the code does.
    body, seq = store._rows("SELECT body, audit_seq FROM attendance WHERE id = ?", [five.id])[0]
    with pytest.raises(sqlcipher.IntegrityError):
        store._conn.execute(
            "INSERT INTO attendance(id, session_id, person_id, kind, body, audit_seq, amends) "
            "VALUES ('fork', ?, NULL, 'children', ?, ?, ?)",
            [session.id, body, seq, five.id],
        )


def test_a_correction_out_of_range_is_refused_with_a_message(store: Store, session: DropInSession) -> None:
    five = attend(store, session, children=5)
    before = everything(store)
    with pytest.raises(ValidationError, match="between 1 and 50"):
        store.amend_attendance(five.id, children=51)
    with pytest.raises(StoreError):
        store.amend_attendance("no-such-line", children=3)
    assert everything(store) == before


def test_a_correction_is_one_transaction(store: Store, session: DropInSession, monkeypatch: pytest.MonkeyPatch) -> None:
    five = attend(store, session, children=5)
    before = everything(store)

    def failing_outbox(self: Store, *args: object) -> None:
        raise RuntimeError("the outbox insert failed")

    monkeypatch.setattr(Store, "_outbox", failing_outbox)
    with pytest.raises(RuntimeError):
        store.amend_attendance(five.id, children=3)
    assert everything(store) == before
    monkeypatch.undo()
    store.amend_attendance(five.id, children=3)
    assert head_count(store.attendance(session.id)).children == 3
    assert chain_problems(store) == []


def test_a_closed_session_can_still_be_corrected_but_not_added_to(
    store: Store, session: DropInSession, person: Person
) -> None:
    five = attend(store, session, children=5)
    store.close_session(session.id)
    with pytest.raises(NotAllowed, match="closed"):
        attend(store, session, person)
    store.amend_attendance(five.id, children=4, reason="recounted at the end")
    assert head_count(store.attendance(session.id)).children == 4


def test_head_count_says_each_kind(store: Store, session: DropInSession, person: Person) -> None:
    attend(store, session, person)
    other = store.add_person(Person(first_name="Other", hub_code="DEW", date_of_birth=date(2005, 5, 5)))
    attend(store, session, other)
    walk_in = store.add_person(Person(first_name="Dee", hub_code="DEW", walk_in=True, approx_age=19))
    attend(store, session, walk_in)
    attend(store, session, children=3)
    attend(store, session, children=2)
    count = head_count(store.attendance(session.id))
    assert (count.known, count.walk_ins, count.children) == (2, 1, 5)
    assert str(count) == "2 known, 1 walk-in, 5 children"
    assert str(head_count([])) == "0 known, 0 walk-ins, 0 children"


def test_the_central_record_accepts_an_amended_attendance(
    store: Store, session: DropInSession, person: Person, tmp_path: Path
) -> None:
    five = attend(store, session, children=5)
    who = attend(store, session, person)
    three = store.amend_attendance(five.id, children=3)
    off = store.amend_attendance(who.id, remove=True)
    central = CentralStore.open(str(tmp_path / "central.db"))
    # The central record checks who acted against its reference data (issue 9).
    central.set_reference(CENTRAL_REFERENCE, datetime(2026, 11, 25, 10, tzinfo=UTC))
    try:
        device = Device(store.meta("device_id"), "DEW", "key", "test desk", "2026-11-25", None, None)
        items = [
            PushItem(
                id=i.id,
                seq=i.seq,
                kind=i.kind,
                record_id=i.record_id,
                body=json.loads(i.body),
                created_at=datetime(2026, 11, 25, 10, 5, tzinfo=UTC),
            )
            for i in store.outbox()
        ]
        results, _ = central.push(device, "sam", items, datetime(2026, 11, 25, 10, 6, tzinfo=UTC))
        assert {r.status for r in results} == {ItemStatus.ACCEPTED}, [r.reason for r in results]
        held = {r["id"]: r for r in central.records("attendance")}
        assert set(held) == {five.id, who.id, three.id, off.id}
        assert held[three.id]["amends"] == five.id and held[three.id]["children"] == 3
        assert held[off.id]["removed"] is True
    finally:
        central.close()
