"""The sync status line: online or offline, last sync, what waits, and a progress bar while syncing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from hubdesk.domain.models import when


@dataclass(frozen=True)
class SyncView:
    """What every sync status line shows; the app holds one and the lines watch it."""

    online: bool | None = None
    """True/False after a check or a sync; None before the first check, or not enrolled."""
    enrolled: bool = True
    running: bool = False
    background: bool = False
    phase: str = ""
    done: int = 0
    total: int | None = None
    message: str = ""
    """The outcome of the last sync (or why it could not run), in plain words."""
    attention: bool = False


@dataclass(frozen=True)
class SyncCounts:
    """Read from the store by whoever shows the line."""

    waiting: int = 0
    needs_attention: int = 0
    open_conflicts: int = 0
    last_sync: datetime | None = None


def last_sync_time(raw: str | None) -> datetime | None:
    """The client keeps the last sync as Unix seconds; older stores an ISO time."""
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None


def sync_text(waiting: int, last_sync: str | datetime | None, *, attention: int = 0) -> str:
    if isinstance(last_sync, str):
        last_sync = last_sync_time(last_sync)
    head = f"Last sync {when(last_sync)}" if last_sync else "Not synced yet"
    parts = [head]
    if waiting == 0:
        parts.append("nothing waiting")
    else:
        parts.append(f"{waiting} {'record' if waiting == 1 else 'records'} waiting")
    if attention:
        parts.append(f"{attention} need{'s' if attention == 1 else ''} attention")
    return " · ".join(parts)


def progress_text(view: SyncView) -> str:
    what = "Sending" if view.phase == "push" else "Receiving"
    of = f" of {view.total}" if view.total is not None else ""
    return f"Syncing: {what.lower()} {view.done}{of}"


def status_line(view: SyncView, counts: SyncCounts) -> str:
    attention = counts.needs_attention + counts.open_conflicts
    if not view.enrolled:
        return "Not enrolled · " + sync_text(counts.waiting, counts.last_sync, attention=attention)
    online = {True: "● Online", False: "○ Offline", None: ""}[view.online]
    body = progress_text(view) if view.running else sync_text(counts.waiting, counts.last_sync, attention=attention)
    return f"{online} · {body}" if online else body


class SyncStatus(Widget):
    """One line: the status text, and a progress bar beside it while a sync runs."""

    DEFAULT_CSS = """
    SyncStatus { height: 1; width: auto; layout: horizontal; }
    SyncStatus > #sync-text { width: auto; color: $text-muted; }
    SyncStatus.-offline > #sync-text { color: $warning; }
    SyncStatus.-attention > #sync-text { color: $error; }
    SyncStatus > ProgressBar { width: auto; margin-left: 1; display: none; }
    SyncStatus > ProgressBar Bar { width: 20; }
    SyncStatus.-running > ProgressBar { display: block; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view = SyncView()
        self.counts = SyncCounts()

    def compose(self) -> ComposeResult:
        yield Static("", id="sync-text", markup=False)
        yield ProgressBar(id="sync-progress", show_eta=False)

    @property
    def text(self) -> str:
        return str(self.query_one("#sync-text", Static).content)

    def show(self, view: SyncView, counts: SyncCounts) -> None:
        self.view, self.counts = view, counts
        self.query_one("#sync-text", Static).update(status_line(view, counts))
        self.set_class(view.running, "-running")
        self.set_class(view.online is False and not view.running, "-offline")
        self.set_class(bool(counts.needs_attention or counts.open_conflicts) and not view.running, "-attention")
        bar = self.query_one("#sync-progress", ProgressBar)
        if view.running:
            # Sending has a known total; receiving pages do not (the bar then pulses).
            total = view.total if view.phase == "push" and view.total else None
            bar.update(total=total, progress=view.done if total else 0)
        else:
            bar.update(total=None, progress=0)

    def on_mount(self) -> None:
        # The app holds the one sync state; every line on every screen follows it.
        self.watch(self.app, "sync_view", self._view_changed, init=False)
        self.refresh_status()

    def _view_changed(self, view: SyncView) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        """Read the counts again (records saved since) and show the app's sync state."""
        counts = getattr(self.app, "sync_counts", None)
        view = getattr(self.app, "sync_view", SyncView())
        self.show(view, counts() if callable(counts) else SyncCounts())
