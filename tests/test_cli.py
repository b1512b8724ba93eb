"""The command line as a script uses it: real processes, real files, one-line errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PASS = "correct horse battery"


def hubdesk(*args: str, env: dict | None = None, passphrase: str | None = PASS, **kw) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    full_env["HUBDESK_KDF_PROFILE"] = "fast"
    if passphrase is not None:
        full_env["HUBDESK_PASSPHRASE"] = passphrase
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "hubdesk", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        **kw,
    )


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "desk"
    result = hubdesk(
        "init", "--data-dir", str(data), "--hub", "DEW", "--user", "nadia", "--role", "duty_manager", "--limit", "200"
    )
    assert result.returncode == 0, result.stderr
    code = re.search(r"([0-9A-Z]{4}(?:-[0-9A-Z]{4}){7})", result.stdout).group(1)
    return data, code


def test_init_shows_recovery_key_once_and_refuses_to_overwrite(made):
    data, code = made
    again = hubdesk("init", "--data-dir", str(data), "--hub", "DEW", "--user", "x", "--role", "pa")
    assert_clean_error(again, "already a store")
    assert code not in (data / "hubdesk.keys").read_text()


def test_users_add_list_and_both_open(made):
    data, _ = made
    added = hubdesk(
        "users",
        "add",
        "--data-dir",
        str(data),
        "--user",
        "nadia",
        "--login",
        "sam",
        "--role",
        "pa",
        "--limit",
        "25",
        env={"HUBDESK_NEW_PASSPHRASE": "sams own passphrase"},
    )
    assert added.returncode == 0, added.stderr
    listed = hubdesk("users", "list", "--data-dir", str(data), "--user", "sam", passphrase="sams own passphrase")
    assert listed.returncode == 0, listed.stderr
    assert "sam" in listed.stdout and "£25.00" in listed.stdout and "nadia" in listed.stdout


def test_wrong_passphrase_is_one_clear_line(made):
    data, _ = made
    result = hubdesk("doctor", "--data-dir", str(data), "--user", "nadia", passphrase="not it at all")
    assert result.returncode == 1
    assert "Wrong passphrase" in result.stdout
    result = hubdesk(
        "backup", "--data-dir", str(data), "--user", "nadia", str(data.parent / "b"), passphrase="not it at all"
    )
    assert_clean_error(result, "Wrong passphrase for nadia")


def test_passwd_keeps_data_and_retires_old(made):
    data, _ = made
    changed = hubdesk(
        "passwd", "--data-dir", str(data), "--user", "nadia", env={"HUBDESK_NEW_PASSPHRASE": "a brand new passphrase"}
    )
    assert changed.returncode == 0, changed.stderr
    assert_clean_error(hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia"), "Wrong passphrase")
    ok = hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia", passphrase="a brand new passphrase")
    assert ok.returncode == 0 and "nadia" in ok.stdout


def test_recovery_key_resets_a_forgotten_passphrase(made):
    data, code = made
    reset = hubdesk(
        "passwd",
        "--data-dir",
        str(data),
        "--user",
        "nadia",
        "--recovery-key",
        passphrase=None,
        env={"HUBDESK_RECOVERY_KEY": code.lower(), "HUBDESK_NEW_PASSPHRASE": "remembered now"},
    )
    assert reset.returncode == 0, reset.stderr
    ok = hubdesk("doctor", "--data-dir", str(data), "--user", "nadia", passphrase="remembered now")
    assert ok.returncode == 0, ok.stdout


def test_backup_restores_elsewhere_with_recovery_key_and_passphrase(made, tmp_path):
    data, code = made
    demo = hubdesk("export", "--data-dir", str(data), "--user", "nadia", "--what", "people", "--format", "json")
    assert demo.returncode == 0
    backup = tmp_path / "nadia.hubbak"
    made_backup = hubdesk("backup", "--data-dir", str(data), "--user", "nadia", str(backup))
    assert made_backup.returncode == 0, made_backup.stderr
    other = tmp_path / "other-machine"
    restored = hubdesk(
        "restore",
        "--data-dir",
        str(other),
        "--recovery-key",
        str(backup),
        passphrase=None,
        env={"HUBDESK_RECOVERY_KEY": code},
    )
    assert restored.returncode == 0, restored.stderr
    assert hubdesk("doctor", "--data-dir", str(other), "--user", "nadia").returncode == 0
    third = tmp_path / "third"
    assert hubdesk("restore", "--data-dir", str(third), "--user", "nadia", str(backup)).returncode == 0
    # Restoring over an existing store needs --replace.
    assert_clean_error(hubdesk("restore", "--data-dir", str(third), "--user", "nadia", str(backup)), "already a store")
    # A damaged backup is refused before anything is written.
    damaged = tmp_path / "damaged.hubbak"
    raw = bytearray(backup.read_bytes())
    raw[len(raw) // 2] ^= 0x40
    damaged.write_bytes(raw)
    fourth = tmp_path / "fourth"
    assert_clean_error(hubdesk("restore", "--data-dir", str(fourth), "--user", "nadia", str(damaged)), "damaged")
    assert not (fourth / "hubdesk.db").exists()


def test_missing_database_is_never_replaced_by_an_empty_store(made):
    data, _ = made
    (data / "hubdesk.db").unlink()
    for suffix in ("-wal", "-shm"):
        (data / f"hubdesk.db{suffix}").unlink(missing_ok=True)
    assert_clean_error(hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia"), "database file is missing")
    assert not (data / "hubdesk.db").exists()


def test_missing_and_foreign_slot_files(made, tmp_path):
    data, _ = made
    other = tmp_path / "other"
    assert hubdesk("init", "--data-dir", str(other), "--hub", "N11", "--user", "nadia", "--role", "pa").returncode == 0
    shutil.copy(other / "hubdesk.keys", data / "hubdesk.keys")
    assert_clean_error(
        hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia"), "damaged or does not match"
    )
    (data / "hubdesk.keys").unlink()
    assert_clean_error(hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia"), "key slot file")
    assert not (data / "hubdesk.keys").exists()


def test_no_store_and_bad_arguments(tmp_path):
    assert_clean_error(
        hubdesk("users", "list", "--data-dir", str(tmp_path / "none"), "--user", "sam"), "no hubdesk store"
    )
    assert_clean_error(hubdesk("export", "--what", "secrets"), "invalid choice")
    assert_clean_error(hubdesk("demo", "--people", "lots"), "not a whole number")
    assert_clean_error(
        hubdesk("init", "--data-dir", str(tmp_path / "n"), "--hub", "not a code!", "--user", "sam", "--role", "pa"),
        "Hub code",
    )
    assert_clean_error(
        hubdesk(
            "init",
            "--data-dir",
            str(tmp_path / "n"),
            "--hub",
            "DEW",
            "--user",
            "sam",
            "--role",
            "pa",
            "--limit",
            "twelve",
        ),
        "pounds and pence",
    )
    assert_clean_error(
        hubdesk(
            "init",
            "--data-dir",
            str(tmp_path / "n2"),
            "--hub",
            "DEW",
            "--user",
            "sam",
            "--role",
            "pa",
            passphrase="short",
        ),
        "at least 8",
    )
    no_pass = hubdesk("users", "list", "--data-dir", str(tmp_path), "--user", "sam", passphrase=None)
    assert no_pass.returncode != 0 and "Traceback" not in no_pass.stderr


def test_demo_then_export_every_kind(tmp_path):
    data = tmp_path / "demo"
    made = hubdesk("demo", "--data-dir", str(data), "--people", "40", "--days", "5", "--seed", "3")
    assert made.returncode == 0, made.stderr
    for what in ("people", "contacts", "payments", "sessions"):
        for fmt in ("csv", "json"):
            out = hubdesk("export", "--data-dir", str(data), "--user", "sam", "--what", what, "--format", fmt)
            assert out.returncode == 0, out.stderr
    assert hubdesk("doctor", "--data-dir", str(data), "--user", "sam").returncode == 0


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount() and os.environ.get("CI") != "true", reason="needs root to mount a tiny tmpfs")
def test_full_disk_is_a_clear_error_and_nothing_half_saved(tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(small)], check=True)
    try:
        data = small / "desk"
        assert hubdesk("demo", "--data-dir", str(data), "--people", "20", "--days", "0").returncode == 0
        filler = small / "filler"
        with open(filler, "wb", buffering=0) as fh:  # fill the disk to the last byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError:
                pass
        result = hubdesk("demo", "--data-dir", str(small / "second"), "--people", "500", "--days", "0")
        assert_clean_error(result)
        added = hubdesk(
            "users",
            "add",
            "--data-dir",
            str(data),
            "--user",
            "nadia",
            "--login",
            "newbie",
            "--role",
            "pa",
            env={"HUBDESK_NEW_PASSPHRASE": "newbies passphrase"},
        )
        assert_clean_error(added, "disk is full")
        filler.unlink()
        doctor = hubdesk("doctor", "--data-dir", str(data), "--user", "nadia")
        assert doctor.returncode == 0, doctor.stdout
        listed = hubdesk("users", "list", "--data-dir", str(data), "--user", "nadia")
        assert "newbie" not in listed.stdout
    finally:
        subprocess.run(["umount", str(small)], check=False)
