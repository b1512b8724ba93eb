"""A list of tick boxes (a contact's purposes) that ticks the line the cursor was on."""

from __future__ import annotations

from textual.widgets import OptionList, SelectionList


class TickList(SelectionList):
    """Textual's SelectionList ticks whatever line is highlighted when its own "selected"
    message is handled, not the line the cursor was on when space was pressed. Typed fast
    (down, space, up, space), both spaces toggled the last line: it ended unticked and the
    line meant first was never ticked. Here each space ticks the line it was pressed on."""

    def _on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        event.prevent_default()  # not SelectionList's own handler too (it toggles the highlighted line)
        self.toggle(self.get_option_at_index(event.option_index))
