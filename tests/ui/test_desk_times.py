"""Times and dates as typed at the desk."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hubdesk.widgets.times import parse_day, parse_when

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14:05", datetime(2026, 11, 25, 14, 5, tzinfo=UTC)),
        ("9.30", datetime(2026, 11, 25, 9, 30, tzinfo=UTC)),
        ("23 Nov 2026 14:05", datetime(2026, 11, 23, 14, 5, tzinfo=UTC)),
        ("23 Nov 2026, 14:05", datetime(2026, 11, 23, 14, 5, tzinfo=UTC)),
        ("1 June 2026 10:00", datetime(2026, 6, 1, 9, 0, tzinfo=UTC)),  # BST
    ],
)
def test_parse_when(text: str, expected: datetime) -> None:
    assert parse_when(text, TODAY) == expected


@pytest.mark.parametrize("text", ["", "25:00", "14:60", "yesterday", "31 Feb 2026 10:00"])
def test_parse_when_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_when(text, TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("27/11/2026", date(2026, 11, 27)), ("27/11", date(2026, 11, 27)), ("3 Dec", date(2026, 12, 3))],
)
def test_parse_day(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


@pytest.mark.parametrize("text", ["31/2/2026", "Thursday", "2026-11-27x"])
def test_parse_day_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text, TODAY)
