"""The service's figures for one hub, from the desk's own store, for the end of the day: the
same function as the central report (hubdesk.domain.figures.compute), fed from what this desk
holds: its hub's young people, the hub's contacts (and each young person's last contact at the
other hub, from the central record's summary), the hub's payments and actions."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hubdesk.domain.figures import ActionCount, PaymentFact, PersonFacts, ServiceFigures, compute, window_start
from hubdesk.domain.rules import SPOKEN_CONTACT_TYPES
from hubdesk.store.store import Store, _iso

LONDON = ZoneInfo("Europe/London")
_CURRENT = "NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)"
_SEEN_TYPES = ("drop_in", "home_visit")  # a contact of these kinds means the young person was seen


def _day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(LONDON).date()


def hub_figures(store: Store, hub_code: str, day: date, *, since: date | None = None) -> ServiceFigures:
    _, end = store.day_bounds(day)
    end_iso = _iso(end)
    people = [
        PersonFacts.from_body(json.loads(body))
        for (body,) in store._rows("SELECT body FROM people WHERE hub_code = ? AND walk_in = 0", [hub_code])
    ]
    ids = {p.id for p in people}
    # Each young person's latest time in touch is kept with every contact save
    # (person_contact_summary); only those in touch after the day need their history read.
    last: dict[str, date] = {}
    later: list[str] = []
    for person_id, at in store._rows("SELECT person_id, last_touch_at FROM person_contact_summary"):
        if person_id in ids and at:
            if at < end_iso:
                last[person_id] = _day(at)
            else:
                later.append(person_id)
    spoken = ",".join(f"'{t}'" for t in SPOKEN_CONTACT_TYPES)
    from_day = _iso(store.day_bounds(window_start(day))[0])
    for chunk in (later[i : i + 500] for i in range(0, len(later), 500)):
        marks = ",".join("?" * len(chunk))
        for person_id, at in store._rows(
            f"SELECT person_id, max(started_at) FROM contacts c WHERE person_id IN ({marks}) AND {_CURRENT} "
            f"AND started_at < ? AND started_at >= ? "
            f"AND (contact_type IN ({spoken}) OR json_extract(body, '$.seen') = 1) GROUP BY person_id",
            [*chunk, end_iso, from_day],
        ):
            last[person_id] = _day(at)
    # A young person of this hub last in touch at the other hub: the central record's summary.
    for person_id, body in store._rows("SELECT person_id, body FROM person_activity"):
        seen = (json.loads(body) or {}).get("last_contact") or {}
        if person_id in ids and seen.get("contact_type") in (*SPOKEN_CONTACT_TYPES, *_SEEN_TYPES):
            at = datetime.fromisoformat(seen["at"])
            if at < end:
                d = at.astimezone(LONDON).date()
                last[person_id] = max(last.get(person_id, d), d)
    open_, overdue = 0, 0
    for due, recorded_at, done_at in store._rows(
        "SELECT due, recorded_at, done_at FROM actions WHERE person_hub = ?", [hub_code]
    ):
        if datetime.fromisoformat(recorded_at) >= end or (done_at and datetime.fromisoformat(done_at) < end):
            continue
        open_ += 1
        overdue += bool(due) and date.fromisoformat(due) < day
    since = since or day.replace(day=1)
    payments: dict[str, list[int]] = {}
    for category, amount in store._rows(
        "SELECT category, amount_pence FROM payments p WHERE hub_code = ? AND recorded_at >= ? AND recorded_at < ? "
        "AND coalesce((SELECT decision FROM payment_decisions d WHERE d.payment_id = p.id), status) = 'approved' "
        "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id AND r.recorded_at < ?)",
        [hub_code, _iso(store.day_bounds(since)[0]), end_iso, end_iso],
    ):
        n, pence = payments.get(category, [0, 0])
        payments[category] = [n + 1, pence + amount]
    return compute(
        day,
        people,
        last,
        [ActionCount(hub_code, open_, overdue)],
        [PaymentFact(hub_code, cat, pence, n) for cat, (n, pence) in payments.items()],
        rules=store.service_rules(),
        since=since,
        hubs=[hub_code],
    )


def hub_sections(store: Store, hub_code: str, day: date) -> list[tuple[str, list[str], list[list[str]], str]]:
    """The figures as the daily summary's sections (title, header, rows, note)."""
    from hubdesk.reports.figures import sections

    reference = store.reference(include_retired=True)
    figures = hub_figures(store, hub_code, day)
    names = {h.code: h.name for h in reference.hubs}
    categories = {c.code: c.name for c in reference.payment_categories}
    found = sections(figures, names, categories)
    return [(f"Service figures: {title}", head, rows, note) for title, head, rows, note in found]
