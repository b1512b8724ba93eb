"""A young person's circumstances over real HTTP on loopback (SQLite and PostgreSQL): changed
at one desk they reach the hub's other desks, never another hub's; changed at two desks
before either syncs, the second is a conflict kept with both values, shown to a person."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sync_helpers import LiveServer, enrol_device, make_store

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.domain.circumstances import Circumstances
from hubdesk.domain.models import ContactDetails
from hubdesk.screens.sync import conflict_text
from hubdesk.store import sync_state
from hubdesk.store.circumstances import change_circumstances, open_conflicts
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

CASELOAD = (
    "case_id,first_name,last_name,date_of_birth,hub_code,phone\n"
    "KC-3001,Zephyrine,Testperson,2006-04-05,DEW,07700 900001\n"
)
SITUATION = Circumstances.model_validate(
    {
        "accommodation": {"kind": "bed_and_breakfast", "since": "2026-11-20"},
        "eet": {"status": "neet", "neet_reason": "illness"},
        "pathway_plan": {"last_review": "2026-03-01"},
        "children": 1,
    }
)


def _load(server: LiveServer, tmp_path: Path) -> None:
    csv = tmp_path / "caseload.csv"
    csv.write_text(CASELOAD)
    assert cli.main(["--db", server.db, "caseload", "load", str(csv)]) == 0


def _phone(store: Store, pid: str, phone: str) -> None:
    person = store.get_person(pid)
    change_circumstances(
        store,
        pid,
        person.version,
        contact=person.contact.model_copy(update={"phone": phone}),
        circumstances=person.circumstances,
        expected_contact_days=person.expected_contact_days,
    )


def test_a_phone_changed_at_two_desks_is_a_conflict_with_both_kept(
    device: Store, server: LiveServer, central: CentralStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_store(tmp_path / "dew2", "DEW", "nadia", device_no=2)
    enrol_device(other, server, central)
    _load(server, tmp_path)
    first, second = SyncClient(device), SyncClient(other)
    first.sync()
    second.sync()
    pid = next(p.id for p in device.people() if p.case_id == "KC-3001")
    assert device.get_person(pid).contact.phone == other.get_person(pid).contact.phone == "07700 900001"

    # Both desks change the number against version 1, before either syncs.
    _phone(device, pid, "07700 900111")
    _phone(other, pid, "07700 900222")
    first.sync()
    second.sync()
    first.sync()

    # The first to reach the central record holds; the second is kept, both values, for a person.
    assert central.person_by_case_id("KC-3001")["contact"]["phone"] == "07700 900111"
    [held] = [c for c in central.conflicts() if c["record_id"] == pid]
    assert held["local_body"]["contact"]["phone"] == "07700 900222"
    assert held["remote_body"]["contact"]["phone"] == "07700 900111"
    [kept] = sync_state.conflicts(other)
    assert json.loads(kept["local_body"])["contact"]["phone"] == "07700 900222"
    assert json.loads(kept["remote_body"])["contact"]["phone"] == "07700 900111"
    assert sync_state.record_sync_state(other, pid) == "needs attention"
    assert open_conflicts(other, pid) == 1 and open_conflicts(device, pid) == 0

    # The desk shows both numbers to the PA who settles it; the admin's list names the field.
    text = conflict_text(kept)
    assert "07700 900222" in text and "07700 900111" in text and "contact phone" in text
    capsys.readouterr()
    assert cli.main(["--db", server.db, "conflicts", "list"]) == 0
    listed = capsys.readouterr().out
    assert pid in listed and "differs in contact.phone" in listed
    assert "07700" not in listed  # ids and field names only in the admin's terminal

    # Settled by making the kept change again as a normal edit: it goes through.
    _phone(other, pid, "07700 900222")
    sync_state.settle(other, kept["id"], "kept this desk's number")
    second.sync()
    first.sync()
    assert device.get_person(pid).contact.phone == "07700 900222"
    first.close()
    second.close()
    other.lock()


def test_circumstances_reach_the_hubs_other_desk_and_not_another_hub(
    device: Store, second_device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    other = make_store(tmp_path / "dew2", "DEW", "nadia", device_no=2)
    enrol_device(other, server, central)
    _load(server, tmp_path)
    clients = [SyncClient(s) for s in (device, other, second_device)]
    for c in clients:
        c.sync()
    pid = next(p.id for p in device.people() if p.case_id == "KC-3001")
    person = device.get_person(pid)
    change_circumstances(
        device,
        pid,
        person.version,
        contact=ContactDetails(phone="07700 900333", preferred="text"),
        circumstances=SITUATION,
        expected_contact_days=7,
    )
    for c in clients:
        c.sync()

    there = other.get_person(pid)
    assert there.circumstances == SITUATION and there.expected_contact_days == 7
    assert there.young_parent and there.contact.preferred == "text"
    assert there.circumstances.pathway_plan and there.circumstances.pathway_plan.next_due == date(2026, 9, 1)
    # No. 11's desk finds them, but holds none of their circumstances or contact details.
    elsewhere = second_device.get_person(pid)
    assert elsewhere.circumstances == Circumstances() and elsewhere.contact == ContactDetails()
    assert elsewhere.expected_contact_days is None

    # And No. 11 may not change them: refused at the desk, before anything is saved.
    from hubdesk.store.errors import NotAllowed

    with pytest.raises(NotAllowed, match="belongs to hub DEW"):
        change_circumstances(
            second_device,
            pid,
            elsewhere.version,
            contact=ContactDetails(phone="1"),
            circumstances=Circumstances(),
            expected_contact_days=None,
        )
    for c in clients:
        c.close()
    other.lock()
