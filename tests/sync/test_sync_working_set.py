"""Each desk's working set (issue 9): two desks at Dewsbury and one at No. 11, real HTTP, on
both engines. What one Dewsbury desk records reaches the other after one sync each; the
No. 11 desk holds the Dewsbury young person's name, alerts and recent activity, never their
contact details, notes or voice; an unreadable feed item is set aside, never a wedge."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.domain.models import Contact
from hubdesk.store import desk as desk_queries
from hubdesk.store import sync_state, working_set
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PLANTED = {
    "phone": "07700 900 4417",
    "email": "zq-planted@example.org",
    "address": "Flat 9 Plantedstring Court",
}
NOTE = "Plantednote about the gas meter"
VOICE = "Plantedvoice wants it sorted"
DEW_CASE = {
    "case_id": "KC-WS-1",
    "first_name": "Robin",
    "last_name": "Workingset",
    "date_of_birth": "2005-06-07",
    "hub_code": "DEW",
    "allocated_pa": "sam",
    "contact": PLANTED,
    "alerts": [{"kind": "risk", "text": "Lone working: two staff"}],
}


@dataclass
class Hubs:
    desk_a: Store
    desk_b: Store
    n11: Store
    server: LiveServer
    central: CentralStore
    person_id: str


def client(store: Store) -> SyncClient:
    """A desk's sync client signing with the fixed clock the service keeps."""
    return SyncClient(store, clock=NOW.timestamp)


