"""Search and open a person; sign a visitor in and out; the quick path's key count."""

from __future__ import annotations

from deskpilot import SIZE, screen_name, today_bounds, unlock

from hubdesk.domain.enums import ContactType
from hubdesk.messages import Saved


class KeyCounter:
    """Counts key presses sent through the pilot, except those we say are note letters."""

    def __init__(self, pilot) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        await self.pilot.press(*keys)
        await self.pilot.pause()

    async def note(self, text: str) -> None:
        await self.pilot.press(*text)
        await self.pilot.pause()


async def test_search_and_open_a_person(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash")
        await pilot.pause()
        assert screen_name(desk_app) == "SearchScreen"
        await pilot.press(*"kay")
        await pilot.pause()
        table = desk_app.screen.query_one("#results")
        assert table.row_count >= 1
        first = table.get_row_at(0)
        assert str(first[0]).startswith("Kayden Marsh")
        assert first[1] == "19" and first[2] == "18-20" and first[3] == "Former relevant"
        assert str(first[4]) == "Sam Test-Duty"
        assert "⚠" in str(first[6])
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        alerts = str(desk_app.screen.query_one("#person-alerts").content)
        assert "Prefers text messages" in alerts
        # Alerts come first, above the details.
        assert (
            desk_app.screen.query_one("#person-alerts").region.y < desk_app.screen.query_one("#person-details").region.y
        )
    # Viewing a person is audited, through the store.
    rows = store._rows("SELECT actor, action, record_id FROM audit WHERE action = 'view'")
    assert ("sam", "view", people["kayden"].id) in rows


async def test_markup_in_a_name_is_shown_as_typed(desk_app, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"amira", "enter")
        await pilot.pause()
        assert "[bold]Tesfaye[/]" in str(desk_app.screen.query_one("#person-name").content)


async def test_sign_in_and_out_within_key_budget(desk_app, store, people, clock) -> None:
    messages: list = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        keys = KeyCounter(pilot)
        # Find Zeb, sign him in with one purpose and a one-line note, save.
        await keys.press("v")
        await keys.press(*"zeb")
        await keys.press("enter")
        assert screen_name(desk_app) == "ContactFormScreen"
        await keys.press("space")  # tick the first purpose
        await keys.press("tab")
        await keys.note("Came in about his gas meter")
        await keys.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen", desk_app.screen.query(".field-error")
        assert keys.count <= 25, keys.count

        visits = store.in_building("DEW")
        assert len(visits) == 1
        visit = visits[0]
        assert visit.person_id == people["zeb"].id
        assert visit.contact_type is ContactType.DROP_IN and visit.seen
        assert visit.purposes == ("housing",)  # first purpose in the list (sorted by code)
        assert visit.summary == "Came in about his gas meter"
        assert visit.recorded_by == "sam"
        assert visit.started_at == clock()
        assert any(isinstance(m, Saved) and m.kind == "visit" for m in messages)

        desk = desk_app.screen
        desk.refresh_data()
        assert desk.query_one("#in-building").row_count == 1

        # 1 h 45 min later he signs out from the desk's "in the building" list.
        clock.advance(hours=1, minutes=45)
        desk.refresh_data()
        await pilot.pause()
        assert "1 h 45 min" in str(desk.query_one("#in-building").get_row_at(0)[2])
        keys.count = 0
        await keys.press("o")
        await keys.press("enter")
        assert keys.count <= 5
        await pilot.pause()
        assert desk.query_one("#in-building").row_count == 0

    assert store.in_building("DEW") == []
    current = store.current_contact(visit.contact_id)
    assert current.version == 2 and current.amends == visit.id
    assert current.ended_at == clock()
    start, end = today_bounds(store, clock)
    assert [c.contact_id for c in store.contacts_between("DEW", start, end)] == [visit.contact_id]


async def test_visit_again_signs_out_from_person_screen(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"kayden", "enter")
        await pilot.pause()
        await pilot.press("space", "tab", *"Gas meter", "ctrl+s")
        await pilot.pause()
        assert len(store.in_building()) == 1
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        assert "In the building" in str(desk_app.screen.query_one("#person-details").content)
        await pilot.press("v")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        await pilot.press("enter")
        await pilot.pause()
    assert store.in_building() == []


async def test_visit_form_says_what_is_missing(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("v", *"zeb", "enter")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "ContactFormScreen"
        assert form.query_one("#field-purposes").error == "Pick at least one purpose"
        assert "must not be empty" in form.query_one("#field-summary").error
        assert desk_app.focused.id == "purposes"
    assert store.count("contacts") == 0
