"""What the desk's forms share: knowing what the user changed, so untouched fields stay
quiet while typing and escape only asks before throwing typing away."""

from __future__ import annotations

from textual import on
from textual.widgets import Checkbox, Input, Select, SelectionList


class FormState:
    """Mixin for a Screen with inputs: call start_tracking() once mounted."""

    initial: dict[str, object] | None = None
    touched: set[str]

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

    @on(Input.Submitted)
    def _next_field(self) -> None:
        """Enter in a one-line field moves on, as in a paper form."""
        self.focus_next()  # type: ignore[attr-defined]
