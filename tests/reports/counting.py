"""An independent count from exported records: its own day, age and version logic,
sharing nothing with the report code it checks."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hubdesk.cli import export_rows

LONDON = ZoneInfo("Europe/London")


def london_day(iso: str) -> date:
    return datetime.fromisoformat(iso).astimezone(LONDON).date()


def years(born: date, on: date) -> int:
    n = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        n -= 1
    return n


def band(person: dict, on: date) -> str:
    if person["date_of_birth"]:
        age = years(date.fromisoformat(person["date_of_birth"]), on)
    elif person["approx_age"] is not None:
        age = person["approx_age"]
    else:
        return "age not known"
    for label, low, high in (("under 16", 0, 15), ("16-17", 16, 17), ("18-20", 18, 20), ("21-25", 21, 24)):
        if low <= age <= high:
            return label
    return "25 and over"


class Exported:
    """The raw export, and the current version of each contact worked out from `amends`."""

    def __init__(self, store) -> None:
        self.people = {p["id"]: p for p in export_rows(store, "people")}
        every = export_rows(store, "contacts")
        replaced = {c["amends"] for c in every if c["amends"]}
        self.all_contacts = every
        self.contacts = [c for c in every if c["id"] not in replaced]
        rows = export_rows(store, "payments")
        self.payments = [r for r in rows if r["state"] != "reversal"]
        self.reversals = [r for r in rows if r["state"] == "reversal"]
        self.sessions = export_rows(store, "sessions")
