"""The records of duty work: people, contacts, payments, sessions and reference data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hubdesk.domain.circumstances import Circumstances, PreferredContact
from hubdesk.domain.enums import (
    AlertKind,
    AttendanceKind,
    ContactType,
    LegalStatus,
    MadeBy,
    PaymentMethod,
    PaymentStatus,
    ReceiptKind,
    Role,
)
from hubdesk.domain.ids import uuid7
from hubdesk.domain.local_offer import Entitlement
from hubdesk.domain.money import MAX_PENCE, format_pence
from hubdesk.domain.service_rules import ServiceRules
from hubdesk.domain.text import (
    CaseId,
    Code,
    HubCode,
    Login,
    Name,
    Note,
    OptionalNote,
    ShortText,
    invalid,
)

Pence = Annotated[int, Field(strict=True)]
_EARLIEST_DOB = date(1950, 1, 1)
_EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST_TIME = datetime(2100, 1, 1, tzinfo=UTC)


def _sane_time(value: datetime) -> datetime:
    # A time near year 1 or 9999 cannot even be turned into UTC or England's time
    # (OverflowError when saving or showing it); anything outside this century is a slip.
    if not _EARLIEST_TIME <= value < _LATEST_TIME:
        raise invalid("Must be a date and time between 2000 and 2099")
    return value


When = Annotated[AwareDatetime, AfterValidator(_sane_time)]


class Record(BaseModel):
    """Base of every domain record: frozen, strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True)

    def __repr_args__(self):  # type: ignore[override]
        # Personal data never reaches a repr, a log line or a traceback: ids only.
        for name in ("id", "contact_id", "version", "code", "login", "receipt_no"):
            if name in type(self).model_fields:
                yield name, getattr(self, name)


def _positive_pence(value: int, what: str = "Amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{what} must be a whole number of pence")
    if value <= 0:
        raise invalid(f"{what} must be more than £0.00")
    if value > MAX_PENCE:
        raise invalid(f"{what} must be no more than {format_pence(MAX_PENCE)}")
    return value


# --- reference data -------------------------------------------------------------------


class Hub(Record):
    code: HubCode
    name: ShortText


class User(Record):
    login: Login
    display_name: Name
    role: Role
    hub_code: HubCode | None = None
    payment_limit_pence: int = 0
    active: bool = True

    @field_validator("payment_limit_pence")
    @classmethod
    def _limit(cls, value: int) -> int:
        if value < 0 or value > MAX_PENCE:
            raise invalid("Authorisation limit must be between £0.00 and £10,000.00")
        return value


class SessionType(Record):
    code: Code
    name: ShortText
    active: bool = True


class ContactPurpose(Record):
    code: Code
    name: ShortText
    active: bool = True


class PaymentCategory(Record):
    code: Code
    name: ShortText
    limit_pence: int
    active: bool = True

    @field_validator("limit_pence")
    @classmethod
    def _limit(cls, value: int) -> int:
        return _positive_pence(value, "Category limit")


class ReferenceData(Record):
    """What a device pulls from the central record; the demo ships a marked example."""

    hubs: tuple[Hub, ...] = ()
    session_types: tuple[SessionType, ...] = ()
    contact_purposes: tuple[ContactPurpose, ...] = ()
    payment_categories: tuple[PaymentCategory, ...] = ()
    service_rules: ServiceRules = ServiceRules()
    local_offer: tuple[Entitlement, ...] = ()
    example: bool = False


# --- people ---------------------------------------------------------------------------


class Alert(Record):
    kind: AlertKind
    text: ShortText


class ContactDetails(Record):
    phone: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=120)] = ""
    address: OptionalNote = ""
    preferred: PreferredContact | None = None


