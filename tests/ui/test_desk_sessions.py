"""A drop-in session: open it, add attendees by search, a walk-in and children, close it."""

from __future__ import annotations

from deskpilot import SIZE, screen_name, today_bounds, unlock

from hubdesk.domain.enums import AttendanceKind


async def test_session_with_attendees_walk_in_and_children(desk_app, store, people, clock) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert screen_name(desk_app) == "SessionsScreen"
        await pilot.press("n")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "SessionFormScreen"
        assert form.query_one("#session_type").value == "stay-and-play"
        form.query_one("#partners").value = "Health visitor, Quilting group"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "RegisterScreen"
        register = desk_app.screen

        for who in ("zeb", "kayden"):
            await pilot.press("a")
            await pilot.pause()
            assert screen_name(desk_app) == "SearchScreen"
            await pilot.press(*who, "enter")
            await pilot.pause()
            assert screen_name(desk_app) == "RegisterScreen"
        # The same person twice is refused.
        await pilot.press("a", *"zeb", "enter")
        await pilot.pause()

        await pilot.press("w")
        await pilot.pause()
        assert screen_name(desk_app) == "WalkInModal"
        await pilot.press(*"Leah", "enter", "enter")  # first name, (no last name)
        await pilot.press(*"19", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "RegisterScreen"

        await pilot.press("k")
        await pilot.pause()
        await pilot.press("5", "enter")
        await pilot.pause()
        assert register.query_one("#register").row_count == 4
        assert "2 known, 1 walk-in, 5 children" in str(register.query_one("#register-summary").content)

        await pilot.press("x", "enter")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) == "SessionsScreen"
        await pilot.press("escape")
        await pilot.pause()
        sessions = desk_app.screen.query_one("#sessions")
        assert sessions.row_count == 1
        assert sessions.get_row_at(0)[2] == "2 known\n1 walk-in\n5 children"  # was "4": children are not people

    [session] = store.sessions_between("DEW", *today_bounds(store, clock))
    assert session.closed_at is not None
    assert session.partners == ("Health visitor", "Quilting group")
    rows = store.attendance(session.id)
    kinds = [a.kind for a in rows]
    assert kinds.count(AttendanceKind.PERSON) == 2
    assert kinds.count(AttendanceKind.WALK_IN) == 1
    assert [a.children for a in rows if a.kind is AttendanceKind.CHILDREN] == [5]
    walk_in = store.get_person(next(a.person_id for a in rows if a.kind is AttendanceKind.WALK_IN))
    assert walk_in.first_name == "Leah" and walk_in.approx_age == 19
    assert walk_in.walk_in and walk_in.needs_matching
