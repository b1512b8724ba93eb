"""The sync status line: last sync and how many records wait to go to the central record."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from hubdesk.domain.models import when


def sync_text(waiting: int, last_sync: str | None) -> str:
    if last_sync:
        try:
            last = when(datetime.fromisoformat(last_sync))
        except ValueError:
            last = last_sync
    else:
        last = ""
    head = f"Last sync {last}" if last else "Not synced yet"
    if waiting == 0:
        return f"{head} · nothing waiting"
    noun = "record" if waiting == 1 else "records"
    return f"{head} · {waiting} {noun} waiting"


class SyncStatus(Static):
    DEFAULT_CSS = "SyncStatus { width: auto; color: $text-muted; }"

    def show(self, waiting: int, last_sync: str | None) -> None:
        self.update(sync_text(waiting, last_sync))
