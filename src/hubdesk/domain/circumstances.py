"""A young person's circumstances: accommodation, EET, pathway plan, immigration, health and
children, what is out of date about them, and the parsers the caseload CSV and the desk's
form share (one word list for both, so a CSV cell and a typed answer mean the same).

These are the facts the council's reports and its inspectors ask about (DOMAIN.md, "What
the service must know about each young person"). They travel inside the person record,
so they are versioned and synced with it: an edit against an old version is a conflict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hubdesk.domain.errors import field_errors
from hubdesk.domain.text import invalid

_EARLIEST = date(1990, 1, 1)
_LATEST = date(2100, 1, 1)
PLAN_REVIEW_MONTHS = 6  # "reviewed at a minimum of every 6 months"
MAX_CHILDREN = 20


class CircumstanceError(ValueError):
    """A cell or a typed answer that is not a circumstance: the message is shown as it is."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, hide_input_in_errors=True)

    def __repr_args__(self):  # type: ignore[override]
        # Circumstances are personal data: nothing of them in a repr, a log or a traceback.
        return iter(())


def _sane_day(value: date) -> date:
    if not _EARLIEST <= value < _LATEST:
        raise invalid("Must be a date between 1990 and 2099")
    return value


Day = Annotated[date, AfterValidator(_sane_day)]


def _language(value: str) -> str:
    if len(value) > 40:
        raise invalid("Language is too long (at most 40 characters)")
    if not re.fullmatch(r"[^\W\d_]+(?:[ '()/,-][^\W\d_]*)*", value):
        raise invalid("Language must be letters, like Tigrinya or Kurdish (Sorani)")
    return value


Language = Annotated[str, BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v), AfterValidator(_language)]


# --- vocabularies -----------------------------------------------------------------------------


class AccommodationType(StrEnum):
    STAYING_PUT = "staying_put"
    SUPPORTED_LODGINGS = "supported_lodgings"
    SEMI_INDEPENDENT = "semi_independent"
    INDEPENDENT_TENANCY = "independent_tenancy"
    WITH_FAMILY = "with_family"
    CUSTODY = "custody"
    BED_AND_BREAKFAST = "bed_and_breakfast"
    EMERGENCY = "emergency"
    NO_FIXED_ABODE = "no_fixed_abode"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _ACCOMMODATION_LABELS[self]

    @property
    def never_suitable(self) -> bool:
        """Statutory guidance: bed and breakfast "is not considered to be suitable"; custody
        and no fixed abode are counted unsuitable too (the DfE's care leaver return does)."""
        return self in (
            AccommodationType.BED_AND_BREAKFAST,
            AccommodationType.CUSTODY,
            AccommodationType.NO_FIXED_ABODE,
        )


_ACCOMMODATION_LABELS = {
    AccommodationType.STAYING_PUT: "Staying put (former foster carers)",
    AccommodationType.SUPPORTED_LODGINGS: "Supported lodgings",
    AccommodationType.SEMI_INDEPENDENT: "Semi-independent",
    AccommodationType.INDEPENDENT_TENANCY: "Independent tenancy",
    AccommodationType.WITH_FAMILY: "With family",
    AccommodationType.CUSTODY: "Custody",
    AccommodationType.BED_AND_BREAKFAST: "Bed and breakfast",
    AccommodationType.EMERGENCY: "Emergency or crisis accommodation",
    AccommodationType.NO_FIXED_ABODE: "No fixed abode",
    AccommodationType.OTHER: "Other",
}


class EetStatus(StrEnum):
    EDUCATION = "education"
    TRAINING = "training"
    EMPLOYMENT = "employment"
    NEET = "neet"

    @property
    def label(self) -> str:
        return {"education": "In education", "training": "In training", "employment": "In employment"}.get(
            self.value, "NEET"
        )

    @property
    def engaged(self) -> bool:
        """Counted as "engaged in education, training or employment"."""
        return self is not EetStatus.NEET


