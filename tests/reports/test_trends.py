"""Eight weeks at a hub, against an independent count from the exported records."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hubdesk.reports.trends import sparkline, weekly_trends
from tests.reports.conftest import TODAY
from tests.reports.counting import Exported, london_day


@pytest.mark.parametrize("hub", ["DEW", "N11"])
def test_weekly_trends_match_the_independent_count(demo_store, hub):
    ex = Exported(demo_store)
    weeks = weekly_trends(demo_store, hub, TODAY, weeks=8)
    assert len(weeks) == 8 and all(w.week_start.weekday() == 0 for w in weeks)
    assert weeks[-1].week_start <= TODAY < weeks[-1].week_start + timedelta(days=7)
    for w in weeks:
        days = {w.week_start + timedelta(days=n) for n in range(7)}
        mine = [c for c in ex.contacts if c["hub_code"] == hub and london_day(c["started_at"]) in days]
        paid = [
            p
            for p in ex.payments
            if p["hub_code"] == hub and london_day(p["recorded_at"]) in days and p["state"] == "approved"
        ]
        assert (w.contacts, w.visits, w.payments, w.payments_pence) == (
            len(mine),
            sum(1 for c in mine if c["contact_type"] == "drop_in"),
            len(paid),
            sum(p["amount_pence"] for p in paid),
        )
    # The demo records at its own hub (DEW); N11 holds only the planted edge contacts.
    assert sum(w.contacts for w in weeks) > (10 if hub == "DEW" else 0)


def test_a_sunday_night_contact_falls_in_the_local_week(store, person):
    from datetime import UTC, datetime

    from hubdesk.domain.models import Contact

    # Sunday 29 Mar 2026 (BST from 01:00 UTC): 22:50 UTC is 23:50 Sunday, 23:30 UTC is 00:30 Monday.
    for at in (datetime(2026, 3, 29, 22, 50, tzinfo=UTC), datetime(2026, 3, 29, 23, 30, tzinfo=UTC)):
        store.clock = lambda at=at: at
        store.record_contact(
            Contact(
                person_id=person.id,
                hub_code="DEW",
                contact_type="phone",
                recorded_by="sam",
                started_at=at,
                recorded_at=at,
                seen=False,
                purposes=("money",),
                summary="Late call.",
            )
        )
    weeks = {w.week_start: w.contacts for w in weekly_trends(store, "DEW", date(2026, 3, 31), weeks=2)}
    assert weeks == {date(2026, 3, 23): 1, date(2026, 3, 30): 1}


def test_sparkline():
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 0]) == "▁▁" and sparkline([]) == ""
