"""A push grows with the records, not with their square (issue 12): the desk reads each batch
in outbox order straight off an index, waiting and sending items alike, and the service finds
a batch's records by their primary key. The query plans are checked here; the times are in
`make bench` (bench/push_bench.py)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from sync_helpers import walk_in

from hubcentral.storage import CentralStore
from hubcentral.storage.schema import SCHEMA
from hubdesk.store import sync_state
from hubdesk.store.store import Store


def test_waiting_and_sending_items_come_in_outbox_order_and_to_the_limit(device: Store) -> None:
    people = [walk_in(device, n) for n in range(1, 13)]
    items = sync_state.pending(device, 100)
    assert [i.record_id for i in items] == [p.id for p in people]
    # Every third one was being sent when a sync was cut off: still pending, in its place.
    sync_state.mark_sending(device, [i.id for i in items[::3]])
    again = sync_state.pending(device, 100)
    assert [i.seq for i in again] == [i.seq for i in items]
    assert {i.state for i in again} == {"waiting", "sending"}
    assert [i.seq for i in sync_state.pending(device, 5, after_seq=items[2].seq)] == [i.seq for i in items[3:8]]
    assert sync_state.pending(device, 100, after_seq=items[-1].seq) == []


def test_the_desks_batch_query_reads_no_more_than_the_batch(device: Store) -> None:
    walk_in(device, 1)
    plans = []
    device._conn.set_trace_callback(plans.append)
    try:
        sync_state.pending(device, 500)
    finally:
        device._conn.set_trace_callback(None)
    selects = [sql for sql in plans if sql.lstrip().upper().startswith("SELECT") and "FROM outbox" in sql]
    assert selects
    for sql in selects:
        plan = " ".join(str(row) for row in device._conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert "outbox_state" in plan and "TEMP B-TREE" not in plan, plan


def test_marking_a_batch_sending_finds_its_rows_by_id(device: Store) -> None:
    person = walk_in(device, 1)
    [item] = sync_state.pending(device, 10)
    statements: list[str] = []
    device._conn.set_trace_callback(statements.append)
    try:  # a whole batch of ids: with this many, the planner once walked every waiting row
        sync_state.mark_sending(device, [item.id] + [f"not-an-outbox-id-{n}" for n in range(499)])
    finally:
        device._conn.set_trace_callback(None)
    assert sync_state.record_sync_state(device, person.id) == "sending"
    [update] = [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE OUTBOX")]
    plan = " ".join(str(row) for row in device._conn.execute("EXPLAIN QUERY PLAN " + update).fetchall())
    assert "outbox_state" not in plan and "(id=?)" in plan, plan


def test_the_services_batch_reads_records_by_primary_key(tmp_path, monkeypatch) -> None:
    central = CentralStore.open(str(tmp_path / "central.db"))
    statements: list[str] = []
    real_connect = sqlite3.connect

    def traced(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    central.close()
    monkeypatch.setattr(sqlite3, "connect", traced)
    central = CentralStore.open(str(tmp_path / "central.db"))
    try:
        from sync_helpers import CENTRAL_REFERENCE

        central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
        statements.clear()
        from hubcentral.storage.push import PushMixin
        from hubdesk.sync.protocol import PushItem

        item = PushItem(
            id="0190c0de-0000-7000-8000-000000000001",
            seq=1,
            kind="contact",
            record_id="0190c0de-0000-7000-8000-000000000002",
            body={"id": "0190c0de-0000-7000-8000-000000000002"},
            created_at=datetime.now(UTC).isoformat(),
        )
        with central.engine.transaction(write=True) as tx:
            PushMixin._held_records(central, tx, [item])
    finally:
        central.close()
    reads = [s for s in statements if "FROM records" in s]
    assert reads
    check = sqlite3.connect(":memory:")
    check.executescript(SCHEMA.replace("{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
    for sql in reads:
        plan = " ".join(str(row) for row in check.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
        assert "SCAN records" not in plan, plan
