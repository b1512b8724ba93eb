"""The duty desk app: built by make_app, run by run_desk; screens live in hubdesk.screens."""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.theme import Theme
from textual.worker import Worker, WorkerState, get_current_worker

from hubdesk.commands import DeskCommands
from hubdesk.messages import (
    Locked,
    ServiceReachable,
    SyncDone,
    SyncFailed,
    SyncProgress,
    SyncStarted,
    Unlocked,
)
from hubdesk.screens.form import SetAsideForm
from hubdesk.screens.sync_job import (
    NOT_ENROLLED,
    SyncCancelled,
    SyncJob,
    check_reachable,
    failure_text,
    run_sync,
)
from hubdesk.store import desk as desk_queries
from hubdesk.store import sync_state
from hubdesk.store.errors import StoreError, StoreLocked
from hubdesk.store.store import Store, store_exists
from hubdesk.sync.client import Reachability, SyncError
from hubdesk.widgets.status import SyncCounts, SyncView, last_sync_time

SETTINGS_NAME = "desk-settings.json"
# Python's full (oldest-generation) collections came on keystrokes now and then: 16-38 ms
# each, most of a slow keystroke's time (measured on the 10,000-person search). While the
# desk runs they wait for a pause in the typing instead; the young generations are
# collected as usual.
NO_AUTOMATIC_FULL_GC = 1_000_000
FULL_GC_AFTER_QUIET = 2.0  # seconds without a key or the mouse
FULL_GC_CHECK_EVERY = 5.0
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
    background_sync: bool = True
    """Send what is waiting as soon as the central record can be reached (a full sync is by hand
    or at the end of the day)."""

    @classmethod
    def load(cls, data_dir: Path) -> DeskSettings:
        path = Path(data_dir) / SETTINGS_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                idle_minutes=float(raw.get("idle_minutes", DEFAULT_IDLE_MINUTES)),
                theme=str(raw.get("theme", "textual-dark")),
                background_sync=bool(raw.get("background_sync", True)),
            )
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, data_dir: Path) -> None:
        path = Path(data_dir) / SETTINGS_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")


def _utcnow() -> datetime:
    return datetime.now(UTC)


# How often the desk asks whether it is time for the reachability check; the check itself
# (Reachability) goes to the network at most once a minute.
REACH_TICK_SECONDS = 10.0


