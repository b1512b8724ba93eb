"""The hub's cash float, pulled from the hub's other desks: one hub, one float.

The float is counted once a day at a hub, on whichever desk; the hub's other desks receive
its opening balance, top-ups, banked cash and counts at their next sync, so the family
room's laptop sees the float counted (and can close its day) without counting it again.
Each record is kept once, with its own audit entry, like a pulled handover note. A count or
an opening the desk already has one of (two desks at the hub both recorded it offline) is
not kept twice here: the central record holds both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubdesk.domain.day import CashFloatEvent, FloatCount

if TYPE_CHECKING:
    from hubdesk.store.store import Store

KINDS = ("cash_float", "float_count")


def apply(store: Store, kind: str, body: dict[str, Any], now: Any) -> bool:
    """Keep another desk's float record for this hub; False if not kept (held, another hub's,
    or a second opening or recount of the same count)."""
    from hubdesk.store.store import _iso

    if kind == "cash_float":
        event = CashFloatEvent.model_validate(body)
        table, day, hub = "cash_float_events", event.day.isoformat(), event.hub_code
        columns = {
            "id": event.id,
            "hub_code": hub,
            "day": day,
            "kind": event.kind.value,
            "amount_pence": event.amount_pence,
            "recorded_at": _iso(event.recorded_at),
        }
        clash = (
            "SELECT 1 FROM cash_float_events WHERE hub_code = ? AND day = ? AND kind = 'opening'",
            [hub, day],
        )
        record: CashFloatEvent | FloatCount = event
        detail = f"{event.kind.value} {hub} {day} {event.amount_pence}p"
        clashes = event.kind.value == "opening"
    else:
        count = FloatCount.model_validate(body)
        table, day, hub = "float_counts", count.day.isoformat(), count.hub_code
        columns = {
            "id": count.id,
            "hub_code": hub,
            "day": day,
            "recounts": count.recounts,
            "total_pence": count.total_pence,
            "expected_pence": count.expected_pence,
            "counted_at": _iso(count.counted_at),
        }
        clash = ("SELECT 1 FROM float_counts WHERE recounts = ?", [count.recounts])
        record = count
        detail = f"{hub} {day} counted {count.total_pence}p expected {count.expected_pence}p"
        clashes = count.recounts is not None
        if clashes and not store._rows("SELECT 1 FROM float_counts WHERE id = ?", [count.recounts]):
            return False  # the count it replaces is not here: the chain of counts stays whole
    if hub != store.hub_code or store._rows(f"SELECT 1 FROM {table} WHERE id = ?", [record.id]):
        return False
    if clashes and store._rows(*clash):
        return False
    text = record.model_dump_json()
    seq = store._audit(now, "pull", kind, record.id, detail, text)
    names = [*columns, "body", "audit_seq"]
    store.db.execute(
        f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [*columns.values(), text, seq],
    )
    return True
