"""Keys that follow people (issue 10): a removed user's slot is gone and the database has a
new key sealed to everyone else; a kill at any moment of that leaves a store that opens;
users made inactive centrally lose their slot at the next unlock; slot files of the first
format (frozen below as they were written) open and convert; the wait after wrong
passphrases outlives the process; backup and export work read-only on a full disk."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hubdesk.domain.models import Hub, Person, User
from hubdesk.store import sync_state
from hubdesk.store.doctor import doctor
from hubdesk.store.errors import (
    DatabaseDamaged,
    KeySlotDamaged,
    NotAllowed,
    StoreError,
    UnknownUser,
    WrongPassphrase,
)
from hubdesk.store.keys import RECOVERY, KdfParams, KeySlotFile, new_slot, normalise_recovery_code
from hubdesk.store.store import SLOTS_NAME, Store
from hubdesk.store.unlocks import TooManyTries, UnlockLog
from store_helpers import PASSPHRASE, chain_problems, fill_disk, small_disk

CHEAP = KdfParams(memory_kib=1024, iterations=1, lanes=4)  # trials only: the slot format is the same


def _slots(data_dir: Path) -> Path:
    return data_dir / SLOTS_NAME


def _opens(data_dir: Path, login: str, passphrase: str = PASSPHRASE) -> bool:
    try:
        Store.unlock(data_dir, login, passphrase).lock()
        return True
    except StoreError:
        return False


def _add(store: Store, login: str, role: str = "pa") -> None:
    store.add_user(
        User(login=login, display_name=f"{login.title()} Test-Worker", role=role, hub_code="DEW"), PASSPHRASE
    )


# --- removing a user ----------------------------------------------------------------------


def test_a_removed_users_old_slot_file_no_longer_opens_the_store(store: Store, person: Person, data_dir: Path) -> None:
    store.lock()
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        _add(nadia, "priya")
        old_slots = _slots(data_dir).read_bytes()
        old_key = bytes(nadia._key)  # type: ignore[arg-type]
        removal = nadia.remove_users(["sam"])
        assert removal.rekeyed and removal.removed == ["sam"]
        assert bytes(nadia._key) != old_key  # type: ignore[arg-type]
        # The open store carries on under the new key, its chain intact.
        assert nadia.get_person(person.id) == person
        assert chain_problems(nadia) == []
        assert not nadia.get_user("sam").active
    current = _slots(data_dir).read_bytes()
    with pytest.raises(UnknownUser):
        Store.unlock(data_dir, "sam", PASSPHRASE)
    # Sam keeps a copy of the old slot file and puts it back: their passphrase still opens
    # their old slot, but what it holds no longer opens the database.
    _slots(data_dir).write_bytes(old_slots)
    with pytest.raises(DatabaseDamaged):
        Store.unlock(data_dir, "sam", PASSPHRASE)
    _slots(data_dir).write_bytes(current)
    for login in ("nadia", "priya"):
        with Store.unlock(data_dir, login, PASSPHRASE) as s:
            assert s.get_person(person.id) == person
    with Store.recover(data_dir, store.recovery_code) as s:  # type: ignore[attr-defined]
        assert s.get_person(person.id) == person
        assert chain_problems(s) == []
        rows = s._rows("SELECT actor, action, kind, record_id FROM audit WHERE action IN ('remove', 'rekey')")
        assert ("nadia", "remove", "key_slot", "sam") in rows and ("nadia", "rekey", "store", None) in rows
    report = doctor(data_dir, login="nadia", passphrase=PASSPHRASE)
    assert report.ok, report.text()


def test_only_a_duty_manager_or_admin_removes_and_never_themselves(store: Store, data_dir: Path) -> None:
    with pytest.raises(NotAllowed):
        store.remove_users(["nadia"])  # sam is a PA
    store.lock()
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        with pytest.raises(NotAllowed):
            nadia.remove_users(["nadia"])
        with pytest.raises(NotAllowed):
            nadia.remove_users([RECOVERY])
        with pytest.raises(UnknownUser):
            nadia.remove_users(["nobody"])
    assert _opens(data_dir, "sam")


def test_a_public_key_swapped_into_the_slot_file_is_not_sealed_to(store: Store, data_dir: Path) -> None:
    """Someone who can write the slot file but not open the store puts their own key pair
    in sam's slot, hoping the next rekey seals the new key to it: refused, nothing changed."""
    store.lock()
    slots = KeySlotFile.load(_slots(data_dir))
    forged = new_slot(slots.store_id, "sam", b"the intruder's phrase", {0: bytearray(32)}, CHEAP)
    forged.binding = dict(slots.slots["sam"].binding)  # cannot make a true one without the key
    slots.put(forged)
    slots.save()
    before = _slots(data_dir).read_bytes()
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        _add(nadia, "priya")
        before = _slots(data_dir).read_bytes()
        with pytest.raises(KeySlotDamaged, match="changed outside hubdesk"):
            nadia.remove_users(["priya"])
    assert _slots(data_dir).read_bytes() == before
    assert _opens(data_dir, "priya")


