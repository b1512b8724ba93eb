"""The change feed devices pull: a monotonic sequence, read in pages after a cursor, cut to
the pulling desk's working set.

A desk receives every person (its own hub's in full, other hubs' only what duty needs:
OTHER_HUB_PERSON_FIELDS), the reference data, every young person's activity summary, and
its own hub's events within the retention window. What the feed holds was validated before
it went in (push and caseload checks); `feed_problems` finds anything that was not.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from hubcentral.storage.actions import ACTION_MODELS
from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import MODELS, iso
from hubdesk.domain.day import CashFloatEvent, FloatCount, HandoverNote
from hubdesk.sync.protocol import (
    CentralReference,
    Change,
    ChangesPage,
    PersonSummary,
    other_hub_person,
)

# Every desk receives these kinds; the others only at the change's hub.
TO_EVERY_DESK = ("person", "reference", "summary")
SELECTED = "SELECT seq, kind, record_id, body, desk FROM changes WHERE "
# A hub's events in this desk's working set: its hub, within the window, not its own.
HUB_EVENTS = (
    "kind NOT IN ('person', 'reference', 'summary') AND hub_code = ? AND at >= ? "
    "AND (device_id IS NULL OR device_id != ?)"
)
# What a pulled event hangs on: sent before it in a first pull's page (see `first_pull`).
PARENT_FIELDS = ("payment_id", "session_id", "action_id", "amends", "recounts")
PARENT_DEPTH = 8  # an amendment of an amendment...: followed this far up
FIRST_PULL = re.compile(r"^(start|1\.(\d{1,19})\.([pe])\.(\d{1,19})\.([0-9T:.+\-]{0,40}))$")
"""A first pull's place: `start`, or 1.<head>.<phase>.<seq>.<at> (phase p: people, reference
and summaries, in feed order, after <seq>; phase e: the hub's events newest first, after the
one at <at> with <seq>)."""
FEED_MODELS: dict[str, type[BaseModel]] = {
    **MODELS,
    "reference": CentralReference,
    "summary": PersonSummary,
    "handover_note": HandoverNote,
    "cash_float": CashFloatEvent,
    "float_count": FloatCount,
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
        first_pull: str | None = None,
    ) -> ChangesPage:
        """A page of the feed after `since` for a desk at `hub_code` (None: everything, unredacted,
        for the admin's tools). `now` is the service's clock, for the retention window; the
        desk `device_id` is not sent back the events it pushed itself. A desk's first pull
        (since 0, `first_pull` its place in it) comes newest first: see `_first_pull`."""
        if first_pull and since == 0 and hub_code is not None:
            return self._first_pull(first_pull, limit, hub_code, now, device_id)
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

    def _first_pull(
        self, place: str, limit: int, hub_code: str, now: datetime | None, device_id: str | None
    ) -> ChangesPage:
        """A page of a new desk's first pull, so it is useful at once: the feed as it stood
        when the pull began (up to its head, H), every young person, the reference data and
        the summaries first (in feed order), then the hub's events newest first (today's
        visits and this week's payments before last month's), each event after what it
        hangs on (its payment, session, action or the version it amends, pulled forward
        into the page; a desk keeps each once). The page's `first_pull` is the place to ask
        from next; the last page gives the cursor H and an empty place, and the desk goes
        on from there in feed order. Each item up to H is sent exactly once in its place
        (pulled-forward parents again in theirs, which the desk already holds)."""
        match = FIRST_PULL.match(place)
        if match is None:
            raise ValueError("not a place in a first pull")
        with self.engine.transaction(write=False) as tx:
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
            reset = False
            if match.group(1) == "start":
                top, phase, after, after_at = head, "p", 0, ""
            else:
                top, phase, after, after_at = int(match.group(2)), match.group(3), int(match.group(4)), match.group(5)
                if top > head:  # a restored or replaced database: begin again
                    top, phase, after, after_at, reset = head, "p", 0, "", True
            reference = self._reference(tx)
            days = reference.retention_days if reference else 90
            window = iso((now or datetime.now().astimezone()) - timedelta(days=days))
            me = device_id or ""
            rows: list[tuple] = []
            if phase == "p":
                rows = tx.all(
                    SELECTED + "seq > ? AND seq <= ? AND kind IN ('person', 'reference', 'summary') "
                    "ORDER BY seq LIMIT ?",
                    [after, top, limit + 1],
                )
                if len(rows) > limit:
                    rows = rows[:limit]
                    place = f"1.{top}.p.{rows[-1][0]}."
                else:
                    phase, after, after_at = "e", top + 1, "9999"
                    place = f"1.{top}.e.{after}.{after_at}"
            if phase == "e" and len(rows) < limit:
                # (at, seq) strictly before the last sent, newest first; at >= window.
                events = tx.all(
                    SELECTED + HUB_EVENTS + " AND seq <= ? AND (at < ? OR (at = ? AND seq < ?)) "
                    "ORDER BY at DESC, seq DESC LIMIT ?",
                    [hub_code, window, me, top, after_at, after_at, after, limit - len(rows) + 1],
                )
                done = len(events) <= limit - len(rows)
                events = events[: limit - len(rows)]
                if events:
                    last = tx.one("SELECT at FROM changes WHERE seq = ?", [events[-1][0]])
                    place = f"1.{top}.e.{events[-1][0]}.{last[0] if last else ''}"
                rows += self._parents_first(tx, events, hub_code, window, me, top)
                if done:
                    place = ""
        changes = [self._fed(r, hub_code) for r in rows]
        if place:
            return ChangesPage(
                changes=changes, cursor=0, more=True, reset=reset, database_id=self.database_id(), first_pull=place
            )
        # The first pull is done: the desk goes on from H in feed order.
        return ChangesPage(changes=changes, cursor=top, more=head > top, reset=reset, database_id=self.database_id())

    @staticmethod
    def _parents_first(tx: Any, events: list[tuple], hub_code: str, window: str, me: str, top: int) -> list[tuple]:
        """The events, each after the rows (up to `top`, in this desk's working set) of what it
        hangs on, followed up PARENT_DEPTH levels; a row sent once a page."""
        out: list[tuple] = []
        sent: set[int] = set()

        def parents_of(rows: list[tuple]) -> set[str]:
            ids: set[str] = set()
            for row in rows:
                try:
                    body = json.loads(row[3])
                except ValueError:
                    continue
                if isinstance(body, dict):
                    ids.update(v for f in PARENT_FIELDS if isinstance(v := body.get(f), str))
            return ids

        chains: list[list[tuple]] = []
        wanted = parents_of(events)
        looked: set[str] = set()
        for _ in range(PARENT_DEPTH):
            wanted -= looked
            if not wanted:
                break
            looked |= wanted
            found: list[tuple] = []
            ordered = sorted(wanted)
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                found += tx.all(
                    SELECTED + HUB_EVENTS + f" AND seq <= ? AND record_id IN ({','.join('?' * len(chunk))})",
                    [hub_code, window, me, top, *chunk],
                )
            chains.append(found)
            wanted = parents_of(found)
        # The oldest ancestors first, each level in feed order, then the events newest first.
        for level in reversed(chains):
            for row in sorted(level):
                if row[0] not in sent:
                    sent.add(row[0])
                    out.append(row)
        for row in events:
            if row[0] not in sent:
                sent.add(row[0])
                out.append(row)
        return out

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
