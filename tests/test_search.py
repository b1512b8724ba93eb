"""People search: fuzzy on names and preferred name, date of birth in the forms people
type, case id by prefix; prefix matches ranked first; the index follows edits."""

from __future__ import annotations

from datetime import date

import pytest

from hubdesk.domain.models import Person
from hubdesk.store.search import PersonIndex
from hubdesk.store.store import Store


def _p(first: str, last: str | None = None, **kw) -> Person:
    kw.setdefault("date_of_birth", date(2006, 1, 1))
    return Person(first_name=first, last_name=last, hub_code="DEW", **kw)


PEOPLE = {
    "kayden": _p("Kayden", "Moss", case_id="LCS-10442", date_of_birth=date(2006, 11, 3)),
    "mikayla": _p("Mikayla", "Stone", case_id="LCS-10443"),
    "shay": _p("Oluwaseun", "Adeyemi", preferred_name="Shay", case_id="LCS-20001"),
    "kai": _p("Kai", "Brook", case_id="LCS-30017"),
    "jakayla": _p("Jakayla", "Kaye"),
    "zoe": _p("Zoë", "Brontë"),
    "anna": _p("Anna", "Kowalska", date_of_birth=date(2006, 11, 3)),
    "walkin": Person(first_name="Dee", hub_code="DEW", walk_in=True, approx_age=19),
    "leap": _p("Leapling", "Febtwentynine", date_of_birth=date(2008, 2, 29)),
}
NAME_OF = {p.id: key for key, p in PEOPLE.items()}


@pytest.fixture(scope="module")
def index() -> PersonIndex:
    return PersonIndex.build(list(PEOPLE.values()))


def found(index: PersonIndex, query: str) -> list[str]:
    return [NAME_OF[h.person_id] for h in index.search(query)]


@pytest.mark.parametrize("query", ["kay", "Kay", "KAY", " kay ", "kayd", "kayden", "Kayden Moss"])
def test_kayden_is_found_from_the_start_of_his_name(index: PersonIndex, query: str) -> None:
    assert found(index, query)[0] == "kayden"


def test_typos_still_find_the_person(index: PersonIndex) -> None:
    assert found(index, "kaydn")[0] == "kayden"
    assert found(index, "adeyem")[0] == "shay"


def test_prefix_matches_rank_above_matches_inside_a_name(index: PersonIndex) -> None:
    """'kay': Kayden (first name starts so) and Jakayla Kaye (surname starts so) come before
    Mikayla (only inside her name)."""
    order = found(index, "kay")
    assert order.index("kayden") < order.index("mikayla")
    assert order.index("jakayla") < order.index("mikayla")
    hits = index.search("kay")
    assert hits[0].score > next(h.score for h in hits if NAME_OF[h.person_id] == "mikayla")
    assert all(h.matched == "name" for h in hits)


def test_the_first_name_prefix_beats_a_surname_prefix(index: PersonIndex) -> None:
    assert found(index, "kay")[:2] == ["kayden", "jakayla"]


@pytest.mark.parametrize("query", ["shay", "Shay", "sha", "Shay Adeyemi"])
def test_preferred_name_finds_the_person(index: PersonIndex, query: str) -> None:
    assert found(index, query)[0] == "shay"


def test_legal_first_name_still_finds_someone_with_a_preferred_name(index: PersonIndex) -> None:
    assert found(index, "oluwa")[0] == "shay"
    assert found(index, "Oluwaseun Adeyemi")[0] == "shay"


@pytest.mark.parametrize(
    "query",
    ["3/11/2006", "03/11/2006", "3-11-2006", "03.11.2006", "2006-11-03", "3 Nov 2006", "3 november 2006", "03112006"],
)
def test_date_of_birth_in_several_forms(index: PersonIndex, query: str) -> None:
    hits = index.search(query)
    assert sorted(NAME_OF[h.person_id] for h in hits) == ["anna", "kayden"]
    assert all(h.matched == "dob" for h in hits)


def test_a_29_february_birthday_is_found(index: PersonIndex) -> None:
    assert found(index, "29/02/2008") == ["leap"]
    assert found(index, "29 Feb 2008") == ["leap"]


def test_a_date_nobody_was_born_on_finds_nobody(index: PersonIndex) -> None:
    assert found(index, "4/11/2006") == []
    assert found(index, "31/02/2006") == []  # not a date at all: nothing, not an error


@pytest.mark.parametrize(
    ("query", "who"), [("LCS-10442", ["kayden"]), ("lcs-10442", ["kayden"]), ("LCS-3", ["kai"]), ("lcs-2", ["shay"])]
)
def test_case_id_by_prefix(index: PersonIndex, query: str, who: list[str]) -> None:
    hits = index.search(query)
    assert [NAME_OF[h.person_id] for h in hits] == who
    assert all(h.matched == "case_id" for h in hits)


def test_an_exact_case_id_comes_before_longer_ones_it_prefixes() -> None:
    people = [_p("Longer", case_id="LCS-1001"), _p("Exact", case_id="LCS-100"), _p("Other", case_id="LCS-1002")]
    hits = PersonIndex.build(people).search("lcs-100")
    assert hits[0].person_id == people[1].id and hits[0].score == 100.0
    assert {h.person_id for h in hits[1:]} == {people[0].id, people[2].id}


def test_case_id_prefix_lists_every_match(index: PersonIndex) -> None:
    assert sorted(found(index, "LCS-1044")) == ["kayden", "mikayla"]


