"""The last weeks at a hub: contacts, drop-in visits and payments per week, for a small chart.

Weeks run Monday to Sunday in England's time; the last week is the one holding `end_day`
(so it may be partial). Only the current version of each contact counts; payments count
when paid (approved and not reversed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hubdesk.store.store import Store, _iso

LONDON = ZoneInfo("Europe/London")
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class WeekLine:
    week_start: date  # a Monday
    contacts: int
    visits: int
    payments: int
    payments_pence: int

    @property
    def label(self) -> str:
        return f"w/c {self.week_start.day} {self.week_start:%b}"


def weekly_trends(store: Store, hub_code: str, end_day: date, weeks: int = 8) -> list[WeekLine]:
    hub_code = hub_code.strip().upper()
    first_monday = end_day - timedelta(days=end_day.weekday()) - timedelta(weeks=weeks - 1)
    start, _ = store.day_bounds(first_monday)
    _, end = store.day_bounds(end_day)
    contacts = store._rows(
        "SELECT started_at, contact_type FROM contacts c WHERE hub_code = ? AND started_at >= ? AND started_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)",
        [hub_code, _iso(start), _iso(end)],
    )
    payments = store._rows(
        "SELECT p.recorded_at, p.amount_pence FROM payments p "
        "LEFT JOIN payment_decisions d ON d.payment_id = p.id "
        "WHERE p.hub_code = ? AND p.recorded_at >= ? AND p.recorded_at < ? "
        "AND coalesce(d.decision, p.status) = 'approved' "
        "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id)",
        [hub_code, _iso(start), _iso(end)],
    )

    def week_of(iso: str) -> int:
        return (datetime.fromisoformat(iso).astimezone(LONDON).date() - first_monday).days // 7

    counts = [[0, 0, 0, 0] for _ in range(weeks)]
    for started_at, kind in contacts:
        week = counts[week_of(started_at)]
        week[0] += 1
        week[1] += kind == "drop_in"
    for recorded_at, pence in payments:
        week = counts[week_of(recorded_at)]
        week[2] += 1
        week[3] += pence
    return [WeekLine(first_monday + timedelta(weeks=n), *c) for n, c in enumerate(counts)]


def sparkline(values: list[int]) -> str:
    """[0, 3, 9] -> '▁▃█': one character a value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v / top * (len(SPARKS) - 1))] if v > 0 else SPARKS[0] for v in values)