class NeetReason(StrEnum):
    ILLNESS = "illness"
    DISABILITY = "disability"
    PREGNANCY_OR_PARENTING = "pregnancy_or_parenting"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "illness": "Illness",
            "disability": "Disability",
            "pregnancy_or_parenting": "Pregnancy or parenting",
            "other": "Other reason",
        }[self.value]


class ImmigrationStatus(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    LEAVE_TO_REMAIN = "leave_to_remain"
    APPEAL = "appeal"
    APPEAL_RIGHTS_EXHAUSTED = "appeal_rights_exhausted"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "awaiting_decision": "Awaiting Home Office decision",
            "leave_to_remain": "Leave to remain",
            "appeal": "Appeal",
            "appeal_rights_exhausted": "Appeal rights exhausted",
            "other": "Other",
        }[self.value]


class PreferredContact(StrEnum):
    PHONE = "phone"
    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return {
            "phone": "Phone call",
            "text": "Text or message",
            "email": "Email",
            "letter": "Letter",
            "in_person": "In person",
        }[self.value]


# --- the records ------------------------------------------------------------------------------


class Accommodation(_Record):
    kind: AccommodationType
    suitable: bool | None = None  # None: suitability not recorded
    since: Day | None = None

    @model_validator(mode="before")
    @classmethod
    def _fixed_suitability(cls, data: object) -> object:
        # Where the guidance fixes it, an unsaid suitability is the guidance's answer.
        if isinstance(data, dict) and data.get("suitable") is None:
            try:
                if AccommodationType(data.get("kind")).never_suitable:
                    data = {**data, "suitable": False}
            except ValueError:
                pass
        return data

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.kind.never_suitable and self.suitable:
            raise invalid(f"{self.kind.label} is never counted as suitable accommodation")
        return self


