"""A laptop restored from a backup loses nothing and collides with nothing, on both engines.

The desk syncs, is backed up with records still waiting, goes on recording (and sending)
after the backup, and is then restored from it. Restoring over a store that holds
records the central record does not is refused (unless forced: then the old store is
kept); the restored store is a new device that must enrol again, and after that its sync
is clean: nothing quarantined, no audit entry refused, no receipt number held twice
centrally, and `doctor` passes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sync_helpers import PASSPHRASE, LiveServer, day_of_records, enrol_device, make_store, walk_in

from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.backup import RestoreRefused, make_backup, restore_backup
from hubdesk.store.doctor import doctor
from hubdesk.store.store import Store
from hubdesk.sync.client import NotEnrolled, SyncClient


def _pay(store: Store, n: int) -> str:
    person = walk_in(store, 20 + n)
    payment = store.record_payment(
        person_id=person.id, category="gas", amount_pence=900 + n, method="cash", reason="Synthetic gas top-up"
    )
    return payment.receipt_no


def _central_receipts(central: CentralStore) -> list[str]:
    return [p["receipt_no"] for p in central.records("payment")]


def test_restored_desk_is_a_new_device_and_its_sync_collides_with_nothing(
    tmp_path: Path, device: Store, server: LiveServer, central: CentralStore
) -> None:
    data_dir = device.data_dir
    old_device = sync_state.device_id(device)
    day_of_records(device)
    with SyncClient(device) as client:
        assert not client.sync().needs_attention
    waiting_at_backup = [_pay(device, 1)]  # in the backup, not yet sent
    backup = tmp_path / "desk.hubbackup"
    make_backup(device, backup)
    after_backup = [_pay(device, 2), _pay(device, 3)]  # the old laptop goes on, and sends
    with SyncClient(device) as client:
        assert not client.sync().needs_attention
    assert set(waiting_at_backup + after_backup) <= set(_central_receipts(central))
    device.lock()

    # The laptop is restored from last night's backup over its own folder (all sent: allowed).
    done = restore_backup(backup, data_dir, login="sam", passphrase=PASSPHRASE, replace=True)
    assert done.device_id != old_device and done.kept is not None and done.server == server.url
    restored = Store.unlock(data_dir, "sam", PASSPHRASE)
    try:
        assert sync_state.device_id(restored) == done.device_id
        assert sync_state.restored_from(restored) == old_device
        with SyncClient(restored) as client, pytest.raises(NotEnrolled, match="restored from a backup"):
            client.sync()
        # Offline, before enrolling again: a payment gets a receipt number clear of the old ones.
        new_receipts = [_pay(restored, 4)]
        enrol_device(restored, server, central)
        assert sync_state.restored_from(restored) is None
        new_receipts.append(_pay(restored, 5))
        with SyncClient(restored) as client:
            report = client.sync()
        assert report.quarantined == 0 and report.conflicts == 0, report.line()
        assert report.audit_problems == [], report.audit_problems
        assert report.audit_acked > 0
        # Everything waiting in the backup is held centrally once; nothing was refused.
        states = sync_state.states(restored)
        assert set(states) == {sync_state.SYNCED}, states
        receipts = _central_receipts(central)
        assert set(new_receipts) <= set(receipts)
        twice = [r for r, n in Counter(receipts).items() if n > 1]
        assert twice == [], twice
        held, problems = central.verify_audit(done.device_id)
        assert problems == [] and held == report.audit_acked
        restored_dir = restored.data_dir
    finally:
        restored.lock()
    result = doctor(restored_dir, login="sam", passphrase=PASSPHRASE)
    assert result.ok, result.text()


def test_restore_over_unsent_records_is_refused_and_forced_keeps_the_old_store(
    tmp_path: Path, device: Store, server: LiveServer, central: CentralStore
) -> None:
    data_dir = device.data_dir
    backup = tmp_path / "desk.hubbackup"
    make_backup(device, backup)
    day_of_records(device, people=2, contacts_each=1)  # recorded after the backup, never sent
    unsent = device.outbox_waiting()
    assert unsent > 0
    contacts = device.count("contacts")
    device.lock()

    with pytest.raises(RestoreRefused, match=f"has {unsent} record\\(s\\) the central record does not hold"):
        restore_backup(backup, data_dir, login="sam", passphrase=PASSPHRASE, replace=True)
    with Store.unlock(data_dir, "sam", PASSPHRASE) as still:
        assert still.count("contacts") == contacts and still.outbox_waiting() == unsent

    done = restore_backup(backup, data_dir, login="sam", passphrase=PASSPHRASE, replace=True, force=True)
    assert done.kept is not None and done.kept.parent == data_dir.parent
    with Store.unlock(data_dir, "sam", PASSPHRASE) as now:
        assert now.count("contacts") == 0
    # The replaced store is kept whole, still encrypted, and opens where it was put.
    assert b"Walkin" not in (done.kept / "hubdesk.db").read_bytes()
    with Store.unlock(done.kept, "sam", PASSPHRASE) as kept:
        assert kept.count("contacts") == contacts and kept.outbox_waiting() >= unsent


def test_another_hubs_backup_is_refused_unless_asked_for(tmp_path: Path) -> None:
    n11 = make_store(tmp_path / "n11", "N11", "omar")
    backup = tmp_path / "n11.hubbackup"
    make_backup(n11, backup)
    n11.lock()
    # A Dewsbury desk where omar (moved there) has a slot with the same passphrase.
    dew = make_store(tmp_path / "dew", "DEW", "nadia")
    dew.add_user(n11_user(), PASSPHRASE)
    dew.lock()
    with pytest.raises(RestoreRefused, match=r"backup is of a N11 store .* DEW's: pass --other-hub"):
        restore_backup(backup, tmp_path / "dew", login="omar", passphrase=PASSPHRASE, replace=True)
    done = restore_backup(backup, tmp_path / "dew", login="omar", passphrase=PASSPHRASE, replace=True, other_hub=True)
    assert done.header["hub_code"] == "N11" and done.kept is not None


def n11_user():
    from sync_helpers import USERS

    omar = next(u for u in USERS if u.login == "omar")
    return omar.model_copy(update={"hub_code": "DEW"})


def test_the_service_never_holds_one_receipt_number_for_two_payments(
    tmp_path: Path, device: Store, server: LiveServer, central: CentralStore
) -> None:
    """Two desks numbering receipts from the same place (the same backup restored onto two
    laptops, or two desks given one device number): the second payment under a number
    already held is refused and kept on its desk, never held twice."""
    twin = make_store(tmp_path / "twin", "DEW", "nadia", device_no=device.device_no)
    enrol_device(twin, server, central)
    try:
        mine, theirs = _pay(device, 1), _pay(twin, 2)
        assert mine == theirs
        with SyncClient(device) as client:
            assert client.sync().quarantined == 0
        # A database made before receipts were kept is filled from its payments first.
        with central.engine.transaction(write=True) as tx:
            tx.execute("DELETE FROM receipts")
        server.store._receipts_filled = False  # type: ignore[attr-defined]  # as a service just started
        with SyncClient(twin) as client:
            report = client.push()
        assert report.quarantined == 1
        [kept] = sync_state.quarantined(twin)
        assert kept.kind == "payment" and f"Receipt number {theirs} is already held" in (kept.last_error or "")
        assert Counter(_central_receipts(central))[mine] == 1
        # The other desk's payment under that number comes down to the twin: set aside
        # (its own is kept), and the pull goes on (the feed never wedges).
        with SyncClient(twin) as client:
            pulled = client.pull()
        assert pulled.set_aside == 1 and pulled.pulled > 1
        [(kind, reason)] = twin._rows("SELECT kind, reason FROM pulled_aside")
        assert kind == "payment" and "receipt number" in reason
    finally:
        twin.lock()
