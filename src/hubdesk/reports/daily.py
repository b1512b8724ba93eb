"""The day's summary for a hub: contacts, visits, sessions, payments, safeguarding and the float.

A hub day runs from midnight to midnight in England (Store.day_bounds). Only the current
version of each contact counts. Rendered as Markdown, CSV or a printable HTML page; every
piece of text a person typed is escaped for the format it goes into.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hubdesk.domain.day import DayClosure, describe_difference
from hubdesk.domain.enums import AttendanceKind, ContactType, PaymentMethod
from hubdesk.domain.models import Contact, Person
from hubdesk.domain.money import format_pence
from hubdesk.domain.rules import AgeBand, age_band
from hubdesk.domain.spreadsheet import csv_text
from hubdesk.store import day as day_store
from hubdesk.store.day import FloatReconciliation, VoucherReconciliation
from hubdesk.store.errors import NotFound
from hubdesk.store.store import Store

LONDON = ZoneInfo("Europe/London")
REPORTED_BANDS = (AgeBand.BAND_16_17, AgeBand.BAND_18_20, AgeBand.BAND_21_25)
UNKNOWN_AGE = "age not known"
FORMATS = ("md", "csv", "html")


@dataclass(frozen=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True)
class HourLine:
    """One hour of the day (local time): visits starting in it, and visitors in the building."""

    hour: int
    arrivals: int
    present: int

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00-{(self.hour + 1) % 24:02d}:00"


@dataclass(frozen=True)
class SessionLine:
    name: str
    starts: str
    ends: str
    people: int
    walk_ins: int
    children: int
    staff: tuple[str, ...]
    partners: tuple[str, ...]

    @property
    def attendance(self) -> int:
        return self.people + self.walk_ins


@dataclass
class PaymentGroup:
    """Payments of one kind: paid (approved), reversed, and what remains (net)."""

    label: str
    count: int = 0
    gross_pence: int = 0
    reversed_count: int = 0
    reversed_pence: int = 0

    @property
    def net_pence(self) -> int:
        return self.gross_pence - self.reversed_pence

    @property
    def net_count(self) -> int:
        return self.count - self.reversed_count


@dataclass(frozen=True)
class SafeguardingLine:
    """A concern raised: no names on the summary, only when and what was done."""

    time: str
    contact_type: str
    manager_informed: str
    follow_up_by: str


@dataclass(frozen=True)
class LateReversal:
    receipt_no: str
    paid_on: date
    amount_pence: int


@dataclass
class DeskLine:
    """What one of the hub's desks recorded on the day (this desk's own first)."""

    desk: str
    contacts: int = 0
    payments: int = 0


@dataclass
class DailySummary:
    hub_code: str
    hub_name: str
    day: date
    made_at: datetime
    example_reference: bool
    contacts: int = 0
    by_type: list[Count] = field(default_factory=list)
    by_purpose: list[Count] = field(default_factory=list)
    by_age_band: list[Count] = field(default_factory=list)
    seen: int = 0
    not_seen: int = 0
    recorded_later: int = 0
    visits: int = 0
    visitors: int = 0
    still_signed_in: int = 0
    hours: list[HourLine] = field(default_factory=list)
    sessions: list[SessionLine] = field(default_factory=list)
    payments_by_category: list[PaymentGroup] = field(default_factory=list)
    payments_by_method: list[PaymentGroup] = field(default_factory=list)
    payments_total: PaymentGroup = field(default_factory=lambda: PaymentGroup("All payments"))
    awaiting: PaymentGroup = field(default_factory=lambda: PaymentGroup("Awaiting approval"))
    declined: PaymentGroup = field(default_factory=lambda: PaymentGroup("Declined"))
    reversed_receipts: list[str] = field(default_factory=list)
    late_reversals: list[LateReversal] = field(default_factory=list)
    safeguarding: list[SafeguardingLine] = field(default_factory=list)
    cash_float: FloatReconciliation | None = None
    vouchers: VoucherReconciliation | None = None
    closure: DayClosure | None = None
    service_figures: list[tuple[str, list[str], list[list[str]], str]] = field(default_factory=list)
    """The service's figures for this hub at the end of the day (reports.hub_figures)."""
    desks: list[DeskLine] = field(default_factory=list)
    """Which of the hub's desks recorded the day's contacts and payments (pulled ones say)."""

    @property
    def busiest(self) -> list[HourLine]:
        top = max((h.present for h in self.hours), default=0)
        return [h for h in self.hours if top and h.present == top]

    @property
    def session_attendance(self) -> tuple[int, int, int]:
        return (
            sum(s.people for s in self.sessions),
            sum(s.walk_ins for s in self.sessions),
            sum(s.children for s in self.sessions),
        )


