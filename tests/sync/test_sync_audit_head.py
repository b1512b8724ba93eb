"""The desk's audit head goes with every ping and sync; the service keeps the latest per
device and finds, at the next ping or sync, anchored history that was re-signed on the
desk (by someone who can unlock it: the local MAC key comes from the database key) or a
chain that went back (an older copy of the store put back under the same device)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sync_helpers import PASSPHRASE, LiveServer, day_of_records, walk_in
from test_sync_audit import tamper

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.audit import AuditEntry
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient


def _head(store: Store) -> tuple[int, str]:
    seq, mac = store.meta("audit_head").split(":", 1)
    return int(seq), mac


def test_head_is_kept_per_device_with_every_ping_and_sync(
    device: Store, server: LiveServer, central: CentralStore, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    day_of_records(device)
    assert central.audit_head(sync_state.device_id(device)) is None
    with SyncClient(device) as client:
        report = client.sync()
    assert report.audit_problems == []
    held = central.audit_head(sync_state.device_id(device))
    # Sent with the pull, after the audit push: the head is the last entry the service holds.
    assert held is not None and held[0] == report.audit_acked > 0
    assert held[1] == device._rows("SELECT mac FROM audit WHERE seq = ?", [held[0]])[0][0]
    walk_in(device, 7)
    with SyncClient(device) as client:
        ping = client.ping()
    assert client.audit_problem is None and ping.device_id == sync_state.device_id(device)
    assert central.audit_head(sync_state.device_id(device))[:2] == _head(device)
    assert central.verify_audit(sync_state.device_id(device))[1] == []
    # The admin sees how far each desk's chain is, and how much of it the service holds.
    seq, _ = _head(device)
    assert cli.main(["--db", central_db, "audit", "verify", "--device", sync_state.device_id(device)]) == 0
    out = capsys.readouterr().out
    assert f"last reported its chain at entry {seq} " in out
    assert f"{seq - report.audit_acked} not yet held here" in out


def test_re_signed_anchored_history_is_found_at_the_next_ping_and_sync(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    acked = sync_state.audit_acked(device)
    assert acked > 5
    # Someone who can unlock edits entry 3 and re-signs everything after it: the local
    # chain verifies (doctor sees nothing), but the anchored MACs no longer match.
    key = device._audit_key
    assert key is not None
    rows = device._rows(f"SELECT {', '.join(sync_state.AUDIT_COLUMNS)} FROM audit WHERE seq >= 3 ORDER BY seq")
    prev = device._rows("SELECT mac FROM audit WHERE seq = 2")[0][0]
    for row in rows:
        entry = AuditEntry(*row[:-1])
        if entry.seq == 3:
            entry = AuditEntry(**{**entry.__dict__, "detail": "rewritten"})
        mac = entry.sign(key, prev)
        tamper(device, "UPDATE audit SET detail = ?, mac = ? WHERE seq = ?", [entry.detail, mac, entry.seq])
        prev = mac
    with device._save():
        device.db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", [f"{rows[-1][0]}:{prev}"])
    from hubdesk.store.doctor import doctor

    assert doctor(device.data_dir, login="sam", passphrase=PASSPHRASE).ok  # locally, it all checks out

    # The next ping, with nothing pushed: the service sees the anchored entry changed.
    with SyncClient(device) as client:
        client.ping()
    assert client.audit_problem is not None
    assert f"entry {acked} differs from the copy the central record holds" in client.audit_problem
    _, problems = central.verify_audit(sync_state.device_id(device))
    assert any(f"audit entry {acked}: the device's reported audit head contradicts" in p for p in problems)
    # The next sync says so too, and compare-audit names the edited entry.
    with SyncClient(device) as client:
        report = client.sync()
        _, differences = client.compare_audit()
    assert any(f"entry {acked} differs" in p for p in report.audit_problems) and report.exit_code == 1
    assert "audit entry 3 here differs from the central copy (changed after it was synced)" in differences


def test_an_older_copy_put_back_under_the_same_device_is_found(
    device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    data_dir = device.data_dir
    device.lock()
    copy = tmp_path / "copy"
    shutil.copytree(data_dir, copy)
    with Store.unlock(data_dir, "sam", PASSPHRASE) as desk:
        walk_in(desk, 8)
        with SyncClient(desk) as client:
            assert client.sync().audit_problems == []
    shutil.rmtree(data_dir)
    shutil.copytree(copy, data_dir)  # a file copy, not a restore: the same device identity
    with Store.unlock(data_dir, "sam", PASSPHRASE) as desk, SyncClient(desk) as client:
        client.ping()
        assert client.audit_problem is not None and "history went back" in client.audit_problem
