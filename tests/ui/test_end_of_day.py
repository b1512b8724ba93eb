"""The end-of-day walk on a desk with a day in it, results read back through the store:
sign-outs at a typed time, a payment carried over with a reason, the float counted £5.00
short with a reason, the summary and 8 weeks of trends on screen, a handover note shown at
the next unlock, the day closed, and sync as the last step (not enrolled: said plainly;
enrolled: everything reaches the live service)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from deskpilot import SIZE, FakeClock, screen_name, unlock
from textual.message import Message

from hubdesk.app import make_app
from hubdesk.domain.models import Contact
from hubdesk.messages import Saved, SyncDone, SyncFailed
from hubdesk.screens.sync_job import NOT_ENROLLED
from hubdesk.store import day as day_store
from hubdesk.store.store import Store

DAY = date(2026, 11, 25)


def drop_in(store: Store, person_id: str, at: datetime) -> Contact:
    return store.record_contact(
        Contact(
            person_id=person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=at,
            recorded_at=at,
            seen=True,
            purposes=("money",),
            summary="Synthetic visit",
        )
    )


def a_day(store: Store, people, clock: FakeClock) -> dict[str, str]:
    """Two still in, one £20.00 cash payment paid, one £35.00 awaiting approval."""
    store.clock = clock
    kayden = drop_in(store, people["kayden"].id, clock())
    amira = drop_in(store, people["amira"].id, clock())
    cash = store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=2000, method="cash", reason="Gas meter empty"
    )
    waiting = store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=3500, method="utility_top_up", reason="No gas"
    )
    return {"kayden": kayden.contact_id, "amira": amira.contact_id, "cash": cash.id, "waiting": waiting.id}


async def wait_for(pilot, condition, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("timed out waiting")
        await pilot.pause(0.05)


async def test_the_end_of_day_walk(desk_app, store: Store, people, clock: FakeClock, data_dir) -> None:
    made = a_day(store, people, clock)
    clock.advance(hours=5, minutes=55)  # 16:00
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await pilot.pause()
        screen = desk_app.screen
        assert screen_name(desk_app) == "EndOfDayScreen"
        checklist = screen.query_one("#checklist")
        assert "2 still in" in str(checklist.get_option("still-in").prompt)
        assert "1 to settle" in str(checklist.get_option("payments").prompt)

        # Everyone still in is signed out at the time they left, typed (now by default).
        await pilot.press("O")
        await pilot.pause()
        assert screen_name(desk_app) == "SignOutModal"
        assert desk_app.screen.query_one("#sign-out-at").value == "16:00"
        desk_app.screen.query_one("#sign-out-at").value = "16:30"
        await pilot.press("enter")
        await pilot.pause()
        assert "not come yet" in str(desk_app.screen.query_one("#sign-out-error").content)
        desk_app.screen.query_one("#sign-out-at").value = "15:10"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#still-in").row_count == 0
        assert "nobody in" in str(checklist.get_option("still-in").prompt)

        # The payment awaiting approval is carried over to the next duty, with a reason.
        await pilot.press("2")
        await pilot.press("c")
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press(*"Manager not in today", "enter")
        await pilot.pause()
        assert str(screen.query_one("#awaiting").get_row_at(0)[4]) == "Manager not in today"

        # The float: opened at £200.00, £20.00 paid out in cash, counted £175.00.
        await pilot.press("escape", "3")
        await pilot.pause()
        assert screen.focused is screen.query_one("#float-amount")
        await pilot.press(*"200", "enter")
        await pilot.pause()
        figures = str(screen.query_one("#float-figures").content)
        assert "£200.00 (recorded)" in figures and "£20.00 (1 payment)" in figures and "£180.00" in figures
        screen.query_one("#d-5000").value = "3"
        screen.query_one("#d-1000").value = "2"
        screen.query_one("#d-500").value = "1"
        await pilot.pause()
        assert "Counted £175.00 · expected £180.00 · £5.00 short: give a reason" in str(
            screen.query_one("#count-check").content
        )
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "give a reason" in str(screen.query_one("#count-check").content)
        assert day_store.current_count(store, "DEW", DAY) is None
        screen.query_one("#count-reason").value = "£5 given for bus fare, not recorded; recorded now"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "£5.00 short" in str(checklist.get_option("float").prompt)

        # The day's summary and the last 8 weeks, on screen.
        await pilot.press("escape", "4")
        await pilot.pause()
        summary = screen.query_one("#summary").source
        assert "Daily summary: Dewsbury hub (DEW)" in summary and "Cash float" in summary
        await pilot.press("escape", "5")
        await pilot.pause()
        assert len(screen.query_one("#trend-contacts").data) == 8
        assert screen.query_one("#trend-table").row_count == 8

        # The handover note for tomorrow's duty.
        await pilot.press("escape", "6")
        await pilot.pause()
        await pilot.press(*"Kayden may come in about his gas meter")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "written" in str(checklist.get_option("handover").prompt)

        # Close the day (it asks first); sync is the last step, and this desk is not enrolled.
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        await pilot.press("enter")
        await pilot.pause()
        assert "closed 16:00" in str(checklist.get_option("close").prompt)
        assert screen.query_one("#sync-status").text.startswith("Not enrolled")
        assert str(screen.query_one("#close-message").content) == NOT_ENROLLED

    # A Saved message bubbles from the screen to the app: count each record once.
    saved = [kind for kind, _ in {(m.kind, m.record_id) for m in messages if isinstance(m, Saved)}]
    assert saved.count("sign_out") == 2
    assert {"payment_carry_over", "cash_float", "float_count", "handover_note", "day_closure"} <= set(saved)
    assert [m.text for m in messages if isinstance(m, SyncFailed)] == [NOT_ENROLLED]

    # Read back through the store.
    assert store.in_building() == []
    for key in ("kayden", "amira"):
        visit = store.current_contact(made[key])
        assert visit.ended_at == datetime(2026, 11, 25, 15, 10, tzinfo=UTC)
    [carried] = day_store.carried_over(store, "DEW", DAY)
    assert carried.payment_id == made["waiting"] and carried.reason == "Manager not in today"
    assert store.payment_state(made["waiting"]) == "awaiting_approval"
    count = day_store.current_count(store, "DEW", DAY)
    assert count is not None
    assert (count.total_pence, count.expected_pence, count.difference_pence) == (17500, 18000, -500)
    assert count.reason.startswith("£5 given for bus fare")
    assert {(d.pence, d.count) for d in count.denominations} == {(5000, 3), (1000, 2), (500, 1)}
    [note] = day_store.handover_notes(store, "DEW", DAY)
    assert note.text == "Kayden may come in about his gas meter" and note.written_by == "sam"
    closure = day_store.day_closure(store, "DEW", DAY)
    assert closure is not None and closure.closed_by == "sam" and closure.float_count_id == count.id

    # Next morning: the handover note is on the desk after unlock.
    store.lock()
    morning = FakeClock(datetime(2026, 11, 26, 9, 40, tzinfo=UTC))
    app = make_app(data_dir, clock=morning, idle_minutes=5)
    async with app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        box = app.screen.query_one("#handover")
        assert box.display
        text = str(box.content)
        assert "Handover from Sam Test-Duty (25 Nov): Kayden may come in about his gas meter" in text
        await pilot.press("h")
        await pilot.pause()
        assert not box.display


async def test_the_day_cannot_close_with_things_open(desk_app, store: Store, people, clock: FakeClock) -> None:
    a_day(store, people, clock)
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("ctrl+d")
        await pilot.pause()
        screen = desk_app.screen
        blockers = str(screen.query_one("#close-blockers").content)
        assert "2 people are still signed in" in blockers
        assert "1 payment awaiting approval" in blockers
        assert "the cash float is not counted" in blockers  # a cash payment was made
        assert "cannot be closed yet" in str(screen.query_one("#close-message").content)
    assert day_store.day_closure(store, "DEW", DAY) is None


async def test_closing_the_day_syncs_everything_to_the_live_service(
    desk_app, store: Store, people, clock: FakeClock, tmp_path
) -> None:
    from hubcentral.storage import CentralStore
    from tests.sync.sync_helpers import CENTRAL_REFERENCE, LiveServer, enrol_device

    db = str(tmp_path / "central.db")
    central = CentralStore.open(db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    server = LiveServer(db).start()
    try:
        enrol_device(store, server, central)
        store.clock = clock
        desk_app.settings.background_sync = False
        messages: list[Message] = []
        async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
            await unlock(pilot)
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("6", *"Quiet day", "ctrl+s")
            await pilot.pause()
            await pilot.press("ctrl+d")
            await pilot.pause()
            await pilot.press("enter")  # yes, close the day
            await wait_for(pilot, lambda: any(isinstance(m, (SyncDone, SyncFailed)) for m in messages))
            await pilot.pause()
            screen = desk_app.screen
            assert "nothing waiting" in screen.query_one("#sync-status").text
            assert str(screen.query_one("#close-message").content) == "Everything reached the central record."
        [done] = [m for m in messages if isinstance(m, SyncDone)]
        assert done.full and not done.background and done.pushed == done.accepted
        assert store.outbox_waiting() == 0
        closure = day_store.day_closure(store, "DEW", DAY)
        assert closure is not None
        assert [r["id"] for r in central.records("day_closure")] == [closure.id]
        assert [r["text"] for r in central.records("handover_note")] == ["Quiet day"]
    finally:
        server.stop()
        central.close()


async def test_voucher_stock_by_serial_range(desk_app, store: Store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("e", "3")
        await pilot.pause()
        screen = desk_app.screen
        screen.query_one("#voucher-kind").value = "received"
        screen.query_one("#voucher-first").value = "V100200"
        screen.query_one("#voucher-last").value = "V100249"
        screen.query_one("#voucher-last").focus()
        await pilot.press("enter")
        await pilot.pause()
        screen.query_one("#voucher-kind").value = "counted"
        screen.query_one("#voucher-first").value = "V100200"
        screen.query_one("#voucher-last").value = "V100247"
        screen.query_one("#voucher-last").focus()
        await pilot.press("enter")
        await pilot.pause()
        figures = str(screen.query_one("#voucher-figures").content)
        assert "received 50" in figures and "expected 50" in figures and "counted 48" in figures
        assert "Missing (expected, not counted): V100248-V100249" in figures
    events = day_store.voucher_events(store, "DEW", DAY)
    assert [(e.kind.value, e.first_no, e.last_no) for e in events] == [
        ("received", 100200, 100249),
        ("counted", 100200, 100247),
    ]
