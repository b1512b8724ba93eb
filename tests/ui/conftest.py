"""Fixtures for the desk's Pilot tests: a store with people in it, a fixed clock, helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta  # noqa: F401
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hubdesk.app import HubDeskApp, make_app
from hubdesk.domain.models import Alert, Person
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


@pytest.fixture(autouse=True)
def _no_animation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Animations and cursor blink change timing and screenshots between runs: off."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 10, 5, tzinfo=UTC))


@pytest.fixture
def people(store: Store, person: Person) -> dict[str, Person]:
    """Zeb (the conftest person) plus Kayden with alerts, and Amira."""
    kayden = store.add_person(Person(
        first_name="Kayden", last_name="Marsh", date_of_birth=date(2007, 3, 1), hub_code="DEW",
        legal_status="former_relevant", allocated_pa="sam",
        alerts=(Alert(kind="contact_preference", text="Prefers text messages, not calls"),),
    ))
    amira = store.add_person(Person(
        first_name="Amira", last_name="[bold]Tesfaye[/]", date_of_birth=date(2006, 5, 9),
        hub_code="DEW", legal_status="qualifying",
        alerts=(Alert(kind="interpreter_needed", text="Tigrinya"),),
    ))
    return {"zeb": person, "kayden": kayden, "amira": amira}


@pytest.fixture
def desk_app(store: Store, people: dict[str, Person], data_dir: Path, clock: FakeClock) -> HubDeskApp:
    """The desk on the fixture store (the fixture keeps its own connection to read back)."""
    return make_app(data_dir, clock=clock, idle_minutes=5)


async def unlock(pilot: Pilot, login: str = "sam", passphrase: str = PASSPHRASE) -> None:
    from hubdesk.screens.unlock import UnlockScreen

    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, UnlockScreen), type(screen)
    screen.query_one("#login").value = login
    screen.query_one("#passphrase").focus()
    await pilot.press(*passphrase)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


def screen_name(app: HubDeskApp) -> str:
    return type(app.screen).__name__


def today_bounds(store: Store, clock: FakeClock) -> tuple[datetime, datetime]:
    from zoneinfo import ZoneInfo

    return store.day_bounds(clock().astimezone(ZoneInfo("Europe/London")).date())


