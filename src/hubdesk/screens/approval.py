"""A duty manager approves a payment on the same laptop, with their own passphrase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Select, Static

from hubdesk.domain.models import User
from hubdesk.store import desk as desk_queries
from hubdesk.store.errors import NotAllowed, WrongPassphrase

from .base import ModalBase


@dataclass(frozen=True)
class ApprovalResult:
    """approved (with the verified manager) or saved awaiting approval."""

    approver: User | None
    awaiting: bool = False


class ApprovalModal(ModalBase[ApprovalResult | None]):
    # Wider, with one-line fields, so what is being approved and why fits at 80x24 above the buttons.
    CSS = """
    ApprovalModal #approval-box { width: 76; }
    ApprovalModal .approval-line { width: 100%; height: auto; }
    ApprovalModal #approval-box Input { background: $boost; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Back to the form", id="approval.cancel", tooltip="Go back to the payment form"),
        Binding(
            "ctrl+w",
            "awaiting",
            "Save awaiting approval",
            id="approval.awaiting",
            tooltip="Save it now; a duty manager approves it later",
            priority=True,
        ),
    ]

    def __init__(
        self,
        amount_pence: int,
        reasons: tuple[str, ...],
        *,
        allow_awaiting: bool = True,
        title: str = "Duty manager approval needed",
        verb: str = "Approve",
    ) -> None:
        super().__init__()
        self.amount_pence = amount_pence
        self.reasons = reasons
        self.allow_awaiting = allow_awaiting
        self.title_text = title
        self.verb = verb

    def compose(self) -> ComposeResult:
        managers = desk_queries.duty_managers(self.store)
        options = [(f"{m.display_name} ({m.login})", m.login) for m in managers]
        with Vertical(classes="modal-box", id="approval-box"):
            yield Static(self.title_text, classes="title", markup=False)
            for reason in self.reasons:
                # A Static wraps a long line in the box instead of cutting it off.
                yield Static(f"• {reason}", markup=False, classes="approval-line")
            yield Label("Duty manager")
            yield Select(
                options,
                id="manager",
                allow_blank=not options,
                value=options[0][1] if options else Select.NULL,
                compact=True,
            )
            yield Label("Their passphrase")
            yield Input(password=True, id="manager-passphrase", compact=True)
            yield Label("", id="approval-error", classes="modal-error", markup=False)
            with Horizontal():
                yield Button(f"{self.verb} (enter)", id="approve", variant="primary")
                if self.allow_awaiting:
                    yield Button("Save awaiting approval (ctrl+w)", id="awaiting")

    def on_mount(self) -> None:
        self.query_one("#manager-passphrase", Input).focus()

    @on(Input.Submitted, "#manager-passphrase")
    @on(Button.Pressed, "#approve")
    def _approve(self) -> None:
        login = self.query_one("#manager", Select).value
        passphrase_input = self.query_one("#manager-passphrase", Input)
        error = self.query_one("#approval-error", Label)
        if login is Select.NULL or not isinstance(login, str):
            error.update("Pick the duty manager who approves it")
            return
        try:
            manager = self.store.verify_manager(login, passphrase_input.value, self.amount_pence)
        except WrongPassphrase as exc:
            error.update(f"{exc}. Try again, or save it awaiting approval.")
            passphrase_input.value = ""
            passphrase_input.focus()
            return
        except NotAllowed as exc:
            error.update(str(exc))
            passphrase_input.value = ""
            return
        passphrase_input.value = ""
        self.dismiss(ApprovalResult(manager))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.allow_awaiting or action != "awaiting"

    @on(Button.Pressed, "#awaiting")
    def action_awaiting(self) -> None:
        self.query_one("#manager-passphrase", Input).value = ""
        self.dismiss(ApprovalResult(None, awaiting=True))

    def action_cancel(self) -> None:
        self.query_one("#manager-passphrase", Input).value = ""
        self.dismiss(None)
