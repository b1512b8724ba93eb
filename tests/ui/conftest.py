"""Fixtures for the desk's Pilot tests: a store with people in it and a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from deskpilot import FakeClock

from hubdesk.app import HubDeskApp, make_app
from hubdesk.domain.models import Alert, Person
from hubdesk.store.store import Store


@pytest.fixture(autouse=True)
def _no_animation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Animations change timing between runs: off."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def clock() -> FakeClock:
    """10:05 on a Wednesday in November (GMT, so UTC and England's time agree)."""
    return FakeClock(datetime(2026, 11, 25, 10, 5, tzinfo=UTC))


@pytest.fixture
def store(store: Store, clock: FakeClock) -> Store:
    """The fixture store reads the desk's clock: a record a test makes directly lands on the
    same day the desk shows, whatever today's date is on the machine running the suite."""
    store.clock = clock
    return store


@pytest.fixture
def people(store: Store, person: Person) -> dict[str, Person]:
    """Zeb (the conftest person) plus Kayden with alerts, and Amira."""
    kayden = store.add_person(
        Person(
            first_name="Kayden",
            last_name="Marsh",
            date_of_birth=date(2007, 3, 1),
            hub_code="DEW",
            legal_status="former_relevant",
            allocated_pa="sam",
            alerts=(Alert(kind="contact_preference", text="Prefers text messages, not calls"),),
        )
    )
    amira = store.add_person(
        Person(
            first_name="Amira",
            last_name="[bold]Tesfaye[/]",
            date_of_birth=date(2006, 5, 9),
            hub_code="DEW",
            legal_status="qualifying",
            alerts=(Alert(kind="interpreter_needed", text="Tigrinya"),),
        )
    )
    return {"zeb": person, "kayden": kayden, "amira": amira}


@pytest.fixture
def desk_app(store: Store, people: dict[str, Person], data_dir: Path, clock: FakeClock) -> HubDeskApp:
    """The desk on the fixture store (the fixture keeps its own connection to read back)."""
    return make_app(data_dir, clock=clock, idle_minutes=5)
