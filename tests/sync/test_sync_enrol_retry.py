"""Enrolment is safe to retry: a failed `hubdesk enrol` leaves the desk syncing as before, a
revoked or replaced desk enrols again with a new code, addresses are parsed, and wrong codes
are limited per address without a row written. Real HTTP on loopback, both engines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import LiveServer, make_store, walk_in

from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync import commands
from hubdesk.sync.client import Refused, SyncClient, SyncError, enrol, service_url

WRONG = "AAAA-BBBB-CCCC-DDDD"


def new_code(central: CentralStore, hub: str = "DEW") -> str:
    now = datetime.now(UTC)
    return central.make_enrolment_code(hub, now + timedelta(hours=1), now)


def working_state(store: Store) -> dict[str, str | None]:
    keys = (sync_state.K_KEY, sync_state.K_SERVER, sync_state.K_ENROLLED, sync_state.K_BUNDLE_KEY)
    return {k: sync_state.get(store, k) for k in keys}


def sync_one(store: Store) -> None:
    """Record a walk-in and sync it: the desk's key and enrolment work."""
    walk_in(store, store.count("people") + 1)
    with SyncClient(store, retries=0) as client:
        report = client.sync()
    assert report.pushed >= 1 and report.accepted == report.pushed


# --- a failed enrolment changes nothing ---------------------------------------------------


def test_wrong_code_or_other_spelling_then_sync_still_works(
    tmp_path: Path, device: Store, server: LiveServer, central: CentralStore
) -> None:
    sync_one(device)
    before = working_state(device)
    used = new_code(central)
    other = make_store(tmp_path / "other", "DEW", "nadia")
    enrol(other, server.url, used)
    other.lock()
    localhost = server.url.replace("127.0.0.1", "localhost")
    for url, code, status in (
        (server.url, WRONG, 403),
        (localhost, WRONG, 403),  # the same service spelt another way
        (localhost + "/", used, 409),  # a code another desk has used
    ):
        with pytest.raises(Refused) as refused:
            enrol(device, url, code)
        assert refused.value.status == status
        assert working_state(device) == before
        sync_one(device)
    # Out of reach: nothing changes either.
    with pytest.raises(SyncError):
        enrol(device, "http://127.0.0.1:9", WRONG)
    assert working_state(device) == before
    sync_one(device)
    [held] = [d for d in central.devices() if d.device_id == device.meta("device_id")]
    assert held.revoked_at is None


