"""Forgotten passphrase: the recovery key opens the store and sets a user's new passphrase."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from hubdesk.store.errors import StoreError, WrongPassphrase
from hubdesk.store.store import Store

from .base import ModalBase


class RecoverModal(ModalBase[str | None]):
    """Returns the login whose passphrase was reset, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="recover.cancel", tooltip="Back to unlocking"),
        Binding("ctrl+s", "save", "Set passphrase", id="recover.save", tooltip="Set the new passphrase"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static("Forgotten passphrase", classes="title")
            yield Label("Recovery key (as written down at set-up)")
            yield Input(id="recovery-code", password=True)
            yield Label("Your user name")
            yield Input(id="recover-login")
            yield Label("New passphrase")
            yield Input(id="new-passphrase", password=True)
            yield Label("New passphrase again")
            yield Input(id="new-confirm", password=True)
            yield Label("", id="recover-error", classes="modal-error", markup=False)

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "new-confirm":
            self.action_save()
        else:
            self.focus_next()

    def _clear(self) -> None:
        for box in self.query(Input):
            if box.password:
                box.value = ""

    def action_save(self) -> None:
        error = self.query_one("#recover-error", Label)
        code = self.query_one("#recovery-code", Input).value
        login = self.query_one("#recover-login", Input).value.strip().lower()
        new = self.query_one("#new-passphrase", Input).value
        if not code or not login:
            error.update("Give the recovery key and your user name")
            return
        if new != self.query_one("#new-confirm", Input).value:
            error.update("The two new passphrases are not the same")
            return
        try:
            with Store.recover(self.desk.data_dir, code, clock=self.desk.clock) as store:
                store.set_passphrase(login, new)
        except WrongPassphrase:
            error.update("That recovery key does not open this store")
            return
        except StoreError as exc:
            error.update(str(exc))
            return
        self._clear()
        self.dismiss(login)

    def action_cancel(self) -> None:
        self._clear()
        self.dismiss(None)
