"""Settings, the end-of-day placeholder, the command palette and walk-ins from search."""

from __future__ import annotations

import json

from deskpilot import PASSPHRASE, SIZE, screen_name, unlock

from hubdesk.app import SETTINGS_NAME, make_app
from hubdesk.domain.models import Contact


async def test_settings_change_idle_minutes_and_theme(desk_app, data_dir) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("comma")
        await pilot.pause()
        assert screen_name(desk_app) == "SettingsScreen"
        screen = desk_app.screen
        screen.query_one("#idle_minutes").value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Between 1 and 60" in screen.query_one("#field-idle_minutes").error
        screen.query_one("#idle_minutes").value = "10"
        screen.query_one("#theme").value = "hubdesk-high-contrast"
        screen.query_one("#background_sync").value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        assert desk_app.theme == "hubdesk-high-contrast"
        assert desk_app.settings.idle_minutes == 10
    saved = json.loads((data_dir / SETTINGS_NAME).read_text())
    assert saved == {"idle_minutes": 10.0, "theme": "hubdesk-high-contrast", "background_sync": False}
    # A new start of the desk keeps them.
    again = make_app(data_dir)
    assert again.settings.idle_minutes == 10 and again.settings.theme == "hubdesk-high-contrast"
    assert again.settings.background_sync is False


async def test_end_of_day_lists_who_is_in_and_awaiting_approval(desk_app, store, people, clock) -> None:
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
            summary="In for lunch",
        )
    )
    payment = store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=3500, method="utility_top_up", reason="No gas"
    )
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await pilot.pause()
        screen = desk_app.screen
        assert screen_name(desk_app) == "EndOfDayScreen"
        assert str(screen.query_one("#still-in").get_row_at(0)[0]) == "Kayden Marsh"
        assert str(screen.query_one("#awaiting").get_row_at(0)[2]) == "£35.00"
        await pilot.press("o", "enter")
        await pilot.pause()
        assert screen.query_one("#still-in").row_count == 0
        # The duty manager settles the payment awaiting approval.
        await pilot.press("a")
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        await pilot.press("ctrl+w")  # not offered here
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        await pilot.press(*PASSPHRASE, "enter")
        await pilot.pause()
        assert screen.query_one("#awaiting").row_count == 0
    assert store.in_building() == []
    assert store.payment_state(payment.id) == "approved"
    assert store.awaiting_approval() == []


async def test_end_of_day_manager_declines_with_reason(desk_app, store, people) -> None:
    payment = store.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=3500, method="utility_top_up", reason="No gas"
    )
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert screen_name(desk_app) == "ApprovalModal"
        await pilot.press(*PASSPHRASE, "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "ReasonModal"
        await pilot.press(*"Already had a top-up this week", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "EndOfDayScreen"
        assert desk_app.screen.query_one("#awaiting").row_count == 0
    assert store.payment_state(payment.id) == "declined"


async def test_command_palette_offers_the_screens_actions(desk_app, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sessions")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert screen_name(desk_app) == "SessionsScreen"


async def test_walk_in_from_search_then_visit(desk_app, store) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"leah")
        await pilot.pause()
        assert "No one found" in str(desk_app.screen.query_one("#search-help").content)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen_name(desk_app) == "WalkInModal"
        modal = desk_app.screen
        assert modal.query_one("#first_name").value == "Leah"
        modal.query_one("#approx_age").value = "18"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "ContactFormScreen"
        await pilot.press("space", "tab", *"First visit", "ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
    [visit] = store.in_building()
    leah = store.get_person(visit.person_id)
    assert leah.first_name == "Leah" and leah.walk_in and leah.needs_matching


async def test_search_by_date_of_birth(desk_app, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"1/3/2007")
        await pilot.pause()
        table = desk_app.screen.query_one("#results")
        assert table.row_count == 1
        assert str(table.get_row_at(0)[0]).startswith("Kayden")
