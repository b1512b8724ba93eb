"""People and finding them: Store's methods for person records."""

from __future__ import annotations

from hubdesk.domain.models import Person
from hubdesk.store.common import _json
from hubdesk.store.errors import (
    NotFound,
    VersionConflict,
)


class PeopleRepo:
    """People and the person search.

    A part of Store, which inherits it: it uses Store's _save, _audit, _outbox, _rows and _models."""

    # --- people ---------------------------------------------------------------------------

    def add_person(self, person: Person) -> Person:
        """A new person: loaded from the caseload, or a walk-in marked for matching."""
        body = _json(person)
        with self._save() as now:
            seq = self._audit(now, "create", "person", person.id, "walk-in" if person.walk_in else "", body)
            self.db.execute(
                "INSERT INTO people(id, version, case_id, hub_code, walk_in, needs_matching, allocated_pa, "
                "body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    person.id,
                    person.version,
                    person.case_id,
                    person.hub_code,
                    int(person.walk_in),
                    int(person.needs_matching),
                    person.allocated_pa,
                    body,
                    seq,
                ],
            )
            self.db.execute(
                "INSERT INTO people_versions(id, version, body, audit_seq) VALUES (?, ?, ?, ?)",
                [person.id, person.version, body, seq],
            )
            self._outbox(now, "person", person.id, body)
        self._index_person(person)
        return person

    def update_person(self, person: Person, base_version: int) -> Person:
        """An edit made against base_version; refused if someone else changed it since."""
        current = self.get_person(person.id)
        if current.version != base_version:
            raise VersionConflict("This record was changed since you opened it; reopen it and make the change again")
        updated = person.model_copy(update={"version": base_version + 1})
        updated = Person.model_validate(updated.model_dump())
        body = _json(updated)
        with self._save() as now:
            seq = self._audit(now, "amend", "person", person.id, f"version {updated.version}", body)
            changed = self.db.execute(
                "UPDATE people SET version = ?, case_id = ?, hub_code = ?, walk_in = ?, needs_matching = ?, "
                "allocated_pa = ?, body = ?, audit_seq = ? WHERE id = ? AND version = ?",
                [
                    updated.version,
                    updated.case_id,
                    updated.hub_code,
                    int(updated.walk_in),
                    int(updated.needs_matching),
                    updated.allocated_pa,
                    body,
                    seq,
                    person.id,
                    base_version,
                ],
            ).rowcount
            if changed != 1:
                raise VersionConflict(
                    "This record was changed since you opened it; reopen it and make the change again"
                )
            self.db.execute(
                "INSERT INTO people_versions(id, version, body, audit_seq) VALUES (?, ?, ?, ?)",
                [updated.id, updated.version, body, seq],
            )
            self._outbox(now, "person", person.id, body)
        self._index_person(updated)
        return updated

    def get_person(self, person_id: str) -> Person:
        people = self._models(Person, "SELECT body FROM people WHERE id = ?", [person_id])
        if not people:
            raise NotFound("No such person on this desk")
        return people[0]

    def view_person(self, person_id: str) -> Person:
        """Open a person's record for a user: audited as a view."""
        person = self.get_person(person_id)
        with self._save() as now:
            self._audit(now, "view", "person", person_id)
        return person

    def people(self, ids: list[str] | None = None) -> list[Person]:
        if ids is None:
            return self._models(Person, "SELECT body FROM people ORDER BY rowid")
        found: dict[str, Person] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for p in self._models(Person, f"SELECT body FROM people WHERE id IN ({marks})", chunk):
                found[p.id] = p
        return [found[i] for i in ids if i in found]

    def count(self, table: str) -> int:
        if table not in {
            "people",
            "contacts",
            "payments",
            "reversals",
            "sessions",
            "attendance",
            "audit",
            "outbox",
            "users",
            "payment_decisions",
        }:
            raise ValueError(table)
        return self._rows(f"SELECT count(*) FROM {table}")[0][0]

    # --- search ---------------------------------------------------------------------------

    def _index_person(self, person: Person) -> None:
        if self._person_index is not None:
            self._person_index.put(person)

    def search_people(self, query: str, limit: int = 30):
        """Fuzzy search on names, preferred name, date of birth and case id."""
        return self.find_people(query, limit).hits

    def find_people(self, query: str, limit: int = 30):
        """search_people's hits, and how many people match in all ("first 20 of 42")."""
        from hubdesk.store.search import NAMED_SQL, PersonIndex, named

        self._require_open()
        if self._person_index is None:
            self._person_index = PersonIndex.build(named(row) for row in self.db.execute(NAMED_SQL))
        return self._person_index.find(query, limit=limit)

    def last_contacts(self, person_ids: list[str]) -> dict[str, str]:
        """person_id -> ISO time of their latest contact."""
        result: dict[str, str] = {}
        for start in range(0, len(person_ids), 500):
            chunk = person_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, at in self._rows(
                f"SELECT person_id, max(started_at) FROM contacts WHERE person_id IN ({marks}) GROUP BY person_id",
                chunk,
            ):
                result[pid] = at
        return result