# --- working it out --------------------------------------------------------------------


def band_of(person: Person | None, day: date) -> str:
    """The reporting band on the day: by date of birth, else a walk-in's approximate age."""
    if person is None:
        return UNKNOWN_AGE
    if person.date_of_birth is not None:
        return age_band(person.date_of_birth, day).value
    if person.approx_age is not None:
        return _band_for_age(person.approx_age).value
    return UNKNOWN_AGE


def _band_for_age(age: int) -> AgeBand:
    for band, low, high in (
        (AgeBand.UNDER_16, 0, 15),
        (AgeBand.BAND_16_17, 16, 17),
        (AgeBand.BAND_18_20, 18, 20),
        (AgeBand.BAND_21_25, 21, 24),  # support ends at the 25th birthday
    ):
        if low <= age <= high:
            return band
    return AgeBand.OVER_25


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LONDON)


def _hm(moment: datetime | None) -> str:
    return _local(moment).strftime("%H:%M") if moment else ""


def daily_summary(store: Store, hub_code: str, day: date, *, now: datetime | None = None) -> DailySummary:
    """Everything on the day's summary for a hub, worked out from the store."""
    hub_code = hub_code.strip().upper()
    reference = store.reference(include_retired=True)
    hubs = {h.code: h.name for h in reference.hubs}
    if hub_code not in hubs and hub_code != store.hub_code:
        raise NotFound(f"No hub with the code {hub_code} on this desk")
    start, end = store.day_bounds(day)
    summary = DailySummary(
        hub_code=hub_code,
        hub_name=hubs.get(hub_code, hub_code),
        day=day,
        made_at=now or store.clock(),
        example_reference=reference.example,
    )
    contacts = store.contacts_between(hub_code, start, end)
    _contacts(store, summary, contacts, reference)
    _sessions(store, summary, hub_code, start, end, {t.code: t.name for t in reference.session_types})
    paid = day_store.day_payments(store, hub_code, day)
    _payments(store, summary, hub_code, day, paid, {c.code: c.name for c in reference.payment_categories})
    summary.cash_float = day_store.reconcile_float(store, hub_code, day)
    summary.vouchers = day_store.reconcile_vouchers(store, hub_code, day)
    summary.closure = day_store.day_closure(store, hub_code, day)
    summary.desks = _desks(store, contacts, [line.payment for line in paid])
    from hubdesk.reports.hub_figures import hub_sections

    summary.service_figures = hub_sections(store, hub_code, day)
    return summary