def test_removal_while_the_store_is_open_elsewhere_changes_nothing(store: Store, data_dir: Path) -> None:
    """The desk has the store open (the `store` fixture's connection, as sam): the rekey
    needs the only connection, so the removal is refused before anything changes."""
    before = _slots(data_dir).read_bytes()
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        with pytest.raises(StoreError, match="open in another program"):
            nadia.remove_users(["sam"])
        assert nadia.get_user("sam").active
    assert _slots(data_dir).read_bytes() == before
    assert store.get_user("sam").active  # the desk carries on
    store.lock()
    assert _opens(data_dir, "sam")


def test_the_cli_removes_a_user(store: Store, data_dir: Path) -> None:
    store.lock()
    old = _slots(data_dir).read_bytes()
    result = _hubdesk("users", "remove", "sam", "--data-dir", str(data_dir), "--user", "nadia")
    assert result.returncode == 0, result.stderr
    assert "Removed sam" in result.stdout and "new key" in result.stdout
    refused = _hubdesk("users", "remove", "nadia", "--data-dir", str(data_dir), "--user", "nadia")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "yourself" in refused.stderr
    current = _slots(data_dir).read_bytes()
    _slots(data_dir).write_bytes(old)
    assert not _opens(data_dir, "sam")
    _slots(data_dir).write_bytes(current)
    assert _opens(data_dir, "nadia")


# --- a kill at any moment -----------------------------------------------------------------

TRIALS = int(os.environ.get("HUBDESK_REKEY_TRIALS", "100"))


def _trial_store(data_dir: Path, victims: int) -> tuple[str, int]:
    """A small store (cheap KDF, so a trial takes a moment): nadia, the recovery key, some
    people and contacts, and `victims` users to remove one per trial."""
    from store_helpers import a_contact

    s, code = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User(login="nadia", display_name="Nadia Test-Manager", role="duty_manager", hub_code="DEW"),
        passphrase=PASSPHRASE,
        kdf=CHEAP,
    )
    with s:
        with s.batch():
            for i in range(40):
                p = s.add_person(
                    Person(
                        first_name="Trial",
                        last_name=f"Person {i}",
                        hub_code="DEW",
                        date_of_birth=date(2006, 1, 1 + i % 28),
                        legal_status="former_relevant",
                    )
                )
                for _ in range(5):
                    s.record_contact(a_contact(s, p))
        for i in range(victims):
            _add(s, f"victim{i}")
        people = s.count("people")
    return code, people


def _remove_in_child(data_dir: Path, victim: str, ready_w: int) -> None:
    """The child: unlock, say so, remove the victim; the parent kills it somewhere in there."""
    try:
        store = Store.unlock(data_dir, "nadia", PASSPHRASE)
        os.write(ready_w, b"r")
        store.remove_users([victim])
        store.lock()
    finally:
        os._exit(0)


