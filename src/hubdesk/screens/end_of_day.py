"""End of day (first part): who is still signed in and payments awaiting approval.

The full checklist (float count, summary, sync, handover) is its own issue.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Label, Static

from hubdesk.store import desk as desk_queries
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import money_cell, plain, time_only

from .base import DeskBase


class EndOfDayScreen(DeskBase[None]):
    CSS_PATH = "end_of_day.tcss"
    AUTO_FOCUS = "#still-in"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="eod.back", tooltip="Back to the desk"),
        Binding("o", "sign_out", "Sign out", id="eod.sign_out", tooltip="Sign out the highlighted person"),
        Binding(
            "a",
            "approve",
            "Approve payment",
            id="eod.approve",
            tooltip="A duty manager approves the highlighted payment awaiting approval",
        ),
        Binding(
            "d",
            "decline",
            "Decline payment",
            id="eod.decline",
            tooltip="A duty manager declines the highlighted payment awaiting approval, with a reason",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Static("End of day", classes="title")
        yield Label("Still signed in", classes="section-title")
        yield DataTable(id="still-in", cursor_type="row")
        yield Label("Payments awaiting approval", classes="section-title")
        yield DataTable(id="awaiting", cursor_type="row")
        yield Label("Float count, day summary, sync and handover come next (separate issue).", classes="muted")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#still-in", DataTable).add_columns("Name", "Signed in")
        self.query_one("#awaiting", DataTable).add_columns("Receipt", "Name", "Amount")
        self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        day = desk_queries.today(store, self.now())
        table = self.query_one("#still-in", DataTable)
        table.clear()
        for v in day.in_building:
            person = day.people.get(v.person_id)
            table.add_row(plain(person.display_name if person else "?"), time_only(v.started_at), key=v.contact_id)
        table = self.query_one("#awaiting", DataTable)
        table.clear()
        for p in day.awaiting_approval:
            person = day.people.get(p.person_id)
            table.add_row(
                p.receipt_no, plain(person.display_name if person else "?"), money_cell(p.amount_pence), key=p.id
            )

    def action_sign_out(self) -> None:
        table = self.query_one("#still-in", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            from .modals import confirm_sign_out

            confirm_sign_out(self, key, after=self.refresh_data)

    def action_approve(self) -> None:
        from hubdesk.domain.money import format_pence
        from hubdesk.messages import Saved

        from .approval import ApprovalModal, ApprovalResult

        table = self.query_one("#awaiting", DataTable)
        if table.row_count == 0:
            self.say("No payment is awaiting approval.")
            return
        payment_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not payment_id:
            return
        payment = self.store.get_payment(payment_id)

        def decided(result: ApprovalResult | None) -> None:
            if result is None or result.approver is None:
                return
            try:
                decision = self.store.decide_payment(payment_id, True, result.approver)
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.say(f"{payment.receipt_no} approved by {result.approver.display_name}")
            self.post_message(Saved("payment_decision", decision.id))
            self.refresh_data()

        self.app.push_screen(
            ApprovalModal(
                payment.amount_pence,
                (f"{payment.receipt_no}: {format_pence(payment.amount_pence)}",),
                allow_awaiting=False,
            ),
            callback=decided,
        )

    def action_decline(self) -> None:
        from hubdesk.domain.money import format_pence
        from hubdesk.messages import Saved

        from .approval import ApprovalModal, ApprovalResult
        from .modals import ReasonModal

        table = self.query_one("#awaiting", DataTable)
        if table.row_count == 0:
            self.say("No payment is awaiting approval.")
            return
        payment_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not payment_id:
            return
        payment = self.store.get_payment(payment_id)

        def verified(result: ApprovalResult | None) -> None:
            if result is None or result.approver is None:
                return
            manager = result.approver

            def reasoned(reason: str | None) -> None:
                if not reason:
                    return
                try:
                    decision = self.store.decide_payment(payment_id, False, manager, reason)
                except StoreError as exc:
                    self.say(str(exc), severity="error")
                    return
                self.say(f"{payment.receipt_no} declined by {manager.display_name}")
                self.post_message(Saved("payment_decision", decision.id))
                self.refresh_data()

            self.app.push_screen(ReasonModal(f"Decline {payment.receipt_no}", "Why is it declined?"), reasoned)

        self.app.push_screen(
            ApprovalModal(
                payment.amount_pence,
                (f"{payment.receipt_no}: {format_pence(payment.amount_pence)}",),
                allow_awaiting=False,
                title="Duty manager: decline this payment",
                verb="Confirm it is me",
            ),
            callback=verified,
        )

    def action_back(self) -> None:
        self.dismiss(None)
