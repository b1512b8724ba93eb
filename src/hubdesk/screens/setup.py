"""First run: make the store (hub, first user, passphrase) and show the recovery key once."""

from __future__ import annotations

from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from hubdesk.domain.enums import Role
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Hub, User
from hubdesk.domain.money import MoneyError, parse_pounds
from hubdesk.store.errors import StoreError
from hubdesk.store.store import Store
from hubdesk.widgets.fields import Field
from hubdesk.widgets.money import MoneyInput

from .base import DeskBase


def strength(passphrase: str) -> tuple[int, str]:
    """0-4 and a word: long phrases of several words score best."""
    if len(passphrase) < 8:
        return 0, "too short (at least 8 characters)"
    score = 1
    if len(passphrase) >= 12:
        score += 1
    if len(passphrase) >= 16 or len(passphrase.split()) >= 3:
        score += 1
    kinds = sum(
        any(test(c) for c in passphrase) for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    if kinds >= 3:
        score += 1
    return min(score, 4), ["too short", "weak", "fair", "good", "strong"][min(score, 4)]


class SetupScreen(DeskBase[Store | None]):
    """There is no store in the data dir yet: make one."""

    CSS_PATH = "setup.tcss"
    AUTO_FOCUS = "#hub_code"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Make the store", id="setup.save", tooltip="Create the store"),
        Binding("ctrl+q", "app.quit", "Quit", id="setup.quit", tooltip="Close hubdesk"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="setup-form"):
            yield Static("Set up this hub laptop", classes="title")
            yield Label(
                "No store was found. Make one for this hub: you become its first user.",
                classes="muted",
            )
            yield Field("Hub code", Input(placeholder="DEW", id="hub_code"), name="hub_code", hint="short, capitals")
            yield Field("Hub name", Input(placeholder="Dewsbury hub", id="hub_name"), name="hub_name")
            yield Field("Your login", Input(placeholder="sam", id="login"), name="login")
            yield Field("Your name", Input(placeholder="Sam Smith", id="display_name"), name="display_name")
            yield Field(
                "Role",
                Select([(r.label, r.value) for r in Role], value=Role.DUTY_MANAGER.value, allow_blank=False, id="role"),
                name="role",
            )
            yield Field("Payment authorisation limit", MoneyInput("200.00", id="limit"), name="limit")
            yield Field(
                "Passphrase",
                Input(password=True, id="passphrase"),
                name="passphrase",
                hint="a few words you will remember",
            )
            yield Static("Strength: -", id="strength")
            yield Field("Passphrase again", Input(password=True, id="confirm"), name="confirm")
            yield Label("", id="setup-error", classes="form-error", markup=False)
            yield Button("Make the store (ctrl+s)", id="make", variant="primary")
        yield Footer(compact=True)

    @on(Input.Changed, "#passphrase")
    def _strength(self, event: Input.Changed) -> None:
        score, word = strength(event.value)
        bar = "■" * score + "□" * (4 - score)
        self.query_one("#strength", Static).update(f"Strength: {bar} {word}")

    @on(Button.Pressed, "#make")
    def _make(self) -> None:
        self.action_save()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def action_save(self) -> None:
        errors: dict[str, str] = {}
        hub = user = None
        try:
            hub = Hub(code=self._value("hub_code").upper(), name=self._value("hub_name"))
        except ValidationError as exc:
            for key, msg in field_errors(exc).items():
                errors["hub_code" if key == "code" else "hub_name"] = msg
        try:
            limit = parse_pounds(self._value("limit"))
        except MoneyError as exc:
            errors["limit"] = str(exc)
            limit = 0
        try:
            user = User(
                login=self._value("login").lower(),
                display_name=self._value("display_name"),
                role=self.query_one("#role", Select).value,
                hub_code=hub.code if hub else None,
                payment_limit_pence=limit,
            )
        except ValidationError as exc:
            for key, msg in field_errors(exc).items():
                errors[key if key in {"login", "display_name"} else "login"] = msg
        passphrase = self._value("passphrase")
        if len(passphrase) < 8:
            errors["passphrase"] = "At least 8 characters; a few words are best"  # noqa: S105
        elif passphrase != self._value("confirm"):
            errors["confirm"] = "The two passphrases are not the same"
        for field in self.query(Field):
            field.set_error(errors.get(field.field_name))
        if errors or hub is None or user is None:
            first = next(f for f in self.query(Field) if f.field_name in errors)
            first.widget.focus()
            return
        try:
            store, recovery = Store.create(
                self.desk.data_dir,
                hub=hub,
                first_user=user,
                passphrase=passphrase,
                clock=self.desk.clock,
            )
        except StoreError as exc:
            self.query_one("#setup-error", Label).update(str(exc))
            return
        self.app.push_screen(RecoveryCodeScreen(recovery), callback=lambda _: self.dismiss(store))


class RecoveryCodeScreen(DeskBase[bool]):
    """The recovery key, shown once: write it down before going on."""

    CSS_PATH = "setup.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "done", "Continue", id="recovery.done", tooltip="I have written the recovery key down"),
    ]

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    def compose(self) -> ComposeResult:
        with Vertical(id="recovery-box"):
            yield Static("Your recovery key", classes="title")
            yield Label(
                "Write this down now and keep it locked away. It is shown only once. "
                "It opens this store if every passphrase is forgotten.",
                classes="muted",
            )
            yield Static(self.code, id="recovery-code", markup=False)
            yield Checkbox("I have written the recovery key down", id="written")
            yield Label("", id="recovery-message", classes="form-error")
            yield Button("Continue (ctrl+s)", id="continue", variant="primary")
        yield Footer(compact=True)

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.action_done()

    def action_done(self) -> None:
        if not self.query_one("#written", Checkbox).value:
            self.query_one("#recovery-message", Label).update("Tick the box once it is written down.")
            self.query_one("#written", Checkbox).focus()
            return
        self.code = ""
        self.dismiss(True)
