"""`hubdesk doctor` on a data folder it cannot write: it says so ("cannot write here") and
checks the store read-only, instead of calling it malformed and advising a restore.

The folder is made really read-only: a read-only bind mount in a mount namespace of its
own when the tests run as root (root writes through file modes), else the folder's mode."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import hubdesk


def _read_only_run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `hubdesk ARGS` with `folder` read-only to it."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            return hubdesk(*args)
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to make a read-only mount as root")
    script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && exec "$@"'
    command = ["unshare", "-m", "sh", "-c", script, "sh", str(folder), sys.executable, "-m", "hubdesk", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    env |= {"HUBDESK_KDF_PROFILE": "fast", "HUBDESK_PASSPHRASE": "correct horse battery"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
    if result.returncode != 0 and "mount" in result.stderr and "hubdesk" not in result.stderr:
        pytest.skip(f"cannot make a read-only mount here: {result.stderr.strip()[:80]}")
    return result


def test_doctor_on_a_read_only_folder_says_cannot_write_not_damage(tmp_path: Path) -> None:
    data = tmp_path / "desk"
    made = hubdesk("init", "--data-dir", str(data), "--hub", "DEW", "--user", "nadia", "--role", "duty_manager")
    assert made.returncode == 0, made.stderr
    assert hubdesk("doctor", "--data-dir", str(data), "--user", "nadia").returncode == 0

    result = _read_only_run(tmp_path, "doctor", "--data-dir", str(data), "--user", "nadia")
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "CANNOT WRITE HERE" in out and "read-only" in out, out
    assert "malformed" not in out and "Restore" not in out and "is damaged" not in out, out
    assert "PROBLEM" not in out, out
    assert "every database page verifies" in out and "no restore is needed" in out, out
    assert "Traceback" not in out

    # Writable again: healthy, nothing was changed by the read-only look.
    assert hubdesk("doctor", "--data-dir", str(data), "--user", "nadia").returncode == 0