class Eet(_Record):
    """Education, employment or training; NEET with its reason."""

    status: EetStatus
    neet_reason: NeetReason | None = None
    since: Day | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.status is EetStatus.NEET and self.neet_reason is None:
            raise invalid("NEET needs a reason: illness, disability, pregnancy or parenting, or other")
        if self.status is not EetStatus.NEET and self.neet_reason is not None:
            raise invalid("A NEET reason is only for someone not in education, employment or training")
        return self


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it is shorter (31 Aug + 6 -> 28 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class PathwayPlan(_Record):
    """The pathway plan, reviewed at least every six months: the next review is due by then."""

    last_review: Day
    next_due: Day | None = None

    @model_validator(mode="after")
    def _due(self) -> Self:
        latest = add_months(self.last_review, PLAN_REVIEW_MONTHS)
        if latest >= _LATEST:
            # Its next review would fall after 2099: no date the record can hold.
            raise invalid("Must be a date between 1990 and 2099")
        if self.next_due is None:
            self.__dict__["next_due"] = latest  # frozen: set once, while validating
        elif self.next_due < self.last_review:
            raise invalid("The next review is due before the last one")
        elif self.next_due > latest:
            raise invalid(
                f"A plan is reviewed at least every {PLAN_REVIEW_MONTHS} months: next due by {day_text(latest)}"
            )
        return self

    @property
    def due(self) -> date:
        assert self.next_due is not None
        return self.next_due

    def overdue(self, today: date) -> bool:
        return self.due < today


class Immigration(_Record):
    """For separated young people (who came as unaccompanied asylum-seeking children)."""

    status: ImmigrationStatus
    since: Day | None = None


class Circumstances(_Record):
    """What the service must know about a young person, kept inside their person record."""

    accommodation: Accommodation | None = None
    eet: Eet | None = None
    pathway_plan: PathwayPlan | None = None
    immigration: Immigration | None = None
    interpreter_language: Language | None = None
    health_passport_given: Day | None = None
    children: Annotated[int, Field(strict=True)] | None = None  # a young parent's children: a number, never names
    extended_support: bool = False  # supported past the 25th birthday (e.g. education)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.children is not None and not 0 <= self.children <= MAX_CHILDREN:
            raise invalid(f"Children must be a number from 0 to {MAX_CHILDREN}")
        return self

    @property
    def empty(self) -> bool:
        return self == Circumstances()


# --- what is out of date ----------------------------------------------------------------------


class Flag(StrEnum):
    PLAN_OVERDUE = "plan_overdue"
    NO_PLAN = "no_plan"
    ACCOMMODATION_UNSUITABLE = "accommodation_unsuitable"
    ACCOMMODATION_NOT_RECORDED = "accommodation_not_recorded"
    NEET = "neet"

    @property
    def label(self) -> str:
        return {
            "plan_overdue": "Pathway plan overdue",
            "no_plan": "No pathway plan",
            "accommodation_unsuitable": "Accommodation unsuitable",
            "accommodation_not_recorded": "Accommodation not recorded",
            "neet": "NEET",
        }[self.value]


def flags(circumstances: Circumstances, today: date) -> list[Flag]:
    """What the person screen marks as needing attention, most pressing first."""
    found: list[Flag] = []
    acc = circumstances.accommodation
    if acc is not None and acc.suitable is False:
        found.append(Flag.ACCOMMODATION_UNSUITABLE)
    plan = circumstances.pathway_plan
    if plan is None:
        found.append(Flag.NO_PLAN)
    elif plan.overdue(today):
        found.append(Flag.PLAN_OVERDUE)
    if circumstances.eet is not None and circumstances.eet.status is EetStatus.NEET:
        found.append(Flag.NEET)
    if acc is None or acc.suitable is None:
        found.append(Flag.ACCOMMODATION_NOT_RECORDED)
    return found


def plan_state(circumstances: Circumstances, today: date) -> str:
    """'in date', 'overdue' or 'none', the words of the service's pathway plan figures."""
    plan = circumstances.pathway_plan
    if plan is None:
        return "none"
    return "overdue" if plan.overdue(today) else "in date"


def suitability(circumstances: Circumstances) -> str:
    """'suitable', 'unsuitable' or 'not recorded', the words of the 2022 figures."""
    acc = circumstances.accommodation
    if acc is None or acc.suitable is None:
        return "not recorded"
    return "suitable" if acc.suitable else "unsuitable"


# --- parsers: a CSV cell or a typed answer -> a value -----------------------------------------

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9&+]+", " ", text.strip().lower()).strip()


