"""A handover note written on one desk reaches the hub's other desks through the central
record (and no other hub's), over real HTTP on both engines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sync_helpers import LiveServer, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.store import day as day_store
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient


def test_handover_reaches_the_other_desk_at_the_same_hub_only(
    device: Store, second_device: Store, server: LiveServer, central: CentralStore, tmp_path: Path
) -> None:
    other_dew = make_store(tmp_path / "dew-2", "DEW", "sam", device_no=2)
    try:
        enrol_device(other_dew, server, central)
        today = day_store.local_day(device.clock())
        note = day_store.write_handover(device, "Kay may come in about his gas meter; his PA is on leave.")
        with SyncClient(device) as client:
            client.sync()
        for desk in (other_dew, second_device):
            with SyncClient(desk) as client:
                client.sync()
        tomorrow = today + timedelta(days=1)
        assert [n.id for n in day_store.handover_for(other_dew, "DEW", tomorrow)] == [note.id]
        assert day_store.handover_for(other_dew, "DEW", tomorrow)[0].text == note.text
        # N11's desk keeps nothing of Dewsbury's handover.
        assert second_device._rows("SELECT count(*) FROM handover_notes")[0][0] == 0
        # Pulling again, or the writer pulling its own note back, adds nothing.
        for desk in (other_dew, device):
            with SyncClient(desk) as client:
                client.sync()
            assert desk._rows("SELECT count(*) FROM handover_notes")[0][0] == 1
    finally:
        other_dew.lock()
