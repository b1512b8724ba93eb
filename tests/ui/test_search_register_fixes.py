"""Issue 8, search and the session register, tried as a PA would:

- Search said "20 found" when 42 matched, and two "Kayden Examplar" rows looked the same:
  it says "first 20 of 42" and shows date of birth, case id and hub; the results fit 120
  columns, and at 80x24 name, status and alerts stay on screen.
- The desk's head count added children lines to people ("People 7" for 4 known, 1 walk-in
  and 5 children): it says each. A children count or an attendee added by mistake can be
  corrected from the register (an amendment; the history keeps both).
"""

from __future__ import annotations

from datetime import date, timedelta

from deskpilot import SIZE, FakeClock, screen_name, unlock
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from hubdesk.domain.enums import AttendanceKind
from hubdesk.domain.models import Attendance, DropInSession, Person, head_count
from hubdesk.store.store import Store

KAYDENS = 42


def add_kaydens(store: Store) -> list[Person]:
    """42 people called Kayden Examplar; the first and the last share a date of birth."""
    made = []
    with store.batch():
        for i in range(KAYDENS):
            born = date(2005, 1, 1) + timedelta(days=i % (KAYDENS - 1) * 17)
            made.append(
                store.add_person(
                    Person(
                        first_name="Kayden",
                        last_name="Examplar",
                        date_of_birth=born,
                        case_id=f"LCS-{20000 + i}",
                        hub_code="DEW" if i % 2 == 0 else "N11",
                        legal_status="former_relevant",
                    )
                )
            )
    return made


def results(screen) -> tuple[DataTable, list[dict[str, str]]]:
    table = screen.query_one("#results", DataTable)
    labels = [str(c.label) for c in table.columns.values()]
    rows = [dict(zip(labels, map(str, table.get_row_at(r)), strict=True)) for r in range(table.row_count)]
    return table, rows


def row_person(store: Store, table: DataTable, row: int) -> Person:
    key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
    assert key is not None
    return store.get_person(key)


def born(person: Person) -> str:
    assert person.date_of_birth is not None
    return f"{person.date_of_birth.day} {person.date_of_birth:%b %Y}"


async def test_search_says_first_20_of_42_and_tells_two_kaydens_apart(desk_app, store, people) -> None:
    add_kaydens(store)
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden examplar")
        await pilot.pause()
        screen = desk_app.screen
        assert screen_name(desk_app) == "SearchScreen"
        help_text = str(screen.query_one("#search-help").content).lower()
        assert "first 20 of 42" in help_text, help_text
        table, rows = results(screen)
        assert len(rows) == 20
        assert {"Name", "Status", "Alerts", "Born", "Case id", "Hub"} <= set(rows[0])
        # What is shown is what the store holds for that row's person.
        for i, row in enumerate(rows):
            person = row_person(store, table, i)
            assert row["Name"] == "Kayden Examplar"
            assert (row["Born"], row["Case id"], row["Hub"]) == (born(person), person.case_id, person.hub_code)
        assert len({tuple(row.values()) for row in rows}) == 20  # no two rows alike
        assert table.max_scroll_x == 0, "the results are wider than 120 columns"

        # Two people with the same name and date of birth: both shown, told apart by case id.
        screen.query_one("#query").value = "1/1/2005"
        await pilot.pause()
        help_text = str(screen.query_one("#search-help").content).lower()
        assert help_text.startswith("2 found"), help_text
        table, rows = results(screen)
        assert [r["Born"] for r in rows] == ["1 Jan 2005", "1 Jan 2005"]
        assert sorted(r["Case id"] for r in rows) == ["LCS-20000", "LCS-20041"]
        assert {r["Case id"]: r["Hub"] for r in rows} == {"LCS-20000": "DEW", "LCS-20041": "N11"}
        assert {row_person(store, table, i).case_id for i in range(2)} == {"LCS-20000", "LCS-20041"}


