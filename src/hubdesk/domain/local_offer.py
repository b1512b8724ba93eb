"""The local offer: what a care leaver is entitled to, who is eligible, and what they have had.

Entitlements are reference data a council sets (the central record sends them); EXAMPLE_OFFER
is a clearly marked example set drawn from what DOMAIN.md names (setting-up-home allowance,
bus and gym passes, council tax help, free prescriptions to 25, driving lessons, birthday
and festive grants), not any council's policy. Eligibility is by age, legal status, education,
employment or training, and being a parent. Giving one is an `OfferGiven` event, with the
payment it was given by where it was money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hubdesk.domain.ids import uuid7
from hubdesk.domain.text import Code, HubCode, Login, OptionalNote, ShortText, invalid


class How(StrEnum):
    """How often it may be had: once ever, once a year, or whenever it is needed."""

    ONCE = "once"
    YEARLY = "yearly"
    ANY = "any"


class _Offer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True)


class Entitlement(_Offer):
    code: Code
    name: ShortText
    min_age: Annotated[int, Field(ge=0, le=30)] = 16
    until_age: Annotated[int, Field(ge=1, le=30)] = 25
    """Up to this birthday (25: "to 25", the day before the 25th birthday)."""
    legal_statuses: tuple[str, ...] = ()
    """Empty: any legal status."""
    eet: tuple[str, ...] = ()
    """Empty: whatever their education, employment or training; else one of these statuses."""
    parents_only: bool = False
    payment_category: Code | None = None
    """Given as an emergency payment of this category (else given with a note)."""
    how: How = How.ONCE
    note: OptionalNote = ""
    active: bool = True

    @model_validator(mode="after")
    def _ages(self) -> Self:
        if self.until_age <= self.min_age:
            raise invalid(f"{self.name}: the age it ends is not after the age it starts")
        return self


LEAVERS = ("eligible", "relevant", "former_relevant", "former_relevant_education")
WORKING = ("education", "training", "employment")

EXAMPLE_OFFER: tuple[Entitlement, ...] = (
    Entitlement(
        code="setting-up-home",
        name="Setting-up-home allowance",
        min_age=17,
        legal_statuses=LEAVERS,
        payment_category="setting-up-home",
        note="Example: £2,000 recommended nationally, paid as items or vouchers",
    ),
    Entitlement(code="bus-pass", name="Bus pass", how=How.YEARLY),
    Entitlement(code="gym-pass", name="Gym pass", how=How.YEARLY),
    Entitlement(
        code="council-tax",
        name="Council tax exemption",
        min_age=18,
        legal_statuses=LEAVERS,
        note="Example: for their own tenancy in the council's area",
    ),
    Entitlement(code="prescriptions", name="Free prescriptions to 25", how=How.ANY),
    Entitlement(
        code="driving-lessons",
        name="Driving lessons",
        min_age=17,
        eet=WORKING,
        note="Example: while in education, employment or training",
    ),
    Entitlement(code="birthday-grant", name="Birthday grant", payment_category="birthday-grant", how=How.YEARLY),
    Entitlement(code="festive-grant", name="Festive grant", payment_category="festive-grant", how=How.YEARLY),
    Entitlement(code="parent-grant", name="Young parent's baby grant", parents_only=True, how=How.ONCE),
)


@dataclass(frozen=True)
class Eligibility:
    entitlement: Entitlement
    eligible: bool
    why_not: str
    had_on: date | None
    """When they last had it (None: never)."""
    again: bool
    """Eligible and may have it now (once: never had; yearly: not in the last year)."""


def _age(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def check(entitlement: Entitlement, person: Any, day: date, had_on: date | None = None) -> Eligibility:
    """Whether `person` (a Person) is entitled to it on `day`, and may have it now."""
    e = entitlement
    why = ""
    age = _age(person.date_of_birth, day) if person.date_of_birth else person.approx_age
    circumstances = getattr(person, "circumstances", None)
    eet = circumstances.eet.status.value if circumstances is not None and circumstances.eet else None
    parent = bool(person.young_parent or (circumstances is not None and (circumstances.children or 0) > 0))
    status = person.legal_status.value if person.legal_status else None
    if age is None or age < e.min_age:
        why = f"from age {e.min_age}"
    elif age >= e.until_age:
        why = f"up to the {e.until_age}th birthday"
    elif e.legal_statuses and status not in e.legal_statuses:
        why = "not for their legal status" if status else "legal status not recorded"
    elif e.eet and eet not in e.eet:
        why = "while in education, employment or training"
    elif e.parents_only and not parent:
        why = "for young parents"
    eligible = not why
    if e.how is How.ONCE:
        again = eligible and had_on is None
    elif e.how is How.YEARLY:
        again = eligible and (had_on is None or (day - had_on).days >= 365)
    else:
        again = eligible
    return Eligibility(e, eligible, why, had_on, again)


class OfferGiven(_Offer):
    """A young person was given one of the local offer (an event, never edited)."""

    id: str = Field(default_factory=uuid7)
    person_id: str
    hub_code: HubCode
    person_hub: HubCode
    entitlement: Code
    note: OptionalNote = ""
    payment_id: str | None = None
    recorded_by: Login
    recorded_at: AwareDatetime

    @model_validator(mode="after")
    def _given(self) -> Self:
        if not self.note.strip() and not self.payment_id:
            raise invalid("Say what was given (a note), or give it as a payment")
        return self
