"""The change feed devices pull: a monotonic sequence, read in pages after a cursor."""

from __future__ import annotations

import json

from hubcentral.storage.base import StoreBase
from hubdesk.sync.protocol import Change, ChangesPage


class FeedMixin(StoreBase):
    def head(self) -> int:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT max(seq) FROM changes")
        return int(row[0] or 0) if row else 0

    def changes(self, since: int, limit: int) -> ChangesPage:
        with self.engine.transaction(write=False) as tx:
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
            reset = since > head
            if reset:
                since = 0
            rows = tx.all(
                "SELECT seq, kind, record_id, body FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                [since, limit + 1],
            )
        more = len(rows) > limit
        rows = rows[:limit]
        changes = [Change(seq=r[0], kind=r[1], record_id=r[2], body=json.loads(r[3])) for r in rows]
        cursor = changes[-1].seq if changes else since
        return ChangesPage(changes=changes, cursor=cursor, more=more, reset=reset, database_id=self.database_id())