def _contacts(store: Store, summary: DailySummary, contacts: list[Contact], reference) -> None:
    day = summary.day
    people = {p.id: p for p in store.people(sorted({c.person_id for c in contacts}))}
    summary.contacts = len(contacts)
    types = Counter(c.contact_type for c in contacts)
    summary.by_type = [Count(t.label, types[t]) for t in ContactType]
    purposes = Counter(code for c in contacts for code in c.purposes)
    names = {p.code: p.name for p in reference.contact_purposes}
    summary.by_purpose = [
        Count(names[code], purposes[code])
        for code in names
        if purposes[code] or any(p.code == code and p.active for p in reference.contact_purposes)
    ]
    summary.by_purpose += [Count(code, n) for code, n in sorted(purposes.items()) if code not in names]
    bands = Counter(band_of(people.get(c.person_id), day) for c in contacts)
    summary.by_age_band = [Count(b.value, bands[b.value]) for b in REPORTED_BANDS]
    summary.by_age_band += [
        Count(label, bands[label])
        for label in (AgeBand.UNDER_16.value, AgeBand.OVER_25.value, UNKNOWN_AGE)
        if bands[label]
    ]
    summary.seen = sum(1 for c in contacts if c.seen)
    summary.not_seen = summary.contacts - summary.seen
    summary.recorded_later = sum(1 for c in contacts if _local(c.recorded_at).date() > _local(c.started_at).date())
    visits = [c for c in contacts if c.contact_type is ContactType.DROP_IN]
    summary.visits = len(visits)
    summary.visitors = len({c.person_id for c in visits})
    summary.still_signed_in = sum(1 for c in visits if c.ended_at is None)
    arrivals: Counter[int] = Counter()
    present: Counter[int] = Counter()
    for visit in visits:
        first = _local(visit.started_at)
        arrivals[first.hour] += 1
        last = _local(visit.ended_at) if visit.ended_at else first
        if last.date() > day:  # stayed past midnight: count to the end of this day
            last = datetime(day.year, day.month, day.day, 23, 59, tzinfo=LONDON)
        for hour in range(first.hour, last.hour + 1):
            present[hour] += 1
    if present:
        summary.hours = [HourLine(h, arrivals[h], present[h]) for h in range(min(present), max(present) + 1)]
    for c in contacts:
        if c.safeguarding_concern and c.safeguarding is not None:
            s = c.safeguarding
            informed = _local(s.manager_informed_at)
            informed_text = (
                informed.strftime("%H:%M") if informed.date() == day else (f"{informed.day} {informed:%b %H:%M}")
            )
            summary.safeguarding.append(
                SafeguardingLine(
                    time=_hm(c.started_at),
                    contact_type=c.contact_type.label,
                    manager_informed=informed_text,
                    follow_up_by=f"{s.follow_up_by.day} {s.follow_up_by:%b %Y}" if s.follow_up_by else "",
                )
            )


def _sessions(
    store: Store, summary: DailySummary, hub_code: str, start: datetime, end: datetime, names: dict[str, str]
) -> None:
    for session in store.sessions_between(hub_code, start, end):
        register = store.attendance(session.id)
        summary.sessions.append(
            SessionLine(
                name=names.get(session.session_type, session.session_type),
                starts=_hm(session.starts_at),
                ends=_hm(session.ends_at or session.closed_at),
                people=sum(1 for a in register if a.kind is AttendanceKind.PERSON),
                walk_ins=sum(1 for a in register if a.kind is AttendanceKind.WALK_IN),
                children=sum(a.children for a in register if a.kind is AttendanceKind.CHILDREN),
                staff=session.staff,
                partners=session.partners,
            )
        )


THIS_DESK = "This desk"


def _desks(store: Store, contacts: list[Contact], payments: list) -> list[DeskLine]:
    """The day's contacts and payments by the desk that recorded them: this one, or the
    hub's other desks (their records came in the last sync)."""
    from hubdesk.store.working_set import recorded_at_desk

    where = recorded_at_desk(store, [c.id for c in contacts] + [p.id for p in payments])
    lines: dict[str, DeskLine] = {THIS_DESK: DeskLine(THIS_DESK)}
    for c in contacts:
        desk = where.get(c.id, THIS_DESK)
        lines.setdefault(desk, DeskLine(desk)).contacts += 1
    for p in payments:
        desk = where.get(p.id, THIS_DESK)
        lines.setdefault(desk, DeskLine(desk)).payments += 1
    mine = lines.pop(THIS_DESK)
    return [mine, *sorted(lines.values(), key=lambda d: d.desk.lower())]


