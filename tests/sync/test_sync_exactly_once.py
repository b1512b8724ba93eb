"""Exactly once: resends, concurrent duplicates, and syncs cut at random points then resumed.

Cuts: the connection refused before the request, the connection dropped after the service
committed but before the device heard, the service restarted mid-sync, and the device
process SIGKILLed. Afterwards the central record holds every device record exactly once.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import PASSPHRASE, LiveServer, assert_audit_held_once, at, day_of_records, device_records, walk_in

from hubcentral.storage import CentralStore
from hubdesk.domain.models import Contact
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient, Unreachable
from hubdesk.sync.protocol import sign_headers


class Cut(httpx.BaseTransport):
    """A real loopback transport that fails one request: before it is sent, or after the
    service answered (it committed) but before the device reads the answer."""

    def __init__(self, cut_at: int, after_commit: bool, path: str | None = None) -> None:
        self.inner = httpx.HTTPTransport(verify=False)  # plain http on loopback
        self.cut_at = cut_at
        self.after_commit = after_commit
        self.path = path  # count only requests to this path (None: every request)
        self.calls = 0
        self.fired: str | None = None  # what was cut: None until the cut happens

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.path is None or request.url.path == self.path:
            self.calls += 1
        if self.calls == self.cut_at and self.fired is None:
            if not self.after_commit:
                self.fired = f"before {request.method} {request.url.path}"
                raise httpx.ConnectError("cut before sending", request=request)
            response = self.inner.handle_request(request)
            response.read()
            response.close()
            self.fired = f"after {request.method} {request.url.path} answered {response.status_code}"
            raise httpx.ReadError("connection dropped after the service answered", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def some_records(store: Store, rng: random.Random, n: int) -> None:
    for _ in range(n):
        person = walk_in(store, rng.randint(0, 27))
        choice = rng.random()
        if choice < 0.4:
            store.record_payment(
                person_id=person.id,
                category="gas",
                amount_pence=rng.randint(100, 2500),
                method="cash",
                reason="Synthetic top-up",
            )
        elif choice < 0.8:
            store.record_contact(
                Contact(
                    person_id=person.id,
                    hub_code=store.hub_code,
                    contact_type="phone",
                    recorded_by="sam",
                    started_at=at(10),
                    recorded_at=at(10, 5),
                    seen=False,
                    purposes=("money",),
                    summary="Synthetic call",
                )
            )
        else:
            store.update_person(person.model_copy(update={"preferred_name": "Edited"}), person.version)


def caseload_change(central: CentralStore, rng: random.Random, n: int) -> None:
    rows = [
        {
            "case_id": f"KC-{rng.randint(1, 40)}",
            "first_name": "Casey",
            "last_name": "Testperson",
            "date_of_birth": "2005-05-05",
            "hub_code": "DEW",
            "preferred_name": f"P{rng.randint(1, 9)}",
        }
        for _ in range(n)
    ]
    central.load_caseload(list({r["case_id"]: r for r in rows}.values()), datetime.now(UTC))


def assert_exactly_once(device: Store, central: CentralStore) -> None:
    outbox = device._rows("SELECT id, state FROM outbox")
    assert {state for _, state in outbox} == {"synced"}
    assert central.count("received") == len(outbox)
    for kind, records in device_records(device).items():
        held = {r["id"]: r for r in central.records(kind)}
        assert held == records, kind
    held_people = {p["id"]: p for p in central.records("person")}
    for person in device.people():
        assert held_people[person.id] == person.model_dump(mode="json")
    assert set(held_people) == {p.id for p in device.people()}
    payments = device._rows("SELECT count(*) FROM payments")[0][0]
    assert len(central.records("payment")) == payments
    assert sync_state.cursor(device) == central.head()
    assert_audit_held_once(device, central)


def test_cut_connections_then_resumed(device: Store, server: LiveServer, central: CentralStore) -> None:
    """Each trial cuts one request of a sync (before it is sent, or after the service
    committed and answered), then resumes: every trial's cut must really happen, and after
    each resumed sync the central record holds everything exactly once."""
    rng = random.Random(4)
    cut: dict[str, int] = {}
    for trial in range(25):
        some_records(device, rng, rng.randint(1, 4))
        if rng.random() < 0.3:
            caseload_change(central, rng, rng.randint(1, 3))
        # Every sync here pushes, sends audit entries and pulls at least once: cut one of them.
        path = rng.choice(["/v1/push", "/v1/audit", "/v1/changes"])
        transport = Cut(cut_at=1, after_commit=rng.random() < 0.5, path=path)
        client = SyncClient(
            device, transport=transport, retries=0, batch_size=rng.choice([1, 2, 3]), page_size=rng.choice([1, 2, 5])
        )
        with pytest.raises(Unreachable):
            try:
                client.sync()
            finally:
                client.close()
        assert transport.fired is not None, f"trial {trial}: the sync made no {path} request to cut"
        key = f"{transport.fired.split()[0]} {transport.fired.split()[2]}"
        cut[key] = cut.get(key, 0) + 1
        with SyncClient(device, batch_size=rng.choice([1, 5, 500])) as client:
            report = client.sync()
        assert report.audit_problems == [] and report.quarantined == 0
        assert_exactly_once(device, central)
    # The cuts landed on every kind of request, before sending and after the answer.
    paths = {k.split()[1] for k in cut}
    assert {"/v1/push", "/v1/audit", "/v1/changes"} <= paths, cut
    assert sum(n for k, n in cut.items() if k.startswith("after")) >= 8, cut
    assert sum(n for k, n in cut.items() if k.startswith("before")) >= 8, cut


def test_retries_ride_over_a_dropped_connection(device: Store, server: LiveServer, central: CentralStore) -> None:
    some_records(device, random.Random(1), 6)
    with SyncClient(
        device, transport=Cut(cut_at=2, after_commit=True), retries=2, backoff=0.01, batch_size=2
    ) as client:
        report = client.sync()
    assert report.already_had == 2  # the batch whose answer was lost, resent and recognised
    assert_exactly_once(device, central)


def test_service_restarted_mid_sync(device: Store, server: LiveServer, central: CentralStore) -> None:
    rng = random.Random(7)
    for _trial in range(6):
        some_records(device, rng, 6)
        caseload_change(central, rng, 3)
        timer = threading.Timer(rng.uniform(0.0, 0.05), server.restart)
        timer.start()
        try:
            with SyncClient(device, retries=4, backoff=0.05, batch_size=1, page_size=1) as client:
                client.sync()
        except Unreachable:
            pass
        timer.join()
    with SyncClient(device) as client:
        client.sync()
    assert_exactly_once(device, central)


CHILD = """
import sys
from pathlib import Path
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient
import os
store = Store.unlock(Path(sys.argv[1]), "sam", os.environ["HUBDESK_TEST_PASSPHRASE"])
print("ready", flush=True)
with SyncClient(store, batch_size=1, page_size=1) as client:
    client.sync()
