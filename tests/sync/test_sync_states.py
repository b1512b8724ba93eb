"""What the desk shows: each record's sync state, retired codes, edits made while sending,
and the sync modules never loading the TUI."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from sync_helpers import CENTRAL_REFERENCE, LiveServer, walk_in

from hubcentral.storage import CentralStore
from hubdesk.domain.models import PaymentCategory
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient


def test_sync_modules_never_load_textual() -> None:
    code = (
        "import sys, hubdesk.sync.client, hubdesk.sync.commands, hubdesk.sync.bundle, hubdesk.store.sync_state\n"
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'hubdesk.screens', "
        "'hubdesk.widgets', 'hubcentral', 'fastapi', 'uvicorn'))]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_record_shows_its_state(device: Store, server: LiveServer) -> None:
    person = walk_in(device, 1)
    assert sync_state.record_sync_state(device, person.id) == "waiting"
    assert sync_state.status(device).waiting == 1
    with SyncClient(device) as client:
        client.sync()
    assert sync_state.record_sync_state(device, person.id) == "synced"
    st = sync_state.status(device)
    assert st.enrolled and st.waiting == 0 and st.needs_attention == 0 and st.last_sync_at


def test_a_record_edited_while_sending_goes_back_to_waiting(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    person = walk_in(device, 2)
    [item] = sync_state.pending(device, 10)
    sync_state.mark_sending(device, [item.id])
    assert sync_state.record_sync_state(device, person.id) == "sending"
    device.update_person(person.model_copy(update={"preferred_name": "Edited"}), person.version)
    assert sync_state.record_sync_state(device, person.id) == "waiting"
    with SyncClient(device) as client:
        report = client.sync()
    assert report.accepted == 2
    held = {p["id"]: p for p in central.records("person")}
    assert held[person.id]["preferred_name"] == "Edited" and held[person.id]["version"] == 2


def test_a_retired_code_never_makes_records_unsendable(
    device: Store, server: LiveServer, central: CentralStore
) -> None:
    person = walk_in(device, 3)
    payment = device.record_payment(
        person_id=person.id, category="travel", amount_pence=500, method="cash", reason="Synthetic bus fare"
    )
    retired = CENTRAL_REFERENCE.model_copy(
        update={"payment_categories": (PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),)}
    )
    central.set_reference(retired, datetime.now(UTC))
    with SyncClient(device) as client:
        report = client.sync()
    assert report.quarantined == 0
    assert payment.id in {p["id"] for p in central.records("payment")}
    assert device.get_payment(payment.id).category == "travel"  # still readable on the desk


def test_reachability_is_checked_at_most_once_a_minute(device: Store, server: LiveServer) -> None:
    from hubdesk.sync.client import Reachability

    now = [1000.0]
    reach = Reachability(clock=lambda: now[0])
    assert reach.check(device) is True
    server.stop()
    assert reach.check(device) is True  # not due yet: no request made
    now[0] += 61
    assert reach.check(device) is False and "reach" in reach.reason
    server.start()
    assert reach.check(device, force=True) is True


def test_a_change_the_desk_cannot_read_is_set_aside(device: Store, server: LiveServer, central: CentralStore) -> None:
    """Issue 9: one unreadable change never stops a pull; it is set aside with its reason."""
    from hubdesk.store import working_set

    with central.engine.transaction(write=True) as tx:
        tx.execute("INSERT INTO changes(kind, record_id, body, at) VALUES ('person', 'x', '{\"id\": \"x\"}', 'now')")
    with SyncClient(device) as client:
        report = client.sync()
    assert report.set_aside == 1 and report.needs_attention
    assert sync_state.cursor(device) == central.head()
    [(_, kind, record_id, reason, _)] = working_set.set_aside_items(device)
    assert (kind, record_id) == ("person", "x") and "not readable" in reason
