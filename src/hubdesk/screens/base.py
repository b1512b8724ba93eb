"""What every desk screen shares: the app's store and clock, and how errors are shown."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, TypeVar
from zoneinfo import ZoneInfo

from textual.screen import ModalScreen, Screen

from hubdesk.store.store import Store

if TYPE_CHECKING:
    from hubdesk.app import HubDeskApp

R = TypeVar("R")
LONDON = ZoneInfo("Europe/London")


class StoreAccess:
    """Mixin: the unlocked store and the desk's clock, read fresh at each use (the Store
    object is replaced after an idle lock, so no screen keeps its own reference)."""

    @property
    def desk(self) -> HubDeskApp:
        return self.app  # type: ignore[attr-defined,return-value]

    @property
    def store(self) -> Store:
        return self.desk.require_store()

    def now(self) -> datetime:
        return self.desk.now()

    def today(self) -> date:
        return self.now().astimezone(LONDON).date()

    def say(self, message: str, *, severity: str = "information", timeout: float | None = None) -> None:
        """A toast with user data in it: never parsed as markup."""
        self.desk.notify(message, severity=severity, markup=False, timeout=timeout)  # type: ignore[arg-type]

    def day_is_closed(self) -> bool:
        """True, having told the PA, when this hub's day is closed: a new visit, contact,
        payment or session is refused before any typing, not first at ctrl+s."""
        from hubdesk.store.day import day_closure

        closure = day_closure(self.store, self.store.hub_code, self.today())
        if closure is None:
            return False
        at = closure.closed_at.astimezone(LONDON).strftime("%H:%M")
        self.say(
            f"The day at this hub was closed at {at}: nothing more can be recorded today.",
            severity="warning",
        )
        return True


PALETTE_HINT_FROM = 100
"""Below this many columns a footer's room goes to the screen's own keys (ctrl+p still works)."""


class DeskBase(StoreAccess, Screen[R], Generic[R]):
    def on_resize(self) -> None:
        # Textual calls this besides any subclass's own on_resize.
        from textual.widgets import Footer

        for footer in self.query(Footer):
            footer.show_command_palette = self.app.size.width >= PALETTE_HINT_FROM


class ModalBase(StoreAccess, ModalScreen[R], Generic[R]):
    """A desk modal; its look (centred box, dimmed desk behind) is in the app's CSS."""
