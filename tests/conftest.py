"""Shared fixtures: every test runs cut off from the machine's own state."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hubdesk.domain.models import (
    ContactPurpose,
    Hub,
    PaymentCategory,
    Person,
    ReferenceData,
    SessionType,
    User,
)
from hubdesk.store.store import Store

PASSPHRASE = "correct horse battery"


def pytest_configure(config: pytest.Config) -> None:
    """HUBDESK_TEST_MOVE_CLOCK=2027-03-28T00:50:00+00:00 runs the whole suite with the wall clock
    moved there (ticking on), to prove no test depends on today's date. time-machine moves the
    clock inside this process only, and keeps monotonic clocks, sleeps and timed waits true
    (libfaketime breaks timed waits in threads, which the sync tests use); the clock-sensitive
    modules are also run under libfaketime by tests/test_clock_independence.py."""
    moved = os.environ.get("HUBDESK_TEST_MOVE_CLOCK")
    if moved:
        import time_machine

        traveller = time_machine.travel(datetime.fromisoformat(moved), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the user's real data dir or config: HUBDESK_HOME is a temp dir."""
    monkeypatch.setenv("HUBDESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("HUBDESK_PASSPHRASE", raising=False)


@pytest.fixture(autouse=True)
def _fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id stays at 64 MiB but one pass: calibration to 0.5 s per unlock would make
    hundreds of unlocks in the suite take minutes. Calibration has its own test."""
    monkeypatch.setenv("HUBDESK_KDF_PROFILE", "fast")


@pytest.fixture(autouse=True)
def _london_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dates are shown in England's time; fix TZ so a test machine's zone cannot leak in."""
    monkeypatch.setenv("TZ", "Europe/London")


REFERENCE = ReferenceData(
    hubs=(Hub(code="DEW", name="Dewsbury hub"), Hub(code="N11", name="No. 11 Huddersfield")),
    session_types=(SessionType(code="stay-and-play", name="Stay and play"),),
    contact_purposes=(
        ContactPurpose(code="money", name="Money"),
        ContactPurpose(code="housing", name="Housing"),
        ContactPurpose(code="immigration", name="Immigration"),
    ),
    payment_categories=(
        PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),
        PaymentCategory(code="food-voucher", name="Food voucher", limit_pence=6000),
        PaymentCategory(code="travel", name="Travel", limit_pence=2000),
    ),
    example=True,
)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(data_dir: Path):
    """A fresh store at the Dewsbury hub, unlocked as Sam (PA, £25 limit), with Nadia
    (duty manager, £200 limit) as a second user, and example reference data."""
    s, recovery = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User(
            login="nadia",
            display_name="Nadia Test-Manager",
            role="duty_manager",
            payment_limit_pence=20000,
            hub_code="DEW",
        ),
        passphrase=PASSPHRASE,
    )
    s.add_user(
        User(login="sam", display_name="Sam Test-Duty", role="pa", payment_limit_pence=2500, hub_code="DEW"), PASSPHRASE
    )
    s.set_reference(REFERENCE)
    s.lock()
    s = Store.unlock(data_dir, "sam", PASSPHRASE)
    s.recovery_code = recovery  # type: ignore[attr-defined]
    yield s
    s.lock()


@pytest.fixture
def person(store: Store) -> Person:
    return store.add_person(
        Person(
            first_name="Zebedee",
            last_name="Quarkfinch",
            preferred_name="Zeb",
            date_of_birth=date(2006, 11, 25),
            hub_code="DEW",
            legal_status="former_relevant",
            allocated_pa="nadia",
        )
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
