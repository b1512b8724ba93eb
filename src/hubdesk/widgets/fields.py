"""A labelled form field with its own error line, so each message sits by its field."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label


class Field(Vertical):
    """Label, the input widget, and an error line that is empty until something is wrong."""

    DEFAULT_CSS = """
    Field { height: auto; margin: 0 0 1 0; }
    Field > .field-label { color: $text-muted; height: 1; }
    Field > .field-error { color: $error; width: 100%; height: auto; display: none; }
    Field.-invalid > .field-error { display: block; }
    Field.-invalid > Input, Field.-invalid > SelectionList, Field.-invalid > Select > SelectCurrent {
        background: $error 25%;
    }
    Field > Input.-textual-compact { background: $boost; }
    Field > Input.-textual-compact:focus { background: $primary 20%; }
    """

    def __init__(self, label: str, widget: Widget, *, name: str, hint: str = "", **kwargs) -> None:
        super().__init__(id=f"field-{name}", **kwargs)
        self.field_name = name
        self.label_text = label
        self.hint = hint
        self.widget = widget
        # One line per input, so a whole form fits at 80x24 without borders eating rows.
        if hasattr(widget, "compact"):
            widget.compact = True  # type: ignore[attr-defined]
        if isinstance(widget, Input):
            # Tabbing back to a note to add a word must not select it all, so that the next
            # key typed replaces the whole note.
            widget.select_on_focus = False

    def compose(self) -> ComposeResult:
        text = f"{self.label_text}  ({self.hint})" if self.hint else self.label_text
        yield Label(text, classes="field-label", markup=False)
        yield self.widget
        yield Label("", classes="field-error", markup=False)

    def set_error(self, message: str | None) -> None:
        error = self.query_one(".field-error", Label)
        error.update(message or "")
        self.set_class(bool(message), "-invalid")

    @property
    def error(self) -> str:
        return str(self.query_one(".field-error", Label).content) if self.has_class("-invalid") else ""


class TickBox(Checkbox):
    """A checkbox that typing cannot flip.

    A PA who lands on a tick box thinking it is a text box types a sentence: each space in
    it used to toggle the box, so a ticked "Safeguarding concern" ended unticked and its
    section vanished. Here letters are refused with a bell and a hint, and a space that
    comes within TYPING_PAUSE seconds of a letter is part of that typing, not a tick."""

    TYPING_PAUSE = 2.0

    def __init__(self, *args, monotonic: Callable[[], float] = time.monotonic, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._monotonic = monotonic
        self._last_letter = float("-inf")

    class TypedInto(Message):
        """Letters were typed into a tick box; the screen says where to type instead."""

        def __init__(self, box: TickBox) -> None:
            super().__init__()
            self.box = box

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "space":
            if self._monotonic() - self._last_letter < self.TYPING_PAUSE:
                event.stop()
                event.prevent_default()
            return
        if event.is_printable:
            self._last_letter = self._monotonic()
            event.stop()
            event.prevent_default()
            self.app.bell()
            self.post_message(self.TypedInto(self))
