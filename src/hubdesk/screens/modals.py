"""Small self-contained modals typed by their result; escape always cancels."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Person
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import duration

from .base import ModalBase


class ConfirmModal(ModalBase[bool]):
    """Yes or no; escape is always no. Enter takes the default: yes, unless the question
    risks losing work ("Discard what you typed?"), where the safe answer is the default."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel", tooltip="Do not do it"),
        Binding("enter", "default", "Default", id="confirm.ok", tooltip="The highlighted answer"),
    ]

    def __init__(self, question: str, yes: str = "Yes", *, no: str = "Cancel", default_yes: bool = True) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.default_yes = default_yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question, markup=False, classes="modal-question")
            with Horizontal():
                yes_key, no_key = ("enter", "esc") if self.default_yes else ("", "enter or esc")
                yield Button(f"{self.yes} ({yes_key})" if yes_key else self.yes, id="yes", variant="primary")
                yield Button(f"{self.no} ({no_key})", id="no", variant="default" if self.default_yes else "success")

    def on_mount(self) -> None:
        self.query_one("#yes" if self.default_yes else "#no", Button).focus()

    def action_default(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            self.dismiss(focused.id == "yes")
        else:
            self.dismiss(self.default_yes)

    @on(Button.Pressed, "#yes")
    def action_ok(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(False)


def discard_modal(question: str = "Discard what you typed?") -> ConfirmModal:
    """The one question before typing is thrown away: Keep is the default answer."""
    return ConfirmModal(question, yes="Discard", no="Keep", default_yes=False)


class TextModal(ModalBase[None]):
    """Plain text to read (user data, so never markup); escape or enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="text.close", tooltip="Close"),
        Binding("enter", "close", "Close", id="text.enter", tooltip="Close", show=False),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Static(self.body, markup=False, id="text-body")

    def action_close(self) -> None:
        self.dismiss(None)


class ReasonModal(ModalBase[str | None]):
    """Asks for a reason (e.g. for a reversal); enter saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="reason.cancel", tooltip="Cancel"),
    ]

    def __init__(self, title: str, prompt: str = "Reason") -> None:
        super().__init__()
        self.title_text = title
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, markup=False, classes="title")
            yield Label(self.prompt, markup=False)
            yield Input(id="reason")
            yield Label("", id="reason-error", classes="modal-error", markup=False)

    @on(Input.Submitted, "#reason")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#reason-error", Label).update("Give a reason")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class WalkInModal(ModalBase[Person | None]):
    """A young person not in the caseload: first name and an approximate age, marked for
    the central record to match."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="walkin.cancel", tooltip="Cancel"),
        Binding("ctrl+s", "save", "Add", id="walkin.save", tooltip="Add this walk-in"),
        # Enter moves on here, in the app's queue: left to the box's Submitted message, what was
        # typed straight after Enter landed in the box left ("Ellie", enter, enter, "19": "Ellie19").
        Binding("enter", "next_box", show=False, priority=True, id="walkin.next", tooltip="Next box; on the age, add"),
    ]

    def __init__(self, first_name: str = "") -> None:
        super().__init__()
        self.first_name = first_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static("New walk-in (not in the caseload)", classes="title")
            yield Label("First name")
            yield Input(value=self.first_name, id="first_name")
            yield Label("Last name (if they give it)")
            yield Input(id="last_name")
            yield Label("Approximate age")
            yield Input(id="approx_age", restrict=r"[0-9]*", max_length=2)
            yield Label("", id="walkin-error", classes="modal-error", markup=False)
            # A Static, not a Label: it wraps in the box at 80 columns instead of being cut.
            yield Static("ctrl+s adds them; they are marked for the central record to match.", classes="muted")

    def action_next_box(self) -> None:
        focused = self.focused
        if not isinstance(focused, Input) or focused.id == "approx_age":
            raise SkipAction()  # the age box submits, after the keys typed into it
        self.focus_next()

    @on(Input.Submitted, "#approx_age")
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        age_text = self.query_one("#approx_age", Input).value
        try:
            person = Person(
                first_name=self.query_one("#first_name", Input).value,
                last_name=self.query_one("#last_name", Input).value or None,
                approx_age=int(age_text) if age_text else None,
                hub_code=self.store.hub_code,
                walk_in=True,
                needs_matching=True,
            )
        except ValidationError as exc:
            self.query_one("#walkin-error", Label).update("; ".join(m for m in field_errors(exc).values()))
            return
        try:
            saved = self.store.add_person(person)
        except StoreError as exc:
            self.query_one("#walkin-error", Label).update(str(exc))
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NumberModal(ModalBase[int | None]):
    """A whole number (e.g. children brought along)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="number.cancel", tooltip="Cancel"),
    ]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Input(id="number", restrict=r"[0-9]*", max_length=2)
            yield Label("", id="number-error", classes="modal-error")

    @on(Input.Submitted, "#number")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#number-error", Label).update("Type a number")
            return
        self.dismiss(int(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)


def confirm_sign_out(screen: Screen, contact_id: str, after: Callable[[], None]) -> None:
    """Ask, then sign out a drop-in visit now (a new version of the contact)."""
    from hubdesk.messages import Saved

    app = screen.app
    store = app.require_store()  # type: ignore[attr-defined]
    visit = store.current_contact(contact_id)
    person = store.get_person(visit.person_id)
    now = app.now()  # type: ignore[attr-defined]
    question = f"Sign out {person.display_name} now? (in for {duration(visit.started_at, now)})"

    def done(ok: bool | None) -> None:
        if not ok:
            return
        try:
            out = app.require_store().sign_out(contact_id)  # type: ignore[attr-defined]
        except StoreError as exc:
            app.notify(str(exc), severity="error", markup=False)
            return
        app.notify(f"{person.display_name} signed out", markup=False)
        screen.post_message(Saved("sign_out", out.id))
        after()

    app.push_screen(ConfirmModal(question, yes="Sign out"), callback=done)