print("done", flush=True)
"""


KILL_TRIALS = 7


@pytest.mark.slow
def test_device_process_killed_mid_sync(device: Store, server: LiveServer, central: CentralStore) -> None:
    """A desk process SIGKILLed at a random moment of its sync, then synced again: each
    kill must land while the sync is running (after it started, before it finished), and
    after each the central record holds everything exactly once."""
    rng = random.Random(11)
    env = {**os.environ, "HUBDESK_TEST_PASSPHRASE": PASSPHRASE}
    killed = 0
    for trial in range(KILL_TRIALS):
        some_records(device, rng, 5)
        caseload_change(central, rng, 3)
        received = central.count("received")
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(device.data_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "ready", child.stderr.read() if child.stderr else ""
        # Wait until the sync is under way (the service has taken something), then a random moment.
        deadline = time.monotonic() + 10
        while central.count("received") == received and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.wait(10)
        rest = child.stdout.read()
        child.stdout.close()
        if child.stderr:
            child.stderr.close()
        assert "done" not in rest or child.returncode == 0, trial
        with SyncClient(device) as client:
            report = client.sync()
        assert report.audit_problems == [] and report.quarantined == 0
        assert_exactly_once(device, central)
    assert killed >= KILL_TRIALS - 1, f"only {killed} of {KILL_TRIALS} kills landed mid-sync"


def _push_payload(store: Store) -> dict[str, Any]:
    items = store.outbox(limit=100)
    return {
        "hub_code": store.hub_code,
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


def _post(server: LiveServer, store: Store, payload: dict[str, Any]) -> httpx.Response:
    body = json.dumps(payload).encode()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(store, sync_state.K_KEY) or ""))
    headers = sign_headers(
        key,
        method="POST",
        path="/v1/push",
        device=store.meta("device_id"),
        user="sam",
        body=body,
        at=int(time.time()),
        nonce=secrets.token_urlsafe(18),
    )
    headers["content-type"] = "application/json"
    return httpx.post(server.url + "/v1/push", content=body, headers=headers, timeout=30)


def test_same_batch_sent_at_once(device: Store, server: LiveServer, central: CentralStore) -> None:
    day_of_records(device)
    payload = _push_payload(device)
    # Signed in this thread (the store belongs to it), sent from four at once.
    bodies = [json.dumps(payload).encode() for _ in range(4)]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(device, sync_state.K_KEY) or ""))
    signed = [
        sign_headers(
            key,
            method="POST",
            path="/v1/push",
            device=device.meta("device_id"),
            user="sam",
            body=b,
            at=int(time.time()),
            nonce=secrets.token_urlsafe(18),
        )
        for b in bodies
    ]
    barrier = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def send(body: bytes, headers: dict[str, str]) -> None:
        barrier.wait()
        answers.append(
            httpx.post(
                server.url + "/v1/push",
                content=body,
                headers={**headers, "content-type": "application/json"},
                timeout=30,
            )
        )

    threads = [threading.Thread(target=send, args=pair) for pair in zip(bodies, signed, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200] * 4
    for item in payload["items"]:
        statuses = sorted(next(r for r in a.json()["results"] if r["id"] == item["id"])["status"] for a in answers)
        assert statuses == ["accepted", "already_had", "already_had", "already_had"]
    assert central.count("received") == len(payload["items"])
    # The device, resending what it never heard the answer to, gets "already had" for all.
    with SyncClient(device) as client:
        report = client.sync()
    assert report.already_had == len(payload["items"]) and report.accepted == 0
    assert_exactly_once(device, central)


def test_same_id_different_content_is_409(device: Store, server: LiveServer, central: CentralStore) -> None:
    day_of_records(device, people=1, contacts_each=1)
    payload = _push_payload(device)
    assert _post(server, device, payload).status_code == 200
    contact = next(i for i in payload["items"] if i["kind"] == "contact")
    contact["body"]["summary"] = "Changed after sending"
    answer = _post(server, device, payload).json()["results"]
    mine = next(r for r in answer if r["id"] == contact["id"])
    assert mine["status"] == "rejected" and mine["code"] == 409 and "different content" in mine["reason"]
    assert all(r["status"] == "already_had" for r in answer if r["id"] != contact["id"])
    held = next(r for r in central.records("contact") if r["id"] == contact["record_id"])
    assert held["summary"] != "Changed after sending"


def test_a_payment_under_a_new_outbox_id_is_not_paid_twice(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    day_of_records(device, people=1, contacts_each=1)
    payload = _push_payload(device)
    _post(server, device, payload)
    payment = next(i for i in payload["items"] if i["kind"] == "payment")
    again = {**payment, "id": "01900000-0000-7000-8000-00000000abcd", "seq": 999}
    [same] = _post(server, device, {"hub_code": "DEW", "items": [again]}).json()["results"]
    assert same["status"] == "already_had"
    changed = {**again, "id": "01900000-0000-7000-8000-00000000abce", "body": {**payment["body"], "amount_pence": 2}}
    [clash] = _post(server, device, {"hub_code": "DEW", "items": [changed]}).json()["results"]
    assert clash["status"] == "rejected" and clash["code"] == 409
    assert len(central.records("payment")) == 1


def test_the_same_id_twice_in_one_batch(device: Store, server: LiveServer, central: CentralStore) -> None:
    walk_in(device, 5)
    payload = _push_payload(device)
    payload["items"] = payload["items"] * 2
    r = _post(server, device, payload)
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "already_had"]
    assert central.count("received") == 1


def test_a_case_id_clash_is_rejected_alone(device: Store, server: LiveServer, central: CentralStore) -> None:
    caseload_change(central, random.Random(3), 1)
    taken = central.records("person")[0]["case_id"]
    clash = walk_in(device, 6)
    device.update_person(clash.model_copy(update={"case_id": taken}), clash.version)
    other = walk_in(device, 7)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.quarantined == 1 and report.accepted == 2
    [q] = sync_state.quarantined(device)
    assert "409" in (q.last_error or "") and "clashes" in (q.last_error or "")
    assert other.id in {p["id"] for p in central.records("person")}
