"""The audit chain reaches the central record: exactly once across resends and cuts, in
order with no gap, and a desk whose history was changed after it was synced is caught,
both by the desk comparing with the central copy and by the service refusing a rewrite."""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sync_helpers import LiveServer, assert_audit_held_once, central_audit, day_of_records, local_audit, walk_in
from test_sync_exactly_once import Cut

from hubcentral import cli
from hubcentral.storage import CentralStore
from hubdesk.store import sync_state
from hubdesk.store.audit import AuditEntry
from hubdesk.store.store import Store
from hubdesk.sync import commands
from hubdesk.sync.client import SyncClient, Unreachable
from hubdesk.sync.protocol import sign_headers


def post_audit(server: LiveServer, store: Store, items: list[dict[str, Any]]) -> httpx.Response:
    body = json.dumps({"items": items}).encode()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(store, sync_state.K_KEY) or ""))
    headers = sign_headers(
        key,
        method="POST",
        path="/v1/audit",
        device=store.meta("device_id"),
        user="sam",
        body=body,
        at=int(time.time()),
        nonce=secrets.token_urlsafe(18),
    )
    headers["content-type"] = "application/json"
    return httpx.post(server.url + "/v1/audit", content=body, headers=headers, timeout=30)


def tamper(store: Store, sql: str, params: list[Any]) -> None:
    """What someone with raw SQL (and the key) might do: drop the guard, edit history."""
    with store._save():
        store.db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        store.db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        store.db.execute(sql, params)


