"""A phone contact, and a visit with a safeguarding concern that will not save half-done."""

from __future__ import annotations

from datetime import UTC, date, datetime

from deskpilot import SIZE, screen_name, unlock

from hubdesk.domain.enums import ContactType


async def test_phone_contact_with_action_for_allocated_pa(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("c", *"amira", "enter")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "ContactFormScreen"
        assert "Interpreter needed: Tigrinya" in str(form.query_one(".alerts").content)
        form.query_one("#started").value = "09:50"
        form.query_one("#made_by").value = "allocated_pa"
        purposes = form.query_one("#purposes")
        purposes.select("immigration")
        form.query_one("#summary").value = "Letter from the Home Office"
        form.query_one("#voice").value = "I can't read it, it's scary"
        form.query_one("#action_text").value = "Book interpreter and go through the letter"
        form.query_one("#action_owner").value = "Allocated PA"
        form.query_one("#action_due").value = "26/11/2026"
        form.query_one("#tell_pa").value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        # The person screen shows it; enter opens it in full.
        await pilot.press("slash", *"amira", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactDetailScreen"
        opened = desk_app.screen
        assert opened.query_one("#summary").text == "Letter from the Home Office"
        assert opened.query_one("#action_owner").value == "Allocated PA"
    [contact] = store.contacts_for_person(people["amira"].id)
    assert contact.contact_type is ContactType.PHONE
    assert contact.seen is False
    assert contact.made_by == "allocated_pa" and contact.recorded_by == "sam"
    assert contact.purposes == ("immigration",)
    assert contact.voice == "I can't read it, it's scary"
    assert contact.actions[0].owner == "Allocated PA"
    assert contact.actions[0].due == date(2026, 11, 26)
    assert contact.tell_allocated_pa
    # When it happened is kept apart from when it was recorded.
    assert contact.started_at == datetime(2026, 11, 25, 9, 50, tzinfo=UTC)
    assert contact.recorded_at == datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
    assert store.in_building() == []


async def test_safeguarding_concern_requires_action_and_manager_time(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"zeb", "enter")
        await pilot.pause()
        form = desk_app.screen
        await pilot.press("space", "tab", *"Came in upset")
        assert not form.query_one("#safeguarding").display
        form.query_one("#concern").value = True
        await pilot.pause()
        assert form.query_one("#safeguarding").display
        form.query_one("#sg_informed").value = ""
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactFormScreen"
        assert form.query_one("#field-sg_action").error
        assert form.query_one("#field-sg_informed").error == "Say when the manager was told"
        assert desk_app.focused.id == "sg_action"
        assert store.count("contacts") == 0
        # Nothing typed was lost.
        assert form.query_one("#summary").value == "Came in upset"

        await pilot.press(*"Rang the duty social worker")
        form.query_one("#sg_informed").value = "10:00"
        form.query_one("#sg_manager").value = "Nadia"
        await pilot.pause()
        assert not form.query_one("#field-sg_action").error
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [contact] = store.contacts_for_person(people["zeb"].id)
    assert contact.safeguarding_concern
    assert contact.safeguarding.action_taken == "Rang the duty social worker"
    assert contact.safeguarding.manager_informed_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert contact.safeguarding.manager == "Nadia"


async def test_errors_appear_as_you_type(desk_app, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("c", *"zeb", "enter")
        await pilot.pause()
        form = desk_app.screen
        form.query_one("#started").value = "25:99"
        await pilot.pause()
        assert "Type a time like 14:05" in form.query_one("#field-started").error
        # Untouched fields stay quiet until save.
        assert form.query_one("#field-summary").error == ""
        form.query_one("#started").value = "09:30"
        await pilot.pause()
        assert form.query_one("#field-started").error == ""