def _words(enum: type[StrEnum], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    words: dict[str, str] = {}
    for member in enum:
        words[_key(member.value)] = member.value
        words[_key(getattr(member, "label", member.value))] = member.value
    for k, v in (extra or {}).items():
        words[_key(k)] = v
    return words


_ACCOMMODATION_WORDS = _words(
    AccommodationType,
    {
        "staying put": "staying_put",
        "former foster carers": "staying_put",
        "with former foster carers": "staying_put",
        "b&b": "bed_and_breakfast",
        "b and b": "bed_and_breakfast",
        "bnb": "bed_and_breakfast",
        "emergency accommodation": "emergency",
        "crisis": "emergency",
        "crisis accommodation": "emergency",
        "emergency or crisis": "emergency",
        "nfa": "no_fixed_abode",
        "homeless": "no_fixed_abode",
        "prison": "custody",
        "young offender institution": "custody",
        "yoi": "custody",
        "tenancy": "independent_tenancy",
        "independent": "independent_tenancy",
        "family": "with_family",
        "semi independent": "semi_independent",
        "lodgings": "supported_lodgings",
    },
)
_EET_WORDS = _words(
    EetStatus,
    {
        "in education": "education",
        "in training": "training",
        "in employment": "employment",
        "employed": "employment",
        "apprenticeship": "training",
        "not in education employment or training": "neet",
    },
)
_NEET_WORDS = _words(
    NeetReason,
    {
        "pregnancy": "pregnancy_or_parenting",
        "parenting": "pregnancy_or_parenting",
        "ill health": "illness",
        "sickness": "illness",
        "disabled": "disability",
    },
)
_IMMIGRATION_WORDS = _words(
    ImmigrationStatus,
    {
        "awaiting decision": "awaiting_decision",
        "awaiting home office decision": "awaiting_decision",
        "ltr": "leave_to_remain",
        "refugee status": "leave_to_remain",
        "are": "appeal_rights_exhausted",
        "appealing": "appeal",
    },
)
_PREFERRED_WORDS = _words(
    PreferredContact,
    {"call": "phone", "sms": "text", "message": "text", "whatsapp": "text", "post": "letter"},
)
_YES = {"yes", "y", "true", "1", "suitable"}
_NO = {"no", "n", "false", "0", "unsuitable", "not suitable"}
_FREQUENCIES = {
    "weekly": 7,
    "every week": 7,
    "fortnightly": 14,
    "every two weeks": 14,
    "monthly": 28,
    "every month": 28,
    "every 4 weeks": 28,
    "every 6 weeks": 42,
    "every 8 weeks": 56,
}


def _choice(text: str, words: Mapping[str, str], what: str, enum: type[StrEnum]) -> StrEnum | None:
    if not isinstance(text, str):
        raise CircumstanceError(f"{what} must be text")
    key = _key(text)
    if not key:
        return None
    if key in words:
        return enum(words[key])
    choices = ", ".join(getattr(m, "label", m.value) for m in enum)
    raise CircumstanceError(f"{what} must be one of: {choices}")


def parse_accommodation_type(text: str) -> AccommodationType | None:
    return _choice(text, _ACCOMMODATION_WORDS, "Accommodation", AccommodationType)  # type: ignore[return-value]


def parse_eet_status(text: str) -> EetStatus | None:
    return _choice(text, _EET_WORDS, "Education, employment or training", EetStatus)  # type: ignore[return-value]


def parse_neet_reason(text: str) -> NeetReason | None:
    return _choice(text, _NEET_WORDS, "NEET reason", NeetReason)  # type: ignore[return-value]


def parse_immigration_status(text: str) -> ImmigrationStatus | None:
    return _choice(text, _IMMIGRATION_WORDS, "Immigration status", ImmigrationStatus)  # type: ignore[return-value]


def parse_preferred_contact(text: str) -> PreferredContact | None:
    return _choice(text, _PREFERRED_WORDS, "Preferred contact", PreferredContact)  # type: ignore[return-value]


def parse_yes_no(text: str, what: str = "This") -> bool | None:
    """'yes' / 'no' (and y/n, true/false, 1/0); blank is not recorded (None)."""
    if not isinstance(text, str):
        raise CircumstanceError(f"{what} must be yes or no")
    key = _key(text)
    if not key:
        return None
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CircumstanceError(f"{what} must be yes or no")


def parse_date(text: str, what: str = "Date") -> date | None:
    """'27 Nov 2026', '27/11/2026' or '2026-11-27' (the caseload's form); blank is None."""
    if not isinstance(text, str):
        raise CircumstanceError(f"{what} must be a date like 27 Nov 2026")
    t = text.strip().lower().replace(",", " ")
    if not t:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", t)
    if m:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", t)
        if m:
            day, month, year = int(m[1]), int(m[2]), int(m[3])
        else:
            m = re.fullmatch(r"(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{4})", t)
            if not m or m[2] not in _MONTHS:
                raise CircumstanceError(f"{what} must be a date like 27 Nov 2026")
            day, month, year = int(m[1]), _MONTHS.index(m[2]) + 1, int(m[3])
    try:
        found = date(year, month, day)
    except ValueError:
        raise CircumstanceError(f"{what}: that date does not exist") from None
    if not _EARLIEST <= found < _LATEST:
        raise CircumstanceError(f"{what} must be between 1990 and 2099")
    return found


def parse_count(text: str, what: str = "Children", most: int = MAX_CHILDREN) -> int | None:
    if not isinstance(text, str):
        raise CircumstanceError(f"{what} must be a whole number")
    t = text.strip()
    if not t:
        return None
    if not re.fullmatch(r"\d{1,3}", t):
        raise CircumstanceError(f"{what} must be a whole number from 0 to {most}")
    n = int(t)
    if n > most:
        raise CircumstanceError(f"{what} must be a whole number from 0 to {most}")
    return n


def parse_frequency(text: str) -> int | None:
    """How often to be in touch, in days: '7', 'weekly', 'every 14 days', 'fortnightly'."""
    if not isinstance(text, str):
        raise CircumstanceError("Contact frequency must be a number of days, or weekly, fortnightly, monthly")
    key = _key(text)
    if not key:
        return None
    if key in _FREQUENCIES:
        return _FREQUENCIES[key]
    m = re.fullmatch(r"(?:every )?(\d{1,3})(?: days?)?", key)
    if m and 1 <= int(m[1]) <= 366:
        return int(m[1])
    m = re.fullmatch(r"(?:every )?(\d{1,2}) weeks?", key)
    if m and 1 <= int(m[1]) <= 52:
        return 7 * int(m[1])
    raise CircumstanceError("Contact frequency must be 1 to 366 days, or weekly, fortnightly, monthly")


def frequency_text(days: int | None) -> str:
    if days is None:
        return "not set (the band's default)"
    for word, n in (("weekly", 7), ("fortnightly", 14)):
        if days == n:
            return word
    if days % 7 == 0:
        return f"every {days // 7} weeks"
    return f"every {days} days"


def day_text(day: date) -> str:
    """27 Nov 2026: the one way the desk writes a date."""
    return f"{day.day} {day:%b %Y}"


# --- the caseload CSV's circumstance columns ---------------------------------------------------

CSV_COLUMNS = (
    "phone",
    "email",
    "address",
    "preferred_contact",
    "accommodation",
    "accommodation_suitable",
    "accommodation_since",
    "eet",
    "neet_reason",
    "eet_since",
    "plan_last_review",
    "plan_next_due",
    "immigration_status",
    "interpreter_language",
    "health_passport_given",
    "children",
    "contact_every",
    "extended_support",
)
# The columns beyond contact details, each group one subject of the record.
_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("accommodation", ("accommodation", "accommodation_suitable", "accommodation_since")),
    ("eet", ("eet", "neet_reason", "eet_since")),
    ("pathway_plan", ("plan_last_review", "plan_next_due")),
    ("immigration", ("immigration_status",)),
    ("interpreter_language", ("interpreter_language",)),
    ("health_passport_given", ("health_passport_given",)),
    ("children", ("children",)),
    ("extended_support", ("extended_support",)),
)
CIRCUMSTANCE_COLUMNS = ("preferred_contact", *(c for _, cols in _GROUPS for c in cols), "contact_every")