async def test_search_at_80x24_keeps_name_status_and_alerts(desk_app, store, people) -> None:
    add_kaydens(store)
    async with desk_app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden marsh")
        await pilot.pause()
        table, rows = results(desk_app.screen)
        assert {"Name", "Status", "Alerts", "Born", "Case id"} <= set(rows[0])
        assert table.max_scroll_x == 0, "a column falls off the right at 80 columns"
        marsh = next(i for i, r in enumerate(rows) if r["Name"].startswith("Kayden Marsh"))
        assert "⚠" in rows[marsh]["Alerts"]
        assert row_person(store, table, marsh).alerts
        assert rows[marsh]["Status"] == "Former relevant"

        # Wider again: the lesser columns come back, still within the width.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        table, rows = results(desk_app.screen)
        assert {"Name", "Age", "Status", "PA", "Alerts", "Born", "Case id", "Hub"} <= set(rows[0])
        assert table.max_scroll_x == 0
        assert rows[marsh]["PA"] == "Sam Test-Duty"


def a_session_with(store: Store, clock: FakeClock, people: dict[str, Person]) -> tuple[DropInSession, list]:
    """4 known, 1 walk-in, and children counted on two lines (3, then 2 more)."""
    session = store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=clock(), opened_by="sam")
    )
    jade = store.add_person(
        Person(first_name="Jade", last_name="Tester", date_of_birth=date(2005, 6, 1), hub_code="DEW")
    )
    leah = store.add_person(Person(first_name="Leah", hub_code="DEW", walk_in=True, needs_matching=True, approx_age=19))
    lines = []
    for who in (people["zeb"], people["amira"], people["kayden"], jade, leah):
        kind = AttendanceKind.WALK_IN if who.walk_in else AttendanceKind.PERSON
        lines.append(
            store.add_attendance(
                Attendance(session_id=session.id, kind=kind, person_id=who.id, recorded_by="sam", recorded_at=clock())
            )
        )
    for n in (3, 2):
        lines.append(
            store.add_attendance(
                Attendance(session_id=session.id, kind="children", children=n, recorded_by="sam", recorded_at=clock())
            )
        )
    return session, lines


async def test_the_desk_says_each_kind_in_a_sessions_head_count(desk_app, store, people, clock) -> None:
    session, _ = a_session_with(store, clock, people)
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        sessions = desk_app.screen.query_one("#sessions", DataTable)
        assert sessions.row_count == 1
        assert str(sessions.get_row_at(0)[2]).splitlines() == ["4 known", "1 walk-in", "5 children"]
        assert str(sessions.get_row_at(0)[3]) == "open"
        assert sessions.max_scroll_x == 0, "the head count pushes State off the desk"
    assert str(head_count(store.attendance(session.id))) == "4 known, 1 walk-in, 5 children"


