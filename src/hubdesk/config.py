"""Where the store lives and the desk's settings: --data-dir, HUBDESK_HOME, platformdirs."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--data-dir wins, then HUBDESK_HOME, then the platform's user data dir."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HUBDESK_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("hubdesk", appauthor=False))