def test_the_cli_says_not_enrolled_and_the_desk_keeps_syncing(
    device: Store, server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = working_state(device)
    args = argparse.Namespace(server=server.url, code=WRONG, label="", ca=None)
    assert commands.run_enrol(args, device) == 2
    err = capsys.readouterr().err
    assert "Not enrolled" in err and "not known" in err and "Traceback" not in err
    assert working_state(device) == before
    sync_one(device)


def test_the_cli_refuses_a_plain_http_address_that_is_not_this_machine(
    device: Store, server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = working_state(device)
    port = server.url.rsplit(":", 1)[1]
    args = argparse.Namespace(server=f"http://localhost.example.org:{port}", code=WRONG, label="", ca=None)
    assert commands.run_enrol(args, device) == 2  # refused, not "unreachable, try again"
    err = capsys.readouterr().err
    assert "https://" in err and len(err.strip().splitlines()) == 1
    assert working_state(device) == before
    sync_one(device)


# --- enrolling again -------------------------------------------------------------------------


def test_revoked_desk_enrols_again_with_a_new_code(device: Store, server: LiveServer, central: CentralStore) -> None:
    sync_one(device)
    old_key = sync_state.get(device, sync_state.K_KEY)
    cursor = sync_state.cursor(device)
    assert central.revoke(device.meta("device_id"), datetime.now(UTC))
    with pytest.raises(Refused) as revoked:
        sync_one(device)
    assert revoked.value.status == 403 and "revoked" in revoked.value.detail
    answer = enrol(device, server.url, new_code(central))
    assert answer.device_id == device.meta("device_id")
    sync_one(device)
    [held] = central.devices()
    assert held.revoked_at is None
    assert sync_state.get(device, sync_state.K_KEY) != old_key
    assert sync_state.cursor(device) >= cursor  # the same service: its feed is not fetched again
    # The old key no longer speaks for the desk.
    sync_state.put(device, **{sync_state.K_KEY: old_key or ""})
    with pytest.raises(Refused) as stale:
        SyncClient(device, retries=0).ping()
    assert stale.value.status == 401


def test_desk_that_lost_its_key_enrols_again(device: Store, server: LiveServer, central: CentralStore) -> None:
    """What the old bug did to a desk: its key replaced locally, the service holding the old one."""
    sync_state.put(device, **{sync_state.K_KEY: Ed25519PrivateKey.generate().private_bytes_raw().hex()})
    with pytest.raises(Refused) as lost:
        SyncClient(device, retries=0).ping()
    assert lost.value.status == 401
    enrol(device, server.url, new_code(central))
    sync_one(device)
    assert len(central.devices()) == 1


def test_a_code_for_another_hub_cannot_move_a_desk(device: Store, server: LiveServer, central: CentralStore) -> None:
    before = working_state(device)
    with pytest.raises(Refused) as other:
        enrol(device, server.url, new_code(central, "N11"))
    assert other.value.status == 403 and "for hub N11" in other.value.detail
    assert working_state(device) == before
    sync_one(device)


class LoseTheAnswers(httpx.BaseTransport):
    """Real HTTP to the service, every answer lost on the way back (a link that drops)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        self.lost += 1
        raise httpx.ReadError("connection dropped", request=request)


def test_lost_answer_is_retried_with_the_same_code(tmp_path: Path, server: LiveServer, central: CentralStore) -> None:
    store = make_store(tmp_path / "desk", "DEW", "sam")
    code = new_code(central)
    transport = LoseTheAnswers()
    with pytest.raises(SyncError) as lost:
        enrol(store, server.url, code, transport=transport)
    assert transport.lost >= 1 and "Could not reach" in str(lost.value)
    assert [d.device_id for d in central.devices()] == [store.meta("device_id")]  # the service said yes
    assert not sync_state.enrolled(store) and not sync_state.get(store, sync_state.K_KEY)
    enrol(store, server.url, code)  # the same code again: the service knows this key already
    sync_one(store)
    store.lock()


# --- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "spelt"),
    [
        ("https://records.example.gov.uk/", "https://records.example.gov.uk"),
        ("HTTPS://Records.Example.gov.uk:443/central/", "https://records.example.gov.uk/central"),
        ("http://127.0.0.1:8470/", "http://127.0.0.1:8470"),
        ("http://127.0.0.2:8470", "http://127.0.0.2:8470"),
        ("http://localhost:8470", "http://localhost:8470"),
        ("http://[::1]:8470/", "http://[::1]:8470"),
    ],
)
def test_service_addresses_are_parsed(given: str, spelt: str) -> None:
    assert service_url(given) == spelt


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("http://localhost.example.org", "https://"),
        ("http://127.0.0.1.nip.io:8470", "https://"),
        ("http://[::1].example.org", "not a valid URL"),
        ("http://192.168.1.20:8470", "https://"),
        ("http://10.0.0.1", "https://"),
        ("ftp://127.0.0.1", "https://"),
        ("records.example.gov.uk", "https://"),
        ("https://admin:secret@records.example.gov.uk", "user name or password"),
        ("https://records.example.gov.uk/?next=x", "query"),
        ("https://records.example.gov.uk:99999", "not a valid URL"),
        ("", "https://"),
    ],
)
def test_bad_addresses_are_refused_before_anything_changes(
    device: Store, central: CentralStore, given: str, why: str
) -> None:
    before = working_state(device)
    with pytest.raises(SyncError) as refused:
        enrol(device, given, new_code(central))
    assert why in str(refused.value)
    assert "secret" not in str(refused.value)
    assert working_state(device) == before
    sync_one(device)


# --- wrong codes are limited per address -------------------------------------------------------------


class Clock:
    """The service's clock and the desk's, moved on together by the test (no waiting)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def service(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def desk(self) -> float:
        return self.service().timestamp()


@pytest.fixture
def clocked(central: CentralStore, central_db: str) -> Iterator[tuple[LiveServer, Clock]]:
    clock = Clock()
    live = LiveServer(central_db, clock=clock.service).start()
    yield live, clock
    live.stop()


def test_wrong_codes_are_limited_per_address_and_write_nothing(
    tmp_path: Path, clocked: tuple[LiveServer, Clock], central: CentralStore
) -> None:
    live, clock = clocked
    store = make_store(tmp_path / "desk", "DEW", "sam")
    held = (central.count("nonces"), central.count("devices"))

    def attempt(code: str) -> int:
        try:
            enrol(store, live.url, code, clock=clock.desk)
        except Refused as exc:
            assert "Traceback" not in exc.detail
            return exc.status
        return 201

    statuses = [attempt(f"WRNG-CODE-{n:04d}-XXXX") for n in range(10)]
    assert statuses == [403] * 10
    assert attempt(WRONG) == 429
    good = new_code(central)
    assert attempt(good) == 429  # even the right code waits: no guessing while blocked
    assert (central.count("nonces"), central.count("devices")) == held  # no row for a wrong guess

    # After the minute one more try; a wrong one makes the wait grow.
    clock.offset += timedelta(seconds=61)
    with pytest.raises(Refused) as again:
        enrol(store, live.url, WRONG, clock=clock.desk)
    assert again.value.status == 403 and "wait 12" in again.value.detail  # 120 s, then 240 s, ...
    clock.offset += timedelta(seconds=61)
    assert attempt(good) == 429
    clock.offset += timedelta(seconds=60)
    assert attempt(good) == 201
    sync_one(store)
    assert central.count("devices") == held[1] + 1
    store.lock()


@pytest.mark.skipif(sys.platform != "linux", reason="binds the client to 127.0.0.2 (Linux loopback range)")
def test_one_address_being_limited_does_not_block_another(
    tmp_path: Path, clocked: tuple[LiveServer, Clock], central: CentralStore
) -> None:
    live, clock = clocked
    store = make_store(tmp_path / "desk", "DEW", "sam")
    for n in range(10):
        with pytest.raises(Refused):
            enrol(store, live.url, f"WRNG-CODE-{n:04d}-XXXX", clock=clock.desk)
    with pytest.raises(Refused) as blocked:
        enrol(store, live.url, WRONG, clock=clock.desk)
    assert blocked.value.status == 429
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    enrol(store, live.url, new_code(central), clock=clock.desk, transport=other)
    assert sync_state.enrolled(store)
    store.lock()
