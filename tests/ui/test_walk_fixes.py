"""Bugs found walking A-DAY-AT-THE-HUB.md on the real binary in tmux (see
tests/test_day_at_the_hub_tmux.py), each pinned here by a Pilot test that failed before its fix."""

from __future__ import annotations

from deskpilot import PASSPHRASE, SIZE, burst, screen_name, unlock

from hubdesk.app import HubDeskApp

# --- ctrl+l straight after typing ------------------------------------------------------------


async def _lock_with_typing_pending(pilot, app: HubDeskApp, field: str, text: str) -> None:
    """Type into `field` and lock before the form has handled what was typed: on a busy
    laptop the change events were still queued when ctrl+l (a priority key) dropped the key."""
    box = app.screen.query_one(f"#{field}")
    box.focus()
    box.value = text  # posts Input.Changed; not yet handled
    app.lock_desk("by hand")
    for _ in range(3):
        await pilot.pause()


async def test_locking_while_a_contact_form_is_taking_typing_keeps_it(desk_app, store, people) -> None:
    """The desk crashed (StoreLocked in the form's change handler) and the typing was lost."""
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("c", *"amira", "enter")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "ContactFormScreen"
        await _lock_with_typing_pending(pilot, desk_app, "summary", "Rang about her bursary")
        assert desk_app.is_running and screen_name(desk_app) == "UnlockScreen"
        await unlock(pilot)
        assert desk_app.screen is form
        assert form.query_one("#summary").value == "Rang about her bursary"


