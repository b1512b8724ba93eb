"""The service's own rules, as reference data a council sets: when support ends, the age
bands it reports by, how often a young person should be in touch by default, and which
roles may authorise a payment, up to what.

None of these is fixed in law or in the council's papers (DOMAIN.md): the 2022 report
used the bands 16-17, 18-20 and 21+, the 2026 report quotes 18 and 19-22; "individually
needs led" contact has no fixed frequency; nothing fixes who authorises a payment. The
defaults here are a clearly marked example; the central record sends each council's own.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubdesk.domain.enums import LegalStatus, Role
from hubdesk.domain.money import MAX_PENCE, format_pence
from hubdesk.domain.text import ShortText, invalid

SUPPORT_ENDS_AT = 25  # the 25th birthday, unless flagged for extended support


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True)


class BandDef(_Rule):
    """An age band the service reports by: ages low to high inclusive (high None: and over)."""

    label: ShortText
    low: Annotated[int, Field(ge=0, le=99)]
    high: Annotated[int, Field(ge=0, le=99)] | None = None
    in_touch_days: Annotated[int, Field(ge=1, le=366)] = 56
    """How often someone in this band should be in touch where their own frequency is not set."""

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.high is not None and self.high < self.low:
            raise invalid(f"Age band {self.label}: it ends before it starts")
        return self

    @property
    def value(self) -> str:
        return self.label

    def holds(self, age: int) -> bool:
        return self.low <= age and (self.high is None or age <= self.high)


class RoleAuthority(_Rule):
    """What a role may authorise: payments up to limit_pence (the user's own limit applies too)."""

    role: Role
    may_authorise: bool = False
    limit_pence: Annotated[int, Field(ge=0, le=MAX_PENCE)] = 0


BANDS_2022 = (
    BandDef(label="16-17", low=16, high=17, in_touch_days=28),
    BandDef(label="18-20", low=18, high=20, in_touch_days=56),
    BandDef(label="21-25", low=21, high=None, in_touch_days=56),
)
BANDS_2026 = (
    BandDef(label="18", low=18, high=18, in_touch_days=56),
    BandDef(label="19-22", low=19, high=22, in_touch_days=56),
)
DEFAULT_AUTHORITIES = (
    RoleAuthority(role=Role.PA),
    RoleAuthority(role=Role.ADVANCED_PA),
    RoleAuthority(role=Role.DUTY_MANAGER, may_authorise=True, limit_pence=MAX_PENCE),
    RoleAuthority(role=Role.TEAM_LEADER, may_authorise=True, limit_pence=MAX_PENCE),
    RoleAuthority(role=Role.SERVICE_MANAGER, may_authorise=True, limit_pence=MAX_PENCE),
    RoleAuthority(role=Role.ADMIN),
)


class ServiceRules(_Rule):
    """A council's rules of the service (reference data; the defaults are an example)."""

    support_ends_at: Annotated[int, Field(ge=18, le=30)] = SUPPORT_ENDS_AT
    age_bands: tuple[BandDef, ...] = BANDS_2022
    default_in_touch_days: Annotated[int, Field(ge=1, le=366)] = 56
    """For someone in no band and with no frequency of their own."""
    authorities: tuple[RoleAuthority, ...] = DEFAULT_AUTHORITIES
    example: bool = True

    @model_validator(mode="after")
    def _rules(self) -> Self:
        labels = [b.label for b in self.age_bands]
        if len(set(labels)) != len(labels):
            raise invalid("Two age bands have the same name")
        ordered = sorted(self.age_bands, key=lambda b: b.low)
        for a, b in pairwise(ordered):
            if a.high is None or a.high >= b.low:
                raise invalid(f"Age bands {a.label} and {b.label} overlap")
        roles = [a.role for a in self.authorities]
        if len(set(roles)) != len(roles):
            raise invalid("A role is listed twice in who may authorise")
        return self

    # --- who is in the service's figures --------------------------------------------------

    def in_service(self, age: int, *, extended_support: bool = False) -> bool:
        """16 up to the support-ending birthday (the 25th), or beyond it when flagged."""
        return age >= 16 and (age < self.support_ends_at or extended_support)

    def band(self, age: int) -> BandDef | None:
        return next((b for b in self.age_bands if b.holds(age)), None)

    def in_touch_days(self, band: BandDef | None, own: int | None) -> int:
        """Their own needs-led frequency where set, else their band's default."""
        if own is not None:
            return own
        return band.in_touch_days if band is not None else self.default_in_touch_days

    # --- who may authorise ---------------------------------------------------------------

    def authority(self, role: Role | str) -> RoleAuthority:
        role = Role(role)
        return next((a for a in self.authorities if a.role is role), RoleAuthority(role=role))

    @property
    def approver_roles(self) -> frozenset[Role]:
        return frozenset(a.role for a in self.authorities if a.may_authorise)

    def approval_refusal(self, role: Role | str, amount_pence: int) -> str | None:
        """Why this role may not authorise this amount, or None (the user's limit is apart)."""
        authority = self.authority(role)
        if not authority.may_authorise:
            return f"a {Role(role).label.lower()} may not authorise payments"
        if amount_pence > authority.limit_pence:
            return (
                f"{format_pence(amount_pence)} is over what a {Role(role).label.lower()} may authorise "
                f"({format_pence(authority.limit_pence)})"
            )
        return None


DEFAULT_RULES = ServiceRules()


def counted_apart(legal_status: LegalStatus | str | None, allocated_pa: str | None) -> bool:
    """Qualifying young people without an allocated PA are counted apart from PA cases."""
    return legal_status == LegalStatus.QUALIFYING and not allocated_pa


def age_on(date_of_birth: date, day: date) -> int:
    years = day.year - date_of_birth.year
    if (day.month, day.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years
