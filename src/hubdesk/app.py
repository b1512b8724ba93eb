"""The duty desk app: built by make_app, run by run_desk; screens live in hubdesk.screens."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.theme import Theme

from hubdesk.commands import DeskCommands
from hubdesk.messages import Locked, Unlocked
from hubdesk.store.errors import StoreLocked
from hubdesk.store.store import Store, store_exists

SETTINGS_NAME = "desk-settings.json"
DEFAULT_IDLE_MINUTES = 5.0

HIGH_CONTRAST = Theme(
    name="hubdesk-high-contrast",
    primary="#ffff00",
    secondary="#00ffff",
    accent="#ffff00",
    warning="#ffaa00",
    error="#ff5555",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#1a1a1a",
    dark=True,
)


@dataclass
class DeskSettings:
    """Per-device desk settings (no personal data), kept beside the store."""

    idle_minutes: float = DEFAULT_IDLE_MINUTES
    theme: str = "textual-dark"

    @classmethod
    def load(cls, data_dir: Path) -> DeskSettings:
        path = Path(data_dir) / SETTINGS_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                idle_minutes=float(raw.get("idle_minutes", DEFAULT_IDLE_MINUTES)),
                theme=str(raw.get("theme", "textual-dark")),
            )
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / SETTINGS_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class HubDeskApp(App[int]):
    """The duty desk. Holds the one unlocked Store (main thread only) and the idle lock."""

    TITLE = "hubdesk"
    COMMANDS = App.COMMANDS | {DeskCommands}
    CSS = """
    Screen { background: $background; }
    .title { text-style: bold; color: $primary; height: 1; }
    .muted { color: $text-muted; }
    .alerts { border: heavy $error; color: $error; text-style: bold; height: auto; padding: 0 1; }
    .form-error { color: $error; height: auto; }
    ModalBase { align: center middle; background: $background 60%; }
    .modal-box {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 1 2; background: $surface;
    }
    .modal-box Horizontal { height: auto; margin-top: 1; }
    .modal-box Button { margin-right: 2; }
    .modal-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "lock", "Lock", id="lock", tooltip="Lock the desk now", priority=True),
    ]

    def __init__(
        self,
        data_dir: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        idle_minutes: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.data_dir = Path(data_dir)
        self.clock = clock or _utcnow
        self.settings = DeskSettings.load(self.data_dir)
        if idle_minutes is not None:
            self.settings.idle_minutes = float(idle_minutes)
        self._monotonic = monotonic
        self.store: Store | None = None
        self.last_login: str | None = None
        self.failed_unlocks = 0
        self.last_activity = monotonic()
        self.locked_by_idle = False

    # --- lifecycle ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        try:
            self.theme = self.settings.theme
        except Exception:  # an unknown theme name in the file is not fatal
            self.theme = "textual-dark"
        from hubdesk.screens.setup import SetupScreen
        from hubdesk.screens.unlock import UnlockScreen

        if store_exists(self.data_dir):
            self.push_screen(UnlockScreen(), callback=self._first_unlock)
        else:
            self.push_screen(SetupScreen(), callback=self._first_unlock)
        self.set_interval(1.0, self.check_idle_lock, name="idle-lock")

    def _first_unlock(self, store: Store | None) -> None:
        if store is None:
            self.exit(1)
            return
        self._opened(store)
        from hubdesk.screens.desk import DeskScreen

        self.push_screen(DeskScreen())

    def _opened(self, store: Store) -> None:
        self.store = store
        self.last_login = store.user.login if store.user else None
        self.failed_unlocks = 0
        self.last_activity = self._monotonic()
        self.post_message(Unlocked(self.last_login or ""))

    def on_unmount(self) -> None:
        self._drop_store()

    def _drop_store(self) -> None:
        if self.store is not None:
            self.store.lock()
            self.store = None

    # --- what screens use -----------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def require_store(self) -> Store:
        if self.store is None or self.store.locked:
            raise StoreLocked("The desk is locked")
        return self.store

    # --- idle lock ------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(
            event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp, events.Paste)
        ):
            self.last_activity = self._monotonic()
        await super().on_event(event)

    def check_idle_lock(self) -> None:
        if self.store is None:
            return
        idle = self._monotonic() - self.last_activity
        if idle >= self.settings.idle_minutes * 60:
            self.lock_desk("idle")

    def lock_desk(self, reason: str = "by hand") -> None:
        """Drop the key, hide everything, and keep the screens (and any typing) beneath."""
        if self.store is None:
            return
        from hubdesk.screens.unlock import UnlockScreen

        self._drop_store()
        # Typed form input is kept; a passphrase half-typed into an approval box is not.
        from textual.widgets import Input

        for screen in self.screen_stack:
            for box in screen.query(Input):
                if box.password:
                    box.value = ""
        self.locked_by_idle = reason == "idle"
        self.clear_notifications()
        self.post_message(Locked(reason))
        self.push_screen(UnlockScreen(resume=True), callback=self._resumed)

    def _resumed(self, store: Store | None) -> None:
        if store is None:
            self.exit(0)
            return
        self._opened(store)
        self.locked_by_idle = False
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def _fatal_error(self) -> None:
        """As Textual's, but the traceback never prints local variables: they may hold a
        young person's details, and crash output must not."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(traceback, self.console.options)))
        self._close_messages_no_wait()

    def action_lock(self) -> None:
        self.lock_desk("by hand")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While locked, nothing but the unlock screen's own keys may run.
        return not (action in {"lock", "command_palette"} and self.store is None)

    def set_theme_setting(self, theme: str) -> None:
        self.theme = theme
        self.settings.theme = theme
        self.settings.save(self.data_dir)

    def set_idle_minutes(self, minutes: float) -> None:
        self.settings.idle_minutes = minutes
        self.settings.save(self.data_dir)


def make_app(
    data_dir: Path,
    *,
    clock: Callable[[], datetime] | None = None,
    idle_minutes: float | None = None,
    login: str | None = None,
) -> HubDeskApp:
    """The one way to build the desk: the CLI, the demo and the tests all call this.

    `login` only fills in the user name on the unlock screen; the passphrase is always typed.
    """
    app = HubDeskApp(Path(data_dir), clock=clock, idle_minutes=idle_minutes)
    app.last_login = login
    return app


def run_desk(data_dir: Path, *, login: str | None = None, idle_minutes: float | None = None) -> int:
    """Run the desk on the store in data_dir (setting one up if there is none); the exit code."""
    app = make_app(data_dir, login=login, idle_minutes=idle_minutes)
    result = app.run()
    if app.return_code:  # a crash (or Textual's own error exit)
        return app.return_code
    return 0 if result is None else int(result)
