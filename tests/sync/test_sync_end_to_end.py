"""End to end over real HTTP on loopback, against SQLite and PostgreSQL: enrol, push a day,
pull caseload changes, and the central export equals what the device recorded."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from sync_helpers import LiveServer, day_of_records, device_records, enrol_device, make_store

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.domain.models import Person
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient


def test_enrol_keeps_the_key_inside_the_store(device: Store, central: CentralStore) -> None:
    assert sync_state.enrolled(device)
    key = sync_state.get(device, sync_state.K_KEY)
    assert key and len(bytes.fromhex(key)) == 32
    [enrolled] = central.devices()
    assert enrolled.device_id == device.meta("device_id") and enrolled.hub_code == "DEW"
    # The key is nowhere in clear on disk: the store is encrypted.
    for path in Path(device.data_dir).iterdir():
        assert bytes.fromhex(key) not in path.read_bytes()


def test_a_day_pushed_and_exported_equals_the_device(
    device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    made = day_of_records(device)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.pushed == made["outbox"] == report.accepted
    assert report.conflicts == report.quarantined == 0
    assert device.outbox_waiting() == 0
    assert sync_state.states(device) == {"synced": made["outbox"]}

    out = tmp_path / "export.json"
    assert cli.main(["--db", server.db, "export", "--what", "all", "--format", "json", "--out", str(out)]) == 0
    exported = json.loads(out.read_text())
    for kind, records in device_records(device).items():
        central_side = {r["id"]: r for r in exported[kind]}
        assert central_side == records, kind
    people = {p["id"]: p for p in exported["person"]}
    for person in device.people():
        assert people[person.id] == person.model_dump(mode="json")
    # A payment once, a reversal pointing at it.
    assert len(exported["payment"]) == 3 and len(exported["reversal"]) == 1

    # Nothing to do: one push check, one pull page, nothing changes.
    with SyncClient(device) as client:
        again = client.sync()
    assert again.pushed == 0 and again.pulled == 0


def test_caseload_changes_reach_the_device(device: Store, server: LiveServer, tmp_path: Path) -> None:
    csv = tmp_path / "caseload.csv"
    csv.write_text(
        "case_id,first_name,last_name,date_of_birth,hub_code,legal_status,allocated_pa,alerts\n"
        "KC-1001,Quillon,Testperson,2005-02-03,DEW,former_relevant,nadia,risk: synthetic alert\n"
        "KC-1002,Vesper,Testperson,2007-06-07,N11,relevant,,\n"
    )
    assert cli.main(["--db", server.db, "caseload", "load", str(csv)]) == 0
    with SyncClient(device) as client:
        report = client.sync()
    assert report.people == 2
    by_case = {p.case_id: p for p in device.people() if p.case_id}
    assert by_case["KC-1001"].alerts[0].text == "synthetic alert"
    assert device.search_people("Quillon")

    # A changed allocation and a new alert: a new version on the device.
    csv.write_text(
        "case_id,first_name,last_name,date_of_birth,hub_code,legal_status,allocated_pa,alerts\n"
        "KC-1001,Quillon,Testperson,2005-02-03,DEW,former_relevant,sam,risk: synthetic alert|interpreter_needed: fake\n"
    )
    assert cli.main(["--db", server.db, "caseload", "load", str(csv)]) == 0
    with SyncClient(device) as client:
        report = client.sync()
    person = device.get_person(by_case["KC-1001"].id)
    assert person.version == 2 and person.allocated_pa == "sam" and len(person.alerts) == 2
    assert report.people == 1


def test_reference_changes_reach_the_device(device: Store, server: LiveServer, tmp_path: Path) -> None:
    from sync_helpers import CENTRAL_REFERENCE

    from hubdesk.domain.models import PaymentCategory

    changed = CENTRAL_REFERENCE.model_copy(
        update={
            "payment_categories": (
                PaymentCategory(code="gas", name="Gas top-up", limit_pence=5000),
                PaymentCategory(code="electric", name="Electricity top-up", limit_pence=3000),
            )
        }
    )
    ref = tmp_path / "ref.json"
    ref.write_text(changed.model_dump_json())
    assert cli.main(["--db", server.db, "reference", "set", str(ref)]) == 0
    with SyncClient(device) as client:
        client.sync()
    assert device.payment_category("gas").limit_pence == 5000
    assert device.payment_category("electric").active
    # A retired code stays readable, so records that use it stay sendable.
    assert "travel" not in {c.code for c in device.reference().payment_categories}
    assert device.payment_category("travel").code == "travel"
    assert device.get_user("omar").hub_code == "N11"


def test_two_devices_interleaved_with_an_edit_conflict(
    device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    # Two desks of the young person's own hub: only they may edit them (issue 9).
    second_device = make_store(tmp_path / "dew2", "DEW", "nadia", device_no=2)
    enrol_device(second_device, server, central)
    csv = tmp_path / "caseload.csv"
    csv.write_text("case_id,first_name,last_name,date_of_birth,hub_code\nKC-2001,Orla,Testperson,2006-01-01,DEW\n")
    assert cli.main(["--db", server.db, "caseload", "load", str(csv)]) == 0
    dew, n11 = SyncClient(device), SyncClient(second_device)
    dew.sync()
    n11.sync()
    pid = next(p.id for p in device.people() if p.case_id == "KC-2001")

    # Both desks edit the same person, at version 1, and record a day.
    a = device.get_person(pid)
    device.update_person(a.model_copy(update={"preferred_name": "Orla-D"}), a.version)
    b = second_device.get_person(pid)
    second_device.update_person(b.model_copy(update={"preferred_name": "Orla-N"}), b.version)
    day_of_records(device, people=2)
    dew.push()
    day_of_records(second_device, people=2)
    n11.push()
    dew.pull()
    n11.pull()
    dew.sync()
    n11.sync()

    # The first desk pushed first and won; the second's edit is kept with both sides, on the desk and centrally.
    assert central.person_by_case_id("KC-2001")["preferred_name"] == "Orla-D"
    [kept] = sync_state.conflicts(second_device)
    assert json.loads(kept["local_body"])["preferred_name"] == "Orla-N"
    assert json.loads(kept["remote_body"])["preferred_name"] == "Orla-D"
    assert [c["local_body"]["preferred_name"] for c in central.conflicts()] == ["Orla-N"]
    assert cli.main(["--db", server.db, "conflicts", "list"]) == 0
    assert second_device.get_person(pid).preferred_name == "Orla-D"
    assert sync_state.record_sync_state(second_device, pid) == "needs attention"
    assert not sync_state.conflicts(device)

    # Nothing lost: every record of both desks is held centrally, once.
    for store in (device, second_device):
        for kind, records in device_records(store).items():
            held = {r["id"]: r for r in central.records(kind)}
            for rid, body in records.items():
                assert held[rid] == body
    assert len(central.records("payment")) == 4
    dew.close()
    n11.close()


def test_a_walk_in_made_on_one_desk_reaches_the_other(device: Store, second_device: Store) -> None:
    p = device.add_person(
        Person(
            first_name="Walkabout",
            last_name="Testcase",
            date_of_birth=date(2006, 2, 2),
            hub_code="DEW",
            walk_in=True,
            needs_matching=True,
        )
    )
    with SyncClient(device) as c:
        c.sync()
    with SyncClient(second_device) as c:
        c.sync()
    assert second_device.get_person(p.id).first_name == "Walkabout"
    assert second_device.outbox_waiting() == 0


def test_cursor_lost_by_the_service_never_wipes_the_device(device: Store, server: LiveServer) -> None:
    day_of_records(device, people=1)
    with SyncClient(device) as client:
        client.sync()
    people = len(device.people())
    sync_state.put(device, cursor="999999")
    with SyncClient(device) as client:
        report = client.sync()
    assert report.reset
    assert len(device.people()) == people
    assert sync_state.cursor(device) < 999999


def test_ping_is_cheap_and_signed(device: Store, server: LiveServer) -> None:
    with SyncClient(device) as client:
        ping = client.ping()
    assert ping.hub_code == "DEW" and ping.user == "sam"
    assert abs((ping.server_time - datetime.now(UTC)).total_seconds()) < 60


def test_a_replaced_central_database_is_noticed(
    device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    csv = tmp_path / "caseload.csv"
    csv.write_text("case_id,first_name,date_of_birth,hub_code\nKC-1,Ada,2005-01-02,DEW\nKC-2,Bo,2005-01-03,DEW\n")
    assert cli.main(["--db", server.db, "caseload", "load", str(csv)]) == 0
    with SyncClient(device) as client:
        client.sync()
    assert sync_state.cursor(device) == central.head() >= 3
    # The service's database is swapped for another whose sequence is further on:
    # only the database id tells the device its cursor no longer means anything.
    with central.engine.transaction(write=True) as tx:
        tx.execute("UPDATE service_keys SET private_key = 'another-database' WHERE name = 'database_id'")
    server.restart()
    people = len(device.people())
    with SyncClient(device) as client:
        report = client.sync()
    assert report.reset and report.pulled == central.head()
    assert len(device.people()) == people
    assert sync_state.get(device, sync_state.K_DATABASE) == "another-database"
