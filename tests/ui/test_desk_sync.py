"""Sync from the desk against a real hubcentral service on 127.0.0.1: records reach it exactly
once, progress shows while the screen keeps working, offline and not-enrolled are said plainly,
background pushes, and every record's sync state is visible."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deskpilot import SIZE, screen_name, unlock
from textual.message import Message

import hubdesk.app
from hubcentral.storage import CentralStore
from hubdesk.domain.models import Contact
from hubdesk.messages import ServiceReachable, SyncDone, SyncFailed, SyncProgress, SyncStarted
from hubdesk.screens.sync_job import NOT_ENROLLED
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.widgets.status import SyncView
from tests.sync.sync_helpers import CENTRAL_REFERENCE, LiveServer, enrol_device


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralStore]:
    """An empty central record (SQLite) with the reference data: sam and nadia at DEW."""
    db = CentralStore.open(str(tmp_path / "central.db"))
    db.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    yield db
    db.close()


@pytest.fixture
def server(central: CentralStore, tmp_path: Path) -> Iterator[LiveServer]:
    """The real service under uvicorn on a loopback port."""
    live = LiveServer(str(tmp_path / "central.db")).start()
    yield live
    live.stop()


@pytest.fixture
def enrolled(store: Store, people, server: LiveServer, central: CentralStore) -> Store:
    """The fixture desk enrolled with the live service (nothing synced yet)."""
    enrol_device(store, server, central)
    return store


def visit(store: Store, person_id: str, at: datetime) -> Contact:
    return store.record_contact(
        Contact(
            person_id=person_id,
            hub_code="DEW",
            contact_type="drop_in",
            recorded_by="sam",
            started_at=at,
            recorded_at=at,
            seen=True,
            purposes=("money",),
            summary="Synthetic visit",
        )
    )


async def wait_for(pilot, condition, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("timed out waiting")
        await pilot.pause(0.05)


def ids(central: CentralStore, kind: str) -> list[str]:
    return [r["id"] for r in central.records(kind)]


async def test_sync_from_the_desk_reaches_the_service_exactly_once(
    desk_app, enrolled: Store, people, central: CentralStore, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = visit(enrolled, people["kayden"].id, clock())
    payment = enrolled.record_payment(
        person_id=people["zeb"].id, category="gas", amount_pence=1500, method="cash", reason="No gas"
    )
    waiting = enrolled.outbox_waiting()
    assert waiting >= 5

    # Slow the worker's progress reports down, so the bar can be seen and the screen used meanwhile.
    real_run_sync = hubdesk.app.run_sync

    def slow_run_sync(job, progress):
        def slow(phase: str, done: int, total: int | None) -> None:
            progress(phase, done, total)
            import time

            time.sleep(0.4)

        return real_run_sync(job, slow)

    monkeypatch.setattr(hubdesk.app, "run_sync", slow_run_sync)
    desk_app.settings.background_sync = False
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        status = desk_app.screen.query_one("#sync-status")
        await pilot.press("y")
        await wait_for(pilot, lambda: desk_app.sync_view.running and desk_app.sync_view.done > 0)
        # The bar is on screen with the total to send, and the desk still answers keys.
        assert status.has_class("-running")
        assert f"Syncing: sending {waiting} of {waiting}" in status.text
        bar = status.query_one("#sync-progress")
        assert bar.display and bar.total == waiting
        await pilot.press("slash")
        await pilot.pause()
        assert screen_name(desk_app) == "SearchScreen"
        await pilot.press("escape")
        await pilot.pause()
        await wait_for(pilot, lambda: not desk_app.sync_view.running)
        assert "nothing waiting" in status.text and "Online" in status.text
        assert not status.has_class("-running")

        # Again: nothing to send, nothing sent twice.
        await pilot.press("y")
        await wait_for(pilot, lambda: sum(isinstance(m, SyncDone) for m in messages) == 2)
    started = [m for m in messages if isinstance(m, SyncStarted)]
    assert [(m.full, m.background) for m in started] == [(True, False), (True, False)]
    assert any(isinstance(m, SyncProgress) and m.phase == "push" and m.total == waiting for m in messages)
    first, second = [m for m in messages if isinstance(m, SyncDone)]
    assert first.pushed == first.accepted == waiting and not first.needs_attention
    assert second.pushed == 0
    # Read back: the desk's outbox is settled and the central record holds each record once.
    assert enrolled.outbox_waiting() == 0
    assert sync_state.states(enrolled) == {"synced": waiting}
    assert ids(central, "payment").count(payment.id) == 1 and len(ids(central, "payment")) == 1
    assert ids(central, "contact").count(contact.id) == 1
    assert sync_state.get(enrolled, sync_state.K_LAST_SYNC)


async def test_an_unreachable_service_shows_offline_not_a_crash(
    desk_app, enrolled: Store, people, server: LiveServer
) -> None:
    server.stop()
    desk_app.settings.background_sync = False
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        desk_app.check_service(force=True)
        await wait_for(pilot, lambda: any(isinstance(m, ServiceReachable) for m in messages))
        status = desk_app.screen.query_one("#sync-status")
        await pilot.pause()
        assert status.text.startswith("○ Offline") and status.has_class("-offline")
        await pilot.press("y")
        await wait_for(pilot, lambda: any(isinstance(m, SyncFailed) for m in messages))
        await pilot.pause()
        assert screen_name(desk_app) == "DeskScreen"
        assert "Offline" in status.text and "3 records waiting" in status.text
        assert "cannot be reached" in desk_app.sync_view.message
        # Still a working desk.
        await pilot.press("slash")
        await pilot.pause()
        assert screen_name(desk_app) == "SearchScreen"
    [failed] = [m for m in messages if isinstance(m, SyncFailed)]
    assert failed.offline and not failed.not_enrolled
    assert desk_app.return_code in (None, 0)
    assert enrolled.outbox_waiting() == 3  # kept, to go next time


async def test_a_desk_not_enrolled_says_so_plainly(desk_app, store: Store, people) -> None:
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append, notifications=True) as pilot:
        await unlock(pilot)
        status = desk_app.screen.query_one("#sync-status")
        assert status.text.startswith("Not enrolled")
        await pilot.press("y")
        await pilot.pause()
        assert [n.message for n in desk_app._notifications] == [NOT_ENROLLED]
        assert desk_app.sync_view.message == NOT_ENROLLED
    [failed] = [m for m in messages if isinstance(m, SyncFailed)]
    assert failed.not_enrolled and failed.text == NOT_ENROLLED
    assert not any(isinstance(m, SyncStarted) for m in messages)


async def test_background_push_when_the_service_is_reachable(
    desk_app, enrolled: Store, people, central: CentralStore
) -> None:
    views: list[SyncView] = []
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append, notifications=True) as pilot:
        desk_app.watch(desk_app, "sync_view", lambda view: views.append(view))
        await unlock(pilot)
        # Nothing pressed: the check after unlock finds the service and sends what waits.
        await wait_for(pilot, lambda: any(isinstance(m, SyncDone) for m in messages))
        await pilot.pause()
        assert "nothing waiting" in desk_app.screen.query_one("#sync-status").text
        assert not desk_app._notifications  # in the background: no toast
    [started] = [m for m in messages if isinstance(m, SyncStarted)]
    assert started.background and not started.full
    assert any(v.running and v.background for v in views)
    assert enrolled.outbox_waiting() == 0
    assert sorted(ids(central, "person")) == sorted(p.id for p in people.values())


async def test_each_record_shows_its_sync_state_and_refused_records_their_reason(
    desk_app, enrolled: Store, people, clock, central: CentralStore
) -> None:
    visit(enrolled, people["kayden"].id, clock())
    # A record the service will refuse: a contact whose body is not a contact.
    with enrolled._save() as now:
        enrolled._outbox(now, "contact", "not-a-real-contact", json.dumps({"id": "not-a-real-contact"}))
    desk_app.settings.background_sync = False
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        assert screen_name(desk_app) == "PersonScreen"
        contacts = desk_app.screen.query_one("#person-contacts")
        assert str(contacts.get_row_at(0)[-1]) == "waiting"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: not desk_app.sync_view.running and desk_app.sync_view.message)
        assert "need attention" in desk_app.sync_view.message
        assert "1 needs attention" in desk_app.screen.query_one("#sync-status").text
        await pilot.press("slash", *"kayden", "enter")
        await pilot.pause()
        assert str(desk_app.screen.query_one("#person-contacts").get_row_at(0)[-1]) == "synced"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("Y")
        await pilot.pause()
        assert screen_name(desk_app) == "SyncScreen"
        refused = desk_app.screen.query_one("#quarantined")
        assert refused.row_count == 1
        assert str(refused.get_row_at(0)[0]) == "Contact"
        assert str(refused.get_row_at(0)[3])  # the service's reason, shown
    [item] = sync_state.quarantined(enrolled)
    assert item.record_id == "not-a-real-contact" and item.last_error


async def test_a_conflict_is_shown_with_both_sides_and_settled(desk_app, store: Store, people) -> None:
    zeb = people["zeb"]
    local = zeb.model_copy(update={"preferred_name": "Zebby"}).model_dump_json()
    remote = json.dumps(zeb.model_dump(mode="json") | {"preferred_name": "Z", "version": 2})
    with store._save() as now:
        sync_state._keep_conflict(store, "person", zeb.id, local, remote, now)
    async with desk_app.run_test(size=SIZE) as pilot:
        await unlock(pilot)
        assert "1 needs attention" in desk_app.screen.query_one("#sync-status").text
        await pilot.press("Y")
        await pilot.pause()
        conflicts = desk_app.screen.query_one("#conflicts")
        assert str(conflicts.get_row_at(0)[0]) == "Zebedee Quarkfinch"
        conflicts.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(desk_app) == "TextModal"
        body = str(desk_app.screen.query_one("#text-body").content)
        assert '"Zebby"' in body and '"Z"' in body
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"Kept Zebby, re-entered", "enter")
        await pilot.pause()
        assert desk_app.screen.query_one("#conflicts").row_count == 0
    assert sync_state.conflicts(store) == []
    [settled] = sync_state.conflicts(store, open_only=False)
    assert settled["resolution"] == "Kept Zebby, re-entered" and settled["settled_by"] == "sam"


async def test_locking_the_desk_stops_a_sync_and_a_later_one_finishes(
    desk_app, enrolled: Store, people, central: CentralStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_sync = hubdesk.app.run_sync
    slow_first = [True]

    def slow_run_sync(job, progress):
        def slow(phase: str, done: int, total: int | None) -> None:
            import time

            if slow_first[0]:
                time.sleep(0.5)
            progress(phase, done, total)

        return real_run_sync(job, slow)

    monkeypatch.setattr(hubdesk.app, "run_sync", slow_run_sync)
    desk_app.settings.background_sync = False
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        await pilot.press("y")
        await pilot.pause(0.1)
        assert desk_app.sync_view.running
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert screen_name(desk_app) == "UnlockScreen"
        assert not desk_app.sync_view.running
        assert any(isinstance(m, SyncFailed) and "stopped" in m.text for m in messages)
        await pilot.pause(1.0)  # the cancelled thread stops at its next step and closes its store
        slow_first[0] = False
        await unlock(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: any(isinstance(m, SyncDone) for m in messages))
    assert desk_app.return_code in (None, 0)
    assert enrolled.outbox_waiting() == 0
    assert sorted(ids(central, "person")) == sorted(p.id for p in people.values())


async def test_the_command_palette_finds_sync(desk_app, enrolled: Store, people) -> None:
    desk_app.settings.background_sync = False
    messages: list[Message] = []
    async with desk_app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await unlock(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sync")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(isinstance(m, SyncDone) for m in messages))
    [started] = [m for m in messages if isinstance(m, SyncStarted)]
    assert started.full and not started.background
    assert enrolled.outbox_waiting() == 0


def test_progress_messages_coalesce_to_the_latest() -> None:
    older, newer = SyncProgress("push", 10, 500), SyncProgress("push", 20, 500)
    assert older.can_replace(newer)
    assert not older.can_replace(SyncFailed("Offline", offline=True))
    assert not SyncFailed("x").can_replace(newer)
