"""Money typed as a person types it (12.50, £30, 1,200) and shown as £ right-aligned."""

from __future__ import annotations

from textual.widgets import Input

from hubdesk.domain.money import MoneyError, parse_pounds


class MoneyInput(Input):
    """An Input for pounds and pence; `.pence` parses or raises.

    Every character typed stays in the box: a filter that dropped the rest turned `1e9`
    into `19` and `-3` into `3` behind the PA's back. The form's message says what is wrong."""

    DEFAULT_CSS = """
    MoneyInput { width: 20; }
    """

    def __init__(self, value: str = "", **kwargs) -> None:
        super().__init__(value=value, placeholder="0.00", **kwargs)

    @property
    def pence(self) -> int:
        return parse_pounds(self.value)

    def pence_or_none(self) -> int | None:
        try:
            return self.pence
        except MoneyError:
            return None
