"""`hubdesk demo` looks like a real hub (issue 12): 30-60 contacts each weekday by default,
--per-day to choose, and a clear one-line error for a range that is not one."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hubdesk.demo import parse_per_day
from hubdesk.store.store import Store
from test_cli import PASS, assert_clean_error, hubdesk


def _contacts_a_day(data) -> Counter:
    """Contacts by the day they began, in England's time."""
    store = Store.unlock(data, "sam", PASS)
    try:
        started = [row[0] for row in store._rows("SELECT started_at FROM contacts")]
    finally:
        store.lock()
    return Counter(datetime.fromisoformat(at).astimezone(ZoneInfo("Europe/London")).date() for at in started)


def test_the_demo_makes_a_busy_hubs_day_by_default(tmp_path) -> None:
    data = tmp_path / "demo"
    made = hubdesk("demo", "--data-dir", str(data), "--people", "60", "--days", "8", "--seed", "4")
    assert made.returncode == 0, made.stderr
    days = _contacts_a_day(data)
    assert days and all(30 <= n <= 60 for n in days.values()), days
    assert all(day.weekday() < 5 for day in days)


def test_per_day_chooses_the_volume(tmp_path) -> None:
    data = tmp_path / "quiet"
    made = hubdesk("demo", "--data-dir", str(data), "--people", "20", "--days", "8", "--per-day", "2-3")
    assert made.returncode == 0, made.stderr
    days = _contacts_a_day(data)
    assert days and all(2 <= n <= 3 for n in days.values()), days


@pytest.mark.parametrize("bad", ["lots", "60-30", "-5", "5-", "1-5000"])
def test_a_per_day_that_is_not_a_range_is_one_clear_line(tmp_path, bad) -> None:
    result = hubdesk("demo", "--data-dir", str(tmp_path / "x"), "--people", "5", f"--per-day={bad}")
    assert_clean_error(result, "contacts a day")
    assert not (tmp_path / "x").exists()


def test_parse_per_day() -> None:
    assert parse_per_day("30-60") == (30, 60) and parse_per_day(" 45 ") == (45, 45)
    with pytest.raises(ValueError):
        parse_per_day("60-30")
