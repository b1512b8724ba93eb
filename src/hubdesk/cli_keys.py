"""`hubdesk users remove`, and the progress bar a rekey shows on a large store."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path

BAR_FROM_BYTES = 8 * 1024 * 1024  # a smaller store rekeys in well under a second


class ProgressBar:
    """A one-line bar on stderr (a line per quarter when stderr is not a terminal)."""

    def __init__(self, label: str, stream=None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._shown = -1
        self._lock = threading.Lock()

    def __call__(self, fraction: float) -> None:
        with self._lock:
            fraction = max(0.0, min(fraction, 1.0))
            if self.tty:
                step = int(fraction * 100)
                if step == self._shown:
                    return
                filled = int(fraction * self.width)
                end = "\n" if fraction >= 1.0 else ""
                self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {step:3d}%{end}")
            else:
                step = int(fraction * 4) * 25
                if step == self._shown or step == 0:
                    return
                self.stream.write(f"{self.label}: {step}%\n")
            self._shown = step
            self.stream.flush()


def rekey_progress(data_dir: Path) -> Callable[[float], None] | None:
    """A bar for a store big enough to make a person wait; None for a small one."""
    from hubdesk.store.store import db_path

    try:
        size = db_path(data_dir).stat().st_size
    except OSError:
        return None
    return ProgressBar("Changing the database key") if size >= BAR_FROM_BYTES else None


def cmd_users_remove(args: argparse.Namespace, open_store: Callable[..., object]) -> int:
    """Drop users' key slots and give the database a new key (duty manager or admin)."""
    from hubdesk import config

    data_dir = config.data_dir(args.data_dir)
    with open_store(args, progress=rekey_progress(data_dir)) as store:
        removal = store.remove_users(args.logins, progress=rekey_progress(data_dir))
        print(removal.text())
    return 0


def add_remove_parser(
    users: argparse._SubParsersAction, parents: list[argparse.ArgumentParser], func: Callable[..., int]
) -> None:
    u = users.add_parser(
        "remove",
        parents=parents,
        help="remove users' key slots and change the database key (duty manager or admin)",
    )
    u.add_argument("logins", nargs="+", metavar="LOGIN", help="the user(s) to remove")
    u.set_defaults(func=func)
