"""Keeping in touch: each young person's last contact, how often they should be contacted,
who is overdue (most overdue first), and the share "in touch" by age band.

"In touch" means seen or spoken to (a contact where they were seen, or a phone or video
call) within their expected interval, counted back from the end of the reporting day.
The interval is needs-led and set per young person; where it is not set, their age band's
default applies. Bands and defaults are the service's rules from the reference data
(service_rules: the 2022 bands by default, an example a council sets for itself).
Support ends at the 25th birthday: from then on a young person is not in the list unless
flagged for extended support. Qualifying young people without an allocated PA are counted
apart from PA cases.
Only the current version of each contact counts, so an amendment that moves a contact
to the right person moves it off the wrong one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hubdesk.domain.enums import ContactType
from hubdesk.domain.rules import SPOKEN_CONTACT_TYPES, age_on
from hubdesk.domain.service_rules import BandDef, ServiceRules, counted_apart
from hubdesk.domain.spreadsheet import csv_text
from hubdesk.store.store import Store, _iso

LONDON = ZoneInfo("Europe/London")
APART = "Qualifying, no PA"
SPOKEN = SPOKEN_CONTACT_TYPES
FORMATS = ("csv", "md")

_CURRENT = "NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)"


@dataclass(frozen=True)
class CaseloadPerson:
    """What the list needs of a young person (no repr of names: ids only)."""

    id: str
    case_id: str | None
    first_name: str = field(repr=False)
    last_name: str | None = field(repr=False)
    preferred_name: str | None = field(repr=False)
    allocated_pa: str | None
    hub_code: str
    date_of_birth: date = field(repr=False)
    expected_contact_days: int | None = None
    legal_status: str | None = None
    extended_support: bool = False

    @property
    def counted_apart(self) -> bool:
        """A qualifying young person without an allocated PA: counted apart from PA cases."""
        return counted_apart(self.legal_status, self.allocated_pa)

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}" if self.last_name else first


@dataclass(frozen=True)
class InTouchLine:
    person: CaseloadPerson
    band: BandDef | None  # None: in no band the service reports by (the 2026 bands skip some ages)
    last_contact_at: datetime | None
    last_contact_type: ContactType | None
    last_in_touch_at: datetime | None
    interval_days: int
    interval_set: bool  # set for the young person, not the band default
    as_of: date

    @property
    def last_in_touch_day(self) -> date | None:
        return self.last_in_touch_at.astimezone(LONDON).date() if self.last_in_touch_at else None

    @property
    def due(self) -> date | None:
        day = self.last_in_touch_day
        return day + timedelta(days=self.interval_days) if day else None

    @property
    def days_since(self) -> int | None:
        day = self.last_in_touch_day
        return (self.as_of - day).days if day else None

    @property
    def in_touch(self) -> bool:
        return self.days_since is not None and self.days_since <= self.interval_days

    @property
    def days_overdue(self) -> int | None:
        """Days past the due date; None if never seen or spoken to (most overdue of all)."""
        return None if self.days_since is None else max(0, self.days_since - self.interval_days)

    def sort_key(self) -> tuple:
        # Never in touch first, then most overdue, then the longest since contact.
        never = self.days_since is None
        return (
            0 if never else 1,
            -(self.days_overdue or 0),
            -(self.days_since or 0),
            self.person.case_id or "",
            self.person.id,
        )


@dataclass(frozen=True)
class BandShare:
    band: str
    people: int
    in_touch: int

    @property
    def percent(self) -> int | None:
        return None if not self.people else round(100 * self.in_touch / self.people)


@dataclass
class InTouchReport:
    as_of: date
    pa: str | None
    hub_code: str | None
    rules: ServiceRules = field(default_factory=ServiceRules)
    lines: list[InTouchLine] = field(default_factory=list)

    @property
    def defaults(self) -> dict[str, int]:
        return {b.label: b.in_touch_days for b in self.rules.age_bands}

    @property
    def overdue(self) -> list[InTouchLine]:
        return [line for line in self.lines if not line.in_touch]

    @property
    def shares(self) -> list[BandShare]:
        """In touch by band over PA cases, all PA cases, then qualifying young people without a
        PA, counted apart ("262 of 283" counts PA cases)."""
        cases = [x for x in self.lines if not x.person.counted_apart]
        apart = [x for x in self.lines if x.person.counted_apart]
        out = [
            BandShare(
                b.label,
                sum(1 for x in cases if x.band == b),
                sum(1 for x in cases if x.band == b and x.in_touch),
            )
            for b in self.rules.age_bands
        ]
        out.append(BandShare("All", len(cases), sum(1 for x in cases if x.in_touch)))
        out.append(BandShare(APART, len(apart), sum(1 for x in apart if x.in_touch)))
        return out


def in_touch_report(
    store: Store,
    *,
    as_of: date,
    pa: str | None = None,
    hub_code: str | None = None,
    rules: ServiceRules | None = None,
    use_summary: bool = True,
) -> InTouchReport:
    """The caseload (16 up to the 25th birthday on `as_of`, or older with extended support;
    walk-ins not yet matched left out), filtered by allocated PA and hub, each with their
    last contact and whether they are in touch. `rules`: the desk's own by default."""
    rules = rules or store.service_rules()
    pa = pa.strip().lower() if pa else None
    hub_code = hub_code.strip().upper() if hub_code else None
    _start, end = store.day_bounds(as_of)
    clauses, params = ["p.walk_in = 0"], []
    if pa:
        clauses.append("p.allocated_pa = ?")
        params.append(pa)
    if hub_code:
        clauses.append("p.hub_code = ?")
        params.append(hub_code)
    # Per person, the newest current contact and the newest one where they were seen or spoken
    # to: each walks contacts_person backwards from `end` and stops at the first match, so the
    # cost follows the caseload, not the years of contacts behind it.
    # The few fields needed are read from the stored JSON (validated when it was saved) with
    # json.loads: whole Person models, or SQLite's json_extract, would cost most of the time budget.
    where = " AND ".join(clauses)
    latest = store._rows("SELECT max(started_at) FROM contacts")[0][0]
    if use_summary and (latest is None or latest < _iso(end)):
        # Nothing recorded after as_of: each person's kept summary is the answer, one row each.
        rows = store._rows(
            "SELECT p.body, s.last_at || '|' || s.last_type, s.last_touch_at FROM people p "
            f"LEFT JOIN person_contact_summary s ON s.person_id = p.id WHERE {where} ORDER BY p.rowid",
            params,
        )
    else:
        # A past date with later contacts: per person, walk contacts_person backwards from
        # `end` and stop at the first match, so the cost follows the caseload.
        rows = store._rows(
            "SELECT p.body, "
            "(SELECT started_at || '|' || contact_type FROM contacts c WHERE c.person_id = p.id "
            f"AND c.started_at < ? AND {_CURRENT} ORDER BY c.started_at DESC LIMIT 1), "
            "(SELECT started_at FROM contacts c WHERE c.person_id = p.id AND c.started_at < ? "
            f"AND {_CURRENT} AND (c.contact_type IN (?, ?) OR json_extract(c.body, '$.seen') = 1) "
            "ORDER BY c.started_at DESC LIMIT 1) "
            f"FROM people p WHERE {where} ORDER BY p.rowid",
            [_iso(end), _iso(end), *SPOKEN, *params],
        )
    report = InTouchReport(as_of=as_of, pa=pa, hub_code=hub_code, rules=rules)
    for body, last, touch in rows:
        data = json.loads(body)
        if not data.get("date_of_birth"):
            continue
        person = CaseloadPerson(
            data["id"],
            data.get("case_id"),
            data["first_name"],
            data.get("last_name"),
            data.get("preferred_name"),
            data.get("allocated_pa"),
            data["hub_code"],
            date.fromisoformat(data["date_of_birth"]),
            data.get("expected_contact_days"),
            data.get("legal_status"),
            bool((data.get("circumstances") or {}).get("extended_support")),
        )
        age = age_on(person.date_of_birth, as_of)
        if not rules.in_service(age, extended_support=person.extended_support):
            continue
        band = rules.band(age)
        anyc = last.split("|", 1) if last else None
        report.lines.append(
            InTouchLine(
                person=person,
                band=band,
                last_contact_at=datetime.fromisoformat(anyc[0]) if anyc else None,
                last_contact_type=ContactType(anyc[1]) if anyc else None,
                last_in_touch_at=datetime.fromisoformat(touch) if touch else None,
                interval_days=rules.in_touch_days(band, person.expected_contact_days),
                interval_set=person.expected_contact_days is not None,
                as_of=as_of,
            )
        )
    report.lines.sort(key=InTouchLine.sort_key)
    return report


