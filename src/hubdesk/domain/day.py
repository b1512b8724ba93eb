"""Closing a hub day: the petty cash float, voucher stock, handover notes and the closure itself.

Every record here is an event: saved once, never edited. A recount is a new FloatCount
that names the count it replaces; a mistake in a note is put right by a later note.
Money is integer pence throughout.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import PaymentCategory, Record, User, When
from hubdesk.domain.money import MAX_PENCE, format_pence
from hubdesk.domain.rules import check_authorisation
from hubdesk.domain.text import HubCode, Login, Note, OptionalNote, invalid

# Sterling notes and coins in pence, largest first: what a float count is made of.
DENOMINATIONS: tuple[int, ...] = (5000, 2000, 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1)
MAX_FLOAT_PENCE = 10 * MAX_PENCE  # a typo guard for a whole float, far above any petty cash
_EARLIEST_DAY = date(2000, 1, 1)
_LATEST_DAY = date(2099, 12, 31)


def denomination_label(pence: int) -> str:
    """5000 -> '£50', 50 -> '50p'."""
    return f"£{pence // 100}" if pence >= 100 else f"{pence}p"


def _hub_day(value: date) -> date:
    if not _EARLIEST_DAY <= value <= _LATEST_DAY:
        raise invalid("The day must be between 2000 and 2099")
    return value


def _whole_pence(value: object, what: str, *, allow_zero: bool, limit: int = MAX_FLOAT_PENCE) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{what} must be a whole number of pence")
    if value < 0 or (value == 0 and not allow_zero):
        raise invalid(f"{what} must be more than £0.00" if not allow_zero else f"{what} must not be negative")
    if value > limit:
        raise invalid(f"{what} must be no more than {format_pence(limit)}")
    return value


class FloatEventKind(StrEnum):
    OPENING = "opening"
    TOP_UP = "top_up"
    BANKED = "banked"

    @property
    def label(self) -> str:
        return {"opening": "Opening balance", "top_up": "Top-up", "banked": "Taken out (banked)"}[self.value]


class _DayRecord(Record):
    """A record that belongs to one hub and one local (England) day."""

    hub_code: HubCode
    day: date

    @field_validator("day")
    @classmethod
    def _day(cls, value: date) -> date:
        return _hub_day(value)


class CashFloatEvent(_DayRecord):
    """Money into or out of a hub's petty cash float, other than payments to young people."""

    id: str = Field(default_factory=uuid7)
    kind: FloatEventKind
    amount_pence: int
    note: OptionalNote = ""
    recorded_by: Login
    recorded_at: When

    @field_validator("amount_pence", mode="before")
    @classmethod
    def _amount(cls, value: object) -> int:
        return _whole_pence(value, "Amount", allow_zero=True)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.kind is not FloatEventKind.OPENING and self.amount_pence == 0:
            raise invalid(f"{self.kind.label} must be more than £0.00")
        return self


class DenominationCount(Record):
    """How many of one note or coin were counted."""

    pence: int
    count: int

    @field_validator("pence")
    @classmethod
    def _pence(cls, value: int) -> int:
        if value not in DENOMINATIONS:
            raise invalid("Not a sterling note or coin")
        return value

    @field_validator("count")
    @classmethod
    def _count(cls, value: int) -> int:
        if not 0 <= value <= 100_000:
            raise invalid("A count of notes or coins must be between 0 and 100,000")
        return value

    @property
    def total_pence(self) -> int:
        return self.pence * self.count


