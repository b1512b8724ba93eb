"""Sync test helpers: a live service on loopback, a day of records, the device's records by kind."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hubcentral.app import Service, make_app
from hubcentral.serving import Limits, uvicorn_config
from hubcentral.storage import CentralStore
from hubdesk.domain.models import (
    Contact,
    ContactPurpose,
    DropInSession,
    Hub,
    PaymentCategory,
    Person,
    SessionType,
    User,
)
from hubdesk.store import sync_state
from hubdesk.store.store import Store
from hubdesk.sync.client import enrol
from hubdesk.sync.protocol import CentralReference

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
USERS = (
    User(login="sam", display_name="Sam Test-Duty", role="pa", payment_limit_pence=2500, hub_code="DEW"),
    User(
        login="nadia", display_name="Nadia Test-Manager", role="duty_manager", payment_limit_pence=20000, hub_code="DEW"
    ),
    User(login="omar", display_name="Omar Test-Duty", role="pa", payment_limit_pence=2500, hub_code="N11"),
    User(login="gone", display_name="Gone Test-Leaver", role="pa", hub_code="DEW", active=False),
)
PASSPHRASE = "correct horse battery"  # as tests/conftest.py's store fixture
CENTRAL_REFERENCE = CentralReference(
    hubs=(Hub(code="DEW", name="Dewsbury hub"), Hub(code="N11", name="No. 11 Huddersfield")),
    users=USERS,
    session_types=(SessionType(code="stay-and-play", name="Stay and play"),),
    contact_purposes=(ContactPurpose(code="money", name="Money"), ContactPurpose(code="housing", name="Housing")),
    payment_categories=(
        PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),
        PaymentCategory(code="food-voucher", name="Food voucher", limit_pence=6000),
        PaymentCategory(code="travel", name="Travel", limit_pence=2000),
    ),
    example=True,
    # Tests record events on fixed dates (2026) against a service on the real clock: the
    # longest window keeps a desk's retention purge and the feed's window off them on any day
    # the suite runs (HUBDESK_TEST_MOVE_CLOCK). tests/sync/test_retention.py sets its own.
    retention_days=3650,
)


def _pg_base() -> str | None:
    """A reachable PostgreSQL URL, or None (then PG tests skip, unless CI=true: then they fail)."""
    url = os.environ.get("HUBDESK_TEST_PG_URL", PG_DEFAULT)
    problem = ""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        problem = type(exc).__name__
    if not problem:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but PostgreSQL at {url} is not reachable ({problem}); start it or set HUBDESK_TEST_PG_URL",
            pytrace=False,
        )
    return None


@contextmanager
def central_database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh, empty central database: a SQLite file, or a PostgreSQL schema of its own."""
    if kind == "sqlite":
        yield str(directory / "central.db")
        return
    base = _pg_base()
    if base is None:
        pytest.skip("No PostgreSQL reachable: set HUBDESK_TEST_PG_URL=postgresql://user@host:port/db to run these")
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


