"""A labelled form field with its own error line, so each message sits by its field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Label


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
