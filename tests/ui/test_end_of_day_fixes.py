"""End-of-day bugs from issue 8, each walked on the desk and read back through the store: a
reason typed after a short count goes into the reason (not into the count); an open drop-in
session is named, and closing the day asks to close it; ctrl+d asks before closing the day and
the desk then shows the day closed; voucher payments are counted; the approval box names the
young person, the category, the reason and why it needs a manager."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from deskpilot import SIZE, FakeClock, screen_name, unlock
from textual.message import Message

from hubdesk.domain.models import DropInSession
from hubdesk.messages import Saved
from hubdesk.store import day as day_store
from hubdesk.store.store import Store

DAY = date(2026, 11, 25)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


def option(screen, step: str) -> str:
    return str(screen.query_one("#checklist").get_option(step).prompt)


async def open_end_of_day(pilot) -> None:
    await unlock(pilot)
    await pilot.press("e")
    await pilot.pause()
    assert screen_name(pilot.app) == "EndOfDayScreen"


async def test_a_reason_typed_after_a_short_count_goes_into_the_reason(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=2000, method="cash", reason="Gas meter empty"
    )
    clock.advance(hours=5, minutes=55)  # 16:00
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        screen = desk_app.screen
        await pilot.press("3", *"200", "enter")  # opening balance £200.00; £20.00 paid out: £180.00 expected
        await pilot.pause()
        # Counted as a PA would: typed box by box, £175.00 in all.
        for box, count in (("#d-5000", "3"), ("#d-1000", "2"), ("#d-500", "1")):
            screen.query_one(box).focus()
            await pilot.press(count)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "£5.00 short: give a reason" in text_of(screen, "#count-check")
        assert screen.focused is screen.query_one("#count-reason")
        await pilot.press(*"5 pounds given for bus fare", "ctrl+s")  # Pilot cannot type £
        await pilot.pause()
        assert screen.query_one("#d-500").value == ""  # saved, so the boxes were emptied
    count = day_store.current_count(store, "DEW", DAY)
    assert count is not None
    assert (count.total_pence, count.expected_pence, count.reason) == (17500, 18000, "5 pounds given for bus fare")
    assert {(d.pence, d.count) for d in count.denominations} == {(5000, 3), (1000, 2), (500, 1)}


def stay_and_play(store: Store, at: datetime) -> DropInSession:
    return store.open_session(
        DropInSession(
            hub_code="DEW",
            session_type="stay-and-play",
            starts_at=at,
            staff=("sam",),
            opened_by="sam",
        )
    )


async def test_an_open_session_is_named_and_closing_the_day_asks_to_close_it(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    session = stay_and_play(store, clock() + timedelta(minutes=25))  # 10:30
    clock.advance(hours=5, minutes=55)  # 16:00
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await open_end_of_day(pilot)
        screen = desk_app.screen
        await pilot.press("7")
        await pilot.pause()
        blockers = text_of(screen, "#close-blockers")
        assert "Nothing is left open" not in blockers
        assert "1 drop-in session is still open (Stay and play from 10:30)" in blockers
        assert "1 thing open" in option(screen, "close")

        # ctrl+d asks, naming the session; no is no.
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        question = text_of(desk_app.screen, ".modal-box Static")
        assert "Stay and play from 10:30 is still open" in question and "16:00" in question
        await pilot.press("escape")
        await pilot.pause()
        assert day_store.day_closure(store, "DEW", DAY) is None
        assert store.get_session(session.id).closed_at is None

        # Yes closes the session, then the day.
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "closed 16:00" in option(screen, "close")

        # The desk shows the day closed, and the session closed with it.
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        desk = desk_app.screen
        assert "day closed 16:00" in text_of(desk, "#desk-title")
        sessions = desk.query_one("#sessions")
        assert str(sessions.get_row_at(0)[3]) == "closed"
    closed = store.get_session(session.id)
    assert closed.closed_at == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    closure = day_store.day_closure(store, "DEW", DAY)
    assert closure is not None and closure.closed_by == "sam"
    saved = {(m.kind, m.record_id) for m in messages if isinstance(m, Saved)}
    assert ("session", session.id) in saved and ("day_closure", closure.id) in saved


async def test_ctrl_d_asks_before_closing_the_day(desk_app, store: Store, people, clock: FakeClock) -> None:
    clock.advance(hours=6)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        screen = desk_app.screen
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        assert "Close 25 Nov 2026 at Dewsbury hub?" in text_of(desk_app.screen, ".modal-box Static")
        await pilot.press("escape")
        await pilot.pause()
        assert day_store.day_closure(store, "DEW", DAY) is None
        assert "ready" in option(screen, "close")
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "closed 16:05" in option(screen, "close")
    assert day_store.day_closure(store, "DEW", DAY) is not None


async def test_voucher_payments_are_counted_at_the_end_of_the_day(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    for serial in ("V100200", "V100201"):
        store.record_payment(
            person_id=people["kayden"].id,
            category="food-voucher",
            amount_pence=1500,
            method="voucher",
            voucher_serial=serial,
            reason="No food until Friday",
        )
    clock.advance(hours=6)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        screen = desk_app.screen
        state = option(screen, "float")
        assert "not used today" not in state and "2 vouchers not counted" in state
        await pilot.press("3")
        await pilot.pause()
        figures = text_of(screen, "#voucher-figures")
        assert "issued 2" in figures
        assert "Issued from no recorded stock: V100200-V100201" in figures
        await pilot.press("7")
        await pilot.pause()
        assert "2 vouchers issued today, not counted" in text_of(screen, "#close-blockers")
    vouchers = day_store.reconcile_vouchers(store, "DEW", DAY)
    assert vouchers.issued_total == 2 and vouchers.in_use
    assert vouchers.unknown_issued == ["V100200-V100201"]


async def test_the_approval_box_says_whose_payment_what_for_and_why(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    over_sam = store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=3500, method="utility_top_up", reason="No gas"
    )
    clock.advance(minutes=5)
    # £25.00 is within Sam's own £25.00 limit, but over the Travel limit of £20.00.
    over_travel = store.record_payment(
        person_id=people["kayden"].id, category="travel", amount_pence=2500, method="cash", reason="Train to court"
    )
    assert store.payment_state(over_travel.id) == "awaiting_approval"
    clock.advance(hours=5)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        screen = desk_app.screen
        await pilot.press("2", "a")
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        box = "\n".join(str(s.content) for s in desk_app.screen.query(".approval-line"))
        assert f"{people['zeb'].display_name}: Gas top-up, £35.00" in box
        assert "Reason: No gas" in box
        assert "£35.00 is over Sam Test-Duty's authorisation limit of £25.00" in box
        assert "Travel" not in box
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("down", "a")
        await pilot.pause()
        box = "\n".join(str(s.content) for s in desk_app.screen.query(".approval-line"))
        assert f"{people['kayden'].display_name}: Travel, £25.00" in box
        assert "Reason: Train to court" in box
        assert "£25.00 is over the Travel limit of £20.00" in box
        assert "authorisation limit" not in box  # Sam's own limit is £25.00: not the reason
        desk_app.screen.query_one("#manager").value = "nadia"
        desk_app.screen.query_one("#manager-passphrase").value = "correct horse battery"
        await pilot.press("enter")
        await pilot.pause()
        assert screen.query_one("#awaiting").row_count == 1
    assert store.payment_state(over_travel.id) == "approved"
    assert store.payment_state(over_sam.id) == "awaiting_approval"


async def test_signed_in_and_out_within_one_minute_takes_the_time_offered(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    """The sign-out box offers now as 10:05; someone who came in at 10:05:30 was refused as
    'before they signed in (10:05)' (found by the day-at-the-hub walk when it ran fast)."""
    from hubdesk.domain.models import Contact

    clock.advance(seconds=30)
    store.record_contact(
        Contact(
            person_id=people["kayden"].id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=clock(),
            recorded_at=clock(),
            seen=True,
            purposes=("money",),
            summary="In for a minute",
        )
    )
    clock.advance(seconds=10)
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert screen_name(desk_app) == "SignOutModal"
        assert desk_app.screen.query_one("#sign-out-at").value == "10:05"
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(desk_app) == "EndOfDayScreen"
    assert store.in_building() == []
    [visit] = store.contacts_for_person(people["kayden"].id)
    assert visit.ended_at == visit.started_at


async def test_after_the_day_is_closed_new_records_are_refused_before_any_typing(
    desk_app, store: Store, people, clock: FakeClock
) -> None:
    """A closed day was refused only at a form's ctrl+s, after the PA had typed it all: now
    the visit, contact and payment keys, a new session and the register say so at once."""
    session = stay_and_play(store, clock() + timedelta(minutes=25))
    clock.advance(hours=6)
    store.close_session(session.id, at=clock())
    notes: list[str] = []
    async with desk_app.run_test(size=SIZE) as pilot:
        await open_end_of_day(pilot)
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert day_store.day_closure(store, "DEW", DAY) is not None
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        desk_app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        for key in ("v", "c", "p"):
            await pilot.press(key)
            await pilot.pause()
            assert screen_name(desk_app) == "DeskScreen", key
        assert notes[-3:] == ["The day at this hub was closed at 16:05: nothing more can be recorded today."] * 3
        await pilot.press("s")
        await pilot.pause()
        assert screen_name(desk_app) == "SessionsScreen"
        await pilot.press("n")
        await pilot.pause()
        assert screen_name(desk_app) == "SessionsScreen"
    assert len(notes) == 4
