"""Closing a day in the store, issue 8: open drop-in sessions are on the checklist and close with
the day only when asked; voucher payments count as issued even with no stock recorded; a
payment awaiting approval says why, in words, and a payment at the PA's own limit needs none."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hubdesk.domain.models import DropInSession
from hubdesk.store import day as day_store
from hubdesk.store.errors import NotAllowed
from hubdesk.store.store import Store

DAY = date(2026, 11, 24)


def at(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def desk(store: Store) -> Store:
    store.clock = lambda: at(9)
    return store


def pay(store: Store, person, pence: int, category: str, method: str = "cash", **kw):
    return store.record_payment(
        person_id=person.id, category=category, amount_pence=pence, method=method, reason="Bus fare", **kw
    )


def session(store: Store, starts: datetime) -> DropInSession:
    return store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=starts, opened_by="sam")
    )


def test_an_open_session_is_on_the_checklist_and_closes_with_the_day_only_when_asked(desk: Store):
    open_one = session(desk, at(10, 30))
    closed_one = session(desk, at(9, 30))
    desk.close_session(closed_one.id, at(10))
    session(desk, at(10, 30, day=25))  # tomorrow's: not this day's business
    desk.clock = lambda: at(16)
    checklist = day_store.day_checklist(desk, "DEW", DAY)
    assert [s.id for s in checklist.open_sessions] == [open_one.id]
    assert checklist.blockers == [] and not checklist.ready
    assert checklist.still_open == ["1 drop-in session is still open"]

    with pytest.raises(NotAllowed, match="1 drop-in session is still open"):
        day_store.close_day(desk, day=DAY)
    assert desk.get_session(open_one.id).closed_at is None

    closure = day_store.close_day(desk, day=DAY, close_sessions=True)
    assert closure.day == DAY
    closed = desk.get_session(open_one.id)
    assert closed.closed_at == at(16) and closed.ends_at == at(16)
    assert day_store.day_checklist(desk, "DEW", DAY).open_sessions == []
    assert [i.kind for i in desk.outbox()[-2:]] == ["session", "day_closure"]


def test_a_session_left_open_closes_at_the_end_of_its_own_day(desk: Store):
    """Closing yesterday's day this morning does not stretch its session over the night."""
    yesterday = session(desk, at(14))
    desk.clock = lambda: at(9, day=25)
    day_store.close_day(desk, day=DAY, close_sessions=True)
    closed = desk.get_session(yesterday.id).closed_at
    assert closed is not None and closed.date() == DAY and closed > at(23, 59)


def test_voucher_payments_count_as_issued_with_no_stock_recorded(desk: Store, person):
    desk.clock = lambda: at(11)
    pay(desk, person, 1500, "food-voucher", "voucher", voucher_serial="V100200")
    pay(desk, person, 1500, "food-voucher", "voucher", voucher_serial="V100201")
    pay(desk, person, 1500, "food-voucher", "voucher", voucher_serial="FOOD-7")  # not letters then a number
    rec = day_store.reconcile_vouchers(desk, "DEW", DAY)
    assert rec.in_use and rec.issued_total == 3
    assert rec.issued == 0  # none of them came from recorded stock
    assert rec.unknown_issued == ["V100200-V100201", "FOOD-7"]


def test_a_payment_awaiting_approval_says_why(desk: Store, person):
    desk.clock = lambda: at(11)
    over_sam = pay(desk, person, 3500, "gas")
    over_travel = pay(desk, person, 2500, "travel")
    over_both = pay(desk, person, 4500, "gas")
    assert day_store.awaiting_reasons(desk, desk.get_payment(over_sam.id)) == (
        "£35.00 is over Sam Test-Duty's authorisation limit of £25.00",
    )
    assert day_store.awaiting_reasons(desk, desk.get_payment(over_travel.id)) == (
        "£25.00 is over the Travel limit of £20.00",
    )
    assert len(day_store.awaiting_reasons(desk, desk.get_payment(over_both.id))) == 2


def test_a_payment_at_the_pas_own_limit_needs_no_approval(desk: Store, person):
    """£25.00 by Sam, whose limit is £25.00, in a category whose limit is higher: approved."""
    desk.clock = lambda: at(11)
    payment = pay(desk, person, 2500, "gas")
    assert payment.status.value == "approved" and payment.authorised_by == "sam"
    assert desk.awaiting_approval() == []


def test_a_payment_within_todays_limits_still_says_why_it_waits(desk: Store, person):
    """Limits can be raised after a payment was saved awaiting approval: say so, not nothing."""
    from tests.conftest import REFERENCE

    desk.clock = lambda: at(11)
    payment = pay(desk, person, 2500, "travel")
    raised = REFERENCE.model_copy(
        update={
            "payment_categories": tuple(
                c.model_copy(update={"limit_pence": 5000}) if c.code == "travel" else c
                for c in REFERENCE.payment_categories
            )
        }
    )
    desk.set_reference(raised)
    [why] = day_store.awaiting_reasons(desk, desk.get_payment(payment.id))
    assert why == (
        "It was saved awaiting approval; £25.00 is within Sam Test-Duty's limit of £25.00 and "
        "the Travel limit of £50.00 now, so a limit may have changed since"
    )
