"""Helpers for the desk's Pilot tests: a hand-moved clock, unlocking, reading the day."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from textual import events
from textual.keys import _character_to_key, _get_unicode_name_from_key
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


async def burst(pilot: Pilot, *keys: str) -> None:
    """Keys queued all at once, as a scanner, a paste or a fast typist on a busy laptop sends
    them, without waiting for the desk to handle one before the next (pilot.press waits)."""
    driver = pilot.app._driver
    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        driver.send_message(event)
    for _ in range(5):
        await pilot.pause()