def test_audit_is_sent_after_the_outbox_and_each_sync_is_audited(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.audit_sent > 0 and report.audit_problems == []
    assert report.audit_acked == sync_state.audit_acked(device)
    assert_audit_held_once(device, central)
    last = local_audit(device)[-1]
    assert (last["action"], last["kind"]) == ("sync", "service") and last["detail"].startswith("completed")
    # The entries made during the sync (its pages, its completion) go with the next one.
    with SyncClient(device) as client:
        client.sync()
    held = central_audit(central, device)
    assert any(e["action"] == "sync" and e["kind"] == "service" for e in held)
    assert_audit_held_once(device, central)


def test_audit_arrives_exactly_once_across_cuts_and_resends(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    day_of_records(device)
    trials = 0
    for cut_at in range(1, 7):
        for after_commit in (False, True):
            walk_in(device, cut_at)
            transport = Cut(cut_at, after_commit)
            try:
                with SyncClient(device, transport=transport, retries=0, batch_size=7) as client:
                    client.sync()
            except Unreachable:
                pass
            with SyncClient(device, batch_size=7) as client:
                client.sync()
            trials += 1
            assert_audit_held_once(device, central)
    # A desk that forgot what was acknowledged sends it all again: nothing is held twice.
    sync_state.put(device, **{sync_state.K_AUDIT_ACKED: "0"})
    with SyncClient(device) as client:
        report = client.push_audit()
    assert report.audit_problems == [] and report.audit_sent >= len(central_audit(central, device))
    assert_audit_held_once(device, central)
    assert len(central_audit(central, device)) == len(local_audit(device))
    assert trials == 12


def test_same_audit_batch_sent_at_once_is_held_once(device: Store, server: LiveServer, central: CentralStore) -> None:
    day_of_records(device)
    items = sync_state.audit_after(device, 0, 500)
    results: list[httpx.Response] = []
    barrier = threading.Barrier(4)
    # Signed here (the store belongs to this thread), sent from four threads at once.
    body = json.dumps({"items": items}).encode()
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sync_state.get(device, sync_state.K_KEY) or ""))
    signed = [
        sign_headers(
            key,
            method="POST",
            path="/v1/audit",
            device=device.meta("device_id"),
            user="sam",
            body=body,
            at=int(time.time()),
            nonce=secrets.token_urlsafe(18),
        )
        for _ in range(4)
    ]

    def send(headers: dict[str, str]) -> None:
        barrier.wait()
        results.append(
            httpx.post(
                server.url + "/v1/audit",
                content=body,
                headers={**headers, "content-type": "application/json"},
                timeout=30,
            )
        )

    threads = [threading.Thread(target=send, args=(h,)) for h in signed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 4
    statuses = sorted(tuple(sorted({x["status"] for x in r.json()["results"]})) for r in results)
    assert statuses == [("accepted",), ("already_had",), ("already_had",), ("already_had",)]
    assert len(central_audit(central, device)) == len(items)
    assert_audit_held_once(device, central)


def test_a_gap_is_refused_and_nothing_is_held(device: Store, server: LiveServer, central: CentralStore) -> None:
    day_of_records(device)
    items = sync_state.audit_after(device, 0, 500)
    r = post_audit(server, device, items[3:])
    assert r.status_code == 200
    answer = r.json()
    assert answer["held"] == 0
    first = answer["results"][0]
    assert first["status"] == "rejected" and first["code"] == 409
    assert "Audit entries 1-3 are missing" in first["reason"] and "send from entry 1" in first["reason"]
    assert central_audit(central, device) == []
    # Not consecutive within a batch: held up to the gap, the rest refused.
    r = post_audit(server, device, items[:2] + items[4:6])
    answer = r.json()
    assert answer["held"] == 2
    assert [x["status"] for x in answer["results"]] == ["accepted", "accepted", "rejected", "rejected"]
    assert "3-4 are missing" in answer["results"][2]["reason"]
    # Unknown fields and bad MACs are 422, naming the field.
    bad = dict(items[0], mac="not-a-mac")
    r = post_audit(server, device, [bad])
    assert r.status_code == 422 and "mac" in r.json()["detail"]


def test_a_service_that_lost_entries_gets_them_again(
    device: Store, server: LiveServer, central: CentralStore, central_db: str
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    acked = sync_state.audit_acked(device)
    with central.engine.transaction(write=True) as tx:  # a central database restored from an older backup
        tx.execute("DELETE FROM audit WHERE seq > ?", [5])
    walk_in(device, 9)
    with SyncClient(device) as client:
        report = client.sync()
    assert report.audit_problems == []
    assert any("only up to entry 5" in n for n in report.notes)
    assert len(central_audit(central, device)) > acked
    assert_audit_held_once(device, central)


def test_an_entry_edited_after_it_was_synced_is_caught(
    device: Store, server: LiveServer, central: CentralStore, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    with SyncClient(device) as client:
        compared, problems = client.compare_audit()
    assert compared > 5 and problems == []
    assert commands.run_sync(argparse.Namespace(compare_audit=True, to_file=None, quiet=True, ca=None), device) == 0
    assert "Audit history matches" in capsys.readouterr().out

    tamper(device, "UPDATE audit SET detail = 'nothing to see' WHERE seq = 4", [])
    tamper(device, "DELETE FROM audit WHERE seq = 6", [])
    with SyncClient(device) as client:
        compared, problems = client.compare_audit()
    assert "audit entry 4 here differs from the central copy (changed after it was synced)" in problems
    assert "audit entry 6 is held centrally but missing here (deleted)" in problems
    assert len(problems) == 2
    args = argparse.Namespace(compare_audit=True, to_file=None, quiet=True, ca=None)
    assert commands.run_sync(args, device) == 1
    out, _ = capsys.readouterr()
    assert "audit entry 4 here differs" in out and "audit entry 6 is held centrally" in out

    # The desk sends its history again (a reset acknowledgement): the service refuses the rewrite.
    sync_state.put(device, **{sync_state.K_AUDIT_ACKED: "0"})
    with SyncClient(device) as client:
        report = client.sync()
    assert report.needs_attention and report.exit_code == 1
    assert report.audit_problems == [
        "Audit entry 4 differs from the copy the central record holds: this desk's history was changed after "
        "it was synced"
    ]
    assert sync_state.audit_acked(device) == 3
    refusal = local_audit(device)[-3]
    assert (refusal["action"], refusal["kind"], refusal["detail"]) == ("sync", "audit", "audit push refused at entry 4")
    _, central_problems = central.verify_audit(sync_state.device_id(device))
    assert any(p.startswith("audit entry 4: the device sent a different version") for p in central_problems)

    code = cli.main(["--db", central_db, "audit", "verify", "--device", sync_state.device_id(device)])
    out, _ = capsys.readouterr()
    assert code == 1 and "audit entry 4: the device sent a different version" in out
    # The central copy itself is intact: nothing of the rewrite was held.
    assert [e["detail"] for e in central_audit(central, device) if e["seq"] == 4] != ["nothing to see"]


def test_a_re_signed_chain_does_not_continue_the_central_copy(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    """Someone holding the key re-signs history from an already-synced entry onward: the
    local chain verifies, but the next entries do not continue what the service holds."""
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    acked = sync_state.audit_acked(device)
    rows = device._rows(f"SELECT {', '.join(sync_state.AUDIT_COLUMNS)} FROM audit WHERE seq >= ? ORDER BY seq", [acked])
    prev = device._rows("SELECT mac FROM audit WHERE seq = ?", [acked - 1])[0][0]
    key = device._audit_key
    assert key is not None
    for row in rows:
        entry = AuditEntry(*row[:-1])
        if entry.seq == acked:
            entry = AuditEntry(**{**entry.__dict__, "detail": "rewritten", "mac": ""})
        mac = entry.sign(key, prev)
        tamper(device, "UPDATE audit SET detail = ?, mac = ? WHERE seq = ?", [entry.detail, mac, entry.seq])
        prev = mac
    with device._save():
        device.db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", [f"{rows[-1][0]}:{prev}"])
    walk_in(device, 12)
    with SyncClient(device) as client:
        report = client.sync()
    assert len(report.audit_problems) == 2
    assert f"Audit entry {acked + 1} does not continue the chain" in report.audit_problems[0]
    # The audit head sent with the pull carries the desk's MAC of the last entry held: it differs.
    assert f"audit entry {acked} differs from the copy the central record holds" in report.audit_problems[1]
    assert sync_state.audit_acked(device) == acked
    held, problems = central.verify_audit(sync_state.device_id(device))
    assert held == acked and any(f"audit entry {acked + 1}: the device sent" in p for p in problems)


def test_export_audit_and_verify_clean(
    device: Store, server: LiveServer, central: CentralStore, central_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    day_of_records(device)
    with SyncClient(device) as client:
        client.sync()
    code = cli.main(["--db", central_db, "export", "--what", "audit"])
    out, _ = capsys.readouterr()
    assert code == 0
    exported = json.loads(out)
    assert [e["seq"] for e in exported] == list(range(1, len(exported) + 1))
    assert {e["device_id"] for e in exported} == {sync_state.device_id(device)}
    assert {"seq", "at", "actor", "action", "kind", "record_id", "detail", "mac", "prev_mac"} <= set(exported[0])
    assert "Walkin" not in out and "Testcase" not in out and "Synthetic" not in out  # no personal data
    code = cli.main(["--db", central_db, "export", "--what", "audit", "--format", "csv"])
    out, _ = capsys.readouterr()
    assert code == 0 and out.startswith("device_id,seq,")
    code = cli.main(["--db", central_db, "audit", "verify"])
    out, _ = capsys.readouterr()
    assert code == 0 and f"{sync_state.device_id(device)}: {len(exported)} entries, intact" in out