def _payments(store: Store, summary: DailySummary, hub_code: str, day: date, paid: list, names: dict[str, str]) -> None:
    by_category: dict[str, PaymentGroup] = {}
    by_method: dict[str, PaymentGroup] = {m.value: PaymentGroup(m.label) for m in PaymentMethod}
    for line in paid:
        p = line.payment
        if line.state in ("approved", "reversed"):
            groups = (
                by_category.setdefault(p.category, PaymentGroup(names.get(p.category, p.category))),
                by_method[p.method.value],
                summary.payments_total,
            )
            for group in groups:
                group.count += 1
                group.gross_pence += p.amount_pence
                if line.state == "reversed":
                    group.reversed_count += 1
                    group.reversed_pence += p.amount_pence
            if line.state == "reversed":
                summary.reversed_receipts.append(p.receipt_no)
        elif line.state == "awaiting_approval":
            summary.awaiting.count += 1
            summary.awaiting.gross_pence += p.amount_pence
        elif line.state == "declined":
            summary.declined.count += 1
            summary.declined.gross_pence += p.amount_pence
    summary.payments_by_category = sorted(by_category.values(), key=lambda g: g.label.lower())
    summary.payments_by_method = [g for g in by_method.values() if g.count]
    for _reversal, payment in day_store.reversals_recorded(store, hub_code, day):
        paid_on = _local(payment.recorded_at).date()
        if paid_on != day:
            summary.late_reversals.append(LateReversal(payment.receipt_no, paid_on, payment.amount_pence))


# --- rendering -------------------------------------------------------------------------


def _long_day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _made(summary: DailySummary) -> str:
    made = _local(summary.made_at)
    return f"{made.day} {made:%b %Y, %H:%M}"


def _float_rows(rec: FloatReconciliation) -> list[tuple[str, str]]:
    rows = [
        (
            f"Opening balance ({rec.opening_source})" if rec.opening_pence is not None else "Opening balance",
            format_pence(rec.opening_pence) if rec.opening_pence is not None else "not recorded",
        ),
        ("Top-ups", format_pence(rec.top_ups_pence)),
    ]
    if rec.banked_pence:
        rows.append(("Taken out (banked)", format_pence(rec.banked_pence)))
    rows.append(
        (
            f"Cash paid out ({rec.cash_payments} payment{'s' if rec.cash_payments != 1 else ''})",
            format_pence(rec.cash_out_pence),
        )
    )
    if rec.reversed_cash_pence:
        rows.append(("Cash payments reversed (not counted as paid out)", format_pence(rec.reversed_cash_pence)))
    rows.append(("Expected in the float", format_pence(rec.expected_pence)))
    if rec.count is None:
        rows.append(("Counted", "not counted yet"))
    else:
        rows.append(("Counted", format_pence(rec.count.total_pence)))
        rows.append(("Difference", describe_difference(rec.difference_pence or 0)))
        if rec.count.reason:
            rows.append(("Reason given", rec.count.reason))
        if rec.changed_since_count:
            rows.append(
                ("Note", "a payment was decided or reversed after the count; the difference is worked out again here")
            )
    return rows


def _voucher_rows(v: VoucherReconciliation) -> list[tuple[str, str]]:
    rows = [
        ("In stock at the start of the day", str(v.start_stock)),
        ("Received", str(v.received)),
        ("Sent back", str(v.returned)),
        ("Issued", str(v.issued)),
        ("Expected in stock", str(v.expected)),
        ("Counted", "not counted yet" if v.counted is None else str(v.counted)),
    ]
    if v.missing:
        rows.append(("Missing", ", ".join(v.missing)))
    if v.unexpected:
        rows.append(("Counted but not expected", ", ".join(v.unexpected)))
    if v.unknown_issued:
        rows.append(("Issued from no recorded stock", ", ".join(v.unknown_issued)))
    return rows


def _payment_table(groups: list[PaymentGroup], total: PaymentGroup | None = None) -> list[list[str]]:
    rows = [
        [
            g.label,
            str(g.count),
            format_pence(g.gross_pence),
            f"{g.reversed_count} ({format_pence(g.reversed_pence)})" if g.reversed_count else "",
            format_pence(g.net_pence),
        ]
        for g in groups
    ]
    if total is not None:
        rows.append(
            [
                total.label,
                str(total.count),
                format_pence(total.gross_pence),
                f"{total.reversed_count} ({format_pence(total.reversed_pence)})" if total.reversed_count else "",
                format_pence(total.net_pence),
            ]
        )
    return rows


PAYMENT_HEAD = ["", "Paid", "Amount", "Reversed", "Net"]


