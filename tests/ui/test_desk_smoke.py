"""Smoke test: the real desk in a pseudo-terminal, unlocked by typing, desk read off the
screen, then quit with q. (When the lead's `hubdesk` CLI lands this can start that.)"""

from __future__ import annotations

import os
import re
import select
import signal
import struct
import sys
import time
from pathlib import Path

import pytest
from deskpilot import PASSPHRASE

pty = pytest.importorskip("pty")
fcntl = pytest.importorskip("fcntl")
termios = pytest.importorskip("termios")

ANSI = re.compile(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>])")


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the desk
            os.execvpe(argv[0], argv, env)  # noqa: S606 - our own interpreter, fixed argv
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.out = b""

    def text(self) -> str:
        return ANSI.sub(b"", self.out).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 20) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return True
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.out += os.read(self.fd, 65536)
                except OSError:
                    return needle in self.text()
        return needle in self.text()

    def type(self, keys: str) -> None:
        for ch in keys:
            os.write(self.fd, ch.encode())
            time.sleep(0.01)

    def exit_code(self, timeout: float = 10) -> int | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self.wait_for("\0never", timeout=0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_real_desk_unlocks_and_shows_today(store, people, data_dir: Path) -> None:
    store.lock()
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    code = f"from hubdesk.app import run_desk; raise SystemExit(run_desk({str(data_dir)!r}))"
    term = Terminal([sys.executable, "-c", code], env)
    try:
        assert term.wait_for("Unlock the desk"), term.text()[-2000:]
        term.type("sam\r")
        time.sleep(0.3)
        term.type(PASSPHRASE + "\r")
        assert term.wait_for("In the building now"), term.text()[-2000:]
        assert term.wait_for("Dewsbury hub")
        assert PASSPHRASE not in term.text()
        term.out = b""
        term.type("q")
        assert term.exit_code() == 0
    finally:
        try:
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
