"""The daily summary's figures against an independent count from the exported records.

The count here works from `hubdesk export`'s rows (every contact version, every payment
with its state, reversals, sessions with their registers) using its own date, age and
version logic, never the report's code. Every demo day at both hubs is checked, and the
planted edges (birthdays, local midnight in GMT and BST, amendments, reversals) are
asserted to be in the data, so an off-by-one cannot pass by having nothing to count.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from hubdesk.demo import EXAMPLE_REFERENCE
from hubdesk.domain.enums import ContactType, PaymentMethod
from hubdesk.reports.daily import daily_summary
from tests.reports.conftest import BUSY_DAY, DAYS, TODAY
from tests.reports.counting import Exported, band, london_day

DAYS_CHECKED = [TODAY - timedelta(days=n) for n in range(DAYS + 1, -1, -1)]
PURPOSE_CODE = {p.name: p.code for p in EXAMPLE_REFERENCE.contact_purposes}
CATEGORY_CODE = {c.name: c.code for c in EXAMPLE_REFERENCE.payment_categories}
TYPE_CODE = {t.label: t.value for t in ContactType}
METHOD_CODE = {m.label: m.value for m in PaymentMethod}


def expected(ex: Exported, hub: str, day: date) -> dict:
    contacts = [c for c in ex.contacts if c["hub_code"] == hub and london_day(c["started_at"]) == day]
    payments = [p for p in ex.payments if p["hub_code"] == hub and london_day(p["recorded_at"]) == day]
    reversed_ids = {r["payment_id"] for r in ex.reversals}
    by_category: Counter = Counter()
    by_method: Counter = Counter()
    for p in payments:
        state = "reversed" if p["id"] in reversed_ids else p["state"]
        assert state == p["state"]
        if state in ("approved", "reversed"):
            for key, counter in ((p["category"], by_category), (p["method"], by_method)):
                counter[(key, "paid")] += 1
                counter[(key, "gross")] += p["amount_pence"]
                if state == "reversed":
                    counter[(key, "reversed")] += 1
                    counter[(key, "reversed_pence")] += p["amount_pence"]
                else:
                    counter[(key, "net")] += p["amount_pence"]
    sessions = [s for s in ex.sessions if s["hub_code"] == hub and london_day(s["starts_at"]) == day]
    visits = [c for c in contacts if c["contact_type"] == "drop_in"]
    return {
        "contacts": len(contacts),
        "by_type": Counter(c["contact_type"] for c in contacts),
        "by_purpose": Counter(p for c in contacts for p in c["purposes"]),
        "by_band": Counter(band(ex.people[c["person_id"]], day) for c in contacts),
        "seen": sum(1 for c in contacts if c["seen"]),
        "visits": len(visits),
        "visitors": len({c["person_id"] for c in visits}),
        "still_in": sum(1 for c in visits if c["ended_at"] is None),
        "safeguarding": sum(1 for c in contacts if c["safeguarding_concern"]),
        "by_category": +by_category,
        "by_method": +by_method,
        "net_pence": sum(p["amount_pence"] for p in payments if p["state"] == "approved"),
        "reversed_pence": sum(p["amount_pence"] for p in payments if p["state"] == "reversed"),
        "awaiting": (
            sum(1 for p in payments if p["state"] == "awaiting_approval"),
            sum(p["amount_pence"] for p in payments if p["state"] == "awaiting_approval"),
        ),
        "declined": (
            sum(1 for p in payments if p["state"] == "declined"),
            sum(p["amount_pence"] for p in payments if p["state"] == "declined"),
        ),
        "cash_out": sum(p["amount_pence"] for p in payments if p["state"] == "approved" and p["method"] == "cash"),
        "sessions": sorted(
            (
                s["session_type"],
                sum(1 for a in s["attendance"] if a["kind"] == "person"),
                sum(1 for a in s["attendance"] if a["kind"] == "walk_in"),
                sum(a["children"] for a in s["attendance"] if a["kind"] == "children"),
            )
            for s in sessions
        ),
    }


def reported(summary) -> dict:
    session_code = {t.name: t.code for t in EXAMPLE_REFERENCE.session_types}
    by_category: Counter = Counter()
    for groups, codes, counter in ((summary.payments_by_category, CATEGORY_CODE, by_category),):
        for g in groups:
            key = codes[g.label]
            counter[(key, "paid")] += g.count
            counter[(key, "gross")] += g.gross_pence
            counter[(key, "reversed")] += g.reversed_count
            counter[(key, "reversed_pence")] += g.reversed_pence
            counter[(key, "net")] += g.net_pence
    by_method: Counter = Counter()
    for g in summary.payments_by_method:
        key = METHOD_CODE[g.label]
        by_method[(key, "paid")] += g.count
        by_method[(key, "gross")] += g.gross_pence
        by_method[(key, "reversed")] += g.reversed_count
        by_method[(key, "reversed_pence")] += g.reversed_pence
        by_method[(key, "net")] += g.net_pence
    return {
        "contacts": summary.contacts,
        "by_type": +Counter({TYPE_CODE[c.label]: c.count for c in summary.by_type}),
        "by_purpose": +Counter({PURPOSE_CODE[c.label]: c.count for c in summary.by_purpose}),
        "by_band": +Counter({c.label: c.count for c in summary.by_age_band}),
        "seen": summary.seen,
        "visits": summary.visits,
        "visitors": summary.visitors,
        "still_in": summary.still_signed_in,
        "safeguarding": len(summary.safeguarding),
        "by_category": +by_category,
        "by_method": +by_method,
        "net_pence": summary.payments_total.net_pence,
        "reversed_pence": summary.payments_total.reversed_pence,
        "awaiting": (summary.awaiting.count, summary.awaiting.gross_pence),
        "declined": (summary.declined.count, summary.declined.gross_pence),
        "cash_out": summary.cash_float.cash_out_pence,
        "sessions": sorted((session_code[s.name], s.people, s.walk_ins, s.children) for s in summary.sessions),
    }


@pytest.fixture(scope="module")
def both(demo):
    store = demo.open()
    try:
        ex = Exported(store)
        summaries = {(hub, day): daily_summary(store, hub, day) for hub in ("DEW", "N11") for day in DAYS_CHECKED}
    finally:
        store.lock()
    return ex, summaries


def test_every_demo_day_at_both_hubs_matches_the_independent_count(both):
    ex, summaries = both
    checked = 0
    for (hub, day), summary in summaries.items():
        want = expected(ex, hub, day)
        got = reported(summary)
        assert got == want, f"{hub} {day}"
        checked += want["contacts"]
    # The demo really has work in it: the comparison is not of empty days.
    assert checked > 100
    # The demo records at the device's own hub (DEW); N11's days hold the planted edges.
    assert sum(1 for (hub, _), s in summaries.items() if s.contacts and hub == "DEW") >= 12
    assert any(s.contacts for (hub, _), s in summaries.items() if hub == "N11")


def test_the_planted_edges_are_in_the_data_and_counted(both, demo):
    ex, summaries = both
    e = demo.edge

    def mine(person_id: str, hub: str, day: date) -> list[dict]:
        return [
            c
            for c in ex.contacts
            if c["person_id"] == person_id and c["hub_code"] == hub and london_day(c["started_at"]) == day
        ]

    # Birthday on the day: 16-17 on the 19th, 18-20 on his 18th birthday, the 20th.
    assert [band(ex.people[e.bday18], date(2026, 3, 19))] == ["16-17"]
    assert len(mine(e.bday18, "DEW", date(2026, 3, 19))) == 1
    assert len(mine(e.bday18, "DEW", date(2026, 3, 20))) == 1
    assert band(ex.people[e.bday18], date(2026, 3, 20)) == "18-20"
    assert summaries[("DEW", date(2026, 3, 20))].by_age_band[1].count >= 1

    # GMT midnight: 23:55 belongs to the 19th, 00:05 to the 20th (at N11).
    assert [c["contact_type"] for c in mine(e.gmt, "N11", date(2026, 3, 19))] == ["text"]
    assert [c["contact_type"] for c in mine(e.gmt, "N11", date(2026, 3, 20))] == ["phone"]

    # BST midnight and a 21st birthday: 23:15 UTC on the 30th is 00:15 on the 31st.
    on_30 = mine(e.bday21, "DEW", date(2026, 3, 30))
    on_31 = mine(e.bday21, "DEW", date(2026, 3, 31))
    assert [c["contact_type"] for c in on_30] == ["phone"] and [c["contact_type"] for c in on_31] == ["video"]
    assert band(ex.people[e.bday21], date(2026, 3, 30)) == "18-20"
    assert band(ex.people[e.bday21], date(2026, 3, 31)) == "21-25"
    naive_utc = [c for c in ex.contacts if c["person_id"] == e.bday21 and c["started_at"].startswith("2026-03-30")]
    assert len(naive_utc) == 2  # a report that cut days at UTC midnight would get this wrong
    s31 = summaries[("DEW", date(2026, 3, 31))]
    assert {c.label: c.count for c in s31.by_age_band}["21-25"] >= 1

    # The amended contact is counted once, as its latest version (video, money + benefits).
    versions = [c for c in ex.all_contacts if c["contact_id"] == e.amended_contact]
    assert len(versions) == 3
    current = [c for c in ex.contacts if c["contact_id"] == e.amended_contact]
    assert len(current) == 1 and current[0]["contact_type"] == "video"
    assert sorted(current[0]["purposes"]) == ["benefits", "money"]
    # ...and the moved one counts at No. 11, not at Dewsbury.
    moved = [c for c in ex.contacts if c["contact_id"] == e.moved_contact]
    assert [c["hub_code"] for c in moved] == ["N11"]

    busy = summaries[("DEW", BUSY_DAY)]
    assert busy.recorded_later == 0  # amended next day, but the contact itself was recorded on the day
    assert len(busy.safeguarding) == 1 and busy.safeguarding[0].manager_informed == "14:20"
    assert busy.still_signed_in == 1


def test_reversals_are_shown_and_netted_out(both, demo):
    ex, summaries = both
    busy = summaries[("DEW", BUSY_DAY)]
    same_day = next(p for p in ex.payments if p["id"] == demo.edge.reversed_same_day)
    assert same_day["state"] == "reversed"
    assert same_day["receipt_no"] in busy.reversed_receipts
    total = busy.payments_total
    assert total.reversed_count >= 1 and total.reversed_pence >= 1500
    assert total.net_pence == total.gross_pence - total.reversed_pence
    travel = next(g for g in busy.payments_by_category if g.label == "Travel")
    assert travel.reversed_pence >= 1500
    # The payment approved later by the duty manager counts as paid; the declined one does not.
    assert busy.declined.count >= 1 and busy.declined.gross_pence >= 5000
    assert busy.awaiting.count >= 1
    # A reversal on a later day: netted out of the day it was paid, listed on the day it was made.
    later = next(p for p in ex.payments if p["id"] == demo.edge.reversed_later)
    assert london_day(later["recorded_at"]) == date(2026, 3, 25)
    s25, s26 = summaries[("DEW", date(2026, 3, 25))], summaries[("DEW", date(2026, 3, 26))]
    assert later["receipt_no"] in s25.reversed_receipts
    assert [r.receipt_no for r in s26.late_reversals] == [later["receipt_no"]]


def test_float_on_the_busy_day_reconciles_against_the_independent_count(both):
    ex, summaries = both
    busy = summaries[("DEW", BUSY_DAY)]
    want = expected(ex, "DEW", BUSY_DAY)
    rec = busy.cash_float
    assert rec.opening_pence == 10000 and rec.opening_source == "recorded"
    assert rec.top_ups_pence == 5000
    assert rec.cash_out_pence == want["cash_out"] >= 2000 + 3000
    assert rec.expected_pence == 10000 + 5000 - want["cash_out"]
    assert rec.counted_pence == 10000 + 5000 - want["cash_out"] - 250
    assert rec.difference_pence == -250
    assert rec.reason == "Coins <dropped> behind the till"
    assert rec.reversed_cash_pence >= 1500
    vouchers = busy.vouchers
    assert (vouchers.received, vouchers.issued, vouchers.counted, vouchers.expected) == (10, 1, 9, 9)
    assert vouchers.missing == [] and vouchers.unexpected == []
    # The next day opens with the count carried forward.
    nxt = summaries[("DEW", date(2026, 3, 25))].cash_float
    assert nxt.opening_pence == rec.counted_pence and nxt.opening_source.startswith("carried")


def test_sessions_report_people_walk_ins_and_children(both):
    _, summaries = both
    busy = summaries[("DEW", BUSY_DAY)]
    stay = next(s for s in busy.sessions if s.name == "Stay and play")
    assert (stay.people, stay.walk_ins, stay.children) == (2, 1, 3)
    assert (stay.starts, stay.ends) == ("12:00", "14:00")  # GMT in March before the 29th