def test_a_kill_at_any_moment_of_a_removal_leaves_a_store_that_opens(data_dir: Path) -> None:
    """SIGKILL trials: a child unlocks and removes a user; it is killed at a random moment
    of the removal. Each time the store opens afterwards (the unlock carries a half-done
    removal to its end), doctor passes, and once the victim's slot is gone, the victim's
    passphrase with the slot file as it was before no longer opens the database."""
    code, people = _trial_store(data_dir, TRIALS)
    rng = random.Random(10)
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    for trial in range(TRIALS):
        victim = f"victim{trial}"
        before = _slots(data_dir).read_bytes()
        generation = KeySlotFile.load(_slots(data_dir)).generation
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(ready_r)
            _remove_in_child(data_dir, victim, ready_w)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"r"
        os.close(ready_r)
        time.sleep(rng.uniform(0, 0.2))  # a removal here takes about 0.1-0.15 s
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        on_disk = KeySlotFile.load(_slots(data_dir))
        state = (
            "finished"
            if on_disk.generation > generation
            else "mid-rekey"
            if on_disk.next_generation is not None
            else "slot-gone"
            if victim not in on_disk.slots
            else "before"
        )
        if os.WIFEXITED(status):
            state = "finished" if on_disk.generation > generation else state
        outcomes[state] = outcomes.get(state, 0) + 1
        # The store opens, and whatever the kill cut short is finished by this unlock.
        with Store.unlock(data_dir, "nadia", PASSPHRASE, progress=None) as s:
            assert s.count("people") == people
            assert chain_problems(s) == []
            gone = victim not in s.slots.slots
            assert s.slots.next_generation is None
            assert gone == (not s.get_user(victim).active)
        report = doctor(data_dir, login="nadia", passphrase=PASSPHRASE)
        assert report.ok, f"trial {trial} ({state}): {report.text()}"
        if gone:
            current = _slots(data_dir).read_bytes()
            _slots(data_dir).write_bytes(before)
            assert not _opens(data_dir, victim), f"trial {trial} ({state}): the old slot file still opens"
            _slots(data_dir).write_bytes(current)
    with Store.recover(data_dir, code) as s:
        assert s.count("people") == people
    print(f"{TRIALS} kills during removal in {time.monotonic() - started:.1f} s:", outcomes)
    # The kills landed at different steps, not all before or all after.
    assert len(outcomes) >= 2, outcomes


# --- inactive in the central record -------------------------------------------------------


def test_a_user_made_inactive_centrally_loses_their_slot_at_the_next_unlock(
    store: Store, person: Person, data_dir: Path
) -> None:
    old = _slots(data_dir).read_bytes()
    sam = store.get_user("sam")
    # As a pull applies the central reference data (sync_state._apply_reference).
    with store._save() as now:
        sync_state._put_user(store, sam.model_copy(update={"active": False}), now)
    store.lock()
    assert "sam" in KeySlotFile.load(_slots(data_dir)).slots  # nothing happens until an unlock
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        assert "sam" not in nadia.slots.slots
        assert nadia.slots.generation == 1
        assert chain_problems(nadia) == []
    _slots(data_dir).write_bytes(KeySlotFile.load(_slots(data_dir)).payload())
    current = _slots(data_dir).read_bytes()
    _slots(data_dir).write_bytes(old)
    with pytest.raises(DatabaseDamaged):
        Store.unlock(data_dir, "sam", PASSPHRASE)
    _slots(data_dir).write_bytes(current)
    with Store.recover(data_dir, store.recovery_code) as s:  # type: ignore[attr-defined]
        assert s.get_person(person.id) == person


# --- slot files of the first format -------------------------------------------------------