async def test_locking_while_a_payment_form_is_taking_typing_keeps_it(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("p", *"amira", "enter")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "PaymentFormScreen"
        await _lock_with_typing_pending(pilot, desk_app, "amount", "12.50")
        assert desk_app.is_running and screen_name(desk_app) == "UnlockScreen"
        await unlock(pilot)
        assert desk_app.screen is form
        assert form.query_one("#amount").value == "12.50"


async def test_locking_while_a_search_is_being_typed_keeps_it(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash")
        await pilot.pause()
        search = desk_app.screen
        assert screen_name(desk_app) == "SearchScreen"
        await _lock_with_typing_pending(pilot, desk_app, "query", "kay")
        assert desk_app.is_running and screen_name(desk_app) == "UnlockScreen"
        await unlock(pilot)
        assert desk_app.screen is search
        assert search.query_one("#query").value == "kay"
        await pilot.press("y")  # the search still answers once unlocked
        await pilot.pause()
        assert "Kayden" in str(search.query_one("#results").get_row_at(0)[0])


# --- the unlock screen: the passphrase typed straight after the user name -------------------------


async def test_a_passphrase_typed_straight_after_the_user_name_goes_into_the_passphrase_box(
    desk_app, store, people
) -> None:
    """Enter in the user box moved on only once its Submitted message was handled, so the
    first letters of a passphrase typed fast landed in the user box, in clear text."""
    desk_app.last_login = None
    async with desk_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = desk_app.screen
        assert screen_name(desk_app) == "UnlockScreen"
        screen.query_one("#login").value = ""
        screen.query_one("#login").focus()
        await burst(pilot, *"sam", "enter", *PASSPHRASE)
        assert screen.query_one("#login").value == "sam"
        assert screen.query_one("#passphrase").value == PASSPHRASE
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"


# --- purposes ticked fast -----------------------------------------------------------------------


async def test_purposes_ticked_fast_are_the_ones_the_cursor_was_on(desk_app, store, people) -> None:
    """down, space, up, space typed fast toggled the last line twice: nothing ticked."""
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"zeb", "enter")
        for _ in range(3):
            await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "ContactFormScreen"
        purposes = form.query_one("#purposes")
        assert desk_app.focused is purposes and purposes.highlighted == 0
        codes = [purposes.get_option_at_index(i).value for i in range(purposes.option_count)]
        await burst(pilot, "down", "down", "space", "up", "space")
        assert sorted(purposes.selected) == sorted([codes[2], codes[1]])
        await burst(pilot, "space", "down", "down")  # untick the second line, move on
        assert purposes.selected == [codes[2]]
        form.query_one("#summary").value = "Came in for a chat"
        await pilot.press("ctrl+s")
        await pilot.pause()
    [visit] = store.contacts_for_person(people["zeb"].id)
    assert visit.purposes == (codes[2],)


# --- the walk-in box ------------------------------------------------------------------------------


async def test_a_walk_in_typed_fast_lands_box_by_box(desk_app, store, people) -> None:
    """Typed fast, "Ellie", enter, enter, "19", enter gave a first name "Ellie19" and no age."""
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("s", "n")
        await pilot.pause()
        await pilot.press("ctrl+s")  # Stay and play (the only type here), starting now
        for _ in range(3):
            await pilot.pause()
        register = desk_app.screen
        assert screen_name(desk_app) == "RegisterScreen"
        await pilot.press("w")
        await pilot.pause()
        assert screen_name(desk_app) == "WalkInModal"
        await burst(pilot, *"Ellie", "enter", "enter", *"19", "enter")
        assert screen_name(desk_app) == "RegisterScreen"
    [line] = store.attendance(register.session_id)
    walk_in = store.get_person(line.person_id)
    assert (walk_in.first_name, walk_in.last_name, walk_in.approx_age) == ("Ellie", None, 19)
    assert walk_in.walk_in and walk_in.needs_matching


# --- the voucher serial -------------------------------------------------------------------------


async def test_a_voucher_serial_typed_straight_after_picking_voucher_lands_in_its_box(desk_app, store, people) -> None:
    """The serial box was enabled only once the form handled the method's change, so Tab
    straight after picking Voucher skipped it: the serial went into the reason."""
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("p", *"zeb", "enter")
        for _ in range(3):
            await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "PaymentFormScreen"
        form.query_one("#category").value = "food-voucher"
        form.query_one("#amount").value = "15.00"
        form.query_one("#method").focus()
        await pilot.pause()
        form.query_one("#method").value = "voucher"  # as the list's enter does: the change is queued
        await burst(pilot, "tab", *"V100201", "tab", *"food until Friday")
        assert form.query_one("#voucher_serial").value == "V100201"
        assert form.query_one("#reason").value == "food until Friday"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        # A serial on anything but a voucher is refused with a message, not dropped unseen.
        await pilot.press("p", *"zeb", "enter")
        for _ in range(3):
            await pilot.pause()
        form = desk_app.screen
        form.query_one("#category").value = "travel"
        form.query_one("#amount").value = "5.00"
        form.query_one("#method").value = "cash"
        form.query_one("#voucher_serial").value = "V100202"
        form.query_one("#reason").value = "bus fare"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "PaymentFormScreen"
        assert "serial" in form.query_one("#field-voucher_serial").error
    [payment] = store.payments_for_person(people["zeb"].id)
    assert payment.voucher_serial == "V100201" and payment.amount_pence == 1500


# --- the safeguarding section at 80x24 --------------------------------------------------------------


async def test_ticking_safeguarding_at_80x24_brings_what_it_asks_for_into_view(desk_app, store, people) -> None:
    """At 80x24 the section opened below the fold: the PA saw the tick, not what it requires."""
    async with desk_app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"kayden", "enter")  # his alert box takes rows too
        for _ in range(3):
            await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "ContactFormScreen"
        form.query_one("#concern").focus()
        await pilot.pause()
        await pilot.press("space")
        for _ in range(4):
            await pilot.pause()
        scroller = form.query_one("#contact-form")
        for name in ("sg_action", "sg_informed", "sg_manager"):
            field = form.query_one(f"#field-{name}")
            assert scroller.region.contains_region(field.region), (name, field.region, scroller.region)
