"""What the desk's forms share: knowing what the user changed, so untouched fields stay
quiet while typing and escape only asks before throwing typing away."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from textual.screen import Screen
from textual.widgets import Checkbox, Input, Select, SelectionList


@dataclass
class SetAsideForm:
    """A half-typed form taken off the screen when another user unlocks the desk, held in
    memory only (never on disk) until the user who typed it unlocks again."""

    what: str
    reopen: Callable[[], Screen] = field(repr=False)
    values: dict[str, object] = field(repr=False)


class FormState:
    """Mixin for a Screen with inputs: call start_tracking() once mounted."""

    initial: dict[str, object] | None = None
    touched: set[str]
    restore_values: dict[str, object] | None = None
    """Typing to put back once the form is built (a form given back after a set-aside)."""
    form_kind = "form"
    """What the form is, in a sentence: 'Sam's unsaved contact form is set aside'."""

    def form_values(self) -> dict[str, object]:
        values: dict[str, object] = {}
        for widget in self.query("Input, Select, Checkbox, SelectionList"):  # type: ignore[attr-defined]
            if not widget.id:
                continue
            if isinstance(widget, SelectionList):
                values[widget.id] = tuple(widget.selected)
            elif isinstance(widget, Input | Select | Checkbox):
                values[widget.id] = widget.value
        return values

    def start_tracking(self) -> None:
        self.touched = set()
        self.call_after_refresh(self._snapshot)  # type: ignore[attr-defined]

    def _snapshot(self) -> None:
        self.initial = self.form_values()
        if self.restore_values:
            self._restore(self.restore_values)
            self.restore_values = None

    def _restore(self, values: dict[str, object]) -> None:
        for widget in self.query("Input, Select, Checkbox, SelectionList"):  # type: ignore[attr-defined]
            if widget.id not in values:
                continue
            value = values[widget.id]
            if isinstance(widget, SelectionList):
                widget.deselect_all()
                for item in value:  # type: ignore[attr-defined]
                    widget.select(item)
            else:
                widget.value = value
            if value != self.initial.get(widget.id):  # type: ignore[union-attr]
                self.touched.add(widget.id)

    def reopen(self) -> Screen:
        """A fresh, empty copy of this form (for a set-aside form given back)."""
        raise NotImplementedError

    def set_aside(self) -> SetAsideForm:
        return SetAsideForm(what=self.form_kind, reopen=self.reopen, values=self.form_values())

    def note_change(self, widget_id: str | None) -> bool:
        """Record a change; False while the form is still being built (ignore the event)."""
        if self.initial is None:
            return False
        if widget_id and self.form_values().get(widget_id) != self.initial.get(widget_id):
            self.touched.add(widget_id)
        return True

    @property
    def dirty(self) -> bool:
        return self.initial is not None and self.form_values() != self.initial

    def focus_first_error(self, errors: dict[str, str]) -> None:
        """On a refused save, put the cursor in the first field (in screen order) that is wrong."""
        from hubdesk.widgets.fields import Field

        order = [f.field_name for f in self.query(Field)]  # type: ignore[attr-defined]
        first = next((n for n in order if n in errors), None)
        if first:
            self.query_one(f"#field-{first}", Field).widget.focus()  # type: ignore[attr-defined]

    def action_back(self) -> None:
        """Escape: leave at once if nothing was typed, else ask (Keep is the default)."""
        if not self.dirty:
            self.dismiss(None)  # type: ignore[attr-defined]
            return
        from .modals import discard_modal

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)  # type: ignore[attr-defined]

        self.app.push_screen(discard_modal(), answer)  # type: ignore[attr-defined]

    # Enter in a one-line field moves on, as in a paper form: the app's `form_enter` binding
    # does it, in the app's queue, so keys typed straight after Enter land in the next field.
