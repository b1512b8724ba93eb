"""Fuzzy person search held in memory (RapidFuzz): names, preferred name, DOB, case id.

Built once per unlock from the decrypted store and kept in RAM only; the store's
own copy stays encrypted. A query that reads as a date matches the date of birth;
one that reads as a case id matches case ids by prefix; anything else is matched
fuzzily against each name form, with exact prefixes ranked first.

A search also says how many people match in all (`find`), so the desk can say "first 20
of 42": a person matches when each word typed starts a word of their name (or the date of
birth, or the case id, is theirs). Close spellings are listed after them, not counted.
"""

from __future__ import annotations

import bisect
import heapq
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process, utils

from hubdesk.domain.models import Person

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


def parse_date_query(text: str) -> date | None:
    """'3/11/2006', '03-11-2006', '2006-11-03', '3 Nov 2006', '03112006' -> date."""
    t = text.strip().lower()
    patterns = [
        (r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$", ("d", "m", "y")),
        (r"^(\d{4})-(\d{1,2})-(\d{1,2})$", ("y", "m", "d")),
        (r"^(\d{2})(\d{2})(\d{4})$", ("d", "m", "y")),
    ]
    for pattern, order in patterns:
        m = re.match(pattern, t)
        if m:
            parts = dict(zip(order, map(int, m.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    m = re.match(r"^(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{4})$", t)
    if m and m.group(2) in _MONTHS:
        try:
            return date(int(m.group(3)), _MONTHS[m.group(2)], int(m.group(1)))
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Named:
    """What the index keeps of a person, read straight from the store's rows (no model
    validation: building the index at unlock read and validated every person, ~1 s for
    10,000 on a busy laptop, while the desk could not answer a key)."""

    id: str
    first_name: str
    last_name: str | None
    preferred_name: str | None
    date_of_birth: date | None
    case_id: str | None


# A person's stored body, read whole: SQLite's json_extract parses the body once per field
# (five times slower than one json.loads here).
NAMED_SQL = "SELECT id, body FROM people ORDER BY rowid"


def named(row: tuple[str, str]) -> Named:
    person_id, body = row
    data = json.loads(body)
    born = data.get("date_of_birth")
    return Named(
        person_id,
        data.get("first_name") or "",
        data.get("last_name"),
        data.get("preferred_name"),
        date.fromisoformat(born) if born else None,
        data.get("case_id"),
    )


@dataclass(frozen=True)
class PersonHit:
    person_id: str
    score: float
    matched: str  # which field matched: name / preferred / dob / case_id


@dataclass(frozen=True)
class SearchResult:
    """The best hits for a query, and how many people match it in all."""

    hits: list[PersonHit]
    total: int
    """People who match as typed, listed or not; the hits list them first, then any close
    spellings (which are not counted here)."""


class PersonIndex:
    def __init__(self) -> None:
        self._ids: list[str] = []
        self._names: list[str] = []
        self._by_id: dict[str, int] = {}
        self._dob: dict[date, list[str]] = {}
        self._case: dict[str, str] = {}
        self._dob_of: dict[str, date | None] = {}
        self._case_of: dict[str, str] = {}
        self._words: list[tuple[str, int]] = []  # (word, name index), sorted; rebuilt lazily
        self._words_dirty = True

    @classmethod
    def build(cls, people: Iterable[Person | Named]) -> PersonIndex:
        index = cls()
        for person in people:
            index.put(person)
        return index

    def put(self, person: Person | Named) -> None:
        forms = [person.first_name, person.last_name or "", person.preferred_name or ""]
        full = f"{person.first_name} {person.last_name or ''}"
        pref = f"{person.preferred_name} {person.last_name or ''}" if person.preferred_name else ""
        text = utils.default_process(" | ".join(x for x in (full, pref, *forms) if x))
        self._words_dirty = True
        if person.id in self._by_id:
            i = self._by_id[person.id]
            self._names[i] = text
            old = self._dob_of.get(person.id)
            if old and person.id in self._dob.get(old, []):
                self._dob[old].remove(person.id)
        else:
            self._by_id[person.id] = len(self._ids)
            self._ids.append(person.id)
            self._names.append(text)
        if person.date_of_birth:
            self._dob.setdefault(person.date_of_birth, []).append(person.id)
        self._dob_of[person.id] = person.date_of_birth
        old_case = self._case_of.pop(person.id, None)
        if old_case is not None and self._case.get(old_case) == person.id:
            del self._case[old_case]  # an edited or removed case id must stop finding them
        if person.case_id:
            self._case[person.case_id.lower()] = person.id
            self._case_of[person.id] = person.case_id.lower()

    def _prefixed(self, prefix: str) -> set[int]:
        """Indexes of names with a word starting with `prefix` (bisect on a sorted word list)."""
        if self._words_dirty:
            self._words = sorted({(w, i) for i, name in enumerate(self._names) for w in name.replace("|", " ").split()})
            self._words_dirty = False
        found: set[int] = set()
        at = bisect.bisect_left(self._words, (prefix, -1))
        while at < len(self._words) and self._words[at][0].startswith(prefix):
            found.add(self._words[at][1])
            at += 1
        return found

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, limit: int = 30) -> list[PersonHit]:
        return self.find(query, limit).hits

    def find(self, query: str, limit: int = 30) -> SearchResult:
        """The best `limit` hits, and how many people match as typed (no extra full scan:
        the count comes from the prefix word list, the date of birth or case id lookup)."""
        q = query.strip()
        if not q:
            return SearchResult([], 0)
        day = parse_date_query(q)
        if day is not None:
            born = self._dob.get(day, [])
            return SearchResult([PersonHit(pid, 100.0, "dob") for pid in born[:limit]], len(born))
        hits: list[PersonHit] = []
        lowered = q.lower()
        if any(c.isdigit() for c in q):
            exact_case = self._case.get(lowered)
            if exact_case:
                hits.append(PersonHit(exact_case, 100.0, "case_id"))
            hits.extend(
                PersonHit(pid, 95.0, "case_id")
                for cid, pid in self._case.items()
                if (cid.startswith(lowered) or (lowered.isdigit() and lowered in cid)) and pid != exact_case
            )
            return SearchResult(hits[:limit], len(hits))
        pq = utils.default_process(q)
        if not pq:
            return SearchResult([], 0)
        # Names in which each word typed starts a word always rank first (they score 100 and
        # a bonus); when there are enough of them, the fuzzy pass cannot change the answer.
        exact = self._every_word(pq.split())
        if len(exact) >= limit:
            return SearchResult(self._rank({i: 100.0 for i in exact}, pq, limit, exact), len(exact))
        pool = limit * 3
        results = process.extract(
            pq,
            self._names,
            scorer=fuzz.partial_ratio,
            limit=pool,
            score_cutoff=70,
            processor=None,
        )
        scores = {i: score for _text, score, i in results}
        if len(results) == pool:
            # The pool is full, so it may have cut off people whose name starts with the
            # query (every match inside a name scores 100 too): the bonus below must see them.
            spaced = " " + pq
            for i, name in enumerate(self._names):
                if i not in scores and (name.startswith(pq) or spaced in name):
                    scores[i] = 100.0
        for i in exact:
            scores[i] = 100.0  # "kay mar" is Kayden Marsh, however the fuzzy score saw it
        return SearchResult(self._rank(scores, pq, limit, exact), len(exact))

    def _every_word(self, words: list[str]) -> set[int]:
        """Names in which each of these words starts a word (the most telling word first)."""
        words = sorted(set(words), key=len, reverse=True)
        found = self._prefixed(words[0])
        rest = words[1:]
        if not rest:
            return found
        names = self._names
        return {i for i in found if all(any(w.startswith(r) for w in names[i].replace("|", " ").split()) for r in rest)}

    def _rank(self, scores: dict[int, float], pq: str, limit: int, exact: set[int] | None = None) -> list[PersonHit]:
        names = self._names
        exact = exact or set()

        def key(i: int) -> tuple[float, str]:
            name = names[i]
            words = name.replace("|", " ").split()
            # Each word typed starts a word of the name: above every close spelling.
            bonus = 10 if i in exact or any(w.startswith(pq) for w in words) else 0
            bonus += 5 if pq in words else 0  # "kay" is Kay before it is Kayden
            bonus += 5 if name.startswith(pq) else 0
            return (-(scores[i] + bonus), name)

        if len(scores) > 4 * limit and all(v == 100.0 for v in scores.values()):
            # Thousands of prefix hits for a letter or two: only the best `limit` matter, and
            # the exact words and name starts (the only bonuses above the common one) are few.
            best = {i for i in scores if names[i].startswith(pq)}
            best |= {i for i in self._prefixed(pq) if pq in names[i].replace("|", " ").split()}
            rest = heapq.nsmallest(limit, (i for i in scores if i not in best), key=lambda i: names[i])
            chosen = sorted(best, key=key)[:limit]
            chosen += sorted(rest, key=key)[: limit - len(chosen)]
            return [PersonHit(self._ids[i], -key(i)[0], "name") for i in chosen]
        ranked = sorted(scores, key=key)[:limit]
        return [PersonHit(self._ids[i], -key(i)[0], "name") for i in ranked]
