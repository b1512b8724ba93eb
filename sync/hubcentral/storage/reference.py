"""Reference data (hubs, users, categories and limits) and the caseload loaded from the case management system."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import CentralError, iso
from hubcentral.storage.engine import Tx
from hubcentral.storage.trust import hub_user
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Person
from hubdesk.sync.protocol import CentralReference, canonical_json, content_hash


@dataclass
class CaseloadResult:
    new: int = 0
    changed: int = 0
    same: int = 0
    conflicts: int = 0


class ReferenceMixin(StoreBase):
    def set_reference(self, reference: CentralReference, now: datetime) -> int:
        body = reference.model_dump(mode="json")
        with self.engine.transaction(write=True) as tx:
            tx.execute(
                "INSERT INTO reference(key, body, updated_at) VALUES ('current', ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                [canonical_json(body), iso(now)],
            )
            return self._change(tx, "reference", "reference", body, now)

    def reference(self) -> CentralReference | None:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT body FROM reference WHERE key = 'current'")
        return CentralReference.model_validate_json(row[0]) if row else None

    def active_user(self, login: str) -> bool:
        ref = self.reference()
        if ref is None:
            return False
        return any(u.login == login and u.active for u in ref.users)

    def user_refusal(self, login: str, hub_code: str) -> str | None:
        """Why `login` may not act at a desk of `hub_code`, or None: they must be an active
        user of that hub in the reference data (a user with no hub works council-wide)."""
        _, why = hub_user(self.reference(), login, hub_code)
        return why

    def load_caseload(self, people: Iterable[dict[str, Any]], now: datetime) -> CaseloadResult:
        """Upsert people keyed by case_id, all in one transaction (`people` may be a stream:
        if it raises, nothing of it is kept).

        A person the case management system changed since the last load is updated, unless a
        desk edited them since then too: that is a conflict kept with both sides for a person
        to settle, never an overwrite. Rows the system has not changed since the last load
        leave a desk's edits alone."""
        result = CaseloadResult()
        with self.engine.transaction(write=True) as tx:
            for data in people:
                digest = content_hash("caseload", data["case_id"], data)
                row = tx.one("SELECT id, version, body FROM people WHERE case_id = ?", [data["case_id"]])
                if row is None:
                    person = Person.model_validate({**data, "id": uuid7(), "version": 1})
                    self._put_person(tx, person.model_dump(mode="json"), now)
                    self._loaded(tx, data["case_id"], person.id, digest, now)
                    result.new += 1
                    continue
                person_id = row[0]
                loaded = tx.one("SELECT content_hash FROM caseload_loads WHERE case_id = ?", [data["case_id"]])
                edited = tx.one("SELECT device_id FROM desk_edits WHERE person_id = ?", [person_id])
                current = json.loads(row[2])
                merged = {**current, **data, "id": person_id, "version": row[1]}
                # Contact details and circumstances: the columns the file has, over what is held
                # (a file with accommodation alone leaves a desk's record of EET as it is).
                for part in ("contact", "circumstances"):
                    if isinstance(data.get(part), dict) and isinstance(current.get(part), dict):
                        merged[part] = {**current[part], **data[part]}
                person = Person.model_validate(merged)
                if person.model_dump(mode="json") == Person.model_validate(current).model_dump(mode="json") or (
                    edited is not None and loaded is not None and loaded[0] == digest
                ):
                    result.same += 1
                    continue
                person = Person.model_validate({**merged, "version": row[1] + 1})
                if edited is not None:
                    tx.execute(
                        "INSERT INTO conflicts(id, kind, record_id, device_id, outbox_id, local_body, remote_body, "
                        "detected_at) VALUES (?, 'person', ?, ?, 'caseload', ?, ?, ?)",
                        [
                            uuid7(),
                            person_id,
                            edited[0],
                            canonical_json(person.model_dump(mode="json")),
                            canonical_json(current),
                            iso(now),
                        ],
                    )
                    self._loaded(tx, data["case_id"], person_id, digest, now)
                    result.conflicts += 1
                    continue
                self._put_person(tx, person.model_dump(mode="json"), now)
                self._loaded(tx, data["case_id"], person_id, digest, now)
                result.changed += 1
        return result

    def _loaded(self, tx: Tx, case_id: str, person_id: str, digest: str, now: datetime) -> None:
        tx.execute(
            "INSERT INTO caseload_loads(case_id, person_id, content_hash, loaded_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(case_id) DO UPDATE SET person_id = excluded.person_id, "
            "content_hash = excluded.content_hash, loaded_at = excluded.loaded_at",
            [case_id, person_id, digest, iso(now)],
        )
        tx.execute("DELETE FROM desk_edits WHERE person_id = ?", [person_id])

    def transfer_person(self, case_or_id: str, hub_code: str, now: datetime) -> dict[str, Any]:
        """The central admin moves a young person to another hub: a new version in the feed."""
        ref = self.reference()
        if ref is None or not any(h.code == hub_code for h in ref.hubs):
            raise CentralError(f"Hub {hub_code} is not in the central reference data")
        with self.engine.transaction(write=True) as tx:
            row = tx.one("SELECT body FROM people WHERE case_id = ? OR id = ?", [case_or_id, case_or_id])
            if row is None:
                raise CentralError(f"No young person with case id or id {case_or_id} is held")
            current = json.loads(row[0])
            if current["hub_code"] == hub_code:
                raise CentralError(f"That young person is already at hub {hub_code}")
            person = Person.model_validate({**current, "hub_code": hub_code, "version": current["version"] + 1})
            body = person.model_dump(mode="json")
            self._put_person(tx, body, now)
        return body

    def person_by_case_id(self, case_id: str) -> dict[str, Any] | None:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT body FROM people WHERE case_id = ?", [case_id])
        return json.loads(row[0]) if row else None
