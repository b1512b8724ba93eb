"""Settings for this laptop: idle lock minutes, theme (with a high-contrast one), background sync."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from hubdesk.widgets.fields import Field

from .base import DeskBase


class SettingsScreen(DeskBase[None]):
    CSS_PATH = "settings.tcss"
    AUTO_FOCUS = "#idle_minutes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="settings.back", tooltip="Back"),
        Binding("ctrl+s", "save", "Save", id="settings.save", tooltip="Save the settings"),
    ]

    def compose(self) -> ComposeResult:
        settings = self.desk.settings
        themes = sorted(self.app.available_themes)
        with Vertical(id="settings-form"):
            yield Static("Settings for this laptop", classes="title")
            yield Field(
                "Lock after this many idle minutes",
                Input(f"{settings.idle_minutes:g}", id="idle_minutes", restrict=r"[0-9.]*"),
                name="idle_minutes",
                hint="1 to 60",
            )
            yield Field(
                "Theme",
                Select([(t, t) for t in themes], value=self.app.theme, allow_blank=False, id="theme"),
                name="theme",
                hint="hubdesk-high-contrast for high contrast",
            )
            # A short label: a checkbox's label does not wrap, and the long one was cut at 80.
            yield Checkbox("Send in the background", value=settings.background_sync, id="background_sync")
            yield Static(
                "Send waiting records whenever the central record can be reached; a full sync "
                "(with fetching) is by hand (y) or at the end of the day.",
                classes="muted",
                id="background-help",
            )
            yield Label("", id="settings-message", markup=False)
        yield Footer(compact=True)

    @on(Select.Changed, "#theme")
    def _preview(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.app.theme = event.value

    def action_save(self) -> None:
        field = self.query_one("#field-idle_minutes", Field)
        try:
            minutes = float(self.query_one("#idle_minutes", Input).value)
        except ValueError:
            minutes = 0
        if not 1 <= minutes <= 60:
            field.set_error("Between 1 and 60 minutes")
            return
        field.set_error(None)
        self.desk.set_idle_minutes(minutes)
        self.desk.set_background_sync(self.query_one("#background_sync", Checkbox).value)
        theme = self.query_one("#theme", Select).value
        if isinstance(theme, str):
            self.desk.set_theme_setting(theme)
        self.say("Settings saved")
        self.dismiss(None)

    def action_back(self) -> None:
        self.app.theme = self.desk.settings.theme
        self.dismiss(None)
