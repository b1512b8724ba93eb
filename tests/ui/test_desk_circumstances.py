"""A young person's circumstances at the desk: at a glance on the person screen with what is
out of date marked, changed in a form two keys away, read back through the store."""

from __future__ import annotations

from datetime import date

from deskpilot import SIZE, screen_name, unlock
from textual.widgets import Static

from hubdesk.domain.circumstances import AccommodationType, Circumstances, EetStatus, NeetReason, PreferredContact
from hubdesk.store.circumstances import change_circumstances


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def test_person_screen_marks_what_is_out_of_date(desk_app, store, people) -> None:
    kayden = people["kayden"]
    change_circumstances(
        store,
        kayden.id,
        kayden.version,
        contact=kayden.contact,
        circumstances=Circumstances.model_validate(
            {
                "accommodation": {"kind": "bed_and_breakfast", "since": "2026-11-20"},
                "eet": {"status": "neet", "neet_reason": "pregnancy_or_parenting"},
                "pathway_plan": {"last_review": "2026-04-02"},
                "children": 2,
            }
        ),
        expected_contact_days=7,
    )
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        marked = _text(desk_app, "#person-flags")
        assert "Pathway plan overdue" in marked and "Accommodation unsuitable" in marked and "NEET" in marked
        details = _text(desk_app, "#person-details")
        assert "Accommodation: Bed and breakfast since 20 Nov 2026 · UNSUITABLE" in details
        assert "Pathway plan: reviewed 2 Apr 2026, next due 2 Oct 2026 · OVERDUE" in details
        assert "EET: NEET (pregnancy or parenting)" in details
        assert "In touch: weekly" in details and "young parent, 2 children" in details

        # Zeb has nothing recorded: nothing marked as out of date but the missing plan.
        await pilot.press("escape", "slash", *"zeb", "enter")
        await pilot.pause()
        assert _text(desk_app, "#person-flags") in ("", "⚠ No pathway plan")
        assert "Circumstances not recorded yet (e adds them)" in _text(desk_app, "#person-details")


async def test_details_changed_in_the_form_two_keys_away(desk_app, store, people) -> None:
    amira = people["amira"]
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"amira", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        form = desk_app.screen
        assert screen_name(desk_app) == "CircumstancesFormScreen"
        await pilot.press(*"07700 900444")  # the phone box has the cursor
        form.query_one("#accommodation").value = "supported_lodgings"
        form.query_one("#suitable").value = "yes"
        form.query_one("#acc_since").value = "3 Nov 2026"
        form.query_one("#eet").value = "neet"
        form.query_one("#plan_last").value = "1 Oct 2026"
        await pilot.pause()
        # Six months on is offered for the next review.
        assert form.query_one("#plan_due").value == "1 Apr 2027"
        form.query_one("#immigration").value = "awaiting_decision"
        form.query_one("#interpreter").value = "Tigrinya"
        form.query_one("#every").value = "fortnightly"
        form.query_one("#children").value = "many"
        await pilot.press("ctrl+s")
        await pilot.pause()
        # Refused, each message by its field: NEET needs a reason, children a number.
        assert screen_name(desk_app) == "CircumstancesFormScreen"
        assert "NEET needs a reason" in form.query_one("#field-neet_reason").error
        assert "whole number" in form.query_one("#field-children").error
        assert store.get_person(amira.id).version == amira.version
        form.query_one("#neet_reason").value = "illness"
        form.query_one("#children").value = "0"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        assert "Supported lodgings since 3 Nov 2026 · suitable" in _text(desk_app, "#person-details")

    saved = store.get_person(amira.id)
    assert saved.version == amira.version + 1
    assert saved.contact.phone == "07700 900444"
    c = saved.circumstances
    assert c.accommodation and c.accommodation.kind is AccommodationType.SUPPORTED_LODGINGS
    assert c.accommodation.suitable is True and c.accommodation.since == date(2026, 11, 3)
    assert c.eet and c.eet.status is EetStatus.NEET and c.eet.neet_reason is NeetReason.ILLNESS
    assert c.pathway_plan and c.pathway_plan.next_due == date(2027, 4, 1)
    assert c.immigration and c.interpreter_language == "Tigrinya" and saved.uasc
    assert saved.expected_contact_days == 14 and c.children == 0 and not saved.young_parent
    # One save: the new version, its audit entry and its outbox row.
    assert store._rows("SELECT count(*) FROM outbox WHERE kind = 'person' AND record_id = ?", [amira.id])[0][0] == 2
    assert (
        store._rows(
            "SELECT count(*) FROM audit WHERE action = 'amend' AND kind = 'person' AND record_id = ?", [amira.id]
        )[0][0]
        == 1
    )


async def test_escape_asks_before_throwing_typing_away(desk_app, store, people) -> None:
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"zeb", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("escape")  # nothing typed: leaves at once
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"0770")
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(desk_app) != "PersonScreen"  # asked first
        await pilot.press("escape")  # keep typing (the default)
        await pilot.pause()
        assert screen_name(desk_app) == "CircumstancesFormScreen"
        assert desk_app.screen.query_one("#phone").value.endswith("0770")


async def test_the_form_opens_with_what_is_held_and_saves_nothing_unchanged(desk_app, store, people) -> None:
    kayden = people["kayden"]
    held = Circumstances.model_validate(
        {
            "accommodation": {"kind": "staying_put", "suitable": True, "since": "2025-09-01"},
            "eet": {"status": "neet", "neet_reason": "illness", "since": "2026-10-01"},
            "pathway_plan": {"last_review": "2026-09-10", "next_due": "2026-12-10"},
            "immigration": {"status": "appeal"},
            "interpreter_language": "Dari",
            "health_passport_given": "2026-01-15",
            "children": 1,
            "extended_support": True,
        }
    )
    saved = change_circumstances(
        store,
        kayden.id,
        kayden.version,
        contact=kayden.contact.model_copy(update={"phone": "07700 900777", "preferred": PreferredContact.TEXT}),
        circumstances=held,
        expected_contact_days=10,
    )
    async with desk_app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        form = desk_app.screen
        assert form.query_one("#plan_due").value == "10 Dec 2026"
        assert form.query_one("#acc_since").value == "1 Sep 2025"
        assert form.query_one("#every").value == "10"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
    assert store.get_person(kayden.id) == saved  # no new version for no change