class HubDeskApp(App[int]):
    """The duty desk. Holds the one unlocked Store (main thread only), the idle lock, and
    the sync workers (each opens its own Store connection on its own thread)."""

    TITLE = "hubdesk"
    COMMANDS = App.COMMANDS | {DeskCommands}
    CSS = """
    Screen { background: $background; }
    .title { text-style: bold; color: $primary; height: 1; }
    .muted { color: $text-muted; }
    .alerts { border: heavy $error; color: $error; text-style: bold; height: auto; padding: 0 1; }
    .form-error { color: $error; height: auto; width: 100%; }
    ModalBase { align: center middle; background: $background 60%; }
    .modal-box {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; padding: 1 2; background: $surface;
    }
    .modal-box Horizontal { height: auto; margin-top: 1; }
    .modal-box Button { margin-right: 2; }
    .modal-error { color: $error; height: auto; width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "lock", "Lock", id="lock", tooltip="Lock the desk now", priority=True),
        # Focus moves here, in the app's own queue, not in the focused widget's: otherwise keys
        # sent in a burst after Tab (a scanner, a paste, a fast typist) reach the old field
        # before it has handled the Tab ("aaa", Tab, "bbb" ended as "aaabbb" in one field).
        Binding("tab", "move_focus(1)", show=False, priority=True, id="focus.next", tooltip="Next field"),
        Binding(
            "shift+tab", "move_focus(-1)", show=False, priority=True, id="focus.previous", tooltip="Previous field"
        ),
        Binding("enter", "form_enter", show=False, priority=True, id="form.enter", tooltip="Next field in a form"),
    ]

    sync_view: reactive[SyncView] = reactive(SyncView(), always_update=True)
    """Online or offline, a sync running and how far it has got, the last outcome."""

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
        self.locked_login: str | None = None
        self.set_aside: dict[str, list[SetAsideForm]] = {}
        """Half-typed forms of users other than the one now unlocked, by login (memory only)."""
        self.reachability = Reachability()
        # One sync thread at a time, even after a cancelled worker's thread is still finishing.
        self._sync_thread = threading.Lock()

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
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(self._gc_threshold[0], self._gc_threshold[1], NO_AUTOMATIC_FULL_GC)
        self._collected_at = self._monotonic()
        self.set_interval(FULL_GC_CHECK_EVERY, self.collect_when_quiet, name="quiet-gc")
        self.set_interval(REACH_TICK_SECONDS, self.check_service, name="reachability")

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
        self.sync_view = replace(self.sync_view, enrolled=self._enrolled(store))
        self.post_message(Unlocked(self.last_login or ""))
        self._say_actions(store)
        # Soon after unlocking, not during it: the check runs in a worker and never blocks.
        self.set_timer(1.0, self.check_service)

    def _say_actions(self, store: Store) -> None:
        """At unlock: "3 actions for you, 1 overdue" (a opens them on the desk)."""
        from zoneinfo import ZoneInfo

        from hubdesk.domain.actions import unlock_line
        from hubdesk.store import actions as followed_up

        if store.user is None:
            return
        today = self.clock().astimezone(ZoneInfo("Europe/London")).date()
        line = unlock_line(*followed_up.counts(store, store.user.login, today))
        if line:
            self.notify(f"{line} (a shows them)", markup=False, timeout=10)

    def on_unmount(self) -> None:
        self._drop_store()
        if hasattr(self, "_gc_threshold"):
            gc.set_threshold(*self._gc_threshold)

    def collect_when_quiet(self) -> bool:
        """A full collection once the typing pauses, if anything happened since the last."""
        now = self._monotonic()
        if self.last_activity <= self._collected_at or now - self.last_activity < FULL_GC_AFTER_QUIET:
            return False
        gc.collect()
        self._collected_at = now
        return True

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

        self.locked_login = self.store.user.login if self.store.user else None
        self._drop_store()
        # A sync worker holds its own copy of the key: stop it too (it stops at its next step).
        self.workers.cancel_group(self, "sync")
        self.workers.cancel_group(self, "reach")
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
        previous, login = self.locked_login, (store.user.login if store.user else None)
        self._opened(store)
        self.locked_by_idle = False
        if previous is not None and login != previous:
            # Kept work belongs to whoever typed it: never let another user save it as theirs.
            self._set_aside_work(previous)
        if login is not None:
            self._give_back_work(login)
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh):
            refresh()

    def _set_aside_work(self, owner: str) -> None:
        """Take everything above the desk off the screen; forms with typing wait for `owner`."""
        from hubdesk.screens.desk import DeskScreen
        from hubdesk.screens.form import FormState

        kept: list[SetAsideForm] = []
        while len(self.screen_stack) > 1 and not isinstance(self.screen, DeskScreen):
            screen = self.screen
            if isinstance(screen, FormState) and screen.dirty:
                kept.append(screen.set_aside())
            self.pop_screen()
        if kept:
            self.set_aside.setdefault(owner, []).extend(reversed(kept))
            what = ", ".join(item.what for item in kept)
            self.notify(
                f"{owner}'s unsaved work ({what}) is set aside; it comes back when {owner} unlocks.",
                markup=False,
                timeout=10,
            )

    def _give_back_work(self, login: str) -> None:
        kept = self.set_aside.pop(login, [])
        for item in kept:
            screen = item.reopen()
            screen.restore_values = item.values  # type: ignore[attr-defined]
            self.push_screen(screen)
        if kept:
            what = ", ".join(item.what for item in kept)
            self.notify(f"Your unsaved work is back: {what}.", markup=False, timeout=10)

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

    def action_move_focus(self, step: int) -> None:
        if step > 0:
            self.screen.focus_next()
        else:
            self.screen.focus_previous()

    def action_form_enter(self) -> None:
        """Enter in a form's one-line field moves on at once (see the tab binding for why)."""
        from textual.actions import SkipAction
        from textual.widgets import Input

        from hubdesk.screens.form import FormState

        if not (isinstance(self.screen, FormState) and isinstance(self.focused, Input)):
            raise SkipAction()
        self.screen.focus_next()

    def unsaved_forms(self) -> list:
        """Forms anywhere in the stack (under a modal or the lock screen too) holding typing."""
        from hubdesk.screens.form import FormState

        return [s for s in self.screen_stack if isinstance(s, FormState) and s.dirty]

    async def action_quit(self) -> None:
        """Ctrl+Q (and q on the desk): never throws typing away without asking."""
        if not self.unsaved_forms():
            self.exit(0)
            return
        from hubdesk.screens.modals import ConfirmModal, discard_modal

        def answer(discard: bool | None) -> None:
            if discard:
                self.exit(0)

        if not isinstance(self.screen, ConfirmModal):
            self.push_screen(discard_modal("Quit hubdesk and discard what you typed?"), answer)

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

    def set_background_sync(self, on: bool) -> None:
        self.settings.background_sync = on
        self.settings.save(self.data_dir)

    # --- sync: thread workers, each with its own Store connection -------------------------

    @staticmethod
    def _enrolled(store: Store) -> bool:
        try:
            return sync_state.enrolled(store)
        except StoreError:
            return False

    def sync_counts(self) -> SyncCounts:
        """What waits, what needs attention and the last sync, read on the main thread."""
        if self.store is None or self.store.locked:
            return SyncCounts()
        try:
            counts = desk_queries.sync_counts(self.store)
        except StoreError:
            return SyncCounts()
        return SyncCounts(
            waiting=counts.waiting,
            needs_attention=counts.quarantined,
            open_conflicts=counts.open_conflicts,
            last_sync=last_sync_time(counts.last_sync_at),
        )

    def start_sync(self, *, full: bool = True, background: bool = False) -> bool:
        """Sync in a thread worker: push, and for a full sync then pull. False if it cannot start
        now (locked, already syncing, not enrolled); a person asking is told why."""
        store = self.store
        if store is None or store.locked:
            return False
        if self.sync_view.running:
            if not background:
                self.notify("A sync is already running.", markup=False)
            return False
        if not self._enrolled(store):
            self.sync_view = replace(self.sync_view, enrolled=False, online=None, message=NOT_ENROLLED)
            if not background:
                self.notify(NOT_ENROLLED, severity="warning", markup=False, timeout=10)
            self.post_message(SyncFailed(NOT_ENROLLED, not_enrolled=True))
            return False
        job = SyncJob.from_store(store, clock=self.clock, full=full, background=background)
        self.sync_view = replace(
            self.sync_view,
            enrolled=True,
            running=True,
            background=background,
            phase="push",
            done=0,
            total=None,
            message="",
        )
        self.post_message(SyncStarted(full, background))
        self._sync_worker(job)
        return True

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync", name="sync")
    def _sync_worker(self, job: SyncJob) -> None:
        worker = get_current_worker()

        def progress(phase: str, done: int, total: int | None) -> None:
            if worker.is_cancelled:
                raise SyncCancelled("the desk locked or closed")
            self.post_message(SyncProgress(phase, done, total))

        if not self._sync_thread.acquire(blocking=False):
            job.discard()
            raise SyncError("the last sync is still finishing; sync again in a moment")
        try:
            report = run_sync(job, progress)
        finally:
            self._sync_thread.release()
        self.post_message(
            SyncDone(
                full=job.full,
                background=job.background,
                pushed=report.pushed,
                accepted=report.accepted,
                already_had=report.already_had,
                conflicts=report.conflicts,
                quarantined=report.quarantined,
                pulled=report.pulled,
                people=report.people,
                notes=tuple(report.notes),
            )
        )

    @on(SyncProgress)
    def _sync_progress(self, message: SyncProgress) -> None:
        if self.sync_view.running:
            self.sync_view = replace(self.sync_view, phase=message.phase, done=message.done, total=message.total)

    @on(SyncDone)
    def _sync_done(self, message: SyncDone) -> None:
        counts = self.sync_counts()
        attention = counts.needs_attention + counts.open_conflicts
        if attention:
            text = f"Synced, but {attention} record(s) need attention: see Sync details (Y)."
        elif counts.waiting:
            text = f"Sent {message.pushed}; {counts.waiting} more waiting."
        else:
            text = "Everything reached the central record."
        self.sync_view = replace(
            self.sync_view, running=False, online=True, enrolled=True, message=text, attention=bool(attention)
        )
        if message.people and self.store is not None:
            # People pulled on the worker's connection: the desk's search index is stale.
            self.store.refresh_search()
        if not message.background:
            self.notify(text, severity="warning" if self.sync_view.attention else "information", markup=False)
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh) and self.store is not None:
            refresh()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed or cancelled sync (or reachability check) becomes a clear message."""
        worker = event.worker
        if worker.group == "reach":
            if event.state is WorkerState.ERROR:
                self.sync_view = replace(self.sync_view, online=None)
            return
        if worker.group != "sync" or event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        background = self.sync_view.background
        if event.state is WorkerState.CANCELLED:
            text, offline, not_enrolled = "Sync stopped; what was sent is kept.", False, False
        else:
            assert worker.error is not None
            text, offline, not_enrolled = failure_text(worker.error)
        online = False if offline else (None if not_enrolled else self.sync_view.online)
        self.sync_view = replace(self.sync_view, running=False, online=online, enrolled=not not_enrolled, message=text)
        self.post_message(SyncFailed(text, offline=offline, not_enrolled=not_enrolled))
        if not background and event.state is WorkerState.ERROR:
            self.notify(text, severity="warning" if offline else "error", markup=False, timeout=10)
        refresh = getattr(self.screen, "refresh_data", None)
        if callable(refresh) and self.store is not None:
            refresh()

    def check_service(self, force: bool = False) -> None:
        """The reachability check, in a worker, when due (at most once a minute)."""
        store = self.store
        if store is None or store.locked or self.sync_view.running:
            return
        if not self._enrolled(store):
            if self.sync_view.enrolled or self.sync_view.online is not None:
                self.sync_view = replace(self.sync_view, enrolled=False, online=None)
            return
        if not (force or self.reachability.due()):
            return
        self._reach_worker(SyncJob.from_store(store, clock=self.clock), force)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reach", name="reachability")
    def _reach_worker(self, job: SyncJob, force: bool) -> None:
        online, reason = check_reachable(job, self.reachability, force=force)
        self.post_message(ServiceReachable(online, reason))

    @on(ServiceReachable)
    def _reachable(self, message: ServiceReachable) -> None:
        if self.sync_view.running:
            return
        self.sync_view = replace(self.sync_view, online=message.online, enrolled=message.online is not None)
        store = self.store
        if (
            message.online
            and self.settings.background_sync
            and store is not None
            and not store.locked
            and store.outbox_waiting() > 0
        ):
            # Push as soon as it can; the full sync (with the pull) is by hand or at end of day.
            self.start_sync(full=False, background=True)


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