def sync(store: Store, server: LiveServer) -> None:
    with client(store) as c:
        report = c.sync()
    assert report.quarantined == report.set_aside == 0, report


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hubs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hubs]:
    """Desks A and B at Dewsbury (sam, nadia), one at No. 11 (omar); the service's clock fixed
    on 23 Nov 2026, so the retention window never depends on today's date."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("HUBDESK_HOME", str(tmp_path_factory.mktemp("home")))
        with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
            central = CentralStore.open(db)
            central.set_reference(CENTRAL_REFERENCE, NOW)
            central.load_caseload([DEW_CASE], NOW)
            clock = [datetime.now(UTC)]  # real time to enrol (the enrolment is signed now), then NOW
            server = LiveServer(db, clock=lambda: clock[0]).start()
            desks = []
            for name, hub, login, no in (("a", "DEW", "sam", 1), ("b", "DEW", "nadia", 2), ("n", "N11", "omar", 1)):
                store = make_store(tmp_path_factory.mktemp(name), hub, login, device_no=no)
                store.clock = lambda: NOW  # type: ignore[method-assign]
                enrol_device(store, server, central)
                desks.append(store)
            clock[0] = NOW
            person = central.person_by_case_id("KC-WS-1")
            assert person is not None
            yield Hubs(*desks, server, central, person["id"])
            for store in desks:
                store.lock()
            server.stop()
            central.close()


@pytest.fixture(scope="module")
def recorded(hubs: Hubs) -> Hubs:
    """Desk A records a visit (still in the building) and a £15 gas top-up; everyone syncs."""
    for store in (hubs.desk_a, hubs.desk_b, hubs.n11):
        sync(store, hubs.server)
    a = hubs.desk_a
    a.record_contact(
        Contact(
            person_id=hubs.person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=NOW - timedelta(minutes=30),
            recorded_at=NOW - timedelta(minutes=29),
            seen=True,
            purposes=("money",),
            summary=NOTE,
            voice=VOICE,
        )
    )
    a.record_payment(person_id=hubs.person_id, category="gas", amount_pence=1500, method="cash", reason=NOTE)
    sync(a, hubs.server)
    sync(hubs.desk_b, hubs.server)
    sync(hubs.n11, hubs.server)
    return hubs


def test_a_visit_and_a_payment_at_desk_a_appear_at_desk_b(recorded: Hubs) -> None:
    b, pid = recorded.desk_b, recorded.person_id
    # The person screen's recent contacts and payments.
    [contact] = b.contacts_for_person(pid)
    assert contact.summary == NOTE and contact.recorded_by == "sam"
    [payment] = b.payments_for_person(pid)
    assert payment.amount_pence == 1500 and payment.receipt_no.startswith("DEW-1-")
    # In the building now, across the hub's desks, and today's lists.
    assert [c.person_id for c in b.in_building()] == [pid]
    today = desk_queries.today(b, NOW)
    assert [c.id for c in today.contacts] == [contact.id]
    assert [line.payment.id for line in today.payments] == [payment.id]
    # Which desk recorded it.
    desks = working_set.recorded_at_desk(b, [contact.id, payment.id])
    assert set(desks) == {contact.id, payment.id}
    # Desk B's own sync state is clean: pulled records are not in its outbox.
    assert b.outbox_waiting() == 0
    # The keeping-in-touch summary kept as the pull went equals one computed afresh.
    from hubdesk.store.store import SUMMARY_SELECT

    kept = b._rows("SELECT last_at, last_type, last_touch_at FROM person_contact_summary WHERE person_id = ?", [pid])
    fresh = b._rows(f"SELECT {SUMMARY_SELECT} FROM people p WHERE p.id = ?", [pid])
    assert kept == fresh


async def test_end_of_day_at_desk_b_says_which_desk_recorded_what(recorded: Hubs) -> None:
    """Desk B's end of day: the visit still in is desk A's (so is the day's payment), and the
    summary counts each desk's records."""
    from textual.widgets import DataTable

    from hubdesk.app import make_app
    from hubdesk.reports.daily import THIS_DESK, daily_summary, render_csv, render_md
    from hubdesk.screens.end_of_day import EndOfDayScreen
    from tests.ui.deskpilot import SIZE, unlock

    b = recorded.desk_b
    [visit] = b.in_building()
    desk_a = working_set.recorded_at_desk(b, [visit.id])[visit.id]
    assert desk_a and desk_a != THIS_DESK
    summary = daily_summary(b, "DEW", NOW.date(), now=NOW)
    assert [(d.desk, d.contacts, d.payments) for d in summary.desks] == [(THIS_DESK, 0, 0), (desk_a, 1, 1)]
    md = render_md(summary)
    assert "Recorded at" in md and desk_a in md
    assert f"recorded at: payments,{desk_a},1" in render_csv(summary)
    # A single desk's own summary has no such table.
    assert [d.desk for d in daily_summary(recorded.desk_a, "DEW", NOW.date(), now=NOW).desks] == [THIS_DESK]

    app = make_app(Path(b.data_dir), clock=lambda: NOW, idle_minutes=5)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, "nadia")
        app.push_screen(EndOfDayScreen())
        await pilot.pause()
        await pilot.pause()
        still_in = app.screen.query_one("#still-in", DataTable)
        assert [str(c) for c in still_in.get_row_at(0)][-1] == desk_a


def test_signing_out_at_desk_b_reaches_desk_a(recorded: Hubs) -> None:
    b, a, pid = recorded.desk_b, recorded.desk_a, recorded.person_id
    [visit] = b.in_building()
    b.sign_out(visit.contact_id, NOW)
    sync(b, recorded.server)
    sync(a, recorded.server)
    assert a.in_building() == []
    assert [c.ended_at for c in a.contacts_for_person(pid)] == [NOW]