class Person(Record):
    """A care leaver, or a walk-in not yet known to the service."""

    id: str = Field(default_factory=uuid7)
    case_id: CaseId | None = None
    first_name: Name
    last_name: Name | None = None
    preferred_name: Name | None = None
    date_of_birth: date | None = None
    approx_age: int | None = None
    legal_status: LegalStatus | None = None
    allocated_pa: Login | None = None
    hub_code: HubCode
    uasc: bool = False
    young_parent: bool = False
    staying_put: bool = False
    custody: bool = False
    alerts: tuple[Alert, ...] = ()
    contact: ContactDetails = ContactDetails()
    circumstances: Circumstances = Circumstances()
    expected_contact_days: int | None = None
    walk_in: bool = False
    needs_matching: bool = False
    version: int = 1

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, value: date | None) -> date | None:
        if value is not None and value < _EARLIEST_DOB:
            raise invalid("Date of birth looks wrong: before 1950")
        return value

    @field_validator("approx_age")
    @classmethod
    def _approx_age(cls, value: int | None) -> int | None:
        if value is not None and not 10 <= value <= 40:
            raise invalid("Approximate age must be between 10 and 40")
        return value

    @field_validator("expected_contact_days")
    @classmethod
    def _interval(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= 366:
            raise invalid("Expected contact must be every 1 to 366 days")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: int) -> int:
        if value < 1:
            raise invalid("Version must be 1 or more")
        return value

    @model_validator(mode="after")
    def _known_or_walk_in(self) -> Self:
        if not self.walk_in and self.date_of_birth is None:
            raise invalid("Date of birth is needed for someone in the caseload")
        if self.walk_in and self.date_of_birth is None and self.approx_age is None:
            raise invalid("A walk-in needs a date of birth or an approximate age")
        return self

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}" if self.last_name else first


# --- contacts -------------------------------------------------------------------------


class Action(Record):
    text: ShortText
    owner: ShortText
    due: date | None = None


class Safeguarding(Record):
    """A safeguarding concern: what was done, and when the manager was told."""

    action_taken: Note
    manager_informed_at: When
    manager: Name | None = None
    follow_up_by: date | None = None


class Contact(Record):
    """Any recorded conversation with a care leaver; a drop-in visit has sign-in/out.

    Never updated in place: an amendment (a sign-out included) is a new version with
    the same contact_id and `amends` naming the version it replaces.
    """

    id: str = Field(default_factory=uuid7)
    contact_id: str = ""
    version: int = 1
    amends: str | None = None
    person_id: str
    hub_code: HubCode
    contact_type: ContactType
    made_by: MadeBy = MadeBy.DUTY_PA
    made_by_name: Name | None = None
    recorded_by: Login
    started_at: When
    ended_at: When | None = None
    recorded_at: When
    seen: bool
    purposes: tuple[Code, ...]
    summary: Note
    voice: OptionalNote = ""
    actions: tuple[Action, ...] = ()
    tell_allocated_pa: bool = False
    safeguarding_concern: bool = False
    safeguarding: Safeguarding | None = None
    amend_reason: OptionalNote = ""

    @model_validator(mode="before")
    @classmethod
    def _default_contact_id(cls, data: object) -> object:
        if isinstance(data, dict) and not data.get("contact_id"):
            data = dict(data)
            data.setdefault("id", uuid7())
            data["contact_id"] = data["id"]
        return data

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise invalid("Pick at least one purpose")
        if len(set(value)) != len(value):
            raise invalid("A purpose is listed twice")
        return value

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise invalid("The end time is before the start time")
        if self.contact_type in (ContactType.DROP_IN, ContactType.HOME_VISIT) and not self.seen:
            raise invalid("A drop-in visit or home visit means the young person was seen")
        if self.safeguarding_concern and self.safeguarding is None:
            raise invalid("A safeguarding concern needs the action taken and when the manager was told")
        if not self.safeguarding_concern and self.safeguarding is not None:
            raise invalid("Safeguarding details given but no concern ticked")
        if self.version > 1 and not self.amends:
            raise invalid("An amendment must name the version it replaces")
        return self

    @property
    def is_visit(self) -> bool:
        return self.contact_type is ContactType.DROP_IN

    @property
    def in_building(self) -> bool:
        return self.is_visit and self.ended_at is None


# --- payments -------------------------------------------------------------------------


class EmergencyPayment(Record):
    """Emergency or practical financial support. Never edited: put right by a Reversal."""

    id: str = Field(default_factory=uuid7)
    receipt_no: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,8}-\d{1,4}-\d{6,}$")]
    person_id: str
    hub_code: HubCode
    category: Code
    amount_pence: int
    method: PaymentMethod
    voucher_serial: Annotated[str, Field(max_length=40)] | None = None
    reason: Note
    voice: OptionalNote = ""
    recorded_by: Login
    recorded_at: When
    status: PaymentStatus
    authorised_by: Login | None = None
    authorised_at: When | None = None
    receipt: ReceiptKind = ReceiptKind.SIGNED
    corrects: str | None = None

    @field_validator("amount_pence", mode="before")
    @classmethod
    def _amount(cls, value: object) -> int:
        return _positive_pence(value)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.method.needs_serial and not (self.voucher_serial or "").strip():
            raise invalid("A voucher needs its serial number")
        if not self.method.needs_serial and self.voucher_serial:
            raise invalid("Only vouchers have a serial number")
        if self.status is PaymentStatus.APPROVED and not self.authorised_by:
            raise invalid("An approved payment names who authorised it")
        if self.status is PaymentStatus.AWAITING_APPROVAL and self.authorised_by:
            raise invalid("A payment awaiting approval has no authoriser yet")
        return self


