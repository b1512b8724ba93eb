"""Retention on the device (issue 12): synced events older than the window leave the laptop
after a successful sync, measured by the service's clock; an unsynced record never does,
whatever the desk's clock says. Real service on loopback, both engines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_helpers import CENTRAL_REFERENCE, PASSPHRASE, LiveServer, central_database, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.domain.models import Attendance, Contact, DropInSession
from hubdesk.store import retention, sync_state
from hubdesk.store.doctor import doctor
from hubdesk.store.errors import StoreError
from hubdesk.store.store import Store
from hubdesk.sync.client import Refused, SyncClient

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=120)
YEARS_AHEAD = T0 + timedelta(days=5 * 365)
CASE = {
    "case_id": "KC-RET-1",
    "first_name": "Retaina",
    "last_name": "Testcase",
    "date_of_birth": "2005-05-05",
    "hub_code": "DEW",
    "legal_status": "relevant",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, LiveServer, CentralStore, list]]:
    """A Dewsbury desk (sam) and the service, each on a clock the test moves: [service, desk]."""
    with central_database(request.param, tmp_path) as db:
        central = CentralStore.open(db)
        central.set_reference(CENTRAL_REFERENCE.model_copy(update={"retention_days": 90}), T0)
        central.load_caseload([CASE], T0)
        clocks = [datetime.now(UTC), T0]  # the enrolment is signed with the real time
        server = LiveServer(db, clock=lambda: clocks[0]).start()
        store = make_store(tmp_path / "dew", "DEW", "sam")
        store.clock = lambda: clocks[1]  # type: ignore[method-assign]
        enrol_device(store, server, central)
        clocks[0] = T0
        try:
            yield store, server, central, clocks
        finally:
            store.lock()
            server.stop()
            central.close()


def sync(store: Store, signing_at: datetime):
    with SyncClient(store, clock=signing_at.timestamp, retries=0) as client:
        return client.sync()


def contact(store: Store, person_id: str, at: datetime, by: str = "sam", note: str = "Synthetic visit") -> Contact:
    return store.record_contact(
        Contact(
            person_id=person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by=by,
            started_at=at,
            recorded_at=at,
            seen=True,
            purposes=("money",),
            summary=note,
        )
    )


def held(store: Store, table: str) -> set[str]:
    return {r[0] for r in store._rows(f"SELECT id FROM {table}")}


def test_retention_never_removes_an_unsynced_record_even_when_the_clock_is_wrong(hub) -> None:
    store, _server, central, clocks = hub
    sync(store, T0)
    person_id = central.person_by_case_id("KC-RET-1")["id"]  # type: ignore[index]

    # On 2 March: a visit later amended, a payment reversed, a session with its register, all
    # synced; and a visit recorded as a user of the other hub, which the service refuses:
    # quarantined on the desk, so never synced.
    old = contact(store, person_id, T0 - timedelta(hours=2))
    amended = store.amend_contact(contact(store, person_id, T0 - timedelta(hours=1)).contact_id, {"summary": "Fixed"})
    payment = store.record_payment(
        person_id=person_id, category="gas", amount_pence=1500, method="cash", reason="Synthetic gas"
    )
    reversal = store.reverse_payment(payment.id, "Synthetic mistake")
    session = store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=T0 - timedelta(hours=3), opened_by="sam")
    )
    line = store.add_attendance(
        Attendance(session_id=session.id, kind="person", person_id=person_id, recorded_by="sam", recorded_at=T0)
    )
    store.close_session(session.id, T0 - timedelta(hours=1))
    refused = contact(store, person_id, T0 - timedelta(minutes=30), by="omar")
    report = sync(store, T0)
    assert report.quarantined == 1 and report.removed == 0
    assert sync_state.record_sync_state(store, refused.id) == "needs attention"

    # The desk's clock jumps five years ahead; a visit is recorded on it (waiting to send).
    clocks[1] = YEARS_AHEAD
    waiting = contact(store, person_id, YEARS_AHEAD - timedelta(minutes=5))
    before = {t: held(store, t) for t in ("contacts", "payments", "reversals", "sessions", "attendance")}
    # A sync signed with that clock is refused as stale: no sync, so nothing is removed.
    with pytest.raises(Refused):
        sync(store, YEARS_AHEAD)
    # Retention measured by that clock would remove everything synced; it is measured by the
    # service's time at the last sync, and the clocks disagree by years: nothing is removed.
    result = retention.apply(store)
    assert result.total == 0 and result.skipped and "differ by more than a day" in result.skipped
    assert {t: held(store, t) for t in before} == before
    assert store._rows("SELECT detail FROM audit WHERE action = 'purge' ORDER BY seq DESC LIMIT 1")[0][0].startswith(
        "skipped"
    )

    # 120 days on, clocks right: a late entry of a visit from March is waiting to send, and
    # the window (90 days, measured from the service's last time) has passed for March.
    clocks[0] = clocks[1] = LATER
    late_entry = contact(store, person_id, T0 - timedelta(minutes=10), note="Late entry")
    result = retention.after_sync(store, LATER)  # as after a sync that told the desk the service's time
    # March's synced events went; the refused one and the waiting ones (the late entry and the
    # one made on the wrong clock) stay, however old they look.
    assert result.removed["contacts"] == 3 and result.removed["payments"] == 1
    contacts = held(store, "contacts")
    assert refused.id in contacts and late_entry.id in contacts and waiting.id in contacts
    assert old.id not in contacts and amended.id not in contacts and amended.amends not in contacts
    assert payment.id not in held(store, "payments") and reversal.id not in held(store, "reversals")
    assert session.id not in held(store, "sessions") and line.id not in held(store, "attendance")
    # Their synced outbox rows went with them (what was sent is in the central record).
    assert not store._rows("SELECT 1 FROM outbox WHERE record_id IN (?, ?)", [old.id, payment.id])

    # A sync now pushes the late entry and the wrong-clock visit; afterwards the late entry is
    # synced and old, so it goes; the refused one stays until someone deals with it.
    clocks[1] = LATER
    report = sync(store, LATER)
    assert report.removed == 1
    contacts = held(store, "contacts")
    assert refused.id in contacts and late_entry.id not in contacts and waiting.id in contacts
    # The central record still holds everything that left the desk.
    central_contacts = {c["id"] for c in central.records("contact")}
    assert {old.id, amended.id, amended.amends, late_entry.id} <= central_contacts
    assert {p["id"] for p in central.records("payment")} == {payment.id}

    # The purge was the only delete allowed: a plain one is still refused by the trigger.
    with pytest.raises(StoreError):
        with store._save():
            store.db.execute("DELETE FROM contacts WHERE id = ?", [refused.id])
    assert not store._rows("SELECT 1 FROM purge_grants")
    # One audit entry per purge, its body hash covering the removed ids; the chain verifies on
    # the desk (doctor) and the service accepted it.
    purges = store._rows("SELECT detail FROM audit WHERE action = 'purge' AND detail LIKE 'removed%'")
    assert len(purges) == 2 and "synced and before 2026-04-01" in purges[0][0]
    sync(store, LATER)
    _, problems = central.verify_audit(sync_state.device_id(store))
    assert problems == []
    report = doctor(store.data_dir, login="sam", passphrase=PASSPHRASE)
    assert report.ok, report.text()


def test_pulled_events_of_the_other_desks_go_too_and_the_window_comes_from_reference_data(hub) -> None:
    """Events another desk recorded (pulled, no outbox row here) are synced by definition;
    the window is the central reference data's retention_days."""
    store, server, central, clocks = hub
    central.set_reference(CENTRAL_REFERENCE.model_copy(update={"retention_days": 30}), T0)
    sync(store, T0)
    person_id = central.person_by_case_id("KC-RET-1")["id"]  # type: ignore[index]
    assert retention.window_days(store) == 30
    other = make_store(store.data_dir.parent / "dew2", "DEW", "nadia", device_no=2)
    other.clock = lambda: clocks[1]  # type: ignore[method-assign]
    clocks[0] = datetime.now(UTC)
    enrol_device(other, server, central)
    clocks[0] = T0
    try:
        sync(other, T0)
        theirs = contact(other, person_id, T0 - timedelta(hours=1), by="nadia")
        sync(other, T0)
        sync(store, T0)
        assert theirs.id in held(store, "contacts")
        assert not store._rows("SELECT 1 FROM outbox WHERE record_id = ?", [theirs.id])
        clocks[0] = clocks[1] = T0 + timedelta(days=31)
        report = sync(store, clocks[0])
        assert report.removed == 1 and theirs.id not in held(store, "contacts")
        assert not store._rows("SELECT 1 FROM record_desks WHERE record_id = ?", [theirs.id])
        detail = json.loads(json.dumps(report.notes))
        assert any("Retention: removed 1 contacts" in n for n in detail)
    finally:
        other.lock()
