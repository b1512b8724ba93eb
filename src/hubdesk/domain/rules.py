"""Rules of the service as pure functions: ages, age bands, who may authorise what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hubdesk.domain.enums import Role
from hubdesk.domain.models import PaymentCategory, User
from hubdesk.domain.money import format_pence
from hubdesk.domain.service_rules import DEFAULT_RULES, SUPPORT_ENDS_AT, ServiceRules


class AgeBand(StrEnum):
    """The 2022 reporting bands; support ends at the 25th birthday, so 21-25 is 21 to 24
    and a 25-year-old is out of the service's figures (service_rules has the bands a
    council sets for itself)."""

    UNDER_16 = "under 16"
    BAND_16_17 = "16-17"
    BAND_18_20 = "18-20"
    BAND_21_25 = "21-25"
    OVER_25 = "25 and over"


def age_on(date_of_birth: date, day: date) -> int:
    """Whole years on `day`; a 29 February birthday counts from 1 March in other years."""
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def age_band(date_of_birth: date, day: date) -> AgeBand:
    """The reporting band (16-17, 18-20, 21-25) on `day`: from the 25th birthday, none."""
    age = age_on(date_of_birth, day)
    if age < 16:
        return AgeBand.UNDER_16
    if age <= 17:
        return AgeBand.BAND_16_17
    if age <= 20:
        return AgeBand.BAND_18_20
    if age < SUPPORT_ENDS_AT:
        return AgeBand.BAND_21_25
    return AgeBand.OVER_25


# The roles the example rules let authorise; a council's own come in its reference data.
APPROVER_ROLES = DEFAULT_RULES.approver_roles


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


def can_approve(manager: User, amount_pence: int, rules: ServiceRules = DEFAULT_RULES) -> tuple[bool, str]:
    """May `manager` approve this amount? (ok, reason-if-not). Their role must be one the
    service's rules let authorise, up to the role's limit, and the amount within their own."""
    if not manager.active:
        return False, f"{manager.display_name} is not an active user"
    if manager.role not in rules.approver_roles:
        return False, f"{manager.display_name} may not authorise payments ({Role(manager.role).label.lower()})"
    why = rules.approval_refusal(manager.role, amount_pence)
    if why:
        return False, f"{manager.display_name}: {why}"
    if amount_pence > manager.payment_limit_pence:
        return False, (
            f"{format_pence(amount_pence)} is over {manager.display_name}'s limit of "
            f"{format_pence(manager.payment_limit_pence)}"
        )
    return True, ""


# "In touch" is the figure the service reports: seen, or spoken to by phone or video.
# A text or message is a contact, but not being in touch.
SPOKEN_CONTACT_TYPES = ("phone", "video")