def _first_format_slot_file(path: Path, store_id: str, secrets_by_slot: dict[str, bytes], key: bytes) -> None:
    """The slot file exactly as the first format wrote it (frozen copy of its writer, not
    today's code): the database key wrapped per slot by an Argon2id key, AES-256-GCM with
    associated data 'hubdesk-keyslot:v1:<store>:<slot>', a SHA-256 digest of the slot alone."""
    from hubdesk.store.keys import _normalised

    slots = []
    for slot_id, secret in secrets_by_slot.items():
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        kek = bytes(CHEAP.derive(_normalised(secret), salt))
        wrapped = AESGCM(kek).encrypt(nonce, key, f"hubdesk-keyslot:v1:{store_id}:{slot_id}".encode())
        slot = {
            "slot_id": slot_id,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "wrapped": base64.b64encode(wrapped).decode(),
            "kdf": {"memory_kib": CHEAP.memory_kib, "iterations": CHEAP.iterations, "lanes": CHEAP.lanes},
            "created_at": 1764000000.0,
        }
        slot["digest"] = hashlib.sha256(json.dumps(slot, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        slots.append(slot)
    data = {"format": 1, "store_id": store_id, "slots": sorted(slots, key=lambda s: s["slot_id"])}
    path.write_bytes(json.dumps(data, indent=1, sort_keys=True).encode())


def test_a_first_format_slot_file_opens_converts_and_then_rekeys(store: Store, person: Person, data_dir: Path) -> None:
    code: str = store.recovery_code  # type: ignore[attr-defined]
    key = bytes(store._key)  # type: ignore[arg-type]
    store_id = store.slots.store_id
    store.lock()
    secrets_by_slot = {"nadia": PASSPHRASE.encode(), "sam": PASSPHRASE.encode()}
    secrets_by_slot[RECOVERY] = normalise_recovery_code(code)
    _first_format_slot_file(_slots(data_dir), store_id, secrets_by_slot, key)
    first = _slots(data_dir).read_bytes()
    assert json.loads(first)["format"] == 1
    with pytest.raises(WrongPassphrase):
        Store.unlock(data_dir, "nadia", "not nadia's passphrase")
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        assert nadia.get_person(person.id) == person
        assert nadia.slots.first_format_slots() == [RECOVERY, "sam"]
        _add(nadia, "priya")
    data = json.loads(_slots(data_dir).read_bytes())
    assert data["format"] == 2
    assert {s["slot_id"]: bool(s["public"]) for s in data["slots"]} == {
        "nadia": True,
        "priya": True,
        "sam": False,
        RECOVERY: False,
    }
    # Removing priya now: her slot goes, but the key cannot change while sam's and the
    # recovery slot cannot take a sealed key; the rekey is owed and said so.
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        removal = nadia.remove_users(["priya"])
        assert not removal.rekeyed and removal.waiting_for == [RECOVERY, "sam"]
    assert _opens(data_dir, "sam")  # converts sam's slot
    with Store.recover(data_dir, code) as s:  # converts the recovery slot; the owed rekey runs
        assert s.slots.first_format_slots() == []
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        assert nadia.slots.generation == 1
        assert nadia.get_person(person.id) == person
        assert chain_problems(nadia) == []
    # The first-format file (which a leaver might have kept) opens nothing now.
    current = _slots(data_dir).read_bytes()
    _slots(data_dir).write_bytes(first)
    with pytest.raises(DatabaseDamaged):
        Store.unlock(data_dir, "sam", PASSPHRASE)
    _slots(data_dir).write_bytes(current)
    assert _opens(data_dir, "sam")


def test_the_store_id_is_inside_the_slot_files_checksum(store: Store, data_dir: Path) -> None:
    store.lock()
    data = json.loads(_slots(data_dir).read_bytes())
    data["store_id"] = "0190aaaa-0000-7000-8000-000000000000"
    _slots(data_dir).write_text(json.dumps(data))
    with pytest.raises(KeySlotDamaged):
        Store.unlock(data_dir, "sam", PASSPHRASE)


# --- the wait after wrong passphrases -----------------------------------------------------


def _hubdesk(*args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    env |= {"HUBDESK_KDF_PROFILE": "fast", "HUBDESK_PASSPHRASE": passphrase}
    return subprocess.run(
        [sys.executable, "-m", "hubdesk.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_the_wait_after_wrong_passphrases_survives_a_restart(store: Store, data_dir: Path) -> None:
    """Each command is a new process: five wrong tries (8 s to wait after them, well over
    what a command takes to start on a busy machine), and the right passphrase must wait."""
    store.lock()
    listing = ("users", "list", "--data-dir", str(data_dir), "--user", "sam")
    for _ in range(5):
        time.sleep(UnlockLog(data_dir).wait("sam"))
        wrong = _hubdesk(*listing, passphrase="not the passphrase")
        assert wrong.returncode == 1 and "Wrong passphrase" in wrong.stderr
    too_soon = _hubdesk(*listing)
    assert too_soon.returncode == 1
    assert "Too many wrong passphrases for sam: wait" in too_soon.stderr, too_soon.stderr
    assert "Traceback" not in too_soon.stderr
    # The desk (another process again) reads the same file.
    with pytest.raises(TooManyTries):
        Store.unlock(data_dir, "sam", PASSPHRASE)
    assert UnlockLog(data_dir).failures("sam") == 5
    # nadia's count is her own.
    assert _hubdesk("users", "list", "--data-dir", str(data_dir), "--user", "nadia").returncode == 0
    time.sleep(UnlockLog(data_dir).wait("sam") + 0.05)
    ok = _hubdesk(*listing)
    assert ok.returncode == 0, ok.stderr
    assert UnlockLog(data_dir).failures("sam") == 0


def test_the_wait_grows_and_a_torn_write_keeps_the_other_block(tmp_path: Path) -> None:
    now = [1_000_000.0]
    log = UnlockLog(tmp_path, now=lambda: now[0])
    log.ensure()
    for _ in range(5):
        log.failed("sam")
    assert log.wait("sam") == 8.0
    now[0] += 5
    assert log.wait("sam") == 3.0
    raw = bytearray(log.path.read_bytes())
    newest = 0 if json.loads(raw[:4096])["seq"] > json.loads(raw[4096:])["seq"] else 1
    raw[newest * 4096 + 10] ^= 0xFF  # the last write was torn
    log.path.write_bytes(bytes(raw))
    assert log.failures("sam") == 4  # the block before it


# --- audit before the slot file; read-only on a full disk ---------------------------------


def test_a_passphrase_change_is_audited_before_the_slot_file_changes(
    store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slot file cannot be written (a full disk at fsync): the change was announced in
    the audit chain first, and the failure follows it; the old passphrase still works."""
    import errno

    import hubdesk.store.keys as keys_module
    from hubdesk.store.errors import DiskFull

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keys_module.os, "fsync", no_space)
    with pytest.raises(DiskFull):
        store.set_passphrase("sam", "a new phrase for sam", PASSPHRASE)
    monkeypatch.undo()
    rows = store._rows("SELECT actor, record_id, detail FROM audit WHERE action = 'passphrase' ORDER BY seq")
    assert rows == [
        ("sam", "sam", "slot rewrapped"),
        ("sam", "sam", "not changed: the slot file could not be written"),
    ]
    store.lock()
    assert _opens(data_dir, "sam")


def test_export_on_a_full_disk_opens_read_only_and_is_audited_at_the_next_unlock(tmp_path: Path) -> None:
    with small_disk(tmp_path / "small") as small:
        data = small / "desk"
        assert _hubdesk("demo", "--data-dir", str(data), "--people", "20", "--days", "0").returncode == 0
        fill_disk(small / "filler")
        out = tmp_path / "people.csv"
        args = ("--data-dir", str(data), "--user", "nadia")
        exported = _hubdesk("export", "--what", "people", "--output", str(out), *args)
        assert exported.returncode == 0, exported.stderr
        assert "read-only" in exported.stderr and "Traceback" not in exported.stderr
        assert out.read_text().count("DEMO-") >= 20
        # Anything that must write is still refused, in one line.
        added = _hubdesk("users", "list", *args)
        assert added.returncode == 1 and "disk is full" in added.stderr
        assert UnlockLog(data).owed()[0][0]["purpose"] == "export people (csv)"
        (small / "filler").unlink()
        with Store.unlock(data, "sam", PASSPHRASE) as s:
            details = [d for (d,) in s._rows("SELECT detail FROM audit WHERE action = 'unlock' ORDER BY seq")]
            assert details[-1] == "passphrase"
            assert details[-2].startswith("read-only by nadia at ") and details[-2].endswith("export people (csv)")
            assert chain_problems(s) == []
        assert UnlockLog(data).owed() == ([], 0)


def test_the_rekey_reports_progress_and_the_cli_bar_draws_it(store: Store, data_dir: Path) -> None:
    import io

    from hubdesk.cli_keys import ProgressBar

    store.lock()
    seen: list[float] = []
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        nadia.remove_users(["sam"], progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)
    out = io.StringIO()
    bar = ProgressBar("Changing the database key", stream=out)
    for fraction in (0.0, 0.1, 0.3, 0.31, 0.6, 0.8, 1.0):
        bar(fraction)
    assert out.getvalue().splitlines() == [f"Changing the database key: {p}%" for p in (25, 50, 75, 100)]


def test_a_damaged_remaining_slot_stops_the_removal_before_anything_changes(store: Store, data_dir: Path) -> None:
    store.lock()
    data = json.loads(_slots(data_dir).read_bytes())
    for slot in data["slots"]:
        if slot["slot_id"] == RECOVERY:
            slot["public"] = "not base64!!"
    _slots(data_dir).write_text(json.dumps(data))
    before = _slots(data_dir).read_bytes()
    with Store.unlock(data_dir, "nadia", PASSPHRASE) as nadia:
        with pytest.raises(KeySlotDamaged, match="recovery key is damaged"):
            nadia.remove_users(["sam"])
        assert nadia.get_user("sam").active
    assert _slots(data_dir).read_bytes() == before
    assert _opens(data_dir, "sam")
