"""Refused requests: each answered with the right 4xx and a clear message, and nothing stored."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import (
    CENTRAL_REFERENCE,
    LiveServer,
    central_database,
    day_of_records,
    enrol_device,
    make_store,
    walk_in,
)

from hubcentral.storage import CentralStore
from hubdesk.domain.models import Contact
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import Refused, SyncClient, enrol
from hubdesk.sync.protocol import H_SIGNATURE, b64, sign_headers


def device_key(store: Store) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(store, sync_state.K_KEY) or ""))


def send(
    server: LiveServer,
    store: Store,
    method: str,
    path: str,
    payload: Any = None,
    *,
    body: bytes | None = None,
    key: Ed25519PrivateKey | None = None,
    at: int | None = None,
    nonce: str | None = None,
    user: str = "sam",
    device: str | None = None,
    sign: bool = True,
    tamper: bool = False,
) -> httpx.Response:
    if body is None:
        body = b"" if payload is None else json.dumps(payload).encode()
    headers = {"content-type": "application/json"}
    if sign:
        headers |= sign_headers(
            key or device_key(store),
            method=method,
            path=path,
            device=device or store.meta("device_id"),
            user=user,
            body=body,
            at=int(time.time()) if at is None else at,
            nonce=nonce or secrets.token_urlsafe(18),
        )
    if tamper:
        body = body.replace(b"DEW", b"DEX")
    return httpx.request(method, server.url + path, content=body, headers=headers)


def push_payload(store: Store, hub: str = "DEW", after: int = 0) -> dict[str, Any]:
    items = store.outbox(limit=50, after_seq=after)
    return {
        "hub_code": hub,
        "items": [
            {
                "id": i.id,
                "seq": i.seq,
                "kind": i.kind,
                "record_id": i.record_id,
                "body": json.loads(i.body),
                "created_at": "2026-11-23T10:00:00+00:00",
            }
            for i in items
        ],
    }


@dataclass
class Rig:
    device: Store
    server: LiveServer
    central: CentralStore


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """One enrolled desk and one service per engine for the whole module: a store costs
    Argon2id runs to make, and refusals never change what a later test relies on."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("HUBDESK_HOME", str(tmp_path_factory.mktemp("home")))
        with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
            central = CentralStore.open(db)
            central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
            server = LiveServer(db).start()
            store = make_store(tmp_path_factory.mktemp("dew"), "DEW", "sam")
            enrol_device(store, server, central)
            yield Rig(store, server, central)
            store.lock()
            server.stop()
            central.close()


@pytest.fixture
def device(rig: Rig) -> Store:
    return rig.device


@pytest.fixture
def server(rig: Rig) -> LiveServer:
    return rig.server


@pytest.fixture
def central(rig: Rig) -> Iterator[CentralStore]:
    """The rig's central store; the test fails if a refused request stored anything."""
    yield rig.central


@pytest.fixture
def held(rig: Rig) -> tuple[int, int]:
    return rig.central.count("received"), rig.central.count("records")


def nothing_stored(central: CentralStore, held: tuple[int, int]) -> None:
    assert (central.count("received"), central.count("records")) == held


@pytest.fixture
def payload(device: Store) -> dict[str, Any]:
    """Fresh records only: the rig's desk keeps what earlier tests left waiting."""
    after = device._rows("SELECT coalesce(max(seq), 0) FROM outbox")[0][0]
    day_of_records(device, people=1, contacts_each=1)
    return push_payload(device, after=after)


