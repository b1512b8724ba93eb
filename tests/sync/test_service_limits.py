"""The service holds up: numbers out of range are 422, idle and slow clients are timed out,
open connections are capped, and refusals are logged a line each without a flood.

Real HTTP on loopback: the live server fixture (both engines) for the API, and the real
`hubdesk-central serve` process for connections and its log. Every loop is bounded.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import LiveServer, walk_in

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.bundle import BundleContent, seal
from hubdesk.sync.protocol import H_TIME, PushItem, sign_headers, unb64

TOO_BIG = 2**63
BIGGEST = 2**63 - 1


def signed(
    server: LiveServer,
    store: Store,
    method: str,
    target: str,
    body: bytes = b"",
    *,
    at: int | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(store, sync_state.K_KEY) or ""))
    signature = sign_headers(
        key,
        method=method,
        path=target,
        device=store.meta("device_id"),
        user="sam",
        body=body,
        at=int(time.time()) if at is None else at,
        nonce=secrets.token_urlsafe(18),
    )
    return httpx.request(
        method,
        server.url + target,
        content=body or None,
        headers={"content-type": "application/json", **signature, **(headers or {})},
    )


def push_body(store: Store, **change: Any) -> bytes:
    [item] = store.outbox(limit=1)
    entry = {
        "id": item.id,
        "seq": item.seq,
        "kind": item.kind,
        "record_id": item.record_id,
        "body": json.loads(item.body),
        "created_at": "2026-11-23T10:00:00+00:00",
    } | change
    return json.dumps({"hub_code": "DEW", "items": [entry]}).encode()


def held(central: CentralStore) -> tuple[int, int]:
    return central.count("received"), central.count("records")


# --- numbers out of range ---------------------------------------------------------------------


def test_push_item_seq_out_of_range_is_422(device: Store, server: LiveServer, central: CentralStore) -> None:
    walk_in(device, 1)
    before = held(central)
    for seq in (TOO_BIG, 10**30, -(2**63) - 1):
        r = signed(server, device, "POST", "/v1/push", push_body(device, seq=seq))
        assert r.status_code == 422, r.text
        assert "out of range" in r.json()["detail"] or "seq" in r.json()["detail"]
    assert held(central) == before
    r = signed(server, device, "POST", "/v1/push", push_body(device, seq=BIGGEST))
    assert r.status_code == 200  # the largest 64-bit number is a number like any other


def test_a_huge_number_anywhere_in_a_body_is_422_not_500(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    person = walk_in(device, 2)
    before = held(central)
    body = person.model_dump(mode="json") | {"version": TOO_BIG}
    r = signed(server, device, "POST", "/v1/push", push_body(device, body=body))
    assert r.status_code == 422 and "out of range" in r.json()["detail"]
    audit = json.dumps({"items": [{"seq": TOO_BIG, "at": "x", "actor": "sam", "action": "a", "kind": "k",
                                   "mac": "0" * 64, "prev_mac": "0" * 64}]}).encode()  # fmt: skip
    assert signed(server, device, "POST", "/v1/audit", audit).status_code == 422
    # A long run of digits inside text is text, not a number.
    r = signed(server, device, "POST", "/v1/push", push_body(device, record_id="1" * 30))
    assert r.status_code == 200
    assert held(central)[0] == before[0] + 1


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/changes"])
@pytest.mark.parametrize("since", [str(TOO_BIG), "1" * 40, "-1"])
def test_since_out_of_range_is_422(device: Store, server: LiveServer, path: str, since: str) -> None:
    r = signed(server, device, "GET", f"{path}?since={since}")
    assert r.status_code == 422 and "since" in r.json()["detail"]
    assert signed(server, device, "GET", f"{path}?since={BIGGEST}").status_code == 200


def test_a_bundle_with_a_number_out_of_range_is_refused_in_one_line(
    tmp_path: Path, device: Store, central: CentralStore, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The carried bundle goes round the HTTP checks: its items are checked on opening."""
    walk_in(device, 3)
    [item] = device.outbox(limit=1)
    huge = PushItem.model_construct(
        id=item.id,
        seq=TOO_BIG,
        kind=item.kind,
        record_id=item.record_id,
        body=json.loads(item.body),
        created_at=datetime(2026, 11, 23, 10, tzinfo=UTC),
    )
    bundle = tmp_path / "day.bundle"
    bundle.write_bytes(
        seal(
            BundleContent.model_construct(hub_code="DEW", items=[huge]),
            device_id=device.meta("device_id"),
            user="sam",
            device_key=Ed25519PrivateKey.from_private_bytes(
                bytes.fromhex(sync_state.get(device, sync_state.K_KEY) or "")
            ),
            service_key=unb64(sync_state.get(device, sync_state.K_BUNDLE_KEY) or ""),
        )
    )
    before = held(central)
    assert cli.main(["--db", central_db, "import-bundle", str(bundle)]) == 2
    err = capsys.readouterr().err
    assert "not valid" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert held(central) == before


