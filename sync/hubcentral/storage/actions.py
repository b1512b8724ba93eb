"""Actions on the central record: who may write them and which hubs' desks they reach.

An action is recorded at one hub (its `hub_code`, the desk's) about a young person of
possibly another (`person_hub`): it goes to the desks of both, so the allocated PA at the
other hub sees it there. An update (done, passed on) may come from a desk of either hub,
and reaches both too.
"""

from __future__ import annotations

import json
from typing import Any

from hubcentral.storage.engine import Tx
from hubcentral.storage.trust import hub_user
from hubdesk.domain.actions import ActionItem, ActionUpdate
from hubdesk.domain.local_offer import OfferGiven
from hubdesk.sync.protocol import CentralReference

ACTION_KINDS = ("action", "action_update", "offer_given")
# The local offer given to a young person travels like an action: to both hubs' desks.
ACTION_MODELS: dict[str, type] = {"action": ActionItem, "action_update": ActionUpdate, "offer_given": OfferGiven}


def check_action(
    tx: Tx,
    reference: CentralReference | None,
    kind: str,
    record: Any,
    device_hub: str,
    held: dict[tuple[str, str], tuple],
) -> str | None:
    """Why an action or update from a desk at `device_hub` is refused, or None."""
    if record.hub_code != device_hub:
        return f"The record is for hub {record.hub_code}; this device is enrolled at {device_hub}"
    if isinstance(record, ActionItem | OfferGiven):
        row = tx.one("SELECT hub_code FROM people WHERE id = ?", [record.person_id])
        person_hub = row[0] if row else device_hub
        if record.person_hub != person_hub:
            return f"The young person belongs to hub {person_hub}, not {record.person_hub}"
        _, why = hub_user(reference, record.recorded_by, device_hub)
        return f"recorded_by: {why}" if why else None
    parent = held.get(("action", record.action_id))
    if parent is None:
        return f"Its action {record.action_id} is not held by the central record"
    hubs = action_hubs(json.loads(parent[2]))
    if device_hub not in hubs:
        return f"The action is for hubs {', '.join(sorted(hubs))}; this device is enrolled at {device_hub}"
    _, why = hub_user(reference, record.recorded_by, device_hub)
    if why:
        return f"recorded_by: {why}"
    if record.to is not None:
        # Passed on to anyone active in the council: the allocated PA may work at the other hub.
        user = next((u for u in (reference.users if reference else ()) if u.login == record.to), None)
        if user is None or not user.active:
            return f"to: {record.to} is not an active user in the central reference data"
    return None


def action_hubs(body: dict[str, Any]) -> set[str]:
    return {h for h in (body.get("hub_code"), body.get("person_hub")) if isinstance(h, str)}


def feed_hubs(kind: str, body: dict[str, Any], hub: str | None, held: dict[tuple[str, str], tuple]) -> list[str]:
    """The hubs beside `hub` whose desks must receive this action or update."""
    if kind in ("action", "offer_given"):
        hubs = action_hubs(body)
    else:
        parent = held.get(("action", str(body.get("action_id"))))
        hubs = action_hubs(json.loads(parent[2])) if parent else set()
    return sorted(hubs - {hub})
