"""The service's figures (issue 11, item 5) as pure functions: who counts on a day, in touch by
age band with its "of" count, accommodation, EET, pathway plans, actions overdue and emergency
payments. The central report (every hub) and the desk's end of day (one hub) feed the same
function, so the two can never count differently.

Who counts is the council's service rules (reference data, hubdesk.domain.service_rules): young
people in the caseload (not walk-ins waiting to be matched) aged 16 up to their 25th birthday
on the day (later only with extended support); qualifying young people without an allocated PA
are counted apart from the PA cases, whose figures these are; the age bands and each band's
default contact frequency are the rules' too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hubdesk.domain.rules import age_on
from hubdesk.domain.service_rules import DEFAULT_RULES, BandDef, ServiceRules, counted_apart

SUITABILITY = ("suitable", "unsuitable", "not recorded")
EET_STATES = ("education", "training", "employment", "neet", "not recorded")
PLAN_STATES = ("in date", "overdue", "none")


@dataclass(frozen=True)
class PersonFacts:
    """What the figures need of one young person (no names: ids, dates and codes)."""

    id: str
    hub_code: str
    date_of_birth: date | None
    legal_status: str | None
    allocated_pa: str | None
    walk_in: bool
    extended_support: bool
    expected_contact_days: int | None
    suitability: str
    eet: str
    plan_due: date | None

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PersonFacts:
        """From a person record as JSON data (central or desk): no model validation, so ten
        thousand people cost milliseconds."""
        c = body.get("circumstances") or {}
        acc = c.get("accommodation") or None
        if acc is None or acc.get("suitable") is None:
            suitability = "not recorded"
        else:
            suitability = "suitable" if acc["suitable"] else "unsuitable"
        eet = (c.get("eet") or {}).get("status") or "not recorded"
        plan = c.get("pathway_plan") or None
        due = None
        if plan is not None:
            due = date.fromisoformat(plan.get("next_due") or plan["last_review"])
            if not plan.get("next_due"):
                from hubdesk.domain.circumstances import PLAN_REVIEW_MONTHS, add_months

                due = add_months(due, PLAN_REVIEW_MONTHS)
        dob = body.get("date_of_birth")
        return cls(
            id=str(body["id"]),
            hub_code=str(body["hub_code"]),
            date_of_birth=date.fromisoformat(dob) if dob else None,
            legal_status=body.get("legal_status"),
            allocated_pa=body.get("allocated_pa"),
            walk_in=bool(body.get("walk_in") or body.get("needs_matching")),
            extended_support=bool(c.get("extended_support")),
            expected_contact_days=body.get("expected_contact_days"),
            suitability=suitability,
            eet=eet,
            plan_due=due,
        )


@dataclass(frozen=True)
class Share:
    """ "262 of 283"."""

    count: int
    of: int

    @property
    def percent(self) -> int | None:
        return None if not self.of else round(100 * self.count / self.of)

    def __str__(self) -> str:
        pct = f" ({self.percent}%)" if self.of else ""
        return f"{self.count} of {self.of}{pct}"


@dataclass
class HubFigures:
    """One hub's figures, or the whole service's (hub "ALL")."""

    hub: str
    in_touch: dict[str, Share] = field(default_factory=dict)
    in_touch_all: Share = Share(0, 0)
    """Every PA case, in a band or not (a council's bands need not cover 16 to 25)."""
    pa_cases: int = 0
    qualifying_apart: int = 0
    over_25: int = 0
    accommodation: Counter = field(default_factory=Counter)
    eet: dict[str, Counter] = field(default_factory=dict)
    plans: Counter = field(default_factory=Counter)
    actions_open: int = 0
    actions_overdue: int = 0
    payments: dict[str, tuple[int, int]] = field(default_factory=dict)  # category -> (count, pence)

    @property
    def in_touch_total(self) -> Share:
        return self.in_touch_all

    @property
    def engaged(self) -> Share:
        """Engaged in education, training or employment, of all PA cases."""
        total = Counter()
        for counts in self.eet.values():
            total.update(counts)
        return Share(total["education"] + total["training"] + total["employment"], sum(total.values()))


@dataclass
class ServiceFigures:
    as_of: date
    since: date
    bands: tuple[BandDef, ...]
    hubs: dict[str, HubFigures]
    total: HubFigures


@dataclass(frozen=True)
class ActionCount:
    """Actions open at the end of the day for young people of one hub, and how many overdue."""

    person_hub: str
    open: int
    overdue: int


@dataclass(frozen=True)
class PaymentFact:
    """Payments in effect of one category at one hub (one payment, or `count` of them)."""

    hub_code: str
    category: str
    amount_pence: int
    count: int = 1


def compute(
    as_of: date,
    people: Iterable[PersonFacts],
    last_touch: Mapping[str, date],
    actions: Iterable[ActionCount] = (),
    payments: Iterable[PaymentFact] = (),
    *,
    rules: ServiceRules = DEFAULT_RULES,
    since: date | None = None,
    hubs: Iterable[str] = (),
) -> ServiceFigures:
    """The figures on `as_of` (end of that day). `last_touch`: each person's last day seen or
    spoken to on or before it. `payments`: those in effect, made from `since` to `as_of`."""
    since = since or as_of.replace(day=1)
    bands = rules.age_bands
    by_hub: dict[str, HubFigures] = {h: _empty(h, bands) for h in hubs}
    total = _empty("ALL", bands)

    def hub(code: str) -> HubFigures:
        found = by_hub.get(code)
        if found is None:
            found = by_hub[code] = _empty(code, bands)
        return found

    for p in people:
        if p.walk_in or p.date_of_birth is None:
            continue
        age = age_on(p.date_of_birth, as_of)
        if age < 16:
            continue
        figures = hub(p.hub_code)
        if not rules.in_service(age, extended_support=p.extended_support):
            for f in (figures, total):
                f.over_25 += 1
            continue
        if counted_apart(p.legal_status, p.allocated_pa):
            for f in (figures, total):
                f.qualifying_apart += 1
            continue
        found = rules.band(age)
        band = found.label if found is not None else None
        seen = last_touch.get(p.id)
        in_touch = seen is not None and (as_of - seen).days <= rules.in_touch_days(found, p.expected_contact_days)
        plan = "none" if p.plan_due is None else ("overdue" if p.plan_due < as_of else "in date")
        for f in (figures, total):
            f.pa_cases += 1
            f.in_touch_all = Share(f.in_touch_all.count + in_touch, f.in_touch_all.of + 1)
            if band is not None:
                share = f.in_touch[band]
                f.in_touch[band] = Share(share.count + in_touch, share.of + 1)
                f.eet[band][p.eet] += 1
            f.accommodation[p.suitability] += 1
            f.plans[plan] += 1
    for a in actions:
        for f in (hub(a.person_hub), total):
            f.actions_open += a.open
            f.actions_overdue += a.overdue
    for pay in payments:
        for f in (hub(pay.hub_code), total):
            n, pence = f.payments.get(pay.category, (0, 0))
            f.payments[pay.category] = (n + pay.count, pence + pay.amount_pence)
    return ServiceFigures(as_of, since, bands, dict(sorted(by_hub.items())), total)


def _empty(hub: str, bands: tuple[BandDef, ...]) -> HubFigures:
    return HubFigures(
        hub=hub,
        in_touch={b.label: Share(0, 0) for b in bands},
        eet={b.label: Counter() for b in bands},
    )


def window_start(as_of: date, longest_interval: int = 366) -> date:
    """How far back a contact can still count as in touch."""
    return as_of - timedelta(days=longest_interval)
