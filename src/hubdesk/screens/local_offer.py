"""The local offer at the desk: what this young person is entitled to, what they have had, and
giving one (as an emergency payment, prefilled, or with a note). Ofsted found the local offer
"not accessible enough to care leavers": here the duty PA sees it on the young person's page."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from hubdesk.domain.local_offer import How
from hubdesk.store import local_offer
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import plain

from .base import DeskBase

HOW = {How.ONCE: "once", How.YEARLY: "once a year", How.ANY: "when needed"}


class LocalOfferLine(Static):
    """The person screen's line on the local offer (l opens it)."""

    def show(self, store, person_id: str, day) -> None:
        line = local_offer.summary_line(store, person_id, day)
        self.update(f"{line} (l shows them)" if line else "")
        self.display = bool(line)


class LocalOfferScreen(DeskBase[None]):
    CSS_PATH = "local_offer.tcss"
    AUTO_FOCUS = "#offer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="offer.back", tooltip="Back to the young person"),
        Binding("g", "give", "Give", id="offer.give", tooltip="Give the highlighted one: a payment or a note"),
    ]

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id

    def compose(self) -> ComposeResult:
        yield Static("", id="offer-title", classes="title", markup=False)
        yield DataTable(id="offer", cursor_type="row", zebra_stripes=True)
        yield Static("", id="offer-note", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#offer", DataTable).add_columns("Entitlement", "Entitled", "Had", "Now", "Given as")
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        person = store.get_person(self.person_id)
        reference = store.reference()
        example = " (an example set, not this council's)" if reference.example else ""
        self.query_one("#offer-title", Static).update(f"Local offer for {person.display_name}{example}")
        table = self.query_one("#offer", DataTable)
        keep = table.cursor_row
        table.clear()
        categories = {c.code: c.name for c in reference.payment_categories}
        offer = local_offer.offer_for(store, self.person_id, self.today())
        for x in offer:
            e = x.entitlement
            given_as = f"payment: {categories[e.payment_category]}" if e.payment_category in categories else "a note"
            table.add_row(
                plain(e.name),
                "yes" if x.eligible else plain(f"no: {x.why_not}"),
                f"{x.had_on.day} {x.had_on:%b %Y}" if x.had_on else "-",
                "can have it" if x.again else ("had it" if x.eligible else "-") + f" ({HOW[e.how]})",
                plain(given_as),
                key=e.code,
            )
        if offer:
            table.move_cursor(row=min(keep, len(offer) - 1))
        empty = "No local offer on this desk yet: sync with the central record."
        self.query_one("#offer-note", Static).update("g gives the highlighted one." if offer else empty)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_give(self) -> None:
        table = self.query_one("#offer", DataTable)
        if table.row_count == 0:
            return
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        store = self.store
        x = next(x for x in local_offer.offer_for(store, self.person_id, self.today()) if x.entitlement.code == code)
        e = x.entitlement
        if not x.eligible:
            self.say(f"Not entitled to {e.name}: {x.why_not}.", severity="warning")
            return
        if not x.again:
            self.say(f"{e.name}: already had ({HOW[e.how]}).", severity="warning")
            return
        categories = {c.code for c in store.reference().payment_categories}
        if e.payment_category in categories:
            from .payment import PaymentFormScreen

            form = PaymentFormScreen(self.person_id)
            form.restore_values = {"category": e.payment_category, "reason": f"Local offer: {e.name}"}

            def paid(payment_id: str | None) -> None:
                if payment_id:
                    self._record(e.code, "", payment_id)

            self.app.push_screen(form, paid)
            return
        from .modals import ReasonModal

        def noted(note: str | None) -> None:
            if note:
                self._record(e.code, note, None)

        self.app.push_screen(ReasonModal(f"Give: {e.name}", "What was given or arranged?"), noted)

    def _record(self, code: str, note: str, payment_id: str | None) -> None:
        try:
            local_offer.give(self.store, self.person_id, code, note, payment_id)
        except StoreError as exc:
            self.say(str(exc), severity="error")
            return
        self.say("Recorded on their local offer.")
        self.refresh_data()