class FloatCount(_DayRecord):
    """The float counted at the end of the day, by denomination or as a total.

    expected_pence is what the store worked out at the time of the count (opening plus
    top-ups less banked and cash paid out); any difference needs a reason.
    """

    id: str = Field(default_factory=uuid7)
    denominations: tuple[DenominationCount, ...] = ()
    total_pence: int
    expected_pence: int
    reason: OptionalNote = ""
    counted_by: Login
    counted_at: When
    recounts: str | None = None

    @field_validator("total_pence", mode="before")
    @classmethod
    def _total(cls, value: object) -> int:
        return _whole_pence(value, "Counted total", allow_zero=True)

    @field_validator("expected_pence", mode="before")
    @classmethod
    def _expected(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid("Expected balance must be a whole number of pence")
        if abs(value) > MAX_FLOAT_PENCE:
            raise invalid("Expected balance is out of range")
        return value

    @field_validator("denominations")
    @classmethod
    def _denominations(cls, value: tuple[DenominationCount, ...]) -> tuple[DenominationCount, ...]:
        seen = [d.pence for d in value]
        if len(set(seen)) != len(seen):
            raise invalid("A note or coin is counted twice")
        return tuple(sorted(value, key=lambda d: -d.pence))

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.denominations:
            counted = sum(d.total_pence for d in self.denominations)
            if counted != self.total_pence:
                raise invalid(
                    f"The notes and coins add up to {format_pence(counted)}, not {format_pence(self.total_pence)}"
                )
        if self.difference_pence and not self.reason:
            raise invalid(
                f"The count is {describe_difference(self.difference_pence)}: give a reason for the difference"
            )
        return self

    @property
    def difference_pence(self) -> int:
        """Counted less expected: negative is a shortfall, positive an overage."""
        return self.total_pence - self.expected_pence

    @classmethod
    def from_denominations(cls, counts: dict[int, int], **fields: object) -> FloatCount:
        """Build a count from {pence: how many}; the total is their sum."""
        items = tuple(DenominationCount(pence=p, count=n) for p, n in counts.items() if n)
        total = sum(d.total_pence for d in items)
        return cls(denominations=items, total_pence=total, **fields)  # type: ignore[arg-type]


def describe_difference(difference_pence: int) -> str:
    """-250 -> '£2.50 short'; 100 -> '£1.00 over'; 0 -> 'exact'."""
    if difference_pence == 0:
        return "exact"
    if difference_pence < 0:
        return f"{format_pence(-difference_pence)} short"
    return f"{format_pence(difference_pence)} over"


def why_awaiting(amount_pence: int, recorder: User | None, category: PaymentCategory | None) -> tuple[str, ...]:
    """Why a payment saved awaiting approval needs a duty manager, in the words the payment
    form used (over the PA's own limit, over the category's). Limits are configuration and
    can change after a payment is saved: if today's no longer explain it, say that instead
    of nothing."""
    if recorder is None or category is None:
        missing = "the category" if recorder is not None else "the user who recorded it"
        return (f"It was saved awaiting approval; {missing} is not known on this desk to say why",)
    check = check_authorisation(recorder, category, amount_pence)
    if check.needs_manager:
        return check.reasons
    return (
        f"It was saved awaiting approval; {format_pence(amount_pence)} is within {recorder.display_name}'s limit "
        f"of {format_pence(recorder.payment_limit_pence)} and the {category.name} limit of "
        f"{format_pence(category.limit_pence)} now, so a limit may have changed since",
    )


class VoucherStockKind(StrEnum):
    RECEIVED = "received"
    RETURNED = "returned"
    COUNTED = "counted"

    @property
    def label(self) -> str:
        return {"received": "Received", "returned": "Sent back", "counted": "Counted in stock"}[self.value]


_SERIAL_PREFIX = r"^[A-Z]{0,6}$"


class VoucherStockEvent(_DayRecord):
    """A serial range of vouchers received, sent back, or counted in stock at the end of a day.

    A serial is a letter prefix and a number (V100234); a range is inclusive.
    """

    id: str = Field(default_factory=uuid7)
    kind: VoucherStockKind
    prefix: Annotated[str, Field(pattern=_SERIAL_PREFIX)] = ""
    first_no: int
    last_no: int
    note: OptionalNote = ""
    recorded_by: Login
    recorded_at: When

    @field_validator("prefix", mode="before")
    @classmethod
    def _prefix(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _range(self) -> Self:
        if not 0 <= self.first_no <= 999_999_999_999 or not 0 <= self.last_no <= 999_999_999_999:
            raise invalid("A voucher number must be between 0 and 999,999,999,999")
        if self.last_no < self.first_no:
            raise invalid("The last serial number is before the first")
        if self.last_no - self.first_no >= 100_000:
            raise invalid("A voucher range must be fewer than 100,000 vouchers")
        return self

    @property
    def size(self) -> int:
        return self.last_no - self.first_no + 1

    def holds(self, serial: str) -> bool:
        parsed = parse_serial(serial)
        return parsed is not None and parsed[0] == self.prefix and self.first_no <= parsed[1] <= self.last_no


def parse_serial(serial: str) -> tuple[str, int] | None:
    """'V100234' -> ('V', 100234); None if it is not a prefix and a number."""
    text = serial.strip().upper()
    digits = len(text) - len(text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    prefix, number = text[:digits], text[digits:]
    if not number.isdigit() or len(prefix) > 6 or len(number) > 12:
        return None
    return prefix, int(number)


class HandoverNote(_DayRecord):
    """From one duty to the next at a hub: shown on the next unlock there."""

    id: str = Field(default_factory=uuid7)
    text: Note
    written_by: Login
    written_at: When


class PaymentCarryOver(_DayRecord):
    """A payment still awaiting approval at the end of the day, carried to the next with a reason."""

    id: str = Field(default_factory=uuid7)
    payment_id: str
    reason: Note
    recorded_by: Login
    recorded_at: When


class DayClosure(_DayRecord):
    """The day is closed at this hub: float counted, nothing left open, handed over."""

    id: str = Field(default_factory=uuid7)
    closed_by: Login
    closed_at: When
    float_count_id: str | None = None
    contacts: int = 0
    payments_net_pence: int = 0
    note: OptionalNote = ""
