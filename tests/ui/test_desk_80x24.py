"""The desk at 80x24, and words that say what they mean (issue 8, part 3)."""

from __future__ import annotations

from deskpilot import screen_name, unlock
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from hubdesk.domain.enums import PaymentMethod
from hubdesk.domain.models import Alert, Contact

SMALL = (80, 24)


def footer_labels(app) -> dict[str, tuple[str, bool]]:
    """Each footer key's label and whether the whole of it is on screen (the command palette's
    hint, docked at the right, is drawn over any key that runs under it)."""
    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.description == "palette"]
    limit = min([app.size.width, *(k.region.x for k in palette if k.region.width)])
    shown = {}
    for key in keys:
        region = key.region
        edge = app.size.width if key in palette else limit
        shown[key.description] = (key.key_display, region.width > 0 and region.right <= edge)
    return shown


def column_keys(table: DataTable) -> list[str]:
    return [str(key.value) for key in table.columns]


async def test_footer_at_80_columns_shows_lock_and_settings(desk_app) -> None:
    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.pause()
        labels = footer_labels(desk_app)
        for label in ("Find", "Visit", "Contact", "Pay", "Out", "Sessions", "Sync", "Settings", "Lock"):
            assert label in labels, f"{label} missing from the footer: {sorted(labels)}"
            assert labels[label][1], f"{label} is cut off at 80 columns"


async def test_desk_tables_keep_what_matters_at_80x24(desk_app, store, people, clock) -> None:
    store.record_contact(
        Contact(
            person_id=people["kayden"].id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=clock(),
            recorded_at=clock(),
            seen=True,
            purposes=("money", "housing"),
            summary="In about the gas meter",
            safeguarding_concern=False,
            tell_allocated_pa=True,
        )
    )
    store.record_payment(
        person_id=people["kayden"].id,
        category="gas",
        amount_pence=2000,
        method=PaymentMethod.UTILITY_TOP_UP,
        reason="No gas",
    )
    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.pause()
        screen = desk_app.screen
        inside = screen.query_one("#in-building", DataTable)
        assert {"name", "alerts"} <= set(column_keys(inside))
        contacts = screen.query_one("#contacts", DataTable)
        assert {"name", "flags"} <= set(column_keys(contacts))
        # It holds flags (in, tell PA, SAFEGUARDING), so it is called that.
        assert [str(c.label) for c in contacts.columns.values()][-1] == "Flags"
        payments = screen.query_one("#payments", DataTable)
        assert {"name", "amount", "status"} <= set(column_keys(payments))
        for table in (inside, contacts, payments, screen.query_one("#sessions", DataTable)):
            # Every column it shows is inside the table: nothing falls off the right edge.
            assert table.virtual_size.width <= table.size.width + 1, table.id
        row = payments.get_row_at(0)
        assert "£20.00" in str(row[column_keys(payments).index("amount")])
        # At 120 columns everything is shown again.
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        await pilot.pause()
        assert column_keys(payments) == ["time", "receipt", "name", "category", "amount", "status"]


async def test_an_alert_that_names_its_kind_is_not_repeated(desk_app, store, people) -> None:
    kayden = people["kayden"]
    store.update_person(
        kayden.model_copy(update={"alerts": (Alert(kind="risk", text="Risk: see safety plan"),)}), kayden.version
    )
    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        text = " ".join(str(w.content) for w in desk_app.screen.query(".alerts"))
        assert "Risk: see safety plan" in text
        assert "Risk: Risk" not in text


async def test_date_examples_are_never_in_the_past(desk_app, people) -> None:
    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.press("c", *"zeb", "enter")
        await pilot.pause()
        form = desk_app.screen
        label = str(form.query_one("#field-action_due .field-label").content)
        assert "27 Nov 2026" in label  # the desk's today is 25 Nov 2026
        form.query_one("#action_due").value = "someday"
        form.query_one("#action_due").focus()
        await pilot.press("x")
        await pilot.pause()
        assert "Type a date like 27 Nov 2026" in form.query_one("#field-action_due").error
        form.query_one("#started").value = "half nine"
        await pilot.pause()
        assert "25 Nov 2026 14:05" in form.query_one("#field-started").error


async def test_modal_and_settings_text_wraps_at_80_columns(desk_app) -> None:
    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"zzqq")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen_name(desk_app) == "WalkInModal"
        hint = next(w for w in desk_app.screen.query(".muted") if "ctrl+s adds them" in str(w.render()))
        box = desk_app.screen.query_one(".modal-box")
        assert hint.region.right <= box.region.right
        assert hint.region.height >= 2  # wrapped, not cut
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("comma")
        await pilot.pause()
        assert screen_name(desk_app) == "SettingsScreen"
        box = desk_app.screen.query_one("#background_sync")
        assert box.region.right <= 80
        assert len(str(box.label)) + 6 <= box.region.width


async def test_the_person_screen_footer_at_80_columns_keeps_its_keys_whole(desk_app, people) -> None:
    """The person screen's footer ran out at 80 columns ("l Off▏^p palette"): like the desk's,
    it gives the palette hint's room to its own keys there (ctrl+p still opens the palette)."""
    from hubdesk.screens.person import PersonScreen

    async with desk_app.run_test(size=SMALL) as pilot:
        await unlock(pilot)
        desk_app.push_screen(PersonScreen(people["kayden"].id))
        await pilot.pause()
        await pilot.pause()
        labels = footer_labels(desk_app)
        assert {"Back", "Contact", "Payment"} <= set(labels)
        cut = [label for label, (_, whole) in labels.items() if not whole]
        assert not cut, f"cut off at 80 columns: {cut}"
