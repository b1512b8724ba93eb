"""One hub, one float: the cash float's opening, top-ups and counts recorded on one desk reach
the hub's other desks through the central record (and no other hub's), so a second laptop at
the hub sees the float counted and can close its day without counting it again. Found by the
day at two hubs (tests/sync/test_day_at_two_hubs.py): the family room's laptop could never
close its day, its checklist saying "the cash float is not counted". Real HTTP, both engines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sync_helpers import PASSPHRASE, LiveServer, enrol_device, make_store, walk_in

from hubcentral.storage import CentralStore
from hubdesk.domain.day import FloatEventKind
from hubdesk.store import day as day_store
from hubdesk.store import sync_state
from hubdesk.store.doctor import doctor
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)


def sync(*desks: Store) -> None:
    for desk in desks:
        with SyncClient(desk) as client:
            report = client.sync()
        assert report.set_aside == report.quarantined == 0, report


@pytest.fixture
def family_room(tmp_path: Path, server: LiveServer, central: CentralStore) -> Iterator[Store]:
    """Dewsbury's second desk, unlocked as nadia (the duty manager), enrolled."""
    s = make_store(tmp_path / "dew-2", "DEW", "nadia", device_no=2)
    s.clock = lambda: NOW  # type: ignore[method-assign]
    enrol_device(s, server, central)
    yield s
    s.lock()


def test_the_float_counted_on_one_desk_reaches_the_hubs_other_desk_only(
    device: Store, family_room: Store, second_device: Store, central: CentralStore
) -> None:
    device.clock = lambda: NOW  # type: ignore[method-assign]
    opening = day_store.record_float_event(device, FloatEventKind.OPENING, 20000)
    person = walk_in(device, 1)
    device.record_payment(person_id=person.id, category="travel", amount_pence=1500, method="cash", reason="Bus")
    first = day_store.count_float(device, total_pence=18500)
    sync(device, family_room, second_device)

    # The other desk at the hub: the float as the counting desk sees it, nothing left to count.
    seen = day_store.reconcile_float(family_room, "DEW", DAY)
    assert (seen.opening_pence, seen.cash_out_pence, seen.counted_pence) == (20000, 1500, 18500)
    assert [e.id for e in seen.events] == [opening.id] and seen.count is not None and seen.count.id == first.id
    assert day_store.day_checklist(family_room, "DEW", DAY).blockers == []

    # Counted again on the first desk: the recount replaces the count on the other desk too.
    device.clock = lambda: NOW.replace(minute=5)  # type: ignore[method-assign]
    again = day_store.count_float(device, total_pence=18400, reason="Recounted: 1 pound short")
    sync(device, family_room)
    current = day_store.current_count(family_room, "DEW", DAY)
    assert current is not None and (current.id, current.recounts) == (again.id, first.id)
    assert not day_store.day_checklist(family_room, "DEW", DAY).blockers  # short, with a reason
    day_store.close_day(family_room)

    # Kept once, however often pulled; the writing desk does not take its own back.
    sync(family_room, device, family_room)
    for desk in (family_room, device):
        assert desk._rows("SELECT count(*) FROM cash_float_events")[0][0] == 1
        assert desk._rows("SELECT count(*) FROM float_counts")[0][0] == 2
    # No. 11's desk holds nothing of Dewsbury's float.
    assert second_device._rows("SELECT count(*) FROM cash_float_events")[0][0] == 0
    assert second_device._rows("SELECT count(*) FROM float_counts")[0][0] == 0
    assert sorted(r["id"] for r in central.records("float_count")) == sorted([first.id, again.id])
    assert [r["id"] for r in central.records("cash_float")] == [opening.id]
    # The pulled records are audited: the desk's store checks clean.
    family_room.lock()
    report = doctor(family_room.data_dir, login="nadia", passphrase=PASSPHRASE)
    assert report.ok, report.text()


def test_an_opening_recorded_on_both_desks_offline_is_kept_at_each_and_held_centrally(
    device: Store, family_room: Store, central: CentralStore
) -> None:
    device.clock = lambda: NOW  # type: ignore[method-assign]
    mine = day_store.record_float_event(device, FloatEventKind.OPENING, 20000)
    theirs = day_store.record_float_event(family_room, FloatEventKind.OPENING, 10000)
    sync(device, family_room, device)
    # Each desk keeps its own opening (a day has one); the central record holds both to settle.
    assert [e.id for e in day_store.float_events(device, "DEW", DAY)] == [mine.id]
    assert [e.id for e in day_store.float_events(family_room, "DEW", DAY)] == [theirs.id]
    assert sorted(r["id"] for r in central.records("cash_float")) == sorted([mine.id, theirs.id])
    for desk in (device, family_room):
        assert desk.outbox_waiting() == 0 and not sync_state.quarantined(desk)
