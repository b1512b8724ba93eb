"""Unlock: user and passphrase; a clear message on a wrong one and a growing delay.

The delay is the store's (hubdesk.unlocks beside the key slots, per login): it survives
a restart of the desk and applies to the command line too."""

from __future__ import annotations

import math
from typing import ClassVar

from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label, Static

from hubdesk.store.desk import slot_logins
from hubdesk.store.errors import StoreError, UnknownUser, WrongPassphrase
from hubdesk.store.store import Store
from hubdesk.store.unlocks import TooManyTries, UnlockLog, delay_after

from .base import DeskBase

__all__ = ["UnlockScreen", "delay_after"]


class UnlockScreen(DeskBase[Store | None]):
    """Opens the store. With resume=True it covers a locked desk whose screens wait below."""

    CSS_PATH = "unlock.tcss"
    AUTO_FOCUS = "#passphrase"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", "Quit", id="unlock.quit", tooltip="Close hubdesk"),
        Binding(
            "ctrl+r",
            "recover",
            "Forgotten passphrase",
            id="unlock.recover",
            tooltip="Set a new passphrase with the store's recovery key",
        ),
        # Enter in the user box moves on here, in the app's queue: left to the box's Submitted
        # message, a passphrase typed straight after landed partly in the user box, in clear.
        Binding("enter", "next_field", show=False, priority=True, id="unlock.next", tooltip="On to the passphrase"),
    ]

    def __init__(self, resume: bool = False) -> None:
        super().__init__()
        self.resume = resume
        self.waiting_until = 0.0

    def compose(self) -> ComposeResult:
        logins = slot_logins(self.desk.data_dir)
        last = self.desk.last_login or (logins[0] if len(logins) == 1 else "")
        with Center(), Vertical(id="unlock-box"):
            yield Static("hubdesk", classes="title")
            if self.resume:
                yield Label("Locked. Your unsaved work is kept; unlock to go back to it.", id="locked-note")
            else:
                yield Label("Unlock the desk", classes="muted")
            yield Label(
                f"User ({', '.join(logins)})" if 1 < len(logins) <= 6 else "User", classes="muted", markup=False
            )
            yield Input(
                value=last,
                placeholder="your login",
                id="login",
                suggester=SuggestFromList(logins, case_sensitive=False),
            )
            yield Label("Passphrase", classes="muted")
            yield Input(password=True, placeholder="passphrase", id="passphrase")
            yield Label("", id="unlock-message", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if not self.query_one("#login", Input).value:
            self.query_one("#login", Input).focus()

    @on(Input.Submitted, "#login")
    def _to_passphrase(self) -> None:
        self.query_one("#passphrase", Input).focus()

    def action_next_field(self) -> None:
        if self.focused is not self.query_one("#login", Input):
            raise SkipAction()
        self.set_focus(self.query_one("#passphrase", Input))  # now, not after the queued keys

    @on(Input.Submitted, "#passphrase")
    def _submitted(self) -> None:
        self.try_unlock()

    def try_unlock(self) -> None:
        if self.desk._monotonic() < self.waiting_until:
            return
        login = self.query_one("#login", Input).value.strip()
        passphrase_input = self.query_one("#passphrase", Input)
        message = self.query_one("#unlock-message", Label)
        if not login:
            message.update("Type your user name first.")
            self.query_one("#login", Input).focus()
            return
        message.update("Unlocking...")
        try:
            store = Store.unlock(self.desk.data_dir, login, passphrase_input.value, clock=self.desk.clock)
        except TooManyTries as exc:
            self._wait(f"Too many wrong passphrases for {login!r}.", exc.wait)
            return
        except WrongPassphrase:
            # Counted beside the key slots, per login, by the store: read back what to wait.
            log = UnlockLog(self.desk.data_dir)
            self.desk.failed_unlocks = log.failures(login.strip().lower())
            self._wait(
                f"Wrong user or passphrase for {login!r}. Check Caps Lock and try again.",
                log.wait(login.strip().lower()),
            )
            return
        except UnknownUser:
            self._failed(f"Wrong user or passphrase for {login!r}. Check Caps Lock and try again.")
            return
        except StoreError as exc:
            self._failed(str(exc))
            return
        finally:
            passphrase_input.value = ""
        for notice in store.notices:  # a removal of inactive users held back, say
            self.app.notify(notice, severity="warning", markup=False, timeout=20)
        self.dismiss(store)

    def _failed(self, text: str) -> None:
        """A login with no slot: counted here only (a made-up name has no place in the file)."""
        self.desk.failed_unlocks += 1
        self._wait(text, delay_after(self.desk.failed_unlocks))

    def _wait(self, text: str, wait: float) -> None:
        wait = float(math.ceil(wait)) if wait else 0.0
        message = self.query_one("#unlock-message", Label)
        passphrase = self.query_one("#passphrase", Input)
        if wait:
            self.waiting_until = self.desk._monotonic() + wait
            message.update(f"{text} Wait {wait:.0f} s before the next try.")
            # Both boxes wait: with the passphrase box alone disabled, focus fell to the user
            # box and a passphrase typed again showed there in clear.
            passphrase.disabled = True
            self.query_one("#login", Input).disabled = True
            self.set_timer(wait, self._wait_over)
        else:
            message.update(text)
            passphrase.focus()

    def action_recover(self) -> None:
        from .recover import RecoverModal

        def done(login: str | None) -> None:
            if login:
                self.query_one("#login", Input).value = login
                self.query_one("#unlock-message", Label).update(
                    "New passphrase set. Unlock with it now; write the recovery key down again."
                )
                self.query_one("#passphrase", Input).focus()

        self.app.push_screen(RecoverModal(), callback=done)

    def _wait_over(self) -> None:
        self.query_one("#login", Input).disabled = False
        passphrase = self.query_one("#passphrase", Input)
        passphrase.disabled = False
        passphrase.focus()
