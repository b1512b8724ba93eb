"""Actions reach the allocated PA at the other hub (issue 11, item 2): an action written at
Dewsbury for a No. 11 PA appears on the No. 11 desk after both sync, and done there shows done
at Dewsbury. Real service on loopback, on both engines; refusals for a desk of a third hub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.domain.actions import ActionKind
from hubdesk.domain.local_offer import EXAMPLE_OFFER
from hubdesk.domain.models import Action, Contact
from hubdesk.store import actions, local_offer
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
N11_CASE = {
    "case_id": "KC-ACT-1",
    "first_name": "Robin",
    "last_name": "Actiontest",
    "date_of_birth": "2005-06-07",
    "hub_code": "N11",
    "allocated_pa": "omar",
}


@dataclass
class Hubs:
    dew: Store
    n11: Store
    server: LiveServer
    central: CentralStore
    person_id: str


def sync(store: Store) -> None:
    with SyncClient(store, clock=NOW.timestamp) as c:
        report = c.sync()
    assert report.quarantined == report.set_aside == 0, report


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hubs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hubs]:
    """A desk at Dewsbury (sam) and one at No. 11 (omar, the young person's allocated PA); the
    service's clock fixed on 23 Nov 2026."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("HUBDESK_HOME", str(tmp_path_factory.mktemp("home")))
        with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
            central = CentralStore.open(db)
            central.set_reference(CENTRAL_REFERENCE.model_copy(update={"local_offer": EXAMPLE_OFFER}), NOW)
            central.load_caseload([N11_CASE], NOW)
            clock = [datetime.now(UTC)]
            server = LiveServer(db, clock=lambda: clock[0]).start()
            desks = []
            for name, hub, login in (("dew", "DEW", "sam"), ("n11", "N11", "omar")):
                store = make_store(tmp_path_factory.mktemp(name), hub, login)
                store.clock = lambda: NOW  # type: ignore[method-assign]
                enrol_device(store, server, central)
                desks.append(store)
            clock[0] = NOW
            person = central.person_by_case_id("KC-ACT-1")
            assert person is not None
            for store in desks:
                sync(store)
            yield Hubs(*desks, server, central, person["id"])
            for store in desks:
                store.lock()
            server.stop()
            central.close()


def test_an_action_written_at_dewsbury_reaches_no_11_and_done_there_shows_done_at_dewsbury(hubs: Hubs) -> None:
    today = NOW.date()
    hubs.dew.record_contact(
        Contact(
            person_id=hubs.person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=NOW - timedelta(minutes=30),
            recorded_at=NOW - timedelta(minutes=29),
            seen=True,
            purposes=("housing",),
            summary="Came to Dewsbury about a repair",
            actions=(Action(text="Chase the landlord about the boiler", owner="omar", due=today),),
            tell_allocated_pa=True,
        )
    )
    assert actions.counts(hubs.dew, "omar", today) == (2, 0)
    assert actions.counts(hubs.n11, "omar", today) == (0, 0)
    sync(hubs.dew)
    sync(hubs.n11)
    later = today + timedelta(days=1)
    at_n11 = actions.for_user(hubs.n11, "omar", later)
    assert [(r.item.kind, r.overdue) for r in at_n11] == [(ActionKind.ACTION, True), (ActionKind.TELL_PA, False)]
    assert at_n11[0].item.text == "Chase the landlord about the boiler"
    assert actions.counts(hubs.n11, "omar", later) == (2, 1)

    chase = at_n11[0].item.id
    actions.mark_done(hubs.n11, chase, "Landlord booked the engineer for Friday")
    sync(hubs.n11)
    sync(hubs.dew)
    state = actions.state(hubs.dew, chase)
    assert state.done and state.done_by == "omar"
    assert state.note == "Landlord booked the engineer for Friday"
    assert [r.item.kind for r in actions.for_user(hubs.dew, "omar", later)] == [ActionKind.TELL_PA]

    # Passed on at Dewsbury (to the Dewsbury manager): No. 11 sees whose it is now.
    tell = actions.for_user(hubs.dew, "omar", later)[0].item.id
    actions.pass_on(hubs.dew, tell, "nadia", "omar is on leave")
    sync(hubs.dew)
    sync(hubs.n11)
    assert actions.state(hubs.n11, tell).owner == "nadia"
    assert actions.counts(hubs.n11, "omar", later) == (0, 0)


def test_an_action_routed_to_the_wrong_hub_is_refused(hubs: Hubs) -> None:
    """A desk cannot say a young person belongs to a hub they do not: refused with the reason."""
    from hubdesk.domain.actions import ActionItem
    from hubdesk.sync.protocol import PushItem

    wrong = ActionItem(
        contact_id="c-1",
        person_id=hubs.person_id,
        hub_code="DEW",
        person_hub="DEW",
        text="Something",
        owner="sam",
        recorded_by="sam",
        recorded_at=NOW,
    )
    device = hubs.central.device(hubs.dew.meta("device_id"))
    assert device is not None
    item = PushItem(
        id="0190aaaa-0000-7000-8000-000000000001",
        seq=10_000,
        kind="action",
        record_id=wrong.id,
        body=wrong.model_dump(mode="json"),
        created_at=NOW,
    )
    results, _ = hubs.central.push(device, "sam", [item], NOW)
    assert results[0].status == "rejected"
    assert "belongs to hub N11" in (results[0].reason or "")


def test_the_local_offer_given_at_dewsbury_shows_as_had_at_no_11(hubs: Hubs) -> None:
    """A bus pass given at Dewsbury to a No. 11 young person: No. 11's desk sees they had it."""
    offer = {x.entitlement.code: x for x in local_offer.offer_for(hubs.n11, hubs.person_id, NOW.date())}
    assert offer["bus-pass"].eligible and offer["bus-pass"].had_on is None
    local_offer.give(hubs.dew, hubs.person_id, "bus-pass", "Applied with them at the desk")
    sync(hubs.dew)
    sync(hubs.n11)
    offer = {x.entitlement.code: x for x in local_offer.offer_for(hubs.n11, hubs.person_id, NOW.date())}
    assert offer["bus-pass"].had_on == NOW.date() and not offer["bus-pass"].again
