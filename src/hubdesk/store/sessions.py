"""Drop-in sessions and their registers: Store's methods for them."""

from __future__ import annotations

from datetime import datetime

from hubdesk.domain.enums import AttendanceKind
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import (
    Attendance,
    DropInSession,
)
from hubdesk.store.common import _iso, _json
from hubdesk.store.errors import (
    NotAllowed,
    NotFound,
    StoreError,
    VersionConflict,
)


class SessionsRepo:
    """Drop-in sessions and attendance.

    A part of Store, which inherits it: it uses Store's _save, _audit, _outbox, _rows and _models."""

    # --- drop-in sessions -----------------------------------------------------------------

    def open_session(self, session: DropInSession) -> DropInSession:
        self.refuse_closed_day(session.hub_code, session.starts_at)
        body = _json(session)
        with self._save() as now:
            seq = self._audit(now, "create", "session", session.id, session.session_type, body)
            self.db.execute(
                "INSERT INTO sessions(id, version, hub_code, session_type, starts_at, closed_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    session.id,
                    session.version,
                    session.hub_code,
                    session.session_type,
                    _iso(session.starts_at),
                    None,
                    body,
                    seq,
                ],
            )
            self._outbox(now, "session", session.id, body)
        return session

    def get_session(self, session_id: str) -> DropInSession:
        found = self._models(DropInSession, "SELECT body FROM sessions WHERE id = ?", [session_id])
        if not found:
            raise NotFound("No such session")
        return found[0]

    def close_session(self, session_id: str, at: datetime | None = None) -> DropInSession:
        current = self.get_session(session_id)
        if current.closed_at is not None:
            raise NotAllowed("That session is already closed")
        at = at or self.clock()
        closed = DropInSession.model_validate(
            current.model_dump() | {"closed_at": at, "ends_at": current.ends_at or at, "version": current.version + 1}
        )
        body = _json(closed)
        with self._save() as now:
            seq = self._audit(now, "close", "session", session_id, f"version {closed.version}", body)
            changed = self.db.execute(
                "UPDATE sessions SET version = ?, closed_at = ?, body = ?, audit_seq = ? WHERE id = ? AND version = ?",
                [closed.version, _iso(at), body, seq, session_id, current.version],
            ).rowcount
            if changed != 1:
                raise VersionConflict("That session was changed elsewhere since it was opened here; reopen it")
            self._outbox(now, "session", session_id, body)
        return closed

    def add_attendance(self, attendance: Attendance) -> Attendance:
        if attendance.amends or attendance.version != 1:
            raise StoreError("Use amend_attendance to correct a register line")
        session = self.get_session(attendance.session_id)
        if session.closed_at is not None:
            raise NotAllowed("That session is closed")
        if attendance.person_id:
            self.get_person(attendance.person_id)
            if any(a.person_id == attendance.person_id for a in self.attendance(attendance.session_id)):
                raise NotAllowed("Already on this session's register")
        body = _json(attendance)
        with self._save() as now:
            seq = self._audit(now, "create", "attendance", attendance.id, attendance.kind.value, body)
            self._insert_attendance(attendance, body, seq)
            self._outbox(now, "attendance", attendance.id, body)
        return attendance

    def _insert_attendance(self, attendance: Attendance, body: str, seq: int) -> None:
        self.db.execute(
            "INSERT INTO attendance(id, session_id, person_id, kind, body, audit_seq, amends) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                attendance.id,
                attendance.session_id,
                attendance.person_id,
                attendance.kind.value,
                body,
                seq,
                attendance.amends,
            ],
        )

    def amend_attendance(
        self, attendance_id: str, *, children: int | None = None, remove: bool = False, reason: str = ""
    ) -> Attendance:
        """Correct a register line: a new version of it, the old one kept in the history.

        `children` corrects a children count (0 takes the line off); `remove` takes off
        someone added by mistake. Allowed after the session (or the day) is closed: a
        correction is an amendment, not an addition."""
        found = self._models(Attendance, "SELECT body FROM attendance WHERE id = ?", [attendance_id])
        if not found:
            raise NotFound("No such line on the register")
        current = found[0]
        if current.removed:
            raise NotAllowed("That line was already taken off the register")
        if children is not None and current.kind is not AttendanceKind.CHILDREN:
            raise NotAllowed("Only a line of children has a count to correct")
        if children == 0:
            remove, children = True, None
        if not remove and (children is None or children == current.children):
            raise NotAllowed("Nothing to correct: the register already says that")
        with self._save() as now:
            # Under the write lock: a line already corrected (here or by a sync) is not the
            # register as it stands, and a version is amended at most once.
            if self._rows("SELECT 1 FROM attendance WHERE amends = ?", [current.id]):
                raise VersionConflict("That line was corrected since the register was shown; look again")
            data = current.model_dump()
            data.update(
                id=uuid7(),
                version=current.version + 1,
                amends=current.id,
                recorded_by=self._actor(),
                recorded_at=now,
                removed=remove,
                amend_reason=reason,
            )
            if children is not None:
                data["children"] = children
            amended = Attendance.model_validate(data)
            body = _json(amended)
            detail = "taken off" if remove else f"children {current.children} to {amended.children}"
            seq = self._audit(now, "amend", "attendance", amended.id, detail, body)
            self._insert_attendance(amended, body, seq)
            self._outbox(now, "attendance", amended.id, body)
        return amended

    def attendance_history(self, session_id: str) -> list[Attendance]:
        """Every version of every line of a session's register, in the order saved."""
        return self._models(Attendance, "SELECT body FROM attendance WHERE session_id = ? ORDER BY rowid", [session_id])

    def attendance(self, session_id: str) -> list[Attendance]:
        """The register as it stands: each line's latest version, where the line was first
        added; lines taken off are left out."""
        history = self.attendance_history(session_id)
        replaced = {a.amends for a in history if a.amends}
        first: dict[str, int] = {}  # each version -> where its line was first added
        for position, line in enumerate(history):
            first[line.id] = first.get(line.amends, position) if line.amends else position
        current = [a for a in history if a.id not in replaced and not a.removed]
        return sorted(current, key=lambda a: first[a.id])

    def sessions_between(self, hub_code: str, start: datetime, end: datetime) -> list[DropInSession]:
        return self._models(
            DropInSession,
            "SELECT body FROM sessions WHERE hub_code = ? AND starts_at >= ? AND starts_at < ? ORDER BY starts_at",
            [hub_code, _iso(start), _iso(end)],
        )