class PaymentDecision(Record):
    """A later decision on a payment that was saved awaiting approval."""

    id: str = Field(default_factory=uuid7)
    payment_id: str
    decision: PaymentStatus
    decided_by: Login
    decided_at: When
    reason: OptionalNote = ""

    @field_validator("decision")
    @classmethod
    def _decision(cls, value: PaymentStatus) -> PaymentStatus:
        if value is PaymentStatus.AWAITING_APPROVAL:
            raise invalid("A decision approves or declines")
        return value


class Reversal(Record):
    """Puts right a saved payment; points at it and says why."""

    id: str = Field(default_factory=uuid7)
    payment_id: str
    hub_code: HubCode
    reason: Note
    recorded_by: Login
    recorded_at: When


# --- drop-in sessions -----------------------------------------------------------------


class DropInSession(Record):
    id: str = Field(default_factory=uuid7)
    hub_code: HubCode
    session_type: Code
    starts_at: When
    ends_at: When | None = None
    staff: tuple[Login, ...] = ()
    partners: tuple[ShortText, ...] = ()
    opened_by: Login
    closed_at: When | None = None
    note: OptionalNote = ""
    version: int = 1

    @model_validator(mode="after")
    def _times(self) -> Self:
        if self.ends_at is not None and self.ends_at < self.starts_at:
            raise invalid("The session ends before it starts")
        return self


class Attendance(Record):
    """A line of a session's register: a person, a walk-in, or children brought along.

    Never updated in place: a correction (a children count, or someone added by mistake,
    `removed`) is a new version whose `amends` names the line it replaces.
    """

    id: str = Field(default_factory=uuid7)
    session_id: str
    kind: AttendanceKind
    person_id: str | None = None
    children: int = 0
    recorded_by: Login
    recorded_at: When
    version: int = 1
    amends: str | None = None
    removed: bool = False
    amend_reason: OptionalNote = ""

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.kind is AttendanceKind.CHILDREN:
            if not 1 <= self.children <= 50:
                raise invalid("Children present must be between 1 and 50")
        elif not self.person_id:
            raise invalid("Attendance names the person who came")
        if self.version < 1:
            raise invalid("Version must be 1 or more")
        if self.version > 1 and not self.amends:
            raise invalid("A correction must name the version it replaces")
        if self.removed and not self.amends:
            raise invalid("Only a correction takes a line off the register")
        return self


@dataclass(frozen=True)
class HeadCount:
    """Who came to a session, each kind said apart: children are not people known to us."""

    known: int = 0
    walk_ins: int = 0
    children: int = 0

    def __str__(self) -> str:
        return ", ".join(self._parts(every=True))

    def parts(self) -> list[str]:
        """Each kind that came, on its own ("4 known", "5 children"); none if nobody came."""
        return self._parts(every=False)

    def _parts(self, every: bool) -> list[str]:
        parts = [
            (self.known, f"{self.known} known"),
            (self.walk_ins, f"{self.walk_ins} walk-in" + ("" if self.walk_ins == 1 else "s")),
            (self.children, f"{self.children} " + ("child" if self.children == 1 else "children")),
        ]
        return [text for n, text in parts if every or n]


def head_count(register: Iterable[Attendance]) -> HeadCount:
    """The head count of a register as it stands (lines taken off are not counted)."""
    known = walk_ins = children = 0
    for line in register:
        if line.removed:
            continue
        if line.kind is AttendanceKind.CHILDREN:
            children += line.children
        elif line.kind is AttendanceKind.WALK_IN:
            walk_ins += 1
        else:
            known += 1
    return HeadCount(known, walk_ins, children)


def when(dt: datetime) -> str:
    """How people in England write a time: 23 Nov 2026, 14:05 (local time)."""
    from zoneinfo import ZoneInfo

    local = dt.astimezone(ZoneInfo("Europe/London"))
    return f"{local.day} {local:%b %Y, %H:%M}"
