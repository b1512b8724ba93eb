"""The local offer's eligibility (issue 11, item 3): age up to the birthday it ends at, legal
status, education, employment or training, being a parent; once, yearly or whenever needed;
and what a young person has had, from gifts and from payments in the entitlement's category."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from hubdesk.domain.circumstances import Circumstances, Eet
from hubdesk.domain.local_offer import EXAMPLE_OFFER, Entitlement, How, OfferGiven, check
from hubdesk.domain.models import PaymentCategory, Person
from hubdesk.store import local_offer

DAY = date(2026, 11, 25)
OFFER = {e.code: e for e in EXAMPLE_OFFER}


def _person(age_days: int, **kw) -> Person:
    return Person(first_name="Testy", date_of_birth=DAY - timedelta(days=age_days), hub_code="DEW", **kw)


def test_free_prescriptions_end_the_day_before_the_25th_birthday() -> None:
    prescriptions = OFFER["prescriptions"]
    on_birthday = Person(first_name="Testy", date_of_birth=date(2001, 11, 25), hub_code="DEW")
    day_before = Person(first_name="Testy", date_of_birth=date(2001, 11, 26), hub_code="DEW")
    assert not check(prescriptions, on_birthday, DAY).eligible
    assert check(prescriptions, on_birthday, DAY).why_not == "up to the 25th birthday"
    assert check(prescriptions, day_before, DAY).eligible


def test_legal_status_eet_and_parenthood_decide() -> None:
    qualifying = _person(20 * 365, legal_status="qualifying")
    leaver = _person(20 * 365, legal_status="former_relevant")
    assert not check(OFFER["setting-up-home"], qualifying, DAY).eligible
    assert check(OFFER["setting-up-home"], leaver, DAY).eligible
    assert check(OFFER["setting-up-home"], _person(20 * 365), DAY).why_not == "legal status not recorded"
    neet = _person(20 * 365, circumstances=Circumstances(eet=Eet(status="neet", neet_reason="illness")))
    working = _person(20 * 365, circumstances=Circumstances(eet=Eet(status="employment")))
    assert not check(OFFER["driving-lessons"], neet, DAY).eligible
    assert check(OFFER["driving-lessons"], working, DAY).eligible
    assert not check(OFFER["parent-grant"], leaver, DAY).eligible
    assert check(OFFER["parent-grant"], _person(20 * 365, young_parent=True), DAY).eligible
    assert check(OFFER["parent-grant"], _person(20 * 365, circumstances=Circumstances(children=1)), DAY).eligible
    assert not check(OFFER["bus-pass"], _person(15 * 365), DAY).eligible


def test_once_yearly_and_any_time() -> None:
    leaver = _person(20 * 365, legal_status="former_relevant")
    assert not check(OFFER["setting-up-home"], leaver, DAY, had_on=DAY - timedelta(days=900)).again
    assert not check(OFFER["bus-pass"], leaver, DAY, had_on=DAY - timedelta(days=100)).again
    assert check(OFFER["bus-pass"], leaver, DAY, had_on=DAY - timedelta(days=365)).again
    assert check(OFFER["prescriptions"], leaver, DAY, had_on=DAY).again
    assert OFFER["prescriptions"].how is How.ANY


def test_bad_reference_data_and_an_empty_gift_are_refused() -> None:
    with pytest.raises(ValueError, match="not after"):
        Entitlement(code="x", name="X", min_age=20, until_age=18)
    with pytest.raises(ValueError, match="a note"):
        OfferGiven(
            person_id="p",
            hub_code="DEW",
            person_hub="DEW",
            entitlement="bus-pass",
            recorded_by="sam",
            recorded_at="2026-11-25T10:00:00+00:00",
        )


def test_had_counts_gifts_and_payments_in_the_category_not_reversed(store, person) -> None:
    reference = store.reference()
    store.set_reference(
        reference.model_copy(
            update={
                "local_offer": EXAMPLE_OFFER,
                "payment_categories": (
                    *reference.payment_categories,
                    PaymentCategory(code="birthday-grant", name="Birthday grant", limit_pence=2500),
                    PaymentCategory(code="festive-grant", name="Festive grant", limit_pence=2500),
                ),
            }
        )
    )
    today = store.clock().astimezone(ZoneInfo("Europe/London")).date()  # a hub day is England's
    local_offer.give(store, person.id, "gym-pass", "Gym at the leisure centre")
    store.record_payment(person_id=person.id, category="birthday-grant", amount_pence=2000, method="cash", reason="B")
    wrong = store.record_payment(
        person_id=person.id, category="festive-grant", amount_pence=2000, method="cash", reason="F"
    )
    store.reverse_payment(wrong.id, "Wrong young person")
    assert local_offer.had(store, person.id) == {"gym-pass": today, "birthday-grant": today}
    line = local_offer.summary_line(store, person.id, today)
    assert line is not None and line.startswith("Local offer: entitled to")
    assert "had 2" in line
