"""The desk's end of day shows the service's figures for its hub (issue 11, item 5), and they
are the central report's figures for that hub: a Dewsbury desk records visits, calls, payments
(one reversed, one declined) and actions (one done), syncs, and its figures equal the central
record's Dewsbury column, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store

from hubcentral import demo_service
from hubcentral.report import service_figures
from hubcentral.storage import CentralStore
from hubdesk.domain.models import Action, Contact
from hubdesk.reports.daily import daily_summary, render_md
from hubdesk.reports.hub_figures import hub_figures
from hubdesk.store import actions
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DAY = NOW.date()


def sync(store: Store) -> None:
    with SyncClient(store, clock=NOW.timestamp) as c:
        report = c.sync()
    assert report.quarantined == report.set_aside == 0, report


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("HUBDESK_HOME", str(tmp_path_factory.mktemp("home")))
        with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
            central = CentralStore.open(db)
            central.set_reference(CENTRAL_REFERENCE, NOW)
            caseload = [p for p in demo_service.caseload(40, DAY, seed=3) if p["hub_code"] == "DEW"]
            for p in caseload:
                p["allocated_pa"] = "sam" if p["allocated_pa"] else None
            central.load_caseload(caseload, NOW)
            clock = [datetime.now(UTC)]
            server = LiveServer(db, clock=lambda: clock[0]).start()
            desk = make_store(tmp_path_factory.mktemp("dew"), "DEW", "sam")
            desk.clock = lambda: NOW  # type: ignore[method-assign]
            enrol_device(desk, server, central)
            clock[0] = NOW
            sync(desk)
            yield desk, central
            desk.lock()
            server.stop()
            central.close()


def test_the_desk_figures_for_its_hub_equal_the_central_reports(hub) -> None:
    desk, central = hub
    people = [p for p in desk.people() if p.hub_code == "DEW"]
    assert len(people) >= 15
    for i, person in enumerate(people):
        kind = ("drop_in", "phone", "text")[i % 3]
        days_ago = (1, 20, 45, 70)[i % 4]
        contact = desk.record_contact(
            Contact(
                person_id=person.id,
                hub_code="DEW",
                contact_type=kind,
                recorded_by="sam",
                started_at=NOW - timedelta(days=days_ago, hours=1),
                recorded_at=NOW,
                seen=kind == "drop_in",
                purposes=("money",),
                summary="Synthetic call",
                actions=(Action(text="Follow up", owner="sam", due=DAY - timedelta(days=i % 3)),) if i % 4 == 0 else (),
            )
        )
        if kind == "drop_in":
            desk.sign_out(contact.contact_id, NOW - timedelta(days=days_ago))
    for n, person in enumerate(people[:4]):
        desk.record_payment(person_id=person.id, category="gas", amount_pence=1500 + n, method="cash", reason="No gas")
    desk.reverse_payment(desk.payments_for_person(people[0].id)[0].id, "Synthetic mistake")
    mine = actions.for_user(desk, "sam", DAY)
    actions.mark_done(desk, mine[0].item.id, "Rang back")
    sync(desk)

    at_desk = hub_figures(desk, "DEW", DAY).hubs["DEW"]
    central_dew = service_figures(central, DAY).hubs["DEW"]
    assert at_desk.pa_cases > 0 and at_desk.in_touch_total.count > 0
    assert at_desk.in_touch == central_dew.in_touch
    assert (at_desk.pa_cases, at_desk.qualifying_apart, at_desk.over_25) == (
        central_dew.pa_cases,
        central_dew.qualifying_apart,
        central_dew.over_25,
    )
    assert at_desk.accommodation == central_dew.accommodation
    assert at_desk.eet == central_dew.eet and at_desk.plans == central_dew.plans
    assert (at_desk.actions_open, at_desk.actions_overdue) == (central_dew.actions_open, central_dew.actions_overdue)
    assert at_desk.actions_open == len(mine) - 1 and at_desk.actions_overdue > 0
    assert at_desk.payments == central_dew.payments == {"gas": (3, 1501 + 1502 + 1503)}
    # The end-of-day summary carries them.
    text = render_md(daily_summary(desk, "DEW", DAY))
    assert "Service figures: In touch by age band" in text
    assert str(at_desk.in_touch_total) in text