def test_accented_names_are_found_without_the_accents(index: PersonIndex) -> None:
    assert found(index, "zoe")[0] == "zoe"
    assert found(index, "bronte")[0] == "zoe"
    assert found(index, "Zoë")[0] == "zoe"


def test_a_walk_in_without_a_date_of_birth_is_found_by_name(index: PersonIndex) -> None:
    assert found(index, "dee")[0] == "walkin"


@pytest.mark.parametrize("query", ["", "   ", "!!!", "xyzzyq", "\x00", "🙂", "‮", "9" * 5000])
def test_nothing_to_match_finds_nothing_and_does_not_fail(index: PersonIndex, query: str) -> None:
    assert found(index, query) == []


def test_limit_is_respected(index: PersonIndex) -> None:
    assert len(index.search("a", limit=2)) == 2
    assert len(index.search("lcs", limit=1)) <= 1


# --- through the store ----------------------------------------------------------------------


def test_store_search_finds_added_people_and_follows_edits(store: Store, person: Person) -> None:
    assert [h.person_id for h in store.search_people("zeb")] == [person.id]  # preferred name
    assert [h.person_id for h in store.search_people("quarkf")] == [person.id]
    assert [h.person_id for h in store.search_people("25/11/2006")] == [person.id]
    # Added after the index was built: found at once.
    kayden = store.add_person(_p("Kayden", "Moss", case_id="LCS-10442"))
    assert store.search_people("kay")[0].person_id == kayden.id
    # An edit moves the index with it: new name, new date of birth, new case id.
    changed = person.model_copy(
        update={"preferred_name": "Bee", "date_of_birth": date(2006, 12, 1), "case_id": "LCS-777"}
    )
    store.update_person(changed, person.version)
    assert [h.person_id for h in store.search_people("bee")] == [person.id]
    assert store.search_people("25/11/2006") == []
    assert [h.person_id for h in store.search_people("1/12/2006")] == [person.id]
    assert [h.person_id for h in store.search_people("LCS-777")] == [person.id]


def test_a_changed_case_id_no_longer_finds_the_person(store: Store) -> None:
    p = store.add_person(_p("Casey", "Moved", case_id="OLD-123"))
    assert [h.person_id for h in store.search_people("OLD-123")] == [p.id]
    store.update_person(p.model_copy(update={"case_id": "NEW-456"}), p.version)
    assert store.search_people("OLD-123") == []
    assert store.search_people("old") == [] or all(h.matched == "name" for h in store.search_people("old"))
    assert [h.person_id for h in store.search_people("NEW-4")] == [p.id]
    p2 = store.get_person(p.id)
    store.update_person(p2.model_copy(update={"case_id": None}), p2.version)
    assert store.search_people("NEW-456") == []


def test_a_fresh_unlock_builds_the_same_index(store: Store, person: Person, data_dir) -> None:
    from store_helpers import PASSPHRASE

    store.add_person(_p("Kayden", "Moss", case_id="LCS-10442"))
    before = [(h.person_id, h.score) for h in store.search_people("kay")]
    store.lock()
    with Store.unlock(data_dir, "sam", PASSPHRASE) as again:
        assert [(h.person_id, h.score) for h in again.search_people("kay")] == before


def test_many_people_search_stays_quick(store: Store) -> None:
    """Not the benchmark (make bench): a guard that search over 2,000 people is interactive."""
    import time

    index = PersonIndex.build([_p(f"Person{i:04d}", f"Surname{i % 97}") for i in range(2000)] + [PEOPLE["kayden"]])
    start = time.perf_counter()
    for query in ["kay", "person01", "surname5", "3/11/2006", "LCS-1"] * 4:
        index.search(query)
    per_query = (time.perf_counter() - start) / 20
    assert index.search("kay")[0].person_id == PEOPLE["kayden"].id
    assert per_query < 0.25, per_query


def test_a_prefix_match_is_not_crowded_out_by_many_matches_inside_names() -> None:
    """With a real caseload many names contain a short query ('kay' in Mikayla, Makayla...).
    The fuzzy pool was cut to limit*3 before the prefix bonus, so Kayden vanished behind
    120 Mikaylas; prefix matches must always make the list, and first."""
    crowd = [_p("Mikayla", f"Infix{i}") for i in range(120)]
    kayden = _p("Kayden", "Moss")
    late = _p("Zed", "Kaye")
    index = PersonIndex.build([*crowd, kayden, late])
    hits = index.search("kay", limit=30)
    assert len(hits) == 30
    assert [h.person_id for h in hits[:2]] == [kayden.id, late.id]


def test_search_over_ten_thousand_people_stays_within_budget() -> None:
    """The issue's budget is p95 < 25 ms per query (make bench measures it properly); here a
    loose guard on a loaded test machine, with many prefix and infix matches."""
    import time

    firsts = ["Kayden", "Mikayla", "Jo", "Marjorie", "Aaliyah", "Mohammed", "Zoë", "Kai", "Ola"]
    people = [_p(firsts[i % len(firsts)], f"Surname{i % 313}") for i in range(10_000)]
    index = PersonIndex.build(people)
    times = []
    for query in ["kay", "jo", "k", "moh", "surname12", "zo", "ola", "mikayla surname1"] * 3:
        start = time.perf_counter()
        index.search(query)
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"search p95 over 10,000 people: {p95 * 1000:.1f} ms")
    assert p95 < 0.25
