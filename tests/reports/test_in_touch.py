"""Keeping in touch against an independent count from the exported people and contacts."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest

from hubdesk.reports.in_touch import APART, in_touch_report, render_csv, render_md
from tests.reports.conftest import TODAY
from tests.reports.counting import LONDON, Exported, band, london_day

DEFAULTS = {"16-17": 28, "18-20": 56, "21-25": 56}


def independent(ex: Exported, as_of: date, pa: str | None = None, hub: str | None = None) -> dict[str, dict]:
    end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=LONDON) + timedelta(days=1)
    result = {}
    for p in ex.people.values():
        if p["walk_in"] or (pa and p["allocated_pa"] != pa) or (hub and p["hub_code"] != hub):
            continue
        b = band(p, as_of)
        if b not in DEFAULTS:
            continue
        touches = [
            c
            for c in ex.contacts
            if c["person_id"] == p["id"]
            and datetime.fromisoformat(c["started_at"]) < end
            and (c["seen"] or c["contact_type"] in ("phone", "video"))
        ]
        last = max((london_day(c["started_at"]) for c in touches), default=None)
        interval = p["expected_contact_days"] or DEFAULTS[b]
        since = (as_of - last).days if last else None
        result[p["id"]] = {
            "band": b,
            "interval": interval,
            "in_touch": since is not None and since <= interval,
            "overdue": None if since is None else max(0, since - interval),
            "apart": p["legal_status"] == "qualifying" and not p["allocated_pa"],
        }
    return result


@pytest.fixture(scope="module")
def exported(demo):
    store = demo.open()
    try:
        return Exported(store)
    finally:
        store.lock()


@pytest.mark.parametrize(
    ("as_of", "pa", "hub"),
    [
        (TODAY, None, None),
        (TODAY, "sam", None),
        (TODAY, None, "N11"),
        (TODAY, "tom", "DEW"),
        (date(2026, 3, 20), None, None),
        (date(2026, 3, 31), None, "DEW"),
    ],
)
def test_in_touch_matches_the_independent_count(demo_store, exported, as_of, pa, hub):
    report = in_touch_report(demo_store, as_of=as_of, pa=pa, hub_code=hub)
    want = independent(exported, as_of, pa, hub)
    got = {
        x.person.id: {
            "band": x.band.value,
            "interval": x.interval_days,
            "in_touch": x.in_touch,
            "overdue": x.days_overdue,
            "apart": x.person.counted_apart,
        }
        for x in report.lines
    }
    assert got == want
    assert len(want) > 5
    for share in report.shares:
        if share.band == APART:  # qualifying young people without a PA, counted apart
            members = [v for v in want.values() if v["apart"]]
        else:
            members = [v for v in want.values() if not v["apart"] and share.band in ("All", v["band"])]
        assert (share.people, share.in_touch) == (len(members), sum(1 for v in members if v["in_touch"]))
    # Sorted by how overdue: never seen first, then the most days overdue.
    keys = [(x.days_overdue is not None, -(x.days_overdue or 0)) for x in report.lines]
    assert keys == sorted(keys)


def test_a_contact_moved_to_the_right_person_counts_only_for_them(demo_store, demo):
    report = in_touch_report(demo_store, as_of=TODAY, pa="sam")
    lines = {x.person.id: x for x in report.lines}
    wrong, right = lines[demo.edge.wrong_person], lines[demo.edge.right_person]
    assert wrong.last_contact_at is None and not wrong.in_touch and wrong.days_overdue is None
    assert right.in_touch and right.last_in_touch_at.astimezone(LONDON).date() == date(2026, 4, 1)
    assert right.days_since == 2 and right.due == date(2026, 4, 8)


def test_a_text_is_a_contact_but_not_being_in_touch(demo_store, demo):
    # Gus's last contacts: a text at 23:55 on 19 Mar, a call at 00:05 on 20 Mar (interval: 56 days).
    line = next(x for x in in_touch_report(demo_store, as_of=date(2026, 3, 19)).lines if x.person.id == demo.edge.gmt)
    assert line.last_contact_type.value == "text" and line.last_in_touch_at is None
    line = next(x for x in in_touch_report(demo_store, as_of=date(2026, 3, 20)).lines if x.person.id == demo.edge.gmt)
    assert line.last_contact_type.value == "phone" and line.in_touch and not line.interval_set


def test_ageing_into_a_band_on_the_day(demo_store, demo):
    before = next(
        x for x in in_touch_report(demo_store, as_of=date(2026, 3, 19)).lines if x.person.id == demo.edge.bday18
    )
    on = next(x for x in in_touch_report(demo_store, as_of=date(2026, 3, 20)).lines if x.person.id == demo.edge.bday18)
    assert (before.band.value, on.band.value) == ("16-17", "18-20")


def test_csv_and_md(demo_store):
    report = in_touch_report(demo_store, as_of=TODAY)
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert len(rows) == len(report.lines)
    assert rows[0]["in_touch"] == "no"
    assert {r["in_touch"] for r in rows} == {"yes", "no"}
    md = render_md(report)
    assert "| All |" in md and f"## Overdue ({len(report.overdue)})" in md


@pytest.mark.parametrize("as_of", [TODAY, date(2026, 3, 19), date(2026, 3, 31)])
def test_kept_summary_matches_the_walk_through_contacts(demo_store, as_of):
    """The per-person summary kept at each contact save gives the same list as walking the
    contacts themselves (the path a past date with later contacts takes)."""
    fast = in_touch_report(demo_store, as_of=as_of)
    slow = in_touch_report(demo_store, as_of=as_of, use_summary=False)
    assert [(x.person.id, x.last_contact_at, x.last_in_touch_at) for x in fast.lines] == [
        (x.person.id, x.last_contact_at, x.last_in_touch_at) for x in slow.lines
    ]