def _sections(s: DailySummary) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, header, rows, note) for every table on the summary: one source for md and html."""
    people, walk_ins, children = s.session_attendance
    out: list[tuple[str, list[str], list[list[str]], str]] = [
        (
            "Contacts",
            ["", "Contacts"],
            [
                ["All contacts", str(s.contacts)],
                ["Seen", str(s.seen)],
                ["Not seen", str(s.not_seen)],
                ["Recorded on a later day", str(s.recorded_later)],
            ],
            "",
        ),
        *(
            [
                (
                    "Recorded at",
                    ["Desk", "Contacts", "Payments"],
                    [[d.desk, str(d.contacts), str(d.payments)] for d in s.desks],
                    "Records from the hub's other desks are those this desk had at its last sync.",
                )
            ]
            if len(s.desks) > 1
            else []
        ),
        ("Contacts by type", ["Type", "Contacts"], [[c.label, str(c.count)] for c in s.by_type], ""),
        (
            "Contacts by purpose",
            ["Purpose", "Contacts"],
            [[c.label, str(c.count)] for c in s.by_purpose],
            "A contact with more than one purpose is counted under each.",
        ),
        ("Contacts by age band", ["Age on the day", "Contacts"], [[c.label, str(c.count)] for c in s.by_age_band], ""),
        (
            "Drop-in visits",
            ["", "Number"],
            [
                ["Visits", str(s.visits)],
                ["Young people", str(s.visitors)],
                ["Still signed in", str(s.still_signed_in)],
            ],
            "",
        ),
        (
            "Busiest hours",
            ["Hour", "Arrived", "In the building"],
            [[h.label + (" (busiest)" if h in s.busiest else ""), str(h.arrivals), str(h.present)] for h in s.hours],
            "" if s.hours else "No drop-in visits.",
        ),
        (
            "Sessions",
            ["Session", "Time", "People", "Walk-ins", "Children", "Staff", "Partners"],
            [
                [
                    x.name,
                    f"{x.starts}-{x.ends}",
                    str(x.people),
                    str(x.walk_ins),
                    str(x.children),
                    ", ".join(x.staff),
                    ", ".join(x.partners),
                ]
                for x in s.sessions
            ]
            + ([["All sessions", "", str(people), str(walk_ins), str(children), "", ""]] if s.sessions else []),
            "" if s.sessions else "No sessions.",
        ),
        (
            "Payments by category",
            PAYMENT_HEAD,
            _payment_table(s.payments_by_category, s.payments_total),
            "Reversed payments are shown and taken off the net total.",
        ),
        (
            "Payments by method",
            PAYMENT_HEAD,
            _payment_table(s.payments_by_method),
            "" if s.payments_by_method else "No payments.",
        ),
        (
            "Payments not paid",
            ["", "Number", "Amount"],
            [[g.label, str(g.count), format_pence(g.gross_pence)] for g in (s.awaiting, s.declined)],
            "",
        ),
    ]
    if s.reversed_receipts or s.late_reversals:
        rows = [[r, "this day"] for r in s.reversed_receipts]
        rows += [
            [r.receipt_no, f"paid {r.paid_on.day} {r.paid_on:%b %Y}, {format_pence(r.amount_pence)}; reversed this day"]
            for r in s.late_reversals
        ]
        out.append(("Reversals", ["Receipt", "When"], rows, ""))
    out.append(
        (
            "Safeguarding concerns raised",
            ["Time", "Contact", "Manager told", "Follow up by"],
            [[x.time, x.contact_type, x.manager_informed, x.follow_up_by] for x in s.safeguarding],
            f"{len(s.safeguarding)} concern{'s' if len(s.safeguarding) != 1 else ''} raised.",
        )
    )
    if s.cash_float is not None:
        out.append(
            (
                "Cash float",
                ["", ""],
                [list(r) for r in _float_rows(s.cash_float)],
                "" if s.cash_float.in_use else "No float activity recorded.",
            )
        )
    if s.vouchers is not None and s.vouchers.in_use:
        out.append(("Voucher stock", ["", ""], [list(r) for r in _voucher_rows(s.vouchers)], ""))
    return out + s.service_figures


def _md(text: str) -> str:
    out = text.replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def render_md(s: DailySummary) -> str:
    lines = [
        f"# Daily summary: {_md(s.hub_name)} ({_md(s.hub_code)})",
        "",
        f"{_long_day(s.day)}. Made {_md(_made(s))}.",
        "",
    ]
    if s.example_reference:
        lines += ["*Categories and limits are the example set, not this council's.*", ""]
    if s.closure is not None:
        lines += [f"Day closed at {_hm(s.closure.closed_at)} by {_md(s.closure.closed_by)}.", ""]
    for title, head, rows, note in _sections(s):
        lines += [f"## {title}", ""]
        if rows:
            lines.append("| " + " | ".join(_md(h) or " " for h in head) + " |")
            lines.append("|" + "|".join("---" if i == 0 else "--:" for i in range(len(head))) + "|")
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows]
            lines.append("")
        if note:
            lines += [_md(note), ""]
    return "\n".join(lines)


def _pounds(pence: int | None) -> str:
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def render_csv(s: DailySummary) -> str:
    """One figure a row: section, item, count, amount in pounds (no £, for spreadsheets), note."""
    rows: list[list[object]] = []

    def add(section: str, item: str, count: int | str = "", pence: int | None = None, note: str = "") -> None:
        rows.append([s.hub_code, s.day.isoformat(), section, item, count, _pounds(pence), note])

    add("contacts", "all", s.contacts)
    add("contacts", "seen", s.seen)
    add("contacts", "not seen", s.not_seen)
    add("contacts", "recorded on a later day", s.recorded_later)
    if len(s.desks) > 1:
        for d in s.desks:
            add("recorded at: contacts", d.desk, d.contacts)
            add("recorded at: payments", d.desk, d.payments)
    for c in s.by_type:
        add("contacts by type", c.label, c.count)
    for c in s.by_purpose:
        add("contacts by purpose", c.label, c.count)
    for c in s.by_age_band:
        add("contacts by age band", c.label, c.count)
    add("drop-in visits", "visits", s.visits)
    add("drop-in visits", "young people", s.visitors)
    add("drop-in visits", "still signed in", s.still_signed_in)
    for h in s.hours:
        add("visits by hour: arrived", h.label, h.arrivals)
        add("visits by hour: in the building", h.label, h.present, note="busiest" if h in s.busiest else "")
    for x in s.sessions:
        label = f"{x.name} {x.starts}-{x.ends}"
        add("session people", label, x.people)
        add("session walk-ins", label, x.walk_ins)
        add("session children", label, x.children)
    for g in [*s.payments_by_category, s.payments_total]:
        add("payments by category: paid", g.label, g.count, g.gross_pence)
        add("payments by category: reversed", g.label, g.reversed_count, g.reversed_pence)
        add("payments by category: net", g.label, g.net_count, g.net_pence)
    for g in s.payments_by_method:
        add("payments by method: paid", g.label, g.count, g.gross_pence)
        add("payments by method: reversed", g.label, g.reversed_count, g.reversed_pence)
        add("payments by method: net", g.label, g.net_count, g.net_pence)
    add("payments", "awaiting approval", s.awaiting.count, s.awaiting.gross_pence)
    add("payments", "declined", s.declined.count, s.declined.gross_pence)
    for r in s.late_reversals:
        add("reversals of earlier days", r.receipt_no, 1, r.amount_pence, note=f"paid {r.paid_on.isoformat()}")
    add("safeguarding", "concerns raised", len(s.safeguarding))
    if s.cash_float is not None:
        f = s.cash_float
        add("cash float", "opening", pence=f.opening_pence, note=f.opening_source)
        add("cash float", "top-ups", pence=f.top_ups_pence)
        add("cash float", "banked", pence=f.banked_pence)
        add("cash float", "cash paid out", f.cash_payments, f.cash_out_pence)
        add("cash float", "expected", pence=f.expected_pence)
        add("cash float", "counted", pence=f.counted_pence, note="" if f.count else "not counted")
        add("cash float", "difference", pence=f.difference_pence, note=f.reason)
    if s.vouchers is not None and s.vouchers.in_use:
        v = s.vouchers
        add("vouchers", "expected in stock", v.expected)
        add("vouchers", "counted", "" if v.counted is None else v.counted)
        add("vouchers", "missing", note=", ".join(v.missing))
    # Item and note may be text people typed (names of categories, reasons): every cell is made safe.
    for title, head, body, _note in s.service_figures:
        for row in body:
            for column, cell in zip(head[1:], row[1:], strict=True):
                add(title.lower(), f"{row[0]}: {column}" if column else row[0], note=cell)
    return csv_text(rows, ["hub", "day", "section", "item", "count", "amount_gbp", "note"])


_CSS = """
@page { size: A4; margin: 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11pt; color: #111; margin: 24px; }
h1 { font-size: 18pt; margin: 0 0 4px; }
h2 { font-size: 12.5pt; margin: 18px 0 6px; border-bottom: 2px solid #1d4e89; color: #1d4e89; }
p.meta { margin: 0 0 10px; color: #333; }
p.example { background: #fff3cd; border: 1px solid #c9a227; padding: 4px 8px; }
p.note { font-size: 9.5pt; color: #444; margin: 4px 0; }
section { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; width: 100%; margin: 4px 0; }
th, td { border: 1px solid #999; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #e8eef6; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #f4f4f4; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
.bar { display: inline-block; height: 10px; background: #1d4e89; vertical-align: middle; }
@media print { body { margin: 0; } .grid { display: block; } }
"""


NUM = ' class="n"'


def _is_figure(text: str) -> bool:
    plain = text.replace("£", "").replace(",", "").replace(".", "").replace("-", "").strip()
    return plain.isdigit()


def render_html(s: DailySummary) -> str:
    e = html.escape
    title = f"Daily summary: {s.hub_name} ({s.hub_code}), {_long_day(s.day)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing is fetched: the page is self-contained and safe to open from a USB stick.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>Daily summary: {e(s.hub_name)} ({e(s.hub_code)})</h1>",
        f'<p class="meta">{e(_long_day(s.day))}. Made {e(_made(s))}.</p>',
    ]
    if s.example_reference:
        parts.append('<p class="example">Categories and limits are the example set, not this council\'s.</p>')
    if s.closure is not None:
        parts.append(f'<p class="meta">Day closed at {e(_hm(s.closure.closed_at))} by {e(s.closure.closed_by)}.</p>')
    top = max((h.present for h in s.hours), default=0)
    parts.append('<div class="grid">')
    for title_, head, rows, note in _sections(s):
        wide = title_ in (
            "Sessions",
            "Payments by category",
            "Payments by method",
            "Safeguarding concerns raised",
            "Cash float",
            "Voucher stock",
            "Reversals",
        )
        if wide:
            parts.append("</div>")
        parts.append(f"<section><h2>{e(title_)}</h2>")
        if rows:
            # A column of figures is right-aligned, header and all; a column of text is not.
            numeric = [
                i > 0 and all(_is_figure(r[i]) for r in rows if r[i]) and any(r[i] for r in rows)
                for i in range(len(head))
            ]
            parts.append("<table>")
            if any(head):
                parts.append(
                    "<thead><tr>"
                    + "".join(f"<th{NUM if numeric[i] else ''}>{e(h)}</th>" for i, h in enumerate(head))
                    + "</tr></thead>"
                )
            parts.append("<tbody>")
            for row in rows:
                total = row[0] in ("All payments", "All sessions")
                cells = []
                for i, cell in enumerate(row):
                    cells.append(f"<td{NUM if numeric[i] or (i and _is_figure(cell)) else ''}>{e(cell)}")
                    if title_ == "Busiest hours" and i == 2 and top:
                        cells[-1] += f' <span class="bar" style="width:{int(60 * int(cell) / top)}px"></span>'
                    cells[-1] += "</td>"
                parts.append(('<tr class="total">' if total else "<tr>") + "".join(cells) + "</tr>")
            parts.append("</tbody></table>")
        if note:
            parts.append(f'<p class="note">{e(note)}</p>')
        parts.append("</section>")
        if wide:
            parts.append('<div class="grid">')
    parts += ["</div>", "</body>", "</html>", ""]
    return "\n".join(parts)


RENDERERS = {"md": render_md, "csv": render_csv, "html": render_html}


def render(summary: DailySummary, fmt: str) -> str:
    return RENDERERS[fmt](summary)


__all__ = ["FORMATS", "DailySummary", "daily_summary", "render", "render_csv", "render_html", "render_md"]
