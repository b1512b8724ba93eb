"""Smoke: the real `hubdesk` in a real terminal (tmux), unlocked on a demo store,
with the desk read off the screen as a person would see it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hubdesk.demo import build_demo

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None and os.environ.get("CI") != "true", reason="needs tmux (apt-get install tmux)"
)


def _screen(session: str) -> str:
    return subprocess.run([TMUX, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def _type(session: str, text: str) -> None:
    for ch in text:  # one key at a time, as a person types
        subprocess.run([TMUX, "send-keys", "-t", session, "-l", ch], check=True)
        time.sleep(0.02)


def _wait_for(session: str, needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; the screen was:\n{screen}")


def test_real_terminal_unlocks_demo_and_shows_the_desk(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    build_demo(data, people=60, days=3, seed=5, passphrase="smoke test passphrase")
    session = f"hubdesk-smoke-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HUBDESK_KDF_PROFILE": "fast", "TERM": "xterm-256color"}
    env.pop("HUBDESK_PASSPHRASE", None)
    env.pop("COLUMNS", None)  # pytest-xdist's workers set these; the terminal's own size counts
    env.pop("LINES", None)
    command = f"{sys.executable} -m hubdesk --data-dir {data}"
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True, env=env)
    try:
        _wait_for(session, "Unlock the desk")
        _type(session, "sam")
        subprocess.run([TMUX, "send-keys", "-t", session, "Enter"], check=True)
        time.sleep(0.3)
        _type(session, "smoke test passphrase")
        subprocess.run([TMUX, "send-keys", "-t", session, "Enter"], check=True)
        _wait_for(session, "In the building now")
        screen = _wait_for(session, "Visit")  # the footer, drawn just after
        assert "Dewsbury hub" in screen
        assert "on duty: Sam Demo-Duty" in screen
        assert "Today's contacts" in screen and "Today's payments" in screen
        assert "Visit" in screen and "Contact" in screen and "Sessions" in screen  # the footer shows the keys
        subprocess.run([TMUX, "send-keys", "-t", session, "/"], check=True)
        _wait_for(session, "Find a person")
        _type(session, "kay")
        screen = _wait_for(session, "Mockridge")
        assert "Traceback" not in screen
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False)