# --- rendering -------------------------------------------------------------------------


def _day(day: date | None) -> str:
    return day.isoformat() if day else ""


def _local(moment: datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") if moment else ""


def _overdue_text(line: InTouchLine) -> str:
    if line.days_overdue is None:
        return "never seen or spoken to"
    return "in touch" if line.in_touch else f"{line.days_overdue} days overdue"


CSV_FIELDS = [
    "case_id",
    "name",
    "allocated_pa",
    "hub",
    "age_band",
    "last_contact",
    "last_contact_type",
    "last_seen_or_spoken",
    "expected_every_days",
    "interval",
    "due",
    "days_overdue",
    "in_touch",
]


def render_csv(report: InTouchReport) -> str:
    rows = []
    for x in report.lines:
        p = x.person
        rows.append(
            (
                p.case_id or "",
                p.display_name,
                p.allocated_pa or "",
                p.hub_code,
                x.band.label if x.band else "",
                _local(x.last_contact_at),
                x.last_contact_type.label if x.last_contact_type else "",
                _local(x.last_in_touch_at),
                x.interval_days,
                "set for them" if x.interval_set else "age band default",
                _day(x.due),
                "" if x.days_overdue is None else x.days_overdue,
                "yes" if x.in_touch else "no",
            )
        )
    return csv_text(rows, CSV_FIELDS)


def _md(text: str) -> str:
    out = text.replace("\r", " ").replace("\n", " ")
    for ch in "\\`*_[]<>|#":
        out = out.replace(ch, "\\" + ch)
    return out


def render_md(report: InTouchReport) -> str:
    scope = [f"as of {report.as_of.day} {report.as_of:%b %Y}"]
    if report.pa:
        scope.append(f"allocated to {report.pa}")
    if report.hub_code:
        scope.append(f"hub {report.hub_code}")
    lines = [
        "# Keeping in touch",
        "",
        _md(", ".join(scope)) + ".",
        "",
        "In touch: seen or spoken to within their expected interval (set for them, or by age band: "
        + ", ".join(f"{b} every {d} days" for b, d in report.defaults.items())
        + ").",
        "",
        "| Age band | Young people | In touch | Share |",
        "|---|--:|--:|--:|",
    ]
    for share in report.shares:
        pct = "" if share.percent is None else f"{share.percent}%"
        lines.append(f"| {share.band} | {share.people} | {share.in_touch} | {pct} |")
    overdue = report.overdue
    lines += ["", f"## Overdue ({len(overdue)}), most overdue first", ""]
    if not overdue:
        lines.append("Nobody is overdue.")
    else:
        lines += [
            "| Case | Name | PA | Hub | Age band | Last seen or spoken to | Every | Overdue |",
            "|---|---|---|---|---|---|--:|---|",
        ]
        for x in overdue:
            p = x.person
            lines.append(
                "| "
                + " | ".join(
                    _md(v)
                    for v in (
                        p.case_id or "",
                        p.display_name,
                        p.allocated_pa or "none",
                        p.hub_code,
                        x.band.label if x.band else "",
                        _local(x.last_in_touch_at) or "never",
                        f"{x.interval_days} days",
                        _overdue_text(x),
                    )
                )
                + " |"
            )
    lines.append("")
    return "\n".join(lines)


RENDERERS = {"csv": render_csv, "md": render_md}