class LiveServer:
    """The real service under uvicorn in a thread, on a loopback port it keeps across restarts."""

    def __init__(self, db: str, *, clock: Callable[[], datetime] | None = None, max_body: int | None = None) -> None:
        self.db = db
        self.clock = clock
        self.max_body = max_body
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.service: Service | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        kwargs: dict[str, Any] = {}
        if self.clock:
            kwargs["clock"] = self.clock
        if self.max_body:
            kwargs["max_body"] = self.max_body
        self.service = Service(CentralStore.open(self.db), **kwargs)
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only
        # then, and without it Nagle plus delayed ACK costs 40 ms a request.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        # The settings `hubdesk-central serve` runs with: timeouts and the connection cap.
        config = uvicorn_config(
            make_app(self.service), Limits(), log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        self._sock = sock
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(10)
            self._sock.close()
            self._server = None
        if self.service is not None:
            self.service.store.close()
            self.service = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def store(self) -> CentralStore:
        assert self.service is not None
        return self.service.store


def enrol_device(store: Store, server: LiveServer, central: CentralStore) -> None:
    now = datetime.now(UTC)
    code = central.make_enrolment_code(store.hub_code, now + timedelta(hours=1), now)
    enrol(store, server.url, code)


def make_store(data_dir: Path, hub: str, login: str, device_no: int = 1) -> Store:
    user = next(u for u in USERS if u.login == login)
    s, _ = Store.create(
        data_dir, hub=Hub(code=hub, name=f"{hub} hub"), first_user=user, passphrase=PASSPHRASE, device_no=device_no
    )
    s.set_reference(CENTRAL_REFERENCE.device_reference())
    return s


# --- a day at the desk -------------------------------------------------------------------------


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


def walk_in(store: Store, n: int) -> Person:
    return store.add_person(
        Person(
            first_name=f"Walkin{n}",
            last_name="Testcase",
            date_of_birth=date(2005, 3, n + 1),
            hub_code=store.hub_code,
            walk_in=True,
            needs_matching=True,
        )
    )


def day_of_records(store: Store, people: int = 3, contacts_each: int = 2) -> dict[str, int]:
    """A plausible day: walk-ins, visits signed in and out, phone calls, payments, a
    reversal, a session with its register. Returns how many outbox rows it made."""
    before = store.count("outbox")
    login = store.user.login if store.user else "sam"
    added = [walk_in(store, i) for i in range(people)]
    for i, person in enumerate(added):
        for j in range(contacts_each):
            c = store.record_contact(
                Contact(
                    person_id=person.id,
                    hub_code=store.hub_code,
                    contact_type="drop_in" if j == 0 else "phone",
                    recorded_by=login,
                    started_at=at(10 + j, i),
                    recorded_at=at(10 + j, i + 1),
                    seen=True,
                    purposes=("money",),
                    summary=f"Synthetic visit {i}-{j}",
                    voice="Fake words only",
                )
            )
            if j == 0:
                store.sign_out(c.contact_id, at(11, 30))
        store.record_payment(
            person_id=person.id, category="gas", amount_pence=1500 + i, method="cash", reason="Synthetic gas top-up"
        )
    first = store.payments_for_person(added[0].id)[0]
    store.reverse_payment(first.id, "Synthetic mistake")
    session = store.open_session(
        DropInSession(hub_code=store.hub_code, session_type="stay-and-play", starts_at=at(13), opened_by=login)
    )
    from hubdesk.domain.models import Attendance

    for person in added[:2]:
        store.add_attendance(
            Attendance(
                session_id=session.id, kind="person", person_id=person.id, recorded_by=login, recorded_at=at(13, 5)
            )
        )
    store.close_session(session.id, at(15))
    edited = added[-1]
    store.update_person(edited.model_copy(update={"preferred_name": "Testy"}), edited.version)
    return {"outbox": store.count("outbox") - before}


def local_audit(store: Store) -> list[dict[str, Any]]:
    return [
        dict(zip(sync_state.AUDIT_COLUMNS, row, strict=True))
        for row in store._rows(f"SELECT {', '.join(sync_state.AUDIT_COLUMNS)} FROM audit ORDER BY seq")
    ]


def central_audit(central: CentralStore, store: Store) -> list[dict[str, Any]]:
    return [{k: e[k] for k in sync_state.AUDIT_COLUMNS} for e in central.audit_entries(sync_state.device_id(store))]


def assert_audit_held_once(device: Store, central: CentralStore) -> None:
    """The central copy is exactly the desk's chain 1..held: each seq once, same content."""
    held = central_audit(central, device)
    seqs = [e["seq"] for e in held]
    assert seqs == list(range(1, len(seqs) + 1))
    assert held == local_audit(device)[: len(held)]
    assert sync_state.audit_acked(device) <= len(held)
    _, problems = central.verify_audit(sync_state.device_id(device))
    assert problems == []


def device_records(store: Store) -> dict[str, dict[str, Any]]:
    """Every record the device holds that it pushes, by kind then id, as JSON data."""
    import json

    tables = {
        "contact": "contacts",
        "payment": "payments",
        "payment_decision": "payment_decisions",
        "reversal": "reversals",
        "session": "sessions",
        "attendance": "attendance",
    }
    out: dict[str, dict[str, Any]] = {}
    for kind, table in tables.items():
        out[kind] = {row[0]: json.loads(row[1]) for row in store._rows(f"SELECT id, body FROM {table}")}
    return out