def caseload_fields(cells: Mapping[str, str]) -> dict[str, object]:
    """The person fields the circumstance columns present in a caseload row give: only the
    subjects whose columns the file has (a blank subject clears it), so a file that carries
    accommodation alone leaves a desk's record of EET alone. Keys: 'circumstances' (a
    partial dict), 'contact' ({'preferred': ...}) and 'expected_contact_days'.

    Raises CircumstanceError as 'column: what is wrong', in plain words (never the cell)."""

    def cell(name: str) -> str:
        value = cells.get(name)
        return "" if value is None else str(value)

    def read(column: str, parser, *args):
        try:
            return parser(cell(column), *args)
        except CircumstanceError as exc:
            raise CircumstanceError(f"{column}: {exc}") from None

    def check(column: str, model: type[BaseModel], data: dict[str, object]) -> dict[str, object]:
        try:
            return model.model_validate(data).model_dump(mode="json")
        except ValidationError as exc:
            raise CircumstanceError(f"{column}: {next(iter(field_errors(exc).values()))}") from None

    present = {name for name in cells if name in CIRCUMSTANCE_COLUMNS}
    out: dict[str, object] = {}
    found: dict[str, object] = {}
    if "preferred_contact" in present:
        preferred = read("preferred_contact", parse_preferred_contact)
        out["contact"] = {"preferred": preferred.value if preferred else None}
    if "contact_every" in present:
        out["expected_contact_days"] = read("contact_every", parse_frequency)
    for subject, columns in _GROUPS:
        if not present.intersection(columns):
            continue
        if subject == "accommodation":
            kind = read("accommodation", parse_accommodation_type)
            suitable = read("accommodation_suitable", parse_yes_no, "Suitable")
            since = read("accommodation_since", parse_date, "Since")
            if kind is None and (suitable is not None or since is not None):
                raise CircumstanceError("accommodation: give the type of accommodation too")
            found[subject] = kind and check(
                "accommodation", Accommodation, {"kind": kind, "suitable": suitable, "since": since}
            )
        elif subject == "eet":
            status = read("eet", parse_eet_status)
            reason = read("neet_reason", parse_neet_reason)
            since = read("eet_since", parse_date, "Since")
            if status is None and (reason is not None or since is not None):
                raise CircumstanceError("eet: give education, training, employment or NEET too")
            found[subject] = status and check("eet", Eet, {"status": status, "neet_reason": reason, "since": since})
        elif subject == "pathway_plan":
            last = read("plan_last_review", parse_date, "Last review")
            due = read("plan_next_due", parse_date, "Next due")
            if last is None and due is not None:
                raise CircumstanceError("plan_last_review: give the last review date too")
            found[subject] = last and check("plan_next_due", PathwayPlan, {"last_review": last, "next_due": due})
        elif subject == "immigration":
            status = read("immigration_status", parse_immigration_status)
            found[subject] = status and check("immigration_status", Immigration, {"status": status})
        elif subject == "interpreter_language":
            language = cell("interpreter_language").strip() or None
            found[subject] = (
                language
                and check("interpreter_language", Circumstances, {"interpreter_language": language})[
                    "interpreter_language"
                ]
            )
        elif subject == "health_passport_given":
            given = read("health_passport_given", parse_date, "Health passport given")
            found[subject] = given.isoformat() if given else None
        elif subject == "children":
            found[subject] = read("children", parse_count)
        else:
            found[subject] = bool(read("extended_support", parse_yes_no, "Extended support"))
    if found:
        out["circumstances"] = found
    return out


