"""Times as people type them at the desk: '14:05' today, or '30 Nov 2026 14:05'.

One date format in every form and message, '2 Dec 2026' (27/11/2026 is read too), and
every example is made from the desk's own today, so none is in the past."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def day_text(day: date) -> str:
    """2 Dec 2026: the one way a form writes a date."""
    return f"{day.day} {day:%b %Y}"


def date_example(today: date) -> str:
    """A date to show as an example: two days ahead, never in the past."""
    return day_text(today + timedelta(days=2))


def time_help(today: date) -> str:
    return f"Type a time like 14:05, or a date and time like {day_text(today)} 14:05"


def date_help(today: date) -> str:
    return f"Type a date like {date_example(today)}"


def hhmm(dt: datetime) -> str:
    return f"{dt.astimezone(LONDON):%H:%M}"


def parse_when(text: str, today: date) -> datetime:
    """-> an aware datetime in England's time; ValueError with a plain message."""
    t = text.strip().lower().replace(",", " ")
    m = re.fullmatch(r"(\d{1,2})[:.](\d{2})", t)
    if m:
        day = today
        hour, minute = int(m[1]), int(m[2])
    else:
        m = re.fullmatch(r"(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{4})\s+(\d{1,2})[:.](\d{2})", t)
        if not m or m[2] not in _MONTHS:
            raise ValueError(time_help(today))
        try:
            day = date(int(m[3]), _MONTHS.index(m[2]) + 1, int(m[1]))
        except ValueError:
            raise ValueError("That date does not exist") from None
        hour, minute = int(m[4]), int(m[5])
    if hour > 23 or minute > 59:
        raise ValueError(time_help(today))
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def parse_day(text: str, today: date) -> date:
    """'27/11/2026', '27/11', '27 Nov 2026', '27 Nov' -> a date; ValueError in plain words."""
    t = text.strip().lower().replace(",", " ")
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})(?:[/.\-](\d{4}))?", t)
    if m:
        day, month, year = int(m[1]), int(m[2]), int(m[3] or today.year)
    else:
        m = re.fullmatch(r"(\d{1,2})\s+([a-z]{3})[a-z]*(?:\s+(\d{4}))?", t)
        if not m or m[2] not in _MONTHS:
            raise ValueError(date_help(today))
        day, month, year = int(m[1]), _MONTHS.index(m[2]) + 1, int(m[3] or today.year)
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("That date does not exist") from None
