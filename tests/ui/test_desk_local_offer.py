"""The local offer at the desk (issue 11, item 3): the person screen says what the young person
is entitled to and has had; `l` lists the offer; `g` gives one with a note, or opens the payment
form prefilled with its category, and the payment saved marks it had."""

from __future__ import annotations

from datetime import date

from deskpilot import screen_name, unlock
from textual.widgets import DataTable, Input, Select, Static

from hubdesk.domain.local_offer import EXAMPLE_OFFER
from hubdesk.domain.models import PaymentCategory
from hubdesk.store import local_offer


def _with_offer(store) -> None:
    reference = store.reference()
    store.set_reference(
        reference.model_copy(
            update={
                "local_offer": EXAMPLE_OFFER,
                "payment_categories": (
                    *reference.payment_categories,
                    PaymentCategory(code="birthday-grant", name="Birthday grant", limit_pence=2500),
                ),
            }
        )
    )


def _rows(table: DataTable) -> dict[str, list[str]]:
    return {str(table.get_row_at(i)[0]): [str(c) for c in table.get_row_at(i)] for i in range(table.row_count)}


async def test_the_offer_shows_entitled_and_had_and_gives_with_a_note(desk_app, store, people, clock) -> None:
    _with_offer(store)
    zeb = people["zeb"]  # 19 on 25 Nov 2026, former relevant, no EET recorded, not a parent
    async with desk_app.run_test(size=(120, 40), notifications=True) as pilot:
        await unlock(pilot)
        from hubdesk.screens.person import PersonScreen

        desk_app.push_screen(PersonScreen(zeb.id))
        await pilot.pause()
        line = str(desk_app.screen.query_one("#person-offer", Static).content)
        assert line.startswith("Local offer: entitled to 7 of 9, had 0")
        await pilot.press("l")
        await pilot.pause()
        assert screen_name(desk_app) == "LocalOfferScreen"
        table = desk_app.screen.query_one("#offer", DataTable)
        rows = _rows(table)
        assert rows["Driving lessons"][1] == "no: while in education, employment or training"
        assert rows["Young parent's baby grant"][1] == "no: for young parents"
        assert rows["Bus pass"][1] == "yes" and rows["Bus pass"][3] == "can have it"
        table.move_cursor(row=list(rows).index("Bus pass"))
        await pilot.press("g")
        await pilot.pause()
        desk_app.screen.query_one("#reason", Input).value = "Applied online with them"
        await pilot.press("enter")
        await pilot.pause()
        assert _rows(table)["Bus pass"][2] == "25 Nov 2026"
    had = local_offer.had(store, zeb.id)
    assert had == {"bus-pass": date(2026, 11, 25)}


async def test_giving_a_money_entitlement_opens_the_payment_form_prefilled(desk_app, store, people, clock) -> None:
    _with_offer(store)
    zeb = people["zeb"]
    async with desk_app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        from hubdesk.screens.local_offer import LocalOfferScreen

        desk_app.push_screen(LocalOfferScreen(zeb.id))
        await pilot.pause()
        table = desk_app.screen.query_one("#offer", DataTable)
        table.move_cursor(row=list(_rows(table)).index("Birthday grant"))
        await pilot.press("g")
        await pilot.pause()
        await pilot.pause()
        assert screen_name(desk_app) == "PaymentFormScreen"
        form = desk_app.screen
        assert form.query_one("#category", Select).value == "birthday-grant"
        assert form.query_one("#reason", Input).value == "Local offer: Birthday grant"
        form.query_one("#amount", Input).value = "20.00"
        form.query_one("#method", Select).value = "cash"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert screen_name(desk_app) == "LocalOfferScreen"
        assert _rows(table)["Birthday grant"][2] == "25 Nov 2026"
    gifts = store._rows("SELECT entitlement, payment_id FROM offer_given")
    assert len(gifts) == 1 and gifts[0][0] == "birthday-grant" and gifts[0][1]