def row_cells(contact: Mapping[str, object], circumstances: Circumstances, every: int | None) -> dict[str, str]:
    """The circumstance columns of one caseload row, written (what caseload_fields reads back)."""
    c = circumstances

    def d(day: date | None) -> str:
        return day.isoformat() if day else ""

    acc, eet, plan = c.accommodation, c.eet, c.pathway_plan
    preferred = contact.get("preferred")
    return {
        "phone": str(contact.get("phone") or ""),
        "email": str(contact.get("email") or ""),
        "address": str(contact.get("address") or ""),
        "preferred_contact": str(preferred or ""),
        "accommodation": acc.kind.value if acc else "",
        "accommodation_suitable": "" if acc is None or acc.suitable is None else ("yes" if acc.suitable else "no"),
        "accommodation_since": d(acc.since) if acc else "",
        "eet": eet.status.value if eet else "",
        "neet_reason": eet.neet_reason.value if eet and eet.neet_reason else "",
        "eet_since": d(eet.since) if eet else "",
        "plan_last_review": d(plan.last_review) if plan else "",
        "plan_next_due": d(plan.next_due) if plan else "",
        "immigration_status": c.immigration.status.value if c.immigration else "",
        "interpreter_language": c.interpreter_language or "",
        "health_passport_given": d(c.health_passport_given),
        "children": "" if c.children is None else str(c.children),
        "contact_every": "" if every is None else str(every),
        "extended_support": "yes" if c.extended_support else "",
    }
