"""Rules of the service as pure functions: ages, age bands, who may authorise what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hubdesk.domain.enums import Role
from hubdesk.domain.models import PaymentCategory, User
from hubdesk.domain.money import format_pence


class AgeBand(StrEnum):
    UNDER_16 = "under 16"
    BAND_16_17 = "16-17"
    BAND_18_20 = "18-20"
    BAND_21_25 = "21-25"
    OVER_25 = "over 25"


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years on `day`; a 29 February birthday counts from 1 March in other years."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def age_band(date_of_birth: date, day: date) -> AgeBand:
    """The reporting band (16-17, 18-20, 21-25) on `day`."""
    age = age_on(date_of_birth, day)
    if age < 16:
        return AgeBand.UNDER_16
    if age <= 17:
        return AgeBand.BAND_16_17
    if age <= 20:
        return AgeBand.BAND_18_20
    if age <= 25:
        return AgeBand.BAND_21_25
    return AgeBand.OVER_25


APPROVER_ROLES = frozenset({Role.DUTY_MANAGER})


@dataclass(frozen=True)
class AuthorisationCheck:
    """Whether a payment needs a duty manager, and why, in the user's words."""

    needs_manager: bool
    reasons: tuple[str, ...]


def check_authorisation(user: User, category: PaymentCategory, amount_pence: int) -> AuthorisationCheck:
    reasons: list[str] = []
    if amount_pence > category.limit_pence:
        reasons.append(
            f"{format_pence(amount_pence)} is over the {category.name} limit of {format_pence(category.limit_pence)}"
        )
    if amount_pence > user.payment_limit_pence:
        reasons.append(
            f"{format_pence(amount_pence)} is over {user.display_name}'s authorisation limit of "
            f"{format_pence(user.payment_limit_pence)}"
        )
    return AuthorisationCheck(bool(reasons), tuple(reasons))


def can_approve(manager: User, amount_pence: int) -> tuple[bool, str]:
    """May `manager` approve this amount? (ok, reason-if-not)."""
    if not manager.active:
        return False, f"{manager.display_name} is not an active user"
    if manager.role not in APPROVER_ROLES:
        return False, f"{manager.display_name} is not a duty manager"
    if amount_pence > manager.payment_limit_pence:
        return False, (
            f"{format_pence(amount_pence)} is over {manager.display_name}'s limit of "
            f"{format_pence(manager.payment_limit_pence)}"
        )
    return True, ""


# "In touch" is the figure the service reports: seen, or spoken to by phone or video.
# A text or message is a contact, but not being in touch.
SPOKEN_CONTACT_TYPES = ("phone", "video")
