"""The rules of the service as the council sets them (issue 11, item 4), counted on a real
store: support ends at the 25th birthday, custody is unsuitable accommodation, qualifying
young people without a PA are counted apart, each person's own frequency is used, bands
and defaults are reference data, and who may authorise, up to what, is per role."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hubdesk.domain.circumstances import Circumstances, suitability
from hubdesk.domain.enums import Role
from hubdesk.domain.models import Contact, Person, ReferenceData, User
from hubdesk.domain.rules import can_approve
from hubdesk.domain.service_rules import (
    BANDS_2026,
    BandDef,
    RoleAuthority,
    ServiceRules,
)
from hubdesk.reports.in_touch import APART, in_touch_report
from hubdesk.store.store import Store

REPORT_DAY = date(2026, 11, 25)


def _person(store: Store, first: str, dob: date, **extra) -> Person:
    return store.add_person(Person(first_name=first, last_name="Testrule", date_of_birth=dob, hub_code="DEW", **extra))


def _seen(store: Store, person: Person, day: date) -> None:
    at = datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)
    store.record_contact(
        Contact(
            person_id=person.id,
            hub_code="DEW",
            contact_type="phone",
            recorded_by="nadia",
            started_at=at,
            recorded_at=at,
            seen=False,
            purposes=("money",),
            summary="Synthetic call",
        )
    )


@pytest.fixture
def caseload(store: Store) -> dict[str, Person]:
    return {
        # The 25th birthday on the report's date: support has ended.
        "turns25": _person(store, "Quinta", date(2001, 11, 25), legal_status="former_relevant", allocated_pa="nadia"),
        # The day before: still 24, still in.
        "still24": _person(store, "Vigil", date(2001, 11, 26), legal_status="former_relevant", allocated_pa="nadia"),
        # 25 and flagged for extended support: kept in.
        "extended": _person(
            store,
            "Xantha",
            date(2001, 1, 1),
            legal_status="former_relevant_education",
            allocated_pa="nadia",
            circumstances=Circumstances(extended_support=True),
        ),
        # In custody: in the list like anyone, their accommodation unsuitable.
        "custody": _person(
            store,
            "Corvin",
            date(2005, 2, 2),
            legal_status="former_relevant",
            allocated_pa="nadia",
            circumstances=Circumstances.model_validate({"accommodation": {"kind": "custody"}}),
        ),
        # Qualifying without a PA: counted apart from PA cases.
        "qualifying": _person(store, "Ysolde", date(2007, 5, 5), legal_status="qualifying"),
        # 17, seen weekly by their own frequency.
        "weekly": _person(
            store, "Wendel", date(2009, 3, 3), legal_status="relevant", allocated_pa="nadia", expected_contact_days=7
        ),
    }


def test_the_rules_count_each_as_the_service_does(store: Store, caseload: dict[str, Person]) -> None:
    for who in ("turns25", "still24", "custody", "qualifying", "weekly"):
        _seen(store, caseload[who], date(2026, 11, 15))
    report = in_touch_report(store, as_of=REPORT_DAY)
    lines = {x.person.id: x for x in report.lines}

    assert caseload["turns25"].id not in lines  # 25 today: not in the list, the count or a band
    assert lines[caseload["still24"].id].band.label == "21-25"
    assert lines[caseload["extended"].id].band.label == "21-25"  # extended support keeps them in
    assert caseload["custody"].id in lines
    assert suitability(store.get_person(caseload["custody"].id).circumstances) == "unsuitable"
    # Their own frequency: 10 days since contact is overdue for a weekly young person.
    weekly = lines[caseload["weekly"].id]
    assert weekly.interval_days == 7 and weekly.interval_set and not weekly.in_touch
    # Otherwise the band's default from the rules (18-20: 56 days): 10 days is in touch.
    assert lines[caseload["qualifying"].id].interval_days == 56 and lines[caseload["qualifying"].id].in_touch

    shares = {s.band: (s.in_touch, s.people) for s in report.shares}
    # PA cases: still24, extended, custody and weekly.
    assert shares["All"] == (2, 4)
    assert shares[APART] == (1, 1)
    assert shares["16-17"] == (0, 1) and shares["21-25"] == (2, 3) and shares["18-20"] == (0, 0)


def test_bands_and_defaults_come_from_the_reference_data(store: Store, caseload: dict[str, Person]) -> None:
    # The 2026 report's bands (18, 19-22), with a 10-day default for 19-22.
    rules = ServiceRules(
        age_bands=(BANDS_2026[0], BandDef(label="19-22", low=19, high=22, in_touch_days=10)),
        default_in_touch_days=90,
    )
    store.set_reference(store.reference().model_copy(update={"service_rules": rules}))
    assert store.service_rules() == rules
    _person(store, "Eighteen", date(2008, 1, 1), legal_status="former_relevant", allocated_pa="nadia")
    report = in_touch_report(store, as_of=REPORT_DAY)
    by_band = {s.band: s.people for s in report.shares}
    assert by_band["18"] == 1
    assert by_band["19-22"] == 1  # Corvin (21); Ysolde (19) is counted apart
    lines = {x.person.id: x for x in report.lines}
    assert lines[caseload["custody"].id].interval_days == 10  # the band's default, from the rules
    # 17 and 24: in the list (in service) but in no band the 2026 report uses; the rules' default.
    assert lines[caseload["weekly"].id].band is None and lines[caseload["weekly"].id].interval_days == 7
    assert lines[caseload["still24"].id].band is None and lines[caseload["still24"].id].interval_days == 90


def test_the_rules_refuse_overlapping_bands_and_a_role_twice() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="overlap"):
        ServiceRules(age_bands=(BandDef(label="a", low=16, high=18), BandDef(label="b", low=18, high=20)))
    with pytest.raises(ValidationError, match="listed twice"):
        ServiceRules(authorities=(RoleAuthority(role="pa"), RoleAuthority(role="pa")))


def _manager(role: str, limit: int = 50_000) -> User:
    return User(login="tess", display_name="Tess Test", role=role, payment_limit_pence=limit)


def test_who_may_authorise_up_to_what_is_per_role_reference_data() -> None:
    # The example rules: duty manager, team leader and service manager authorise; a PA does not.
    for role in (Role.DUTY_MANAGER, Role.TEAM_LEADER, Role.SERVICE_MANAGER):
        assert can_approve(_manager(role), 10_000) == (True, "")
    assert not can_approve(_manager(Role.ADVANCED_PA), 100)[0]
    # A council where a team leader authorises up to £50 and an advanced PA up to £20.
    rules = ServiceRules(
        authorities=(
            RoleAuthority(role="team_leader", may_authorise=True, limit_pence=5000),
            RoleAuthority(role="advanced_pa", may_authorise=True, limit_pence=2000),
            RoleAuthority(role="service_manager", may_authorise=True, limit_pence=100_000),
        )
    )
    assert can_approve(_manager("team_leader"), 5000, rules) == (True, "")
    ok, why = can_approve(_manager("team_leader"), 5001, rules)
    assert not ok and why == "Tess Test: £50.01 is over what a team leader may authorise (£50.00)"
    assert can_approve(_manager("advanced_pa"), 2000, rules) == (True, "")
    # Not listed: a duty manager may not, in this council.
    assert can_approve(_manager("duty_manager"), 100, rules) == (
        False,
        "Tess Test may not authorise payments (duty manager)",
    )
    # The person's own limit still applies under the role's.
    assert not can_approve(_manager("service_manager", limit=3000), 3001, rules)[0]


def test_the_desk_uses_the_rules_it_pulled(store: Store) -> None:
    from hubdesk.store import desk as desk_queries

    assert [u.login for u in desk_queries.duty_managers(store)] == ["nadia"]
    rules = ServiceRules(authorities=(RoleAuthority(role="pa", may_authorise=True, limit_pence=1000),))
    store.set_reference(ReferenceData.model_validate({**store.reference().model_dump(), "service_rules": rules}))
    # Now the PA may approve up to £10 and the duty manager not at all.
    assert [u.login for u in desk_queries.duty_managers(store)] == ["sam"]
