"""Helpers for the desk's Pilot tests: a hand-moved clock, unlocking, reading the day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from textual.pilot import Pilot

from hubdesk.app import HubDeskApp
from hubdesk.store.store import Store

SIZE = (120, 40)
PASSPHRASE = "correct horse battery"  # the same as tests/conftest.py


class FakeClock:
    """The desk's wall clock, moved by hand: visits last as long as a test says."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


async def unlock(pilot: Pilot, login: str = "sam", passphrase: str = PASSPHRASE) -> None:
    from hubdesk.screens.unlock import UnlockScreen

    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, UnlockScreen), type(screen)
    screen.query_one("#login").value = login
    screen.query_one("#passphrase").focus()
    # Set rather than typed letter by letter: typing is covered once, in test_desk_unlock.
    screen.query_one("#passphrase").value = passphrase
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


def screen_name(app: HubDeskApp) -> str:
    return type(app.screen).__name__


def today_bounds(store: Store, clock: FakeClock) -> tuple[datetime, datetime]:
    return store.day_bounds(clock().astimezone(ZoneInfo("Europe/London")).date())