def test_a_time_header_out_of_range_is_401_not_500(device: Store, server: LiveServer) -> None:
    r = signed(server, device, "GET", "/v1/ping", headers={H_TIME: "9" * 400})
    assert r.status_code == 401 and H_TIME in r.json()["detail"]


# --- connections and the log, on the real `hubdesk-central serve` -----------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """`hubdesk-central serve` as an admin runs it, with small limits so the test is quick:
    100 connections, 2 s to send a request head, 1 s keep-alive. Its log goes to a file."""
    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "hubcentral.cli", "serve", "--db", str(tmp_path / "central.db")),
                *("--port", str(port), "--max-connections", "100", "--header-timeout", "2", "--keep-alive", "1"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    s = Served(process, port, log)
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(s.url + "/v1/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, s.stop()
        time.sleep(0.1)
    yield s
    s.stop()


def closed_by_server(sock: socket.socket) -> bool:
    ready, _, _ = select.select([sock], [], [], 0)
    if not ready:
        return False
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_idle_connections_do_not_stop_the_service_and_the_log_stays_small(served: Served) -> None:
    idle: list[socket.socket] = []
    try:
        for _ in range(300):  # three times the cap, each sending nothing
            idle.append(socket.create_connection(("127.0.0.1", served.port), timeout=5))
        for sock in idle[-20:]:  # and some sending a request head a few bytes at a time (slowloris)
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        r = httpx.get(served.url + "/v1/health", timeout=5)
        assert r.status_code == 200 and time.monotonic() - started < 3
        # Every idle connection is closed within the head timeout (2 s) and a little.
        deadline = time.monotonic() + 8
        open_ = list(idle)
        while open_ and time.monotonic() < deadline:
            open_ = [s for s in open_ if not closed_by_server(s)]
            time.sleep(0.1)
        assert open_ == []
    finally:
        for sock in idle:
            sock.close()
    # A keep-alive connection is closed after its keep-alive second.
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in sock.recv(4096)
        deadline = time.monotonic() + 5
        while not closed_by_server(sock) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert closed_by_server(sock) or time.monotonic() < deadline
    # Refused requests: a line each, up to a limit, never a flood.
    with httpx.Client(base_url=served.url, timeout=5) as client:
        for _ in range(300):
            assert client.get("/v1/ping").status_code == 401
    for _ in range(50):
        with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            sock.recv(4096)
    assert httpx.get(served.url + "/v1/health", timeout=5).status_code == 200
    log = served.stop()
    lines = log.splitlines()
    assert "Traceback" not in log
    assert len(log.encode()) < 8_000 and len(lines) < 40, log
    assert sum("refused GET /v1/ping: 401" in line for line in lines) >= 1
    summary = [line for line in lines if "not logged one by one" in line]
    assert summary and "refused requests" in summary[-1] and "idle connections" in summary[-1], log
