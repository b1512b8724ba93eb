"""Sync fixtures: a real central service on a loopback port, over SQLite or a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.store.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def central_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty central database per test, on each engine."""
    with central_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
def central(central_db: str) -> Iterator[CentralStore]:
    """The central store with reference data set (users sam, nadia at DEW, omar at N11)."""
    store = CentralStore.open(central_db)
    store.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    yield store
    store.close()


@pytest.fixture
def server(central: CentralStore, central_db: str) -> Iterator[LiveServer]:
    live = LiveServer(central_db).start()
    yield live
    live.stop()


@pytest.fixture
def device(tmp_path: Path, server: LiveServer, central: CentralStore) -> Iterator[Store]:
    """A Dewsbury desk unlocked as sam (a PA), enrolled with the live service. Made directly,
    not from conftest's `store`: half the Argon2id runs, and sync tests make many desks."""
    s = make_store(tmp_path / "dew", "DEW", "sam")
    enrol_device(s, server, central)
    yield s
    s.lock()


@pytest.fixture
def second_device(tmp_path: Path, server: LiveServer, central: CentralStore) -> Iterator[Store]:
    """A desk at No. 11, unlocked as omar, enrolled."""
    s = make_store(tmp_path / "n11", "N11", "omar")
    enrol_device(s, server, central)
    yield s
    s.lock()
