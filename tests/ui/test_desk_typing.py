"""What a PA typed is kept exactly: never dropped, rewritten, misattributed or sent to the
wrong field (issue 8, each found by a person trying the desk in tmux)."""

from __future__ import annotations

from deskpilot import SIZE, burst, screen_name, unlock

from hubdesk.domain.enums import ContactType


async def open_visit(pilot, who: str = "zeb") -> None:
    await pilot.press("v", *who, "enter")
    await pilot.pause()
    assert screen_name(pilot.app) == "ContactFormScreen"


# --- safeguarding ---------------------------------------------------------------------------


async def test_typing_on_the_safeguarding_tick_never_unticks_it(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_visit(pilot)
        form = desk_app.screen
        form.query_one("#purposes").select("money")
        form.query_one("#summary").value = "Came in upset"
        form.query_one("#concern").focus()
        await pilot.press("space")
        assert form.query_one("#concern").value is True
        assert form.query_one("#safeguarding").display
        # Not filled in for the PA: the time the manager was told is hers to say.
        assert form.query_one("#sg_informed").value == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert desk_app.focused.id == "sg_action"
        # Shift+Tab lands on the tick box; a sentence typed there must not flip it.
        await pilot.press("shift+tab")
        assert desk_app.focused.id == "concern"
        await pilot.press(*"Rang the duty social worker at ten")
        await pilot.pause()
        assert form.query_one("#concern").value is True
        assert form.query_one("#safeguarding").display
        assert "tick box" in str(form.query_one("#form-error").content)
        # The save is still refused until the section is complete.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactFormScreen"
        assert store.count("contacts") == 0
        form.query_one("#sg_action").value = "Rang the duty social worker"
        form.query_one("#sg_informed").value = "10:00"
        form.query_one("#sg_manager").value = "Nadia"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [contact] = store.contacts_for_person(people["zeb"].id)
    assert contact.safeguarding_concern
    assert contact.safeguarding.action_taken == "Rang the duty social worker"


async def test_manager_informed_not_in_the_future_and_named(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_visit(pilot)
        form = desk_app.screen
        form.query_one("#purposes").select("money")
        form.query_one("#concern").value = True
        form.query_one("#sg_action").value = "Rang the duty social worker"
        form.query_one("#sg_informed").value = "10:30"  # the desk's clock says 10:05
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "future" in form.query_one("#field-sg_informed").error
        assert form.query_one("#field-sg_manager").error == "Name the manager who was told"
        assert store.count("contacts") == 0


async def test_unticking_a_section_that_holds_typing_asks_first(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_visit(pilot)
        form = desk_app.screen
        form.query_one("#concern").value = True
        await pilot.pause()
        form.query_one("#sg_action").value = "Rang the duty social worker"
        form.query_one("#concern").focus()
        await pilot.press("space")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        await pilot.press("enter")  # the default is to keep it
        await pilot.pause()
        assert screen_name(desk_app) == "ContactFormScreen"
        assert form.query_one("#concern").value is True
        assert form.query_one("#sg_action").value == "Rang the duty social worker"
        # Asked again, and this time the PA means it.
        form.query_one("#concern").value = False
        await pilot.pause()
        desk_app.screen.query_one("#yes").press()
        await pilot.pause()
        assert form.query_one("#concern").value is False
        assert not form.query_one("#safeguarding").display
        assert form.query_one("#sg_action").value == ""


# --- the idle lock and another user ----------------------------------------------------------


async def test_another_user_unlocking_never_saves_kept_work_as_theirs(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE, notifications=True) as pilot:
        await unlock(pilot)  # Sam
        await pilot.press("c", *"amira", "enter")
        await pilot.pause()
        form = desk_app.screen
        form.query_one("#purposes").select("immigration")
        form.query_one("#summary").focus()
        await pilot.press(*"Sam half typed this")
        await pilot.press("ctrl+l")
        await pilot.pause()
        await unlock(pilot, "nadia")
        # Nadia sees the desk, not Sam's form; her Ctrl+S saves nothing.
        assert screen_name(desk_app) == "DeskScreen"
        assert any("set aside" in n.message for n in desk_app._notifications)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.count("contacts") == 0
        await pilot.press("ctrl+l")
        await pilot.pause()
        await unlock(pilot, "sam")
        assert screen_name(desk_app) == "ContactFormScreen"
        form = desk_app.screen
        assert form.query_one("#summary").value == "Sam half typed this"
        assert form.query_one("#purposes").selected == ["immigration"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [contact] = store.contacts_for_person(people["amira"].id)
    assert contact.summary == "Sam half typed this"
    assert contact.recorded_by == "sam"


# --- money ------------------------------------------------------------------------------------


async def test_money_field_keeps_every_character_and_says_what_is_wrong(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("p", *"kayden", "enter")
        await pilot.pause()
        form = desk_app.screen
        form.query_one("#category").value = "travel"
        form.query_one("#method").value = "cash"
        form.query_one("#reason").value = "Bus fare"
        await pilot.pause()
        amount = form.query_one("#amount")
        for typed, message in (
            ("1e9", "pounds and pence"),
            ("-3", "more than £0.00"),
            ("£-3", "more than £0.00"),
        ):
            amount.value = ""
            amount.focus()
            if typed.isascii():
                await pilot.press(*typed)
            else:  # the pilot cannot type a pound sign: paste it
                amount.insert_text_at_cursor(typed)
            await pilot.pause()
            assert amount.value == typed
            assert message in form.query_one("#field-amount").error
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert screen_name(desk_app) == "PaymentFormScreen"
            assert amount.value == typed
    assert store.payments_for_person(people["kayden"].id) == []


# --- quitting -----------------------------------------------------------------------------------


async def test_quit_with_a_half_typed_form_asks_and_keep_is_the_default(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await open_visit(pilot)
        form = desk_app.screen
        form.query_one("#summary").focus()
        await pilot.press(*"Came in for lunch")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        await pilot.press("enter")
        await pilot.pause()
        assert desk_app.is_running and desk_app.screen is form
        assert form.query_one("#summary").value == "Came in for lunch"
        # Escape asks the same question, with the same safe default.
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        assert "Discard what you typed?" in str(desk_app.screen.query_one(".modal-question").content)
        await pilot.press("enter")
        await pilot.pause()
        assert desk_app.screen is form
        # Locked with the form beneath: quitting from the lock screen asks too.
        await pilot.press("ctrl+l")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        desk_app.screen.query_one("#yes").press()
        await pilot.pause()
    assert desk_app.return_code == 0
    assert store.count("contacts") == 0


async def test_quit_from_the_desk_with_nothing_typed_does_not_ask(desk_app) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert desk_app.return_code == 0


# --- keys in a burst ----------------------------------------------------------------------------


async def test_keys_sent_in_a_burst_land_field_by_field(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("c", *"zeb", "enter")
        await pilot.pause()
        form = desk_app.screen
        form.query_one("#summary").focus()
        await burst(pilot, *"aaa", "tab", *"bbb")
        assert form.query_one("#summary").value == "aaa"
        assert form.query_one("#voice").value == "bbb"
        # Enter moves on as Tab does, and a long note typed fast is not split.
        note = "He said the meter ran out on Saturday and the heating is off " * 3
        form.query_one("#summary").value = ""
        form.query_one("#voice").value = ""
        form.query_one("#summary").focus()
        await burst(pilot, *note, "enter", *"ccc", "shift+tab", *"!")
        assert form.query_one("#summary").value == note + "!"
        assert form.query_one("#voice").value == "ccc"
        form.query_one("#purposes").select("money")
        await pilot.press("ctrl+s")
        await pilot.pause()
    [contact] = store.contacts_for_person(people["zeb"].id)
    assert contact.contact_type is ContactType.PHONE
    assert contact.summary == (note + "!").strip()
    assert contact.voice == "ccc"
