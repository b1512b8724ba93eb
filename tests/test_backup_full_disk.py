"""`hubdesk backup` when the data folder's disk is full (issue 10, item 5): the store opens
read-only, the backup is made on the other disk (its temporary copy beside the target, not
in the full data folder), and the unlock is written to the audit chain at the next
writable unlock, in place of the backup's own closing entry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hubdesk.store.backup import restore_backup
from hubdesk.store.store import Store
from hubdesk.store.unlocks import UnlockLog
from store_helpers import PASSPHRASE, chain_problems, fill_disk, small_disk


def _hubdesk(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    env |= {"HUBDESK_KDF_PROFILE": "fast", "HUBDESK_PASSPHRASE": PASSPHRASE}
    return subprocess.run(
        [sys.executable, "-m", "hubdesk.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a small tmpfs needs root")
def test_backup_on_a_full_disk_opens_read_only_and_is_audited_at_the_next_unlock(tmp_path: Path) -> None:
    with small_disk(tmp_path / "small") as small:
        data = small / "desk"
        assert _hubdesk("demo", "--data-dir", str(data), "--people", "20", "--days", "0").returncode == 0
        fill_disk(small / "filler")
        in_data = sorted(p.name for p in data.iterdir())
        away = tmp_path / "other-disk"
        away.mkdir()
        target = away / "desk.hubbackup"
        made = _hubdesk("backup", "--data-dir", str(data), "--user", "nadia", str(target))
        assert made.returncode == 0, made.stderr
        assert "read-only" in made.stderr and "Traceback" not in made.stderr
        # Nothing was left beside the backup, and no copy was made in the full data folder
        # (the writable unlock tried first may leave SQLite's own -wal and -shm there).
        assert sorted(p.name for p in away.iterdir()) == ["desk.hubbackup"]
        assert set(p.name for p in data.iterdir()) - set(in_data) <= {"hubdesk.db-wal", "hubdesk.db-shm"}
        assert UnlockLog(data).owed()[0][0]["purpose"] == "backup"

        # The backup is whole: it restores on another machine and holds the people.
        restored = tmp_path / "restored"
        restore_backup(target, restored, login="nadia", passphrase=PASSPHRASE)
        with Store.unlock(restored, "nadia", PASSPHRASE) as copy:
            assert copy.count("people") >= 20
            assert chain_problems(copy) == []

        (small / "filler").unlink()
        with Store.unlock(data, "sam", PASSPHRASE) as s:
            unlocks = [d for (d,) in s._rows("SELECT detail FROM audit WHERE action = 'unlock' ORDER BY seq")]
            assert unlocks[-1] == "passphrase"
            assert unlocks[-2].startswith("read-only by nadia at ") and unlocks[-2].endswith("backup")
            # The read-only store wrote no backup entry of its own: the owed unlock says it.
            assert s._rows("SELECT count(*) FROM audit WHERE action = 'backup'")[0][0] == 0
            assert chain_problems(s) == []
        assert UnlockLog(data).owed() == ([], 0)

        # With room again, a backup is made writably and audited as before.
        again = away / "again.hubbackup"
        made = _hubdesk("backup", "--data-dir", str(data), "--user", "nadia", str(again))
        assert made.returncode == 0 and "read-only" not in made.stderr, made.stderr
        assert sorted(p.name for p in away.iterdir()) == ["again.hubbackup", "desk.hubbackup"]
        with Store.unlock(data, "sam", PASSPHRASE) as s:
            assert s._rows("SELECT count(*) FROM audit WHERE action = 'backup'")[0][0] == 1


def test_a_backup_into_a_folder_that_is_not_there_says_so_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "desk"
    assert _hubdesk("demo", "--data-dir", str(data), "--people", "5", "--days", "0").returncode == 0
    made = _hubdesk("backup", "--data-dir", str(data), "--user", "nadia", str(tmp_path / "no-such" / "b.hubbackup"))
    assert made.returncode != 0 and "Traceback" not in made.stderr
    assert "there is no folder" in made.stderr and len(made.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk"]