def test_the_no11_desk_holds_the_dewsbury_young_person_without_their_details(recorded: Hubs) -> None:
    n11, pid = recorded.n11, recorded.person_id
    person = n11.get_person(pid)
    assert (person.first_name, person.last_name, person.case_id, person.hub_code) == (
        "Robin",
        "Workingset",
        "KC-WS-1",
        "DEW",
    )
    assert person.allocated_pa == "sam"
    assert [a.text for a in person.alerts] == ["Lone working: two staff"]
    assert person.contact.phone == person.contact.email == person.contact.address == ""
    # Their recent activity, from the central record's summary: last contact and payments.
    seen = working_set.activity(n11, pid, NOW)
    assert (seen.last_contact_type, seen.last_contact_hub) == ("drop_in", "DEW")
    assert [(p.amount_pence, p.category, p.hub_code) for p in seen.payments] == [(1500, "gas", "DEW")]
    # Not the records: no contact, payment, note or voice of another hub's desk.
    assert n11.contacts_for_person(pid) == [] and n11.payments_for_person(pid) == []
    planted = [*PLANTED.values(), NOTE, VOICE]
    tables = [r[0] for r in n11._rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in n11._rows(f"SELECT * FROM {table}"):
            text = " ".join(str(v) for v in row)
            for word in planted:
                assert word not in text, f"{table} holds a planted string"


def test_the_payment_warning_counts_payments_at_the_other_hub(recorded: Hubs) -> None:
    n11, pid = recorded.n11, recorded.person_id
    warning = working_set.recent_payments_warning(n11, pid, NOW)
    assert warning == "1 emergency payment in the last 7 days: £15.00 gas top-up, at Dewsbury"
    # A week later it has gone; a payment at No. 11 too counts, with the total.
    assert working_set.recent_payments_warning(n11, pid, NOW + timedelta(days=8)) is None
    n11.record_payment(person_id=pid, category="travel", amount_pence=500, method="cash", reason="Synthetic bus")
    warning = working_set.recent_payments_warning(n11, pid, NOW + timedelta(minutes=1))
    assert warning is not None and warning.startswith("2 emergency payments in the last 7 days (total £20.00): ")
    assert "£15.00 gas top-up, at Dewsbury" in warning and "at No. 11 Huddersfield" in warning


def test_a_poisoned_feed_item_is_set_aside_and_the_rest_applied(recorded: Hubs) -> None:
    central, b = recorded.central, recorded.desk_b
    with central.engine.transaction(write=True) as tx:
        for kind, body in (("handover_note", '{"id": "X"}'), ("person", '{"id": 7}'), ("mystery", "{}")):
            tx.execute(
                "INSERT INTO changes(kind, record_id, body, at, hub_code) VALUES (?, 'poison', ?, ?, 'DEW')",
                [kind, body, NOW.isoformat()],
            )
    central.load_caseload([{**DEW_CASE, "case_id": "KC-WS-2", "first_name": "Afterpoison"}], NOW)
    with client(b) as c:
        report = c.sync()
    assert report.set_aside == 3 and report.needs_attention
    assert any(p.case_id == "KC-WS-2" for p in b.people())
    aside = working_set.set_aside_items(b)
    assert sorted(kind for _, kind, *_ in aside) == ["handover_note", "mystery", "person"]
    assert all("Afterpoison" not in reason for *_, reason, _ in aside)
    # The next sync does not stumble on them again. The No. 11 desk sets aside the person
    # (people go to every desk) and never sees Dewsbury's events; it applies the rest.
    with client(b) as c:
        assert c.sync().set_aside == 0
    with client(recorded.n11) as c:
        assert c.sync().set_aside == 1
    assert any(p.case_id == "KC-WS-2" for p in recorded.n11.people())
    # The admin lists and drops them.
    from hubcentral.cli import main

    problems = central.feed_problems()
    assert sorted(p["kind"] for p in problems) == ["handover_note", "mystery", "person"]
    db = recorded.server.db
    assert main(["quarantine", "list", "--db", db]) == 1
    head = central.head()
    assert main(["quarantine", "drop", str(head), "--db", db]) == 1  # a good item is kept
    assert main(["quarantine", "drop", *(str(p["seq"]) for p in problems), "--db", db]) == 0
    assert central.feed_problems() == []
    assert main(["quarantine", "list", "--db", db]) == 0


def test_a_desk_with_nothing_to_do_moves_its_cursor_past_other_hubs_events(recorded: Hubs, tmp_path: Path) -> None:
    n11 = recorded.n11
    sync(n11, recorded.server)
    assert sync_state.cursor(n11) == recorded.central.head()


async def test_desk_b_person_screen_shows_desk_as_visit_and_payment(recorded: Hubs) -> None:
    """The person screen at desk B, as a PA there sees it after one sync."""
    from textual.widgets import DataTable, Static

    from hubdesk.app import make_app
    from hubdesk.screens.person import PersonScreen
    from tests.ui.deskpilot import SIZE, unlock

    b = recorded.desk_b
    app = make_app(Path(b.data_dir), clock=lambda: NOW, idle_minutes=5)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, "nadia")
        app.push_screen(PersonScreen(recorded.person_id))
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        contacts = screen.query_one("#person-contacts", DataTable)
        payments = screen.query_one("#person-payments", DataTable)
        assert contacts.row_count == 1 and payments.row_count == 1
        contact_row = [str(cell) for cell in contacts.get_row_at(0)]
        payment_row = [str(cell) for cell in payments.get_row_at(0)]
        # Desk A's visit (signed out at desk B, so B's version is current) and A's payment.
        assert NOTE in contact_row
        assert any(cell.startswith("DEW-1-") for cell in payment_row)
        assert any(cell.startswith("at ") for cell in payment_row)
        details = str(screen.query_one("#person-details", Static).render())
        assert "Last contact: 23 Nov 2026" in details
        assert "1 emergency payment in the last 7 days: £15.00 gas top-up, at Dewsbury" in details


