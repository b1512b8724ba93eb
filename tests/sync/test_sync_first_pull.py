"""A new desk's first pull comes newest first (issue 9): every young person and the reference
data, then the hub's events newest first, so a desk cut off after its first page of events
already holds today's visits and this week's payments (and what each hangs on); resumed, it
holds everything exactly once and goes on from the feed's cursor. Real HTTP, both engines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.domain.models import Contact
from hubdesk.store import sync_state, working_set
from hubdesk.store.store import Store
from hubdesk.sync.client import Refused, SyncClient, SyncError

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
PEOPLE = 40
DAYS = 60  # one visit a day, the oldest 60 days back
PAGE = 20


class CutAfterEvents(httpx.HTTPTransport):
    """Loopback HTTP that fails the next pull once a page holding the hub's events came back."""

    def __init__(self) -> None:
        super().__init__()
        self.saw_events = False
        self.pages: list[list[str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        is_pull = request.url.path.endswith("/changes")
        if is_pull and self.saw_events:
            raise httpx.ConnectError("cut after the first page of events")
        response = super().handle_request(request)
        if is_pull:
            kinds = [c["kind"] for c in json.loads(response.read())["changes"]]
            self.pages.append(kinds)
            self.saw_events = any(k not in ("person", "reference", "summary") for k in kinds)
        return response


def _client(store: Store, **kwargs: object) -> SyncClient:
    return SyncClient(store, clock=NOW.timestamp, page_size=PAGE, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """Desk A at Dewsbury recorded 60 days of visits, payments, and today a reversal of a payment
    of 20 days ago; desk B is new (same hub, nadia), enrolled, never pulled."""
    monkeypatch.setenv("HUBDESK_KDF_PROFILE", "fast")
    monkeypatch.setenv("HUBDESK_HOME", str(tmp_path / "home"))
    with central_database(request.param, tmp_path / "central") as db:
        central = CentralStore.open(db)
        central.set_reference(CENTRAL_REFERENCE, NOW)
        cases = [
            {
                "case_id": f"KC-FP-{hub}-{i}",
                "first_name": "Casey",
                "last_name": "Firstpull",
                "date_of_birth": "2005-05-05",
                "hub_code": hub,
            }
            for hub, n in (("DEW", PEOPLE), ("N11", 5))
            for i in range(n)
        ]
        central.load_caseload(cases, NOW)
        clock = [datetime.now(UTC)]
        server = LiveServer(db, clock=lambda: clock[0]).start()
        a = make_store(tmp_path / "a", "DEW", "sam")
        b = make_store(tmp_path / "b", "DEW", "nadia", device_no=2)
        for store in (a, b):
            store.clock = lambda: NOW  # type: ignore[method-assign]
            enrol_device(store, server, central)
        clock[0] = NOW
        with _client(a) as c:
            c.sync()
        people = [p["id"] for p in central.records("person") if p["hub_code"] == "DEW"]
        old = []
        for day in range(DAYS, 0, -1):  # oldest first, as a busy desk records them
            at = NOW - timedelta(days=day)
            a.clock = lambda at=at: at  # type: ignore[method-assign]
            old.append(_visit(a, people[day % PEOPLE], at, f"Synthetic visit {day} days back"))
            if day % 5 == 0:
                a.record_payment(
                    person_id=people[day % PEOPLE], category="gas", amount_pence=1000, method="cash", reason="Top-up"
                )
        a.clock = lambda: NOW  # type: ignore[method-assign]
        today = [
            _visit(a, people[i], NOW - timedelta(minutes=20 * i + 5), f"Synthetic visit today {i}") for i in (1, 2)
        ]
        reversed_payment = a._rows(
            "SELECT id FROM payments WHERE recorded_at <= ? ORDER BY recorded_at DESC LIMIT 1",
            [(NOW - timedelta(days=20)).isoformat()],
        )[0][0]
        reversal = a.reverse_payment(reversed_payment, "Recorded against the wrong young person")
        with _client(a) as c:
            assert c.sync().quarantined == 0
        yield a, b, server, central, old, today, reversal, people
        for store in (a, b):
            store.lock()
        server.stop()
        central.close()


def _visit(store: Store, person_id: str, at: datetime, summary: str) -> str:
    contact = store.record_contact(
        Contact(
            person_id=person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=at,
            recorded_at=at,
            seen=True,
            purposes=("money",),
            summary=summary,
        )
    )
    return contact.id


def _held(store: Store, table: str, ids: list[str]) -> set[str]:
    marks = ",".join("?" * len(ids))
    return {r[0] for r in store._rows(f"SELECT id FROM {table} WHERE id IN ({marks})", ids)}


def test_a_new_desk_holds_todays_events_after_its_first_page_of_events(hub: tuple) -> None:
    a, b, _server, central, old, today, reversal, people = hub
    cut = CutAfterEvents()
    with _client(b, transport=cut, retries=0) as c, pytest.raises(SyncError):
        c.sync()
    # People and the reference data came first, then one page of events: today's.
    first_events = next(i for i, kinds in enumerate(cut.pages) if "contact" in kinds)
    assert all(set(kinds) <= {"person", "reference", "summary"} for kinds in cut.pages[:first_events])
    assert b.count("people") == PEOPLE + 5
    assert _held(b, "contacts", today) == set(today)
    # Today's reversal of a payment of 20 days ago arrived with that payment, not set aside.
    assert _held(b, "reversals", [reversal.id]) == {reversal.id}
    assert _held(b, "payments", [reversal.payment_id]) == {reversal.payment_id}
    assert working_set.set_aside_items(b) == []
    # The oldest visits are not there yet; the desk's cursor has not moved, its place is kept.
    assert _held(b, "contacts", old[:20]) == set()
    assert sync_state.cursor(b) == 0 and sync_state.get(b, sync_state.K_FIRST_PULL)

    # Meanwhile desk A records another visit: it comes after the first pull, in feed order.
    later = _visit(a, people[0], NOW - timedelta(minutes=1), "Synthetic late visit")
    with _client(a) as c:
        c.sync()
    with _client(b) as c:
        report = c.sync()
    assert report.set_aside == 0
    assert _held(b, "contacts", [*old, *today, later]) == {*old, *today, later}
    held_contacts = b._rows("SELECT count(*), count(DISTINCT id) FROM contacts")[0]
    assert held_contacts == (len(old) + len(today) + 1,) * 2
    assert b.count("payments") == a.count("payments") and b.count("reversals") == 1
    assert sync_state.cursor(b) == central.head() and sync_state.get(b, sync_state.K_FIRST_PULL) == ""
    # Nothing left to do: a sync then pulls nothing.
    with _client(b) as c:
        again = c.sync()
    assert again.pulled == 0 and again.pushed == 0


def test_a_first_pull_place_the_service_cannot_read_is_refused(hub: tuple) -> None:
    _, b, *_ = hub
    with _client(b) as c, pytest.raises(Refused) as refused:
        c.request("GET", "/v1/changes", params={"since": 0, "first_pull": "1.5.x.3.'; DROP"})
    assert refused.value.status == 422
    assert b.count("contacts") == 0
