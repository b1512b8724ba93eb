"""The change feed devices pull: a monotonic sequence, read in pages after a cursor, cut to
the pulling desk's working set.

A desk receives every person (its own hub's in full, other hubs' only what duty needs:
OTHER_HUB_PERSON_FIELDS), the reference data, every young person's activity summary, and
its own hub's events within the retention window. What the feed holds was validated before
it went in (push and caseload checks); `feed_problems` finds anything that was not.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from hubcentral.storage.actions import ACTION_MODELS
from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import MODELS, iso
from hubdesk.domain.day import HandoverNote
from hubdesk.sync.protocol import (
    CentralReference,
    Change,
    ChangesPage,
    PersonSummary,
    other_hub_person,
)

# Every desk receives these kinds; the others only at the change's hub.
TO_EVERY_DESK = ("person", "reference", "summary")
FEED_MODELS: dict[str, type[BaseModel]] = {
    **MODELS,
    "reference": CentralReference,
    "summary": PersonSummary,
    "handover_note": HandoverNote,
    **ACTION_MODELS,
}


class FeedMixin(StoreBase):
    def head(self) -> int:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT max(seq) FROM changes")
        return int(row[0] or 0) if row else 0

    def changes(
        self,
        since: int,
        limit: int,
        hub_code: str | None = None,
        now: datetime | None = None,
        device_id: str | None = None,
    ) -> ChangesPage:
        """A page of the feed after `since` for a desk at `hub_code` (None: everything, unredacted,
        for the admin's tools). `now` is the service's clock, for the retention window; the
        desk `device_id` is not sent back the events it pushed itself."""
        with self.engine.transaction(write=False) as tx:
            # The head first, and no row past it: a change committed between the two reads
            # is left for the next pull instead of being skipped by the cursor.
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
            reset = since > head
            if reset:
                since = 0
            if hub_code is None:
                rows = tx.all(
                    "SELECT seq, kind, record_id, body, desk FROM changes WHERE seq > ? AND seq <= ? "
                    "ORDER BY seq LIMIT ?",
                    [since, head, limit + 1],
                )
            else:
                reference = self._reference(tx)
                days = reference.retention_days if reference else 90
                window = iso((now or datetime.now().astimezone()) - timedelta(days=days))
                rows = tx.all(
                    "SELECT seq, kind, record_id, body, desk FROM changes WHERE seq > ? AND seq <= ? "
                    "AND (kind IN ('person', 'reference', 'summary') "
                    "OR (hub_code = ? AND at >= ? AND (device_id IS NULL OR device_id != ?))) "
                    "ORDER BY seq LIMIT ?",
                    [since, head, hub_code, window, device_id or "", limit + 1],
                )
        more = len(rows) > limit
        rows = rows[:limit]
        changes = [self._fed(r, hub_code) for r in rows]
        # Nothing more for this desk: its cursor moves to the head, past other hubs' events.
        cursor = changes[-1].seq if more else head
        return ChangesPage(changes=changes, cursor=cursor, more=more, reset=reset, database_id=self.database_id())

    @staticmethod
    def _fed(row: tuple, hub_code: str | None) -> Change:
        seq, kind, record_id, text, desk = row
        body: dict[str, Any] = json.loads(text)
        if kind == "person" and hub_code is not None and body.get("hub_code") != hub_code:
            body = other_hub_person(body)
        return Change(seq=seq, kind=kind, record_id=record_id, body=body, desk=desk or "")

    # --- the admin's view of what the feed holds --------------------------------------------

    def feed_problems(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Feed items a desk could not read (put there by hand, or before the checks existed):
        seq, kind, record id and why. Desks set these aside; `quarantine drop` removes them."""
        problems: list[dict[str, Any]] = []
        after = 0
        while len(problems) < limit:
            with self.engine.transaction(write=False) as tx:
                rows = tx.all(
                    "SELECT seq, kind, record_id, body FROM changes WHERE seq > ? ORDER BY seq LIMIT 2000", [after]
                )
            if not rows:
                break
            for seq, kind, record_id, text in rows:
                why = _unreadable(kind, record_id, text)
                if why:
                    problems.append({"seq": seq, "kind": kind, "record_id": record_id, "reason": why})
            after = rows[-1][0]
        return problems[:limit]

    def drop_feed_item(self, seq: int) -> bool:
        """Remove one unreadable item from the feed (the admin's `quarantine drop`)."""
        with self.engine.transaction(write=True) as tx:
            row = tx.one("SELECT kind, record_id, body FROM changes WHERE seq = ?", [seq])
            if row is None or not _unreadable(*row):
                return False
            tx.execute("DELETE FROM changes WHERE seq = ?", [seq])
        return True


def _unreadable(kind: str, record_id: str, text: str) -> str | None:
    model = FEED_MODELS.get(kind)
    if model is None:
        return f"{kind} is not a kind desks read"
    try:
        body = json.loads(text)
        Change(seq=1, kind=kind, record_id=record_id, body=body)
        model.model_validate(body)
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "record" for e in exc.errors()[:5])
            return f"not a valid {kind}: {fields}"
        return "not valid JSON"
    return None