async def test_the_register_corrects_a_children_count_and_takes_off_someone_added_by_mistake(
    desk_app, store, people, clock
) -> None:
    session, lines = a_session_with(store, clock, people)
    three = lines[-2]
    async with desk_app.run_test(size=SIZE, notifications=True) as pilot:
        await unlock(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert screen_name(desk_app) == "SessionsScreen"
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(desk_app) == "RegisterScreen"
        register = desk_app.screen
        footer_keys = {b.binding.id for b in register.active_bindings.values() if b.enabled and b.binding.show}
        assert "register.correct" in footer_keys
        table = register.query_one("#register", DataTable)
        assert table.row_count == 7

        # The 3 children were 2 more than came: correct that line to 1.
        for _ in range(5):
            await pilot.press("down")
        assert str(table.get_row_at(table.cursor_row)[0]) == "3 children"
        await pilot.press("e")
        await pilot.pause()
        assert screen_name(desk_app) == "NumberModal"
        # Out of range: a clear message, nothing saved, the count can be typed again.
        await pilot.press(*"51", "enter")
        await pilot.pause()
        assert any("between 1 and 50" in n.message for n in desk_app._notifications)
        assert head_count(store.attendance(session.id)).children == 5
        if screen_name(desk_app) != "RegisterScreen":
            await pilot.press("escape")
            await pilot.pause()
        assert screen_name(desk_app) == "RegisterScreen"
        assert str(table.get_row_at(table.cursor_row)[0]) == "3 children"
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("1", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "RegisterScreen"
        summary = str(register.query_one("#register-summary").content)
        assert "4 known, 1 walk-in, 3 children" in summary, summary
        assert [str(table.get_row_at(r)[0]) for r in range(table.row_count)][-2:] == ["1 child", "2 children"]

        # Amira was added by mistake: take her off.
        while table.cursor_row != 1:
            await pilot.press("up" if table.cursor_row > 1 else "down")
        assert str(table.get_row_at(1)[0]) == people["amira"].display_name
        await pilot.press("e")
        await pilot.pause()
        assert screen_name(desk_app) == "ConfirmModal"
        await pilot.press("enter")
        await pilot.pause()
        summary = str(register.query_one("#register-summary").content)
        assert "3 known, 1 walk-in, 3 children" in summary, summary
        assert people["amira"].display_name not in [str(table.get_row_at(r)[0]) for r in range(table.row_count)]

        await pilot.press("escape")
        await pilot.pause()
        assert str(desk_app.screen.query_one("#session-list", DataTable).get_row_at(0)[3]).startswith("3 known")
        await pilot.press("escape")
        await pilot.pause()
        came = str(desk_app.screen.query_one("#sessions", DataTable).get_row_at(0)[2])
        assert came.splitlines() == ["3 known", "1 walk-in", "3 children"]

    # Read back: the register as it stands, and the history keeping both versions of each.
    now = store.attendance(session.id)
    count = head_count(now)
    assert (count.known, count.walk_ins, count.children) == (3, 1, 3)
    assert people["amira"].id not in {a.person_id for a in now}
    history = store.attendance_history(session.id)
    assert len(history) == len(lines) + 2
    fixed = next(a for a in history if a.amends == three.id)
    assert (three.children, fixed.children, fixed.version) == (3, 1, 2)
    amira_line = next(a for a in lines if a.person_id == people["amira"].id)
    off = next(a for a in history if a.amends == amira_line.id)
    assert off.removed and off.recorded_by == "sam"
    amends = store._rows("SELECT record_id FROM audit WHERE action = 'amend' AND kind = 'attendance'")
    assert {r[0] for r in amends} == {fixed.id, off.id}
    assert {i.record_id for i in store.outbox() if i.kind == "attendance"} >= {fixed.id, off.id}


def test_the_count_is_of_people_matching_as_typed_not_close_spellings(store, people) -> None:
    """What "first 20 of 42" counts: each word typed starts a word of the name (or the date
    of birth or case id is theirs); close spellings are listed after them, not counted."""
    from hubdesk.screens.search import fit_columns, found_text

    add_kaydens(store)
    found = store.find_people("kayden examplar", limit=20)
    assert (len(found.hits), found.total) == (20, 42)
    found = store.find_people("kay mar", limit=20)
    assert found.total == 1 and found.hits[0].person_id == people["kayden"].id
    found = store.find_people("kaydn", limit=20)  # a typo: only close spellings
    assert found.total == 0 and found.hits
    assert found_text(len(found.hits), found.total).startswith("None found as typed; ")
    assert found_text(20, 42).startswith("First 20 of 42")
    assert found_text(3, 3).startswith("3 found.")
    assert store.find_people("LCS-2000", limit=5).total == 10
    assert store.find_people("1/1/2005", limit=20).total == 2
    # The columns fit the width they are given; name, status and alerts always stay.
    for width in (36, 56, 76, 116, 196):
        shown = fit_columns(width)
        labels = [c.label for c, _ in shown]
        assert labels[:1] == ["Name"] and {"Status", "Alerts"} <= set(labels)
        assert sum(w + 2 for _, w in shown) <= max(width, 43)
