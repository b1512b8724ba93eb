"""The outbox as the sync reads and marks it: Store's methods for it (rows are added by Store._outbox)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    id: str
    kind: str
    record_id: str
    body: str
    state: str
    attempts: int
    last_error: str | None


class OutboxRepo:
    """Reading and marking the outbox.

    A part of Store, which inherits it: it uses Store's _save, _rows and db."""

    # --- outbox ---------------------------------------------------------------------------

    def outbox(self, state: str | None = "waiting", limit: int = 500, after_seq: int = 0) -> list[OutboxItem]:
        where, params = "seq > ?", [after_seq]
        if state is not None:
            where += " AND state = ?"
            params.append(state)
        rows = self._rows(
            f"SELECT seq, id, kind, record_id, body, state, attempts, last_error FROM outbox WHERE {where} "
            "ORDER BY seq LIMIT ?",
            [*params, limit],
        )
        return [OutboxItem(*row) for row in rows]

    def outbox_waiting(self) -> int:
        return self._rows("SELECT count(*) FROM outbox WHERE state IN ('waiting', 'sending')")[0][0]

    def mark_outbox(self, results: dict[str, tuple[str, str | None]]) -> None:
        """Record the service's answer per outbox id: synced / quarantined (with reason)."""
        with self._save():
            for outbox_id, (state, error) in results.items():
                self.db.execute(
                    "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? WHERE id = ?",
                    [state, error, outbox_id],
                )
