"""Reference data (hubs, users, categories and limits) and the caseload loaded from the case management system."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import iso
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Person
from hubdesk.sync.protocol import CentralReference, canonical_json


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

    def load_caseload(self, people: list[dict[str, Any]], now: datetime) -> tuple[int, int, int]:
        """Upsert people keyed by case_id, all in one transaction. Returns (new, changed, same)."""
        new = changed = same = 0
        with self.engine.transaction(write=True) as tx:
            for data in people:
                row = tx.one("SELECT id, version, body FROM people WHERE case_id = ?", [data["case_id"]])
                if row is None:
                    person = Person.model_validate({**data, "id": uuid7(), "version": 1})
                    self._put_person(tx, person.model_dump(mode="json"), now)
                    new += 1
                    continue
                current = json.loads(row[2])
                merged = {**current, **data, "id": row[0], "version": row[1]}
                person = Person.model_validate(merged)
                if person.model_dump(mode="json") == Person.model_validate(current).model_dump(mode="json"):
                    same += 1
                    continue
                person = Person.model_validate({**merged, "version": row[1] + 1})
                self._put_person(tx, person.model_dump(mode="json"), now)
                changed += 1
        return new, changed, same

    def person_by_case_id(self, case_id: str) -> dict[str, Any] | None:
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT body FROM people WHERE case_id = ?", [case_id])
        return json.loads(row[0]) if row else None
