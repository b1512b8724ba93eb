"""`hubdesk doctor` after real syncs, on both central engines: a desk that pulled people,
other desks' events and handover notes is healthy (a pulled record points at its pull's
audit entry, which names no record), the end-of-day records are checked too, and doctor
says how many local audit entries the central record does not hold yet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sync_helpers import PASSPHRASE, LiveServer, day_of_records, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.store import day as day_store
from hubdesk.store import sync_state
from hubdesk.store.doctor import doctor
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient


def _a_closed_day(store: Store) -> None:
    today = day_store.local_day(store.clock())
    day_store.record_float_event(store, "opening", 5000, day=today)
    day_store.write_handover(store, "Synthetic handover: nothing open.", day=today)


def test_doctor_is_clean_after_real_syncs_and_counts_what_is_not_anchored(
    tmp_path: Path, device: Store, server: LiveServer, central: CentralStore
) -> None:
    other = make_store(tmp_path / "dew2", "DEW", "nadia", device_no=2)
    enrol_device(other, server, central)
    try:
        day_of_records(other)
        _a_closed_day(other)
        with SyncClient(other) as client:
            assert client.sync().needs_attention is False
    finally:
        other.lock()

    day_of_records(device, people=2)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.needs_attention is False
    # What the other desk recorded came down: people, events and its handover note.
    pulled = device._rows("SELECT count(*) FROM people p JOIN audit a ON a.seq = p.audit_seq WHERE a.kind = 'pull'")
    assert pulled[0][0] >= 3
    assert device.count("contacts") > 4
    assert device._rows("SELECT count(*) FROM handover_notes") == [(1,)]
    local_entries = device._rows("SELECT max(seq) FROM audit")[0][0]
    acked = sync_state.audit_acked(device)
    assert 0 < acked < local_entries  # the sync's own last entries go with the next sync
    device_dir = device.data_dir
    device.lock()

    result = doctor(device_dir, login="sam", passphrase=PASSPHRASE)
    assert result.ok, result.text()
    assert "pulled from the central record" in result.text()
    # doctor's own unlock writes nothing: the count is what the store held when it was locked.
    assert result.unanchored == local_entries - acked
    assert f"{local_entries - acked:,} of {local_entries:,} local audit entries are not yet anchored" in result.text()
    # And as a script runs it: exit 0.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    env |= {"HUBDESK_PASSPHRASE": PASSPHRASE}
    run = subprocess.run(
        [sys.executable, "-m", "hubdesk", "doctor", "--data-dir", str(device_dir), "--user", "sam"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The store is healthy." in run.stdout


def test_doctor_checks_the_end_of_day_records(tmp_path: Path) -> None:
    store = make_store(tmp_path / "dew", "DEW", "sam")
    _a_closed_day(store)
    with store._save():
        store.db.execute("DROP TRIGGER handover_notes_no_update")
        store.db.execute("UPDATE handover_notes SET body = replace(body, 'nothing open', 'all fine')")
    store.lock()
    result = doctor(tmp_path / "dew", login="sam", passphrase=PASSPHRASE)
    assert not result.ok
    assert any("handover_notes record" in p and "changed outside hubdesk" in p for p in result.problems)
    assert "none of its" in result.text()  # not enrolled: nothing anchored centrally
