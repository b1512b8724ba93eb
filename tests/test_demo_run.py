"""`make run`'s demo as a newcomer meets it: the desk's first sync needs no attention.

The demo desk used to make every demo person itself, the other hub's included, and the
central record (rightly) refused those and the events recorded by another hub's PA: a
newcomer's first sync said "195 need attention". Built from its central service, the demo
desk pulls its working set as a real desk does and everything it sends is accepted."""

from __future__ import annotations

import socket
from datetime import date

import pytest

pytest.importorskip("hubcentral")

from hubdesk import demo_run
from hubdesk.demo import DEMO_PASSPHRASE, demo_caseload
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

TODAY = date(2026, 11, 25)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_desk_first_sync_sends_everything_and_holds_only_its_working_set(tmp_path, monkeypatch):
    monkeypatch.setattr(demo_run, "DEMO_PORT", _free_port())
    monkeypatch.setattr(demo_run, "DEMO_PEOPLE", 40)
    monkeypatch.setattr(demo_run, "DEMO_DAYS", 5)
    monkeypatch.setattr(demo_run, "DEMO_PER_DAY", (6, 10))
    caseload = demo_caseload(40, demo_run.DEMO_SEED, TODAY)
    other_hub = {p.case_id for p in caseload if p.hub_code != "DEW"}
    assert other_hub, "the demo caseload spans both hubs"
    central = demo_run.start_central(tmp_path, caseload)
    assert central is not None
    try:
        counts = demo_run.build_from_central(tmp_path, DEMO_PASSPHRASE, caseload, today=TODAY)
        assert counts["contacts"] > 0 and counts["held here"] == 40
        with Store.unlock(tmp_path, "sam", DEMO_PASSPHRASE) as store:
            waiting = store.outbox_waiting()
            assert waiting >= counts["contacts"]
            assert not [i for i in store.outbox(None, 5000) if i.kind == "person"], "the desk made no people"
            with SyncClient(store) as client:
                report = client.sync()
            assert report.pushed == waiting
            assert sync_state.quarantined(store) == []
            assert sync_state.conflicts(store) == []
            assert store.outbox_waiting() == 0
            held = {p.case_id: p for p in store.people()}
            for case_id in other_hub:  # the other hub's people: only what duty needs
                assert held[case_id].contact.phone == "" and held[case_id].contact.address == ""
    finally:
        central.terminate()
        central.wait(timeout=10)