def test_unsigned(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    r = send(server, device, "POST", "/v1/push", payload, sign=False)
    assert r.status_code == 401 and "not signed" in r.json()["detail"]
    nothing_stored(central, held)


def test_badly_signed(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    r = send(server, device, "POST", "/v1/push", payload, key=Ed25519PrivateKey.generate())
    assert r.status_code == 401 and "signature does not match" in r.json()["detail"]
    r = send(server, device, "POST", "/v1/push", payload, tamper=True)
    assert r.status_code == 401 and "altered" in r.json()["detail"]
    headers = {
        "x-hubdesk-device": device.meta("device_id"),
        "x-hubdesk-user": "sam",
        "x-hubdesk-time": str(int(time.time())),
        "x-hubdesk-nonce": secrets.token_urlsafe(18),
        H_SIGNATURE: "not-base64!!",
    }
    r = httpx.post(server.url + "/v1/push", json=payload, headers=headers)
    assert r.status_code == 401
    nothing_stored(central, held)


@pytest.mark.parametrize("skew", [-310, 310, 3600])
def test_stale(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore, payload: dict, skew: int
) -> None:
    r = send(server, device, "POST", "/v1/push", payload, at=int(time.time()) + skew)
    assert r.status_code == 401 and "5 minutes" in r.json()["detail"]
    nothing_stored(central, held)


def test_within_skew_is_accepted(device: Store, server: LiveServer, payload: dict) -> None:
    assert send(server, device, "POST", "/v1/push", payload, at=int(time.time()) - 240).status_code == 200


def test_replayed(device: Store, server: LiveServer, central: CentralStore) -> None:
    nonce = secrets.token_urlsafe(18)
    assert send(server, device, "GET", "/v1/ping", nonce=nonce).status_code == 200
    r = send(server, device, "GET", "/v1/ping", nonce=nonce)
    assert r.status_code == 401 and "Replayed" in r.json()["detail"]


def test_replayed_push_stores_nothing_twice(
    device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    body = json.dumps(payload).encode()
    headers = sign_headers(
        device_key(device),
        method="POST",
        path="/v1/push",
        device=device.meta("device_id"),
        user="sam",
        body=body,
        at=int(time.time()),
        nonce=secrets.token_urlsafe(18),
    )
    headers["content-type"] = "application/json"
    first = httpx.post(server.url + "/v1/push", content=body, headers=headers)
    assert first.status_code == 200
    held = central.count("received")
    again = httpx.post(server.url + "/v1/push", content=body, headers=headers)
    assert again.status_code == 401 and "Replayed" in again.json()["detail"]
    assert central.count("received") == held


def test_oversized(held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore) -> None:
    big = b'{"hub_code":"DEW","items":[],"pad":"' + b"x" * (9 * 1024 * 1024) + b'"}'
    r = send(server, device, "POST", "/v1/push", body=big)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    nothing_stored(central, held)


def test_unknown_device(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    r = send(server, device, "POST", "/v1/push", payload, device="01900000-0000-7000-8000-000000000000")
    assert r.status_code == 401 and "Unknown device" in r.json()["detail"]
    nothing_stored(central, held)


def test_revoked_device(held: tuple[int, int], server: LiveServer, central: CentralStore, tmp_path: Path) -> None:
    desk = make_store(tmp_path / "revoked", "DEW", "nadia")
    enrol_device(desk, server, central)
    day_of_records(desk, people=1, contacts_each=1)
    central.revoke(desk.meta("device_id"), datetime.now(UTC))
    r = send(server, desk, "POST", "/v1/push", push_payload(desk), user="nadia")
    assert r.status_code == 403 and "revoked" in r.json()["detail"]
    nothing_stored(central, held)
    with SyncClient(desk) as client, pytest.raises(Refused) as refused:
        client.sync()
    assert refused.value.status == 403 and refused.value.exit_code == 2
    assert desk.outbox_waiting() > 0  # nothing lost on the desk
    desk.lock()


@pytest.mark.parametrize("user", ["gone", "nobody", "NOT A LOGIN"])
def test_unknown_or_inactive_user(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore, payload: dict, user: str
) -> None:
    r = send(server, device, "POST", "/v1/push", payload, user=user)
    assert r.status_code == 403 and ("not an active user" in r.json()["detail"] or "login" in r.json()["detail"])
    nothing_stored(central, held)


def test_foreign_hub_batch(held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore) -> None:
    day_of_records(device, people=1, contacts_each=1)
    r = send(server, device, "POST", "/v1/push", push_payload(device, hub="N11"))
    assert r.status_code == 403 and "enrolled at hub DEW" in r.json()["detail"]
    nothing_stored(central, held)


def test_foreign_hub_record_is_quarantined_and_never_blocks(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    with SyncClient(device) as client:
        client.sync()
    contacts_before = len(central.records("contact"))
    person = walk_in(device, 7)
    stray = device.record_contact(
        Contact(
            person_id=person.id,
            hub_code="N11",
            contact_type="phone",
            recorded_by="sam",
            started_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
            recorded_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
            seen=False,
            purposes=("money",),
            summary="Synthetic call",
        )
    )
    day_of_records(device, people=1, contacts_each=1)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.quarantined == 1 and report.exit_code == 1
    [q] = sync_state.quarantined(device)
    assert q.record_id == stray.id and "403" in (q.last_error or "") and "hub N11" in (q.last_error or "")
    assert device.outbox_waiting() == 0
    assert stray.id not in {r["id"] for r in central.records("contact")}
    assert len(central.records("contact")) == contacts_before + 2
    assert sync_state.record_sync_state(device, stray.id) == "needs attention"


def test_malformed_json_is_422_never_500(
    held: tuple[int, int], device: Store, server: LiveServer, central: CentralStore
) -> None:
    r = send(server, device, "POST", "/v1/push", body=b'{"hub_code": "DEW", "items": [')
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"].startswith("body")
    nothing_stored(central, held)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seq": "seven"}, "body.items.0.seq"),
        ({"kind": "Space Ship!"}, "body.items.0.kind"),
        ({"body": "not an object"}, "body.items.0.body"),
        ({"created_at": "yesterday"}, "body.items.0.created_at"),
        ({"extra": 1}, "body.items.0.extra"),
    ],
)
def test_wrong_types_name_the_field(
    held: tuple[int, int],
    device: Store,
    server: LiveServer,
    central: CentralStore,
    payload: dict,
    change: dict,
    field: str,
) -> None:
    payload["items"][0] |= change
    r = send(server, device, "POST", "/v1/push", payload)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert "Synthetic" not in r.text  # never echoes the input
    nothing_stored(central, held)


def test_a_kind_the_service_does_not_know_is_kept_as_an_event(
    device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    # voucher_stock: a kind the desks send that the service keeps without a model of its own.
    newer = {"id": "01900000-0000-7000-8000-0000000f10a7", "hub_code": "DEW", "amount_pence": 5000}
    stray = {**newer, "id": "01900000-0000-7000-8000-0000000f10a8", "hub_code": "N11"}
    payload["items"] += [
        {
            "id": "01900000-0000-7000-8000-00000000f001",
            "seq": 900,
            "kind": "voucher_stock",
            "record_id": newer["id"],
            "body": newer,
            "created_at": "2026-11-23T16:00:00+00:00",
        },
        {
            "id": "01900000-0000-7000-8000-00000000f002",
            "seq": 901,
            "kind": "voucher_stock",
            "record_id": stray["id"],
            "body": stray,
            "created_at": "2026-11-23T16:00:00+00:00",
        },
    ]
    r = send(server, device, "POST", "/v1/push", payload)
    assert r.status_code == 200
    results = {x["id"]: x for x in r.json()["results"]}
    assert results["01900000-0000-7000-8000-00000000f001"]["status"] == "accepted"
    assert results["01900000-0000-7000-8000-00000000f002"]["code"] == 403
    assert central.records("voucher_stock") == [newer]
    assert "voucher_stock" in central.kinds()


def test_bad_query_is_422(device: Store, server: LiveServer) -> None:
    r = send(server, device, "GET", "/v1/changes?since=-1")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.since"


def test_invalid_record_is_rejected_per_item(
    device: Store, server: LiveServer, central: CentralStore, payload: dict
) -> None:
    payload["items"][1]["body"]["summary"] = ""
    r = send(server, device, "POST", "/v1/push", payload)
    assert r.status_code == 200
    results = {x["id"]: x for x in r.json()["results"]}
    bad = results[payload["items"][1]["id"]]
    assert bad["status"] == "rejected" and bad["code"] == 422 and "summary" in bad["reason"]
    assert sum(x["status"] == "accepted" for x in results.values()) == len(payload["items"]) - 1


def test_enrolment_refusals(store: Store, server: LiveServer, central: CentralStore) -> None:
    with pytest.raises(Refused) as bad:
        enrol(store, server.url, "AAAA-BBBB-CCCC-DDDD")
    assert bad.value.status == 403 and "not known" in bad.value.detail
    now = datetime.now(UTC)
    expired = central.make_enrolment_code("DEW", now - timedelta(minutes=1), now - timedelta(hours=1))
    with pytest.raises(Refused) as old:
        enrol(store, server.url, expired)
    assert "expired" in old.value.detail
    other_hub = central.make_enrolment_code("N11", now + timedelta(hours=1), now)
    with pytest.raises(Refused) as hub:
        enrol(store, server.url, other_hub)
    assert "for hub N11" in hub.value.detail
    good = central.make_enrolment_code("DEW", now + timedelta(hours=1), now)
    enrol(store, server.url, good)
    assert store.meta("device_id") in {d.device_id for d in central.devices()}


def test_enrolment_code_is_one_time(store: Store, tmp_path: Path, server: LiveServer, central: CentralStore) -> None:
    now = datetime.now(UTC)
    code = central.make_enrolment_code("DEW", now + timedelta(hours=1), now)
    enrol(store, server.url, code)
    other = make_store(tmp_path / "other", "DEW", "nadia")
    with pytest.raises(Refused) as used:
        enrol(other, server.url, code)
    assert used.value.status == 409 and "already been used" in used.value.detail
    other.lock()


def test_enrol_signed_with_another_key_is_refused(store: Store, server: LiveServer, central: CentralStore) -> None:
    now = datetime.now(UTC)
    code = central.make_enrolment_code("DEW", now + timedelta(hours=1), now)
    body = {
        "code": code,
        "device_id": store.meta("device_id"),
        "hub_code": "DEW",
        "public_key": b64(Ed25519PrivateKey.generate().public_key().public_bytes_raw()),
    }
    r = send(server, store, "POST", "/v1/enrol", body, key=Ed25519PrivateKey.generate())
    assert r.status_code == 401
    r = send(server, store, "POST", "/v1/enrol", {**body, "public_key": "short"}, key=Ed25519PrivateKey.generate())
    assert r.status_code in (401, 422)
    assert store.meta("device_id") not in {d.device_id for d in central.devices()}
