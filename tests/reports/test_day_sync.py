"""Day records reach the central record exactly once (in-process service storage, SQLite):
float events, counts, voucher stock, handover notes, carried-over payments and closures."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hubcentral.storage import CentralStore
from hubdesk.store import day as day_store
from hubdesk.store.store import Store
from hubdesk.sync.protocol import PushItem, b64
from tests.sync.sync_helpers import CENTRAL_REFERENCE

DAY = date(2026, 11, 24)


def test_day_records_are_accepted_once_and_resending_is_safe(store: Store, person, tmp_path: Path):
    store.clock = lambda: datetime(2026, 11, 24, 9, tzinfo=UTC)
    day_store.record_float_event(store, "opening", 5000, day=DAY)
    day_store.record_voucher_stock(store, "received", "V1", "V5", day=DAY)
    store.clock = lambda: datetime(2026, 11, 24, 11, tzinfo=UTC)
    awaiting = store.record_payment(
        person_id=person.id, category="gas", amount_pence=3000, method="cash", reason="Gas ran out"
    )
    day_store.carry_over(store, awaiting.id, "Duty manager out until tomorrow", day=DAY)
    store.clock = lambda: datetime(2026, 11, 24, 16, tzinfo=UTC)
    day_store.count_float(store, day=DAY, total_pence=4800, reason="£2 short: change given for the laundry")
    day_store.write_handover(store, "Gas top-up waiting for approval.", day=DAY)
    day_store.close_day(store, day=DAY)

    central = CentralStore.open(str(tmp_path / "central.db"))
    # The central record checks who acted against its reference data (issue 9).
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    try:
        now = datetime.now(UTC)
        code = central.make_enrolment_code("DEW", now + timedelta(hours=1), now)
        key = b64(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
        device = central.enrol(code, store.meta("device_id"), "DEW", key, "DEW desk 1", now)
        items = [
            PushItem(id=i.id, seq=n, kind=i.kind, record_id=i.record_id, body=json.loads(i.body), created_at=now)
            for n, i in enumerate(store.outbox(limit=1000), start=1)
        ]
        results, _ = central.push(device, "sam", items, now)
        assert {r.status.value for r in results} == {"accepted"}, [r.reason for r in results]
        again, _ = central.push(device, "sam", items, now)
        assert {r.status.value for r in again} == {"already_had"}
        for kind in day_store.OUTBOX_KINDS.values():
            held = central.records(kind)
            assert len(held) == 1, kind
        count = central.records("float_count")[0]
        assert (count["total_pence"], count["expected_pence"]) == (4800, 5000)
        assert count["reason"] == "£2 short: change given for the laundry"
    finally:
        central.close()
