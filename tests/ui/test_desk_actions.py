"""The Actions screen from the desk (issue 11, item 2): at unlock the desk says how many actions
are yours and how many overdue; `a` lists them overdue first; `d` marks one done with a note,
`t` passes one on; the store reads back what the screen did."""

from __future__ import annotations

from datetime import timedelta

from deskpilot import screen_name, unlock
from textual.widgets import DataTable, Input, Select

from hubdesk.domain.models import Action, Contact
from hubdesk.store import actions


def _contact(store, person, clock, *acts: Action, tell: bool = False) -> None:
    store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="phone",
            recorded_by="sam",
            started_at=clock(),
            recorded_at=clock(),
            seen=False,
            purposes=("money",),
            summary="Rang about the gas",
            actions=acts,
            tell_allocated_pa=tell,
        )
    )


async def test_unlock_says_how_many_and_a_lists_them_overdue_first(desk_app, store, people, clock) -> None:
    today = clock().date()
    _contact(store, people["kayden"], clock, Action(text="Ring the gas supplier", owner="sam", due=today))
    _contact(store, people["zeb"], clock, Action(text="Post the bus pass form", owner="sam"))
    _contact(store, people["zeb"], clock, Action(text="Check the tenancy", owner="sam", due=today + timedelta(days=3)))
    clock.advance(days=1)  # the gas call is now a day overdue
    async with desk_app.run_test(size=(120, 40), notifications=True) as pilot:
        await unlock(pilot)
        await pilot.pause()
        said = [n.message for n in desk_app._notifications]
        assert any("3 actions for you, 1 overdue" in m for m in said), said
        await pilot.press("a")
        await pilot.pause()
        assert screen_name(desk_app) == "ActionsScreen"
        table = desk_app.screen.query_one("#actions", DataTable)
        texts = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert texts == ["Ring the gas supplier", "Check the tenancy", "Post the bus pass form"]
        assert str(table.get_row_at(0)[0]).startswith("OVERDUE")

        await pilot.press("d")
        await pilot.pause()
        desk_app.screen.query_one("#reason", Input).value = "Supplier rang back"
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 2

        await pilot.press("t")
        await pilot.pause()
        desk_app.screen.query_one("#pass-to", Select).value = "nadia"
        desk_app.screen.query_one("#pass-note", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert table.row_count == 1
    later = today + timedelta(days=1)
    assert [r.item.text for r in actions.for_user(store, "nadia", later)] == ["Check the tenancy"]
    assert [r.item.text for r in actions.for_user(store, "sam", later)] == ["Post the bus pass form"]
    done = [r for r in actions.for_user(store, "sam", later, include_done=True) if r.done]
    assert [r.item.text for r in done] == ["Ring the gas supplier"]


async def test_caseload_view_shows_actions_for_my_young_people_whoever_owns_them(
    desk_app, store, people, clock
) -> None:
    # Kayden's allocated PA is sam; the duty PA gave the action to nadia.
    _contact(store, people["kayden"], clock, Action(text="Send the grant form", owner="nadia"), tell=True)
    async with desk_app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.press("a")
        await pilot.pause()
        table = desk_app.screen.query_one("#actions", DataTable)
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == [
            "Tell the PA: Read the phone contact of 25 Nov 2026"
        ]
        await pilot.press("m")
        await pilot.pause()
        assert sorted(str(table.get_row_at(i)[2]) for i in range(table.row_count)) == [
            "Send the grant form",
            "Tell the PA: Read the phone contact of 25 Nov 2026",
        ]


async def test_the_actions_key_is_in_the_footer_when_there_is_room_and_works_at_80(desk_app) -> None:
    from textual.widgets._footer import FooterKey

    async with desk_app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await pilot.pause()
        shown = {k.description: k.region for k in desk_app.screen.query(FooterKey)}
        assert "Actions" in shown and shown["Actions"].right <= 120
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        shown = {k.description: k.region for k in desk_app.screen.query(FooterKey)}
        assert "Actions" not in shown and shown["Lock"].right <= 80
        await pilot.press("a")
        await pilot.pause()
        assert screen_name(desk_app) == "ActionsScreen"
