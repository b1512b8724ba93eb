"""Closing a hub day in the store: float, vouchers, handover, carried-over payments, closure."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from hubdesk.domain.day import FloatCount
from hubdesk.store import day as day_store
from hubdesk.store import sqlcipher
from hubdesk.store.errors import NotAllowed, StoreError
from hubdesk.store.schema import DAY_EVENTS
from hubdesk.store.store import Store

DAY = date(2026, 11, 24)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)


@pytest.fixture
def desk(store: Store) -> Store:
    store.clock = lambda: at(9)
    return store


def pay(store: Store, person, pence: int, method: str = "cash", hour: int = 11, **kw):
    store.clock = lambda: at(hour)
    return store.record_payment(
        person_id=person.id,
        category=kw.pop("category", "travel"),
        amount_pence=pence,
        method=method,
        reason="Bus fare",
        **kw,
    )


def test_float_difference_needs_a_reason_and_is_recorded_audited_and_queued(desk: Store, person):
    day_store.record_float_event(desk, "opening", 10000, day=DAY)
    day_store.record_float_event(desk, "top_up", 2000, day=DAY, note="From the finance office")
    pay(desk, person, 1500)
    pay(desk, person, 500, hour=12)
    reversed_ = pay(desk, person, 700, hour=13)
    desk.reverse_payment(reversed_.id, "Recorded twice")
    pay(desk, person, 1800, method="card", hour=14)
    pay(desk, person, 3000, category="gas", hour=15)  # cash but over Sam's limit: awaiting, not paid out

    rec = day_store.reconcile_float(desk, "DEW", DAY)
    assert (rec.opening_pence, rec.top_ups_pence, rec.cash_out_pence, rec.cash_payments) == (10000, 2000, 2000, 2)
    assert rec.expected_pence == 10000
    assert rec.reversed_cash_pence == 700 and rec.count is None

    desk.clock = lambda: at(16, 30)
    with pytest.raises(ValidationError, match=r"£3\.20 short: give a reason"):
        day_store.count_float(desk, day=DAY, denominations={2000: 4, 1000: 1, 500: 1, 100: 1, 50: 1, 10: 3})
    before = (desk.count("audit"), desk.count("outbox"))
    count = day_store.count_float(
        desk,
        day=DAY,
        denominations={2000: 4, 1000: 1, 500: 1, 100: 1, 50: 1, 10: 3},
        reason="A £2 coin and change given for the laundry, no receipt",
    )
    assert count.total_pence == 9680 and count.difference_pence == -320
    assert [d.pence for d in count.denominations] == [2000, 1000, 500, 100, 50, 10]
    assert (desk.count("audit"), desk.count("outbox")) == (before[0] + 1, before[1] + 1)
    item = desk.outbox()[-1]
    assert item.kind == "float_count" and item.record_id == count.id
    assert FloatCount.model_validate_json(item.body) == count
    audit = desk._rows("SELECT action, kind, record_id, detail FROM audit ORDER BY seq DESC LIMIT 1")[0]
    assert audit[:3] == ("create", "float_count", count.id)

    rec = day_store.reconcile_float(desk, "DEW", DAY)
    assert rec.counted_pence == 9680 and rec.difference_pence == -320 and rec.explained
    assert not rec.changed_since_count

    # Counting again replaces the count; both stay.
    desk.clock = lambda: at(16, 45)
    again = day_store.count_float(desk, day=DAY, total_pence=10000)
    assert again.recounts == count.id and again.difference_pence == 0
    assert day_store.current_count(desk, "DEW", DAY) == again
    assert desk._rows("SELECT count(*) FROM float_counts")[0][0] == 2


def test_count_by_total_and_by_denominations_must_agree(desk: Store):
    day_store.record_float_event(desk, "opening", 5000, day=DAY)
    with pytest.raises(ValidationError, match=r"add up to £40\.00, not £50\.00"):
        day_store.count_float(desk, day=DAY, denominations={2000: 2}, total_pence=5000)
    with pytest.raises(ValidationError, match="Not a sterling note or coin"):
        day_store.count_float(desk, day=DAY, denominations={300: 1})
    with pytest.raises(NotAllowed, match="notes and coins, or as a total"):
        day_store.count_float(desk, day=DAY)
    assert day_store.count_float(desk, day=DAY, denominations={2000: 2, 1000: 1}).difference_pence == 0


def test_one_opening_a_day_and_plain_messages_for_bad_amounts(desk: Store):
    day_store.record_float_event(desk, "opening", 5000, day=DAY)
    with pytest.raises(NotAllowed, match="already recorded"):
        day_store.record_float_event(desk, "opening", 6000, day=DAY)
    with pytest.raises(ValidationError, match=r"Top-up must be more than £0\.00"):
        day_store.record_float_event(desk, "top_up", 0, day=DAY)
    with pytest.raises(ValidationError, match="whole number of pence"):
        day_store.record_float_event(desk, "top_up", 12.5, day=DAY)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="No hub with the code ZZ"):
        day_store.record_float_event(desk, "top_up", 100, day=DAY, hub_code="ZZ")
    with pytest.raises(NotAllowed, match="This desk is at DEW: record N11's day on a desk there"):
        day_store.record_float_event(desk, "top_up", 100, day=DAY, hub_code="n11")


def test_opening_carries_forward_from_the_last_count(desk: Store):
    day_store.record_float_event(desk, "opening", 5000, day=date(2026, 11, 20))
    day_store.count_float(desk, day=date(2026, 11, 20), total_pence=4900, reason="Short by a pound")
    rec = day_store.reconcile_float(desk, "DEW", DAY)
    assert rec.opening_pence == 4900 and "20 Nov 2026" in rec.opening_source
    assert day_store.reconcile_float(desk, "N11", DAY).opening_pence is None


@pytest.mark.parametrize("table", DAY_EVENTS)
def test_day_events_are_never_edited_or_deleted(desk: Store, person, table: str):
    day_store.record_float_event(desk, "opening", 0, day=DAY)
    day_store.count_float(desk, day=DAY, total_pence=0)
    day_store.record_voucher_stock(desk, "received", "V1", "V5", day=DAY)
    day_store.write_handover(desk, "Quiet day.", day=DAY)
    awaiting = pay(desk, person, 3000, category="gas")
    day_store.carry_over(desk, awaiting.id, "Duty manager out until tomorrow", day=DAY)
    desk.clock = lambda: at(17)
    day_store.close_day(desk, day=DAY)
    assert desk._rows(f"SELECT count(*) FROM {table}")[0][0] >= 1
    with pytest.raises(StoreError, match="never edited or deleted"), desk._save():
        desk.db.execute(f"UPDATE {table} SET body = body")
    with pytest.raises(StoreError, match="never edited or deleted"), desk._save():
        desk.db.execute(f"DELETE FROM {table}")


def test_close_day_waits_for_sign_outs_payments_and_the_float(desk: Store, person):
    from hubdesk.domain.models import Contact

    desk.clock = lambda: at(10, 5)
    visit = desk.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=at(10),
            recorded_at=at(10, 5),
            seen=True,
            purposes=("housing",),
            summary="Came in.",
        )
    )
    awaiting = pay(desk, person, 3000, category="gas")
    pay(desk, person, 1000)
    desk.clock = lambda: at(17)
    checklist = day_store.day_checklist(desk, "DEW", DAY)
    assert checklist.blockers == [
        "1 person is still signed in",
        "1 payment awaiting approval: approve, decline or carry over",
        "the cash float is not counted",
    ]
    with pytest.raises(NotAllowed, match="cannot be closed yet: 1 person is still signed in"):
        day_store.close_day(desk, day=DAY)

    desk.sign_out(visit.contact_id, at(16))
    carried = day_store.carry_over(desk, awaiting.id, "Duty manager out until tomorrow", day=DAY)
    assert carried.payment_id == awaiting.id
    with pytest.raises(NotAllowed, match="already carried over"):
        day_store.carry_over(desk, awaiting.id, "again", day=DAY)
    day_store.count_float(desk, day=DAY, total_pence=0, reason="No float opened; £10 came from the safe")
    day_store.write_handover(desk, "Gas top-up waiting for Nadia's approval.", day=DAY)
    checklist = day_store.day_checklist(desk, "DEW", DAY)
    assert checklist.blockers == [] and checklist.ready and checklist.handover_written

    closure = day_store.close_day(desk, day=DAY, note="All done")
    assert closure.contacts == 1 and closure.payments_net_pence == 1000
    assert day_store.day_closure(desk, "DEW", DAY) == closure
    assert desk.outbox()[-1].kind == "day_closure"
    # The closed day takes nothing more.
    for attempt in (
        lambda: day_store.record_float_event(desk, "top_up", 100, day=DAY),
        lambda: day_store.count_float(desk, day=DAY, total_pence=0),
        lambda: day_store.write_handover(desk, "Late note", day=DAY),
        lambda: day_store.close_day(desk, day=DAY),
    ):
        with pytest.raises(NotAllowed, match="already closed"):
            attempt()


def test_handover_is_shown_for_the_next_duty(desk: Store):
    desk.clock = lambda: at(16)
    day_store.write_handover(desk, "Keys are with reception.", day=date(2026, 11, 20))
    first = day_store.write_handover(desk, "Check the laundry booking.", day=DAY)
    desk.clock = lambda: at(16, 30)
    second = day_store.write_handover(desk, "Boiler engineer due at 10.", day=DAY)
    assert day_store.handover_for(desk, "DEW", date(2026, 11, 25)) == [first, second]
    assert [n.text for n in day_store.handover_for(desk, "DEW", DAY)] == ["Keys are with reception."]
    assert day_store.handover_for(desk, "N11", date(2026, 11, 25)) == []


def test_voucher_stock_finds_missing_and_unknown_serials(desk: Store, person):
    day_store.record_voucher_stock(desk, "received", "v200", "V219", day=DAY)
    day_store.record_voucher_stock(desk, "returned", "V218", "V219", day=DAY)
    pay(desk, person, 1000, method="voucher", category="food-voucher", voucher_serial="V205")
    pay(desk, person, 1000, method="voucher", category="food-voucher", voucher_serial="X9", hour=12)
    day_store.record_voucher_stock(desk, "counted", "V200", "V204", day=DAY)
    day_store.record_voucher_stock(desk, "counted", "V207", "V217", day=DAY)
    rec = day_store.reconcile_vouchers(desk, "DEW", DAY)
    assert (rec.received, rec.returned, rec.issued, rec.expected, rec.counted) == (20, 2, 1, 17, 16)
    assert rec.missing == ["V206"] and rec.unexpected == [] and rec.unknown_issued == ["X9"]
    with pytest.raises(NotAllowed, match="different letters"):
        day_store.record_voucher_stock(desk, "received", "V1", "W2", day=DAY)
    with pytest.raises(ValidationError, match="last serial number is before the first"):
        day_store.record_voucher_stock(desk, "received", "V9", "V2", day=DAY)
    # The next day starts from this count.
    assert day_store.reconcile_vouchers(desk, "DEW", date(2026, 11, 25)).start_stock == 16


def test_a_later_decision_shows_as_changed_since_the_count(desk: Store, person):
    day_store.record_float_event(desk, "opening", 5000, day=DAY)
    awaiting = pay(desk, person, 3000, category="gas")
    desk.clock = lambda: at(16)
    day_store.count_float(desk, day=DAY, total_pence=5000)
    nadia = desk.get_user("nadia")
    desk.clock = lambda: at(16, 10)
    desk.decide_payment(awaiting.id, True, nadia)
    rec = day_store.reconcile_float(desk, "DEW", DAY)
    assert rec.cash_out_pence == 3000 and rec.difference_pence == 3000 and rec.changed_since_count
    assert not rec.explained


def test_saving_needs_a_user(desk: Store):
    desk.user = None
    with pytest.raises(NotAllowed, match="Unlock as a user"):
        day_store.record_float_event(desk, "opening", 100, day=DAY)


def test_day_records_go_out_as_push_items_the_sync_protocol_accepts(desk: Store, person):
    """Each save queues one outbox row whose kind and body fit the sync protocol."""
    from hubdesk.sync.protocol import PushItem

    awaiting = pay(desk, person, 3000, category="gas")
    start = desk.outbox()[-1].seq
    day_store.record_float_event(desk, "opening", 0, day=DAY)
    day_store.count_float(desk, day=DAY, total_pence=0)
    day_store.record_voucher_stock(desk, "received", "V1", "V5", day=DAY)
    day_store.write_handover(desk, "Quiet day.", day=DAY)
    day_store.carry_over(desk, awaiting.id, "Duty manager out until tomorrow", day=DAY)
    desk.clock = lambda: at(17)
    day_store.close_day(desk, day=DAY)
    items = desk.outbox(after_seq=start)
    assert [i.kind for i in items] == list(day_store.OUTBOX_KINDS.values())
    for item in items:
        body = json.loads(item.body)
        assert body["id"] == item.record_id and body["hub_code"] == "DEW"
        PushItem(
            id=item.id, seq=item.seq, kind=item.kind, record_id=item.record_id, body=body, created_at=datetime.now(UTC)
        )
    audited = desk._rows(
        "SELECT kind, record_id FROM audit WHERE record_id IN ({})".format(",".join("?" * len(items))),
        [i.record_id for i in items],
    )
    assert sorted(audited) == sorted((i.kind, i.record_id) for i in items)


def test_a_save_that_fails_half_way_leaves_nothing(desk: Store, monkeypatch: pytest.MonkeyPatch):
    counts = (desk.count("audit"), desk.count("outbox"))

    def broken(*args, **kwargs):
        raise sqlcipher.OperationalError("disk I/O error")

    monkeypatch.setattr(desk, "_outbox", broken)
    with pytest.raises(StoreError):
        day_store.record_float_event(desk, "opening", 5000, day=DAY)
    monkeypatch.undo()
    assert (desk.count("audit"), desk.count("outbox")) == counts
    assert desk._rows("SELECT count(*) FROM cash_float_events") == [(0,)]
    assert day_store.record_float_event(desk, "opening", 5000, day=DAY).amount_pence == 5000


def test_the_audit_chain_is_whole_after_closing_a_day(desk: Store, data_dir, person):
    from hubdesk.store.doctor import doctor
    from tests.conftest import PASSPHRASE

    day_store.record_float_event(desk, "opening", 5000, day=DAY)
    pay(desk, person, 1000)
    desk.clock = lambda: at(16)
    day_store.count_float(desk, day=DAY, total_pence=4000)
    day_store.write_handover(desk, "Nothing open.", day=DAY)
    day_store.close_day(desk, day=DAY)
    desk.lock()
    report = doctor(data_dir, login="sam", passphrase=PASSPHRASE)
    assert report.ok, report.text()


def test_voucher_stock_carries_over_days_without_a_count(desk: Store, person):
    monday, tuesday, wednesday = date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)
    desk.clock = lambda: datetime(2026, 11, 23, 9, tzinfo=UTC)
    day_store.record_voucher_stock(desk, "received", "V1", "V10", day=monday)
    day_store.record_voucher_stock(desk, "counted", "V1", "V10", day=monday)
    desk.clock = lambda: datetime(2026, 11, 24, 9, tzinfo=UTC)
    day_store.record_voucher_stock(desk, "received", "V11", "V20", day=tuesday)  # no count on Tuesday
    pay(desk, person, 1000, method="voucher", category="food-voucher", voucher_serial="V3")
    reversed_ = pay(desk, person, 1000, method="voucher", category="food-voucher", voucher_serial="V4", hour=12)
    desk.reverse_payment(reversed_.id, "Not handed over")
    desk.clock = lambda: datetime(2026, 11, 25, 9, tzinfo=UTC)
    day_store.record_voucher_stock(desk, "returned", "V19", "V20", day=wednesday)
    desk.clock = lambda: datetime(2026, 11, 25, 10, tzinfo=UTC)
    desk.record_payment(
        person_id=person.id,
        category="food-voucher",
        amount_pence=1000,
        method="voucher",
        voucher_serial="V12",
        reason="Food",
    )
    day_store.record_voucher_stock(desk, "counted", "V1", "V2", day=wednesday)
    day_store.record_voucher_stock(desk, "counted", "V4", "V11", day=wednesday)
    day_store.record_voucher_stock(desk, "counted", "V13", "V17", day=wednesday)
    rec = day_store.reconcile_vouchers(desk, "DEW", wednesday)
    assert rec.start_stock == 19  # V1-V20 less V3, issued on Tuesday
    assert (rec.received, rec.returned, rec.issued, rec.expected, rec.counted) == (0, 2, 1, 16, 15)
    assert rec.missing == ["V18"] and rec.unexpected == []
