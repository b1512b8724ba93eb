"""How a person and their records read on screen: one place for names, ages and markers."""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text

from hubdesk.domain.models import Alert, Contact, Person, when
from hubdesk.domain.money import format_pence
from hubdesk.domain.rules import age_band, age_on

ALERT_MARK = "⚠"


def age_text(person: Person, day: date) -> str:
    if person.date_of_birth:
        return str(age_on(person.date_of_birth, day))
    if person.approx_age:
        return f"~{person.approx_age}"
    return "?"


def band_text(person: Person, day: date) -> str:
    if person.date_of_birth:
        return age_band(person.date_of_birth, day).value
    return "walk-in"


def status_text(person: Person) -> str:
    if person.walk_in:
        return "Walk-in (to match)" if person.needs_matching else "Walk-in"
    return person.legal_status.label if person.legal_status else "-"


def alert_text(alert: Alert) -> str:
    """'Risk: see safety plan', never 'Risk: Risk: see safety plan' when the text already
    names its kind."""
    label, text = alert.kind.label, alert.text.strip()
    if text.lower().startswith(label.lower()):
        return text
    return f"{label}: {text}"


def alert_cell(person: Person) -> Text:
    if not person.alerts:
        return Text("")
    return Text(f"{ALERT_MARK} {len(person.alerts)}", style="bold red")


def plain(value: str) -> Text:
    """User data as Rich Text, never parsed as markup."""
    return Text(value)


def money_cell(pence: int) -> Text:
    return Text(format_pence(pence), justify="right")


def duration(start: datetime, now: datetime) -> str:
    minutes = max(0, int((now - start).total_seconds() // 60))
    hours, mins = divmod(minutes, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


def time_only(dt: datetime) -> str:
    return when(dt).split(", ", 1)[1]


def contact_label(contact: Contact) -> str:
    return contact.contact_type.label