async def test_the_sync_screen_shows_what_was_set_aside(recorded: Hubs) -> None:
    """After the poisoned items: desk B's sync screen lists them with their reasons."""
    from textual.widgets import DataTable

    from hubdesk.app import make_app
    from hubdesk.screens.sync import SyncScreen
    from tests.ui.deskpilot import SIZE, unlock

    app = make_app(Path(recorded.desk_b.data_dir), clock=lambda: NOW, idle_minutes=5)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot, "nadia")
        app.push_screen(SyncScreen())
        await pilot.pause()
        await pilot.pause()
        table = app.screen.query_one("#set-aside", DataTable)
        assert table.display and table.row_count == 3
        reasons = " ".join(str(table.get_row_at(i)[2]) for i in range(3))
        assert "not a kind this desk knows" in reasons and "not readable" in reasons


def test_a_declined_or_reversed_payment_leaves_the_other_hubs_summary(recorded: Hubs) -> None:
    """The No. 11 desk's 7-day warning counts what the young person was given: a Dewsbury
    payment declined by the duty manager, or reversed, stops counting after the next syncs
    (the service's summary followed payments and reversals by person id, which a reversal or
    a decision does not carry: both were missed)."""
    a, b, n11, pid = recorded.desk_a, recorded.desk_b, recorded.n11, recorded.person_id

    def dewsbury_payments() -> list[int]:
        held = working_set.activity(n11, pid, NOW + timedelta(minutes=5)).payments
        return sorted(p.amount_pence for p in held if p.hub_code == "DEW")

    big = a.record_payment(person_id=pid, category="gas", amount_pence=3500, method="cash", reason="Synthetic big")
    assert a.payment_state(big.id) == "awaiting_approval"
    sync(a, recorded.server)
    sync(n11, recorded.server)
    assert dewsbury_payments() == [1500, 3500]

    sync(b, recorded.server)
    b.decide_payment(big.id, approve=False, manager=b.get_user("nadia"), reason="Synthetic: food bank first")
    sync(b, recorded.server)
    sync(n11, recorded.server)
    assert dewsbury_payments() == [1500]

    [first] = [p for p in a.payments_for_person(pid) if p.amount_pence == 1500]
    a.reverse_payment(first.id, "Synthetic: recorded against the wrong person")
    sync(a, recorded.server)
    sync(n11, recorded.server)
    assert dewsbury_payments() == []
