"""Rules of the service: ages on birthdays (29 February too), age bands, authorisation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hubdesk.domain.enums import Role
from hubdesk.domain.models import PaymentCategory, User
from hubdesk.domain.rules import AgeBand, age_band, age_on, can_approve, check_authorisation


def test_age_turns_over_on_the_birthday_not_before() -> None:
    dob = date(2008, 11, 25)
    assert age_on(dob, date(2026, 11, 24)) == 17
    assert age_on(dob, date(2026, 11, 25)) == 18
    assert age_on(dob, date(2026, 11, 26)) == 18
    assert age_on(dob, date(2027, 11, 24)) == 18


def test_age_on_the_day_of_birth_is_zero() -> None:
    assert age_on(date(2008, 3, 1), date(2008, 3, 1)) == 0


def test_leap_day_birthday_counts_from_1_march_in_other_years() -> None:
    dob = date(2008, 2, 29)
    assert age_on(dob, date(2026, 2, 28)) == 17
    assert age_on(dob, date(2026, 3, 1)) == 18
    # In a leap year the birthday itself is there.
    assert age_on(dob, date(2028, 2, 28)) == 19
    assert age_on(dob, date(2028, 2, 29)) == 20
    assert age_on(dob, date(2028, 3, 1)) == 20


def test_age_is_exact_over_many_years() -> None:
    dob = date(2004, 2, 29)
    for years in range(0, 30):
        day = date(2004 + years, 3, 1)
        assert age_on(dob, day) == years
        assert age_on(dob, day - timedelta(days=2)) == years - 1


@pytest.mark.parametrize(
    ("day", "band"),
    [
        (date(2024, 6, 14), AgeBand.UNDER_16),  # the day before the 16th birthday
        (date(2024, 6, 15), AgeBand.BAND_16_17),
        (date(2026, 6, 14), AgeBand.BAND_16_17),  # last day aged 17
        (date(2026, 6, 15), AgeBand.BAND_18_20),
        (date(2029, 6, 14), AgeBand.BAND_18_20),  # last day aged 20
        (date(2029, 6, 15), AgeBand.BAND_21_25),
        (date(2033, 6, 14), AgeBand.BAND_21_25),  # last day aged 24
        (date(2033, 6, 15), AgeBand.OVER_25),  # the 25th birthday: support has ended
    ],
)
def test_age_band_edges(day: date, band: AgeBand) -> None:
    assert age_band(date(2008, 6, 15), day) is band


def test_age_band_of_a_leap_day_birthday_moves_on_1_march() -> None:
    dob = date(2008, 2, 29)
    assert age_band(dob, date(2026, 2, 28)) is AgeBand.BAND_16_17
    assert age_band(dob, date(2026, 3, 1)) is AgeBand.BAND_18_20
    assert age_band(dob, date(2029, 2, 28)) is AgeBand.BAND_18_20
    assert age_band(dob, date(2029, 3, 1)) is AgeBand.BAND_21_25


def test_age_band_labels_are_the_reporting_bands() -> None:
    assert [b.value for b in AgeBand] == ["under 16", "16-17", "18-20", "21-25", "25 and over"]


def _user(role: str = "pa", limit: int = 2500, *, active: bool = True) -> User:
    return User(login="sam", display_name="Sam Test", role=role, payment_limit_pence=limit, active=active)


GAS = PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000)


def test_within_both_limits_needs_no_manager() -> None:
    check = check_authorisation(_user(limit=2500), GAS, 2500)
    assert not check.needs_manager
    assert check.reasons == ()


def test_over_own_limit_needs_a_manager_and_says_why() -> None:
    check = check_authorisation(_user(limit=2500), GAS, 2501)
    assert check.needs_manager
    assert check.reasons == ("£25.01 is over Sam Test's authorisation limit of £25.00",)


def test_over_the_category_limit_needs_a_manager_whoever_records_it() -> None:
    check = check_authorisation(_user(role="duty_manager", limit=20000), GAS, 4001)
    assert check.needs_manager
    assert check.reasons == ("£40.01 is over the Gas top-up limit of £40.00",)


def test_over_both_limits_gives_both_reasons() -> None:
    check = check_authorisation(_user(limit=2500), GAS, 5000)
    assert check.needs_manager
    assert len(check.reasons) == 2
    assert "Gas top-up limit" in check.reasons[0]
    assert "authorisation limit" in check.reasons[1]


def test_category_limit_exactly_is_allowed() -> None:
    assert not check_authorisation(_user(limit=10000), GAS, 4000).needs_manager


def test_a_duty_manager_may_approve_up_to_their_limit() -> None:
    manager = _user(role="duty_manager", limit=20000)
    assert can_approve(manager, 20000) == (True, "")
    ok, why = can_approve(manager, 20001)
    assert not ok
    assert why == "£200.01 is over Sam Test's limit of £200.00"


@pytest.mark.parametrize("role", [Role.PA, Role.ADVANCED_PA, Role.ADMIN])
def test_only_the_roles_the_rules_name_approve(role: Role) -> None:
    ok, why = can_approve(_user(role=role.value, limit=1_000_000), 100)
    assert not ok
    assert why == f"Sam Test may not authorise payments ({role.label.lower()})"


def test_an_inactive_manager_cannot_approve() -> None:
    ok, why = can_approve(_user(role="duty_manager", limit=20000, active=False), 100)
    assert not ok
    assert why == "Sam Test is not an active user"
