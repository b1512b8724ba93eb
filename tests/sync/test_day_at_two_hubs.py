"""A day at two hubs (issue 12, must show): ../shared/A-DAY-AT-THE-HUB.md lived on the real programs.

The central record service runs as `hubdesk-central serve` in its own process on loopback,
set up with the real admin commands (`reference set`, `caseload load`, `enrol`). Three
laptops, each its own encrypted store: Sam's office laptop and Tom's family-room laptop at
Dewsbury, Priya's at No. 11; Nadia, the duty manager, approves on Sam's. The day's events are
recorded through the store's API with each laptop's clock fixed on the story's times
(Wednesday 25 Nov 2026); every enrolment, sync, check and export is the real command in its
own process, on the real clock (the service checks each request's time against its own).

Sam's laptop reaches the service through a small TCP proxy in this test: when Dewsbury's
wifi comes back at 15:30 the proxy cuts her sync's connection part-way through the service's
answer to the push (the service has committed, the laptop has not heard), then holds every
new connection silent, as a dead network does; the `hubdesk sync` process, stuck retrying,
is killed with SIGKILL. The network comes back and she syncs again.

Then each laptop closes its day and syncs, and the central export must equal the ledger this
test kept of everything it recorded (ids, kinds, amounts, receipt numbers): every record
once, nothing more; every payment once; `hubdesk doctor` clean on every laptop.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_helpers import CENTRAL_REFERENCE, PASSPHRASE, USERS, central_database, make_store

from hubdesk.domain.actions import ActionKind
from hubdesk.domain.day import FloatEventKind
from hubdesk.domain.models import (
    Action,
    Attendance,
    Contact,
    ContactPurpose,
    DropInSession,
    Hub,
    Person,
    Safeguarding,
    User,
)
from hubdesk.store import actions, sync_state
from hubdesk.store import day as day_store
from hubdesk.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 25)  # a Wednesday, in GMT (London time is UTC)

TOM = User(login="tom", display_name="Tom Test-Advisor", role="advanced_pa", payment_limit_pence=5000, hub_code="DEW")
PRIYA = User(login="priya", display_name="Priya Test-Advisor", role="pa", payment_limit_pence=2500, hub_code="N11")
NADIA = next(u for u in USERS if u.login == "nadia")
# Each person their own passphrase: Nadia's approval is her own, typed on Sam's laptop.
PASSES = {
    "nadia": PASSPHRASE,
    "sam": "sams own passphrase",
    "tom": "toms own passphrase",
    "priya": "priyas own passphrase",
}
REFERENCE = CENTRAL_REFERENCE.model_copy(
    update={
        "users": (*USERS, TOM, PRIYA),
        "contact_purposes": (
            *CENTRAL_REFERENCE.contact_purposes,
            ContactPurpose(code="immigration", name="Immigration"),
        ),
    }
)

# The caseload, as the case management system exports it (obviously fake surnames).
CASELOAD = [
    # case_id, first, last, dob, hub, legal status, allocated PA, young parent, alerts, address
    ("DAY-1001", "Kayden", "Mockridge", "2007-06-10", "DEW", "former_relevant", "tom", "no",
     "contact_preference: Prefers text messages, not calls", ""),
    ("DAY-1002", "Amira", "Testbury", "2006-03-14", "N11", "former_relevant", "priya", "no",
     "interpreter_needed: Tigrinya", "1 Example Street, Testtown"),
    ("DAY-1003", "Jade", "Sampleton", "2009-08-02", "DEW", "relevant", "sam", "no", "", ""),
    ("DAY-2001", "Chloe", "Fakeley", "2003-02-01", "DEW", "former_relevant", "", "yes", "", ""),
    ("DAY-2002", "Demi", "Placeford", "2004-02-01", "DEW", "former_relevant", "", "yes", "", ""),
    ("DAY-2003", "Leah", "Proxley", "2005-02-01", "DEW", "former_relevant", "", "yes", "", ""),
    ("DAY-2004", "Mason", "Demoworth", "2006-02-01", "DEW", "former_relevant", "", "yes", "", ""),
    ("DAY-1009", "Tyler", "Stubbings", "2005-09-09", "DEW", "former_relevant", "tom", "no", "", ""),
    ("DAY-3001", "Robin", "Examplefield", "2005-05-05", "N11", "former_relevant", "priya", "no", "", ""),
]  # fmt: skip


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 25, hour, minute, tzinfo=UTC)


class Clock:
    """A laptop's clock, set to each moment of the story."""

    def __init__(self) -> None:
        self.now = at(9, 0)

    def __call__(self) -> datetime:
        return self.now

    def to(self, hour: int, minute: int = 0) -> None:
        self.now = at(hour, minute)


# --- the programs ------------------------------------------------------------------------------


def _program(name: str, module: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


HUBDESK = _program("hubdesk", "hubdesk")
CENTRAL = _program("hubdesk-central", "hubcentral.cli")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HUBDESK_PASSPHRASE", "HUBDESK_USER")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "sync"), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env | {"HUBDESK_KDF_PROFILE": "fast", "TZ": "Europe/London"} | extra


def central(db: str, *args: str) -> str:
    done = subprocess.run([*CENTRAL, *args, "--db", db], capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0, f"hubdesk-central {args[0]}: {done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr
    return done.stdout


class Laptop:
    """One hub laptop: its encrypted store, its clock, and the user at it."""

    def __init__(self, name: str, data_dir: Path, login: str) -> None:
        self.name, self.data_dir, self.login = name, data_dir, login
        self.clock = Clock()

    def open(self, login: str | None = None) -> Store:
        return Store.unlock(self.data_dir, login or self.login, PASSES[login or self.login], clock=self.clock)

    def start(self, command: str, *args: str) -> subprocess.Popen[str]:
        """`hubdesk COMMAND` on this laptop, as its user, in its own process."""
        return subprocess.Popen(
            [*HUBDESK, command, "--data-dir", str(self.data_dir), "--user", self.login, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(HUBDESK_PASSPHRASE=PASSES[self.login]),
        )


def finish(proc: subprocess.Popen[str], what: str, expect: int = 0) -> str:
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == expect, f"{what}: exit {proc.returncode}\n{out[-2000:]}\n{err[-2000:]}"
    assert "Traceback" not in out + err, f"{what}: {err[-2000:]}"
    return out


def sync(*laptops: Laptop) -> list[str]:
    """`hubdesk sync` on each laptop at once (they are different machines)."""
    procs = [(lap, lap.start("sync", "--quiet")) for lap in laptops]
    return [finish(p, f"hubdesk sync on {lap.name}") for lap, p in procs]


# --- the network between Sam's laptop and the service ------------------------------------------


class Network:
    """A TCP proxy on loopback. `cut_after(n)`: the service's answers pass until n more bytes
    have come through, then every connection is dropped and the network goes dead: new
    connections are taken but nothing passes (as on a dead wifi) until `restore()`."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.budget: int | None = None
        self.dead = False
        self.live: list[socket.socket] = []
        self.held: list[socket.socket] = []
        self.cut = threading.Event()
        self.held_one = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut_after(self, n: int) -> None:
        with self.lock:
            self.budget = n

    def restore(self) -> None:
        with self.lock:
            self.dead = False
            held, self.held = self.held, []
        for s in held:
            s.close()

    def close(self) -> None:
        self.listener.close()
        with self.lock:
            for s in self.live + self.held:
                s.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.dead:
                    self.held.append(client)
                    self.held_one.set()
                    continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.live += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                break
            drop = False
            if answers:
                with self.lock:
                    if self.budget is not None:
                        if len(data) >= self.budget:
                            data, drop = data[: self.budget], True
                        else:
                            self.budget -= len(data)
            try:
                dst.sendall(data)
            except OSError:
                return
            if drop:
                with self.lock:
                    self.budget, self.dead = None, True
                    live, self.live = self.live, []
                for s in live:
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    s.close()
                self.cut.set()
                return
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# --- the ledger --------------------------------------------------------------------------------


class Ledger:
    """What this test recorded, kept by the test itself: kind -> record id -> the fields it set."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self.actions: list[tuple[str, str, str | None, str]] = []  # (contact_id, kind, owner, text)

    def add(self, kind: str, record_id: str, /, **fields: Any) -> None:
        assert record_id not in self.records.setdefault(kind, {}), f"{kind} {record_id} recorded twice"
        self.records[kind][record_id] = fields

    def contact(self, store: Store, contact: Contact) -> Contact:
        saved = store.record_contact(contact)
        self.add("contact", saved.id, person_id=saved.person_id, contact_type=saved.contact_type.value, version=1)
        for a in saved.actions:
            self.actions.append((saved.contact_id, ActionKind.ACTION.value, "priya", a.text))
        return saved

    def sign_out(self, store: Store, contact: Contact, when: datetime) -> Contact:
        signed = store.sign_out(contact.contact_id, when)
        self.add("contact", signed.id, person_id=signed.person_id, contact_type="drop_in", version=2, ended_at=when)
        assert signed.ended_at == when
        return signed

    def payment(self, store: Store, receipt_no: str, **kw: Any) -> Any:
        payment = store.record_payment(**kw)
        self.add(
            "payment",
            payment.id,
            receipt_no=receipt_no,
            person_id=kw["person_id"],
            category=kw["category"],
            amount_pence=kw["amount_pence"],
            method=kw["method"],
            status=payment.status.value,
            authorised_by=payment.authorised_by,
        )
        assert payment.receipt_no == receipt_no
        return payment


def visit(store: Store, person: Person, when: datetime, purposes: tuple[str, ...], summary: str, **kw: Any) -> Contact:
    login = store.user.login if store.user else ""
    return Contact(
        person_id=person.id,
        hub_code=store.hub_code,
        contact_type=kw.pop("contact_type", "drop_in"),
        recorded_by=login,
        started_at=when,
        recorded_at=when,
        seen=kw.pop("seen", True),
        purposes=purposes,
        summary=summary,
        **kw,
    )


def by_case(store: Store) -> dict[str, Person]:
    return {p.case_id: p for p in store.people() if p.case_id}


def laptop_store(data_dir: Path, hub: str, manager: User, device_no: int, others: list[User]) -> None:
    """A new laptop, made by its first user, with its other users' own passphrases."""
    if manager.login in {u.login for u in USERS}:
        store = make_store(data_dir, hub, manager.login, device_no)
    else:
        store, _ = Store.create(
            data_dir,
            hub=Hub(code=hub, name=f"{hub} hub"),
            first_user=manager,
            passphrase=PASSES[manager.login],
            device_no=device_no,
        )
        store.set_reference(REFERENCE.device_reference())
    try:
        for user in others:
            store.add_user(user, PASSES[user.login])
    finally:
        store.lock()


@pytest.mark.parametrize(
    "engine",
    # Both engines: PostgreSQL is skipped only where none is reachable, never with CI=true.
    ["sqlite", "postgresql"],
)
def test_a_day_at_two_hubs(engine: str, tmp_path: Path) -> None:
    started = time.monotonic()
    with central_database(engine, tmp_path) as db:
        day_at_two_hubs(db, tmp_path)
    print(f"\na day at two hubs on {engine}: {time.monotonic() - started:.1f} s")


def day_at_two_hubs(db: str, tmp_path: Path) -> None:
    ledger = Ledger()

    # --- the central admin sets up the service ---------------------------------------------
    (tmp_path / "reference.json").write_text(REFERENCE.model_dump_json())
    central(db, "reference", "set", str(tmp_path / "reference.json"))
    with (tmp_path / "caseload.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "case_id",
                "first_name",
                "last_name",
                "date_of_birth",
                "hub_code",
                "legal_status",
                "allocated_pa",
                "young_parent",
                "alerts",
                "address",
            ]
        )
        writer.writerows(CASELOAD)
    central(db, "caseload", "load", str(tmp_path / "caseload.csv"))
    codes = [central(db, "enrol", "--hub", hub).split()[0] for hub in ("DEW", "DEW", "N11")]

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    service = subprocess.Popen(
        [*CENTRAL, "serve", "--db", db, "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    url = f"http://127.0.0.1:{port}"
    network = Network(port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert service.poll() is None and time.monotonic() < deadline, "the service did not start"
            time.sleep(0.05)
        the_day(db, tmp_path, ledger, codes, url, network)
    finally:
        network.close()
        service.terminate()
        try:
            _, service_err = service.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
            _, service_err = service.communicate()
    assert "Traceback" not in service_err, service_err[-3000:]


def the_day(db: str, tmp_path: Path, ledger: Ledger, codes: list[str], url: str, network: Network) -> None:
    sam = Laptop("Sam's laptop (Dewsbury office)", tmp_path / "dew-office", "sam")
    tom = Laptop("Tom's laptop (Dewsbury family room)", tmp_path / "dew-family", "tom")
    priya = Laptop("Priya's laptop (No. 11)", tmp_path / "n11", "priya")
    laptop_store(sam.data_dir, "DEW", NADIA, 2, [next(u for u in USERS if u.login == "sam")])
    laptop_store(tom.data_dir, "DEW", NADIA, 3, [TOM])
    laptop_store(priya.data_dir, "N11", PRIYA, 1, [])
    laptops = (sam, tom, priya)
    # The evening before: each laptop enrolled (Sam's through the network that will fail) and synced.
    enrolling = [
        (lap, lap.start("enrol", "--server", server, "--code", code))
        for lap, server, code in zip(laptops, (network.url, url, url), codes, strict=True)
    ]
    for lap, proc in enrolling:
        finish(proc, f"hubdesk enrol on {lap.name}")
    sync(*laptops)

    # --- Dewsbury, Sam's laptop: the wifi is down all morning ------------------------------------
    s = sam.open()
    try:
        people = by_case(s)
        assert set(people) == {c[0] for c in CASELOAD}, "the caseload and No. 11's people reached Dewsbury"
        kayden, amira, jade, tyler = (people[c] for c in ("DAY-1001", "DAY-1002", "DAY-1003", "DAY-1009"))
        assert amira.contact.address == "", "No. 11's young person's address is never on a Dewsbury laptop"
        sam.clock.to(9, 45)
        opening = day_store.record_float_event(s, FloatEventKind.OPENING, 20000)
        ledger.add("cash_float", opening.id, amount_pence=20000, kind="opening")

        sam.clock.to(10, 5)
        s.view_person(kayden.id)
        kay_visit = ledger.contact(
            s, visit(s, kayden, at(10, 5), ("money", "housing"), "Came in about his gas meter; synthetic note")
        )
        sam.clock.to(10, 12)
        nadia = s.verify_manager("nadia", PASSES["nadia"], 3000)
        gas = ledger.payment(
            s,
            "DEW-2-000001",
            person_id=kayden.id,
            category="gas",
            amount_pence=3000,
            method="utility_top_up",
            reason="No gas since Saturday, heating and hot water off",
            voice="I didn't want to ask Tom again.",
            approver=nadia,
        )
        assert gas.status.value == "approved" and gas.authorised_by == "nadia" and gas.recorded_by == "sam"

        sam.clock.to(11, 15)
        call = ledger.contact(
            s,
            visit(
                s,
                amira,
                at(11, 15),
                ("immigration",),
                "Letter from the Home Office; synthetic note",
                contact_type="phone",
                seen=False,
                actions=(Action(text="Book interpreter and go through the letter", owner="allocated PA", due=DAY),),
                tell_allocated_pa=True,
            ),
        )
        ledger.actions.append((call.contact_id, ActionKind.TELL_PA.value, "priya", ""))
        sam.clock.to(11, 50)
        ledger.sign_out(s, kay_visit, at(11, 50))

        sam.clock.to(13, 35)
        jade_visit = ledger.contact(
            s,
            visit(
                s,
                jade,
                at(13, 20),
                ("housing",),
                "Upset about home; synthetic note",
                safeguarding_concern=True,
                safeguarding=Safeguarding(
                    action_taken="Spoke to the duty manager; referral made",
                    manager_informed_at=at(13, 30),
                    manager="Nadia Test-Manager",
                ),
            ),
        )
        sam.clock.to(13, 40)
        wrong = ledger.payment(
            s,
            "DEW-2-000002",
            person_id=jade.id,
            category="food-voucher",
            amount_pence=5100,
            method="voucher",
            voucher_serial="FV-TEST-0051",
            reason="Nothing in for tea",
        )
        assert wrong.status.value == "awaiting_approval"  # over Sam's own £25
        sam.clock.to(14, 5)
        reversal = s.reverse_payment(wrong.id, "typed wrong amount")
        ledger.add("reversal", reversal.id, payment_id=wrong.id)
        ledger.payment(
            s,
            "DEW-2-000003",
            person_id=jade.id,
            category="food-voucher",
            amount_pence=1500,
            method="voucher",
            voucher_serial="FV-TEST-0052",
            reason="Nothing in for tea",
            corrects=wrong.id,
        )
        ledger.sign_out(s, jade_visit, at(14, 10))

        sam.clock.to(14, 30)
        tyler_visit = ledger.contact(s, visit(s, tyler, at(14, 30), ("money",), "Asked about travel; synthetic note"))
        sam.clock.to(14, 35)
        ledger.payment(
            s,
            "DEW-2-000004",
            person_id=tyler.id,
            category="travel",
            amount_pence=2000,
            method="cash",
            reason="Bus pass for the week",
        )
        waiting_at_1530 = s.outbox_waiting()
    finally:
        s.lock()

    # --- Dewsbury, Tom's laptop in the family room: stay and play ------------------------------
    t = tom.open()
    try:
        people = by_case(t)
        tom.clock.to(10, 30)
        session = t.open_session(
            DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=at(10, 30), opened_by="tom")
        )
        for case in ("DAY-2001", "DAY-2002", "DAY-2003", "DAY-2004"):
            assert people[case].id in {hit.person_id for hit in t.search_people(people[case].first_name)}
            line = t.add_attendance(
                Attendance(
                    session_id=session.id,
                    kind="person",
                    person_id=people[case].id,
                    recorded_by="tom",
                    recorded_at=at(10, 35),
                )
            )
            ledger.add("attendance", line.id, session_id=session.id, kind="person", person_id=people[case].id)
        children = t.add_attendance(
            Attendance(session_id=session.id, kind="children", children=5, recorded_by="tom", recorded_at=at(10, 36))
        )
        ledger.add("attendance", children.id, session_id=session.id, kind="children", children=5)
        tom.clock.to(10, 50)
        walk_in = t.add_person(
            Person(first_name="Newcomer", approx_age=19, hub_code="DEW", walk_in=True, needs_matching=True)
        )
        ledger.add("person", walk_in.id, walk_in=True, needs_matching=True)
        line = t.add_attendance(
            Attendance(
                session_id=session.id, kind="walk_in", person_id=walk_in.id, recorded_by="tom", recorded_at=at(10, 50)
            )
        )
        ledger.add("attendance", line.id, session_id=session.id, kind="walk_in", person_id=walk_in.id)
        tom.clock.to(12, 0)
        t.close_session(session.id, at(12, 0))
        ledger.add("session", session.id, session_type="stay-and-play", version=2, closed_at=at(12, 0))
    finally:
        t.lock()

    # --- No. 11, Priya's laptop: online all day ------------------------------------------------
    p = priya.open()
    try:
        robin = by_case(p)["DAY-3001"]
        priya.clock.to(10, 0)
        robin_visit = ledger.contact(p, visit(p, robin, at(10, 0), ("money",), "Rent arrears; synthetic note"))
        priya.clock.to(10, 20)
        ledger.payment(
            p,
            "N11-1-000001",
            person_id=robin.id,
            category="gas",
            amount_pence=2000,
            method="utility_top_up",
            reason="Meter empty",
        )
        priya.clock.to(10, 40)
        ledger.sign_out(p, robin_visit, at(10, 40))
    finally:
        p.lock()
    sync(priya)

    # --- 15:30 at Dewsbury: the wifi comes back, and fails again part-way ----------------------
    before = central_received(db)
    network.cut_after(200)  # into the service's answer to the push: it has committed, Sam has not heard
    proc = sam.start("sync")
    assert network.cut.wait(30), "the sync never reached the service"
    assert network.held_one.wait(30), "the sync did not try again after the cut"
    time.sleep(0.2)
    assert proc.poll() is None, "the sync should still be waiting on the dead network"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # The cut landed after the service took the push and before Sam's laptop heard the answer.
    assert central_received(db) - before == waiting_at_1530
    s = sam.open()
    try:
        states = Counter(state for (state,) in s._rows("SELECT state FROM outbox"))
        assert states["synced"] < sum(states.values()) and s.outbox_waiting() + states["sending"] > 0, states
    finally:
        s.lock()

    network.restore()
    [again] = sync(sam)
    assert f"Sent {waiting_at_1530} (0 new, {waiting_at_1530} already there" in again, again
    sync(tom)
    sync(sam, priya)  # Sam's laptop fetches the register; Priya's the action for her

    # Tom's laptop shows Kayden's visit and gas top-up, and who is in from either laptop.
    t = tom.open()
    try:
        people = by_case(t)
        assert [x.receipt_no for x in t.payments_for_person(people["DAY-1001"].id)] == ["DEW-2-000001"]
        assert {c.person_id for c in t.in_building("DEW")} == {people["DAY-1009"].id}
    finally:
        t.lock()
    # Priya's desk: Sam's action for her, and Amira's address, which Dewsbury never had.
    p = priya.open()
    try:
        priya.clock.to(15, 45)
        mine = actions.for_user(p, "priya", DAY)
        assert [(r.item.kind, r.item.text) for r in mine if r.item.kind is ActionKind.ACTION] == [
            (ActionKind.ACTION, "Book interpreter and go through the letter")
        ]
        assert by_case(p)["DAY-1002"].contact.address == "1 Example Street, Testtown"
    finally:
        p.lock()

    # --- 16:00 end of day on every laptop ------------------------------------------------------
    s = sam.open()
    try:
        people = by_case(s)
        sam.clock.to(16, 0)
        checklist = day_store.day_checklist(s, "DEW", DAY)
        assert [c.person_id for c in checklist.still_in] == [people["DAY-1009"].id]
        ledger.sign_out(s, tyler_visit, at(15, 10))
        sam.clock.to(16, 5)
        ledger.payment(
            s,
            "DEW-2-000005",
            person_id=people["DAY-1001"].id,
            category="travel",
            amount_pence=500,
            method="cash",
            reason="Bus fare home, given at 11:50",
        )
        count = day_store.count_float(s, total_pence=17500, reason="£5 given for bus fare, not recorded; recorded now")
        assert count.expected_pence == 17500  # 200.00 - 20.00 - 5.00
        ledger.add("float_count", count.id, total_pence=17500, expected_pence=17500)
        note = day_store.write_handover(s, "Jade: safeguarding referral made, follow up tomorrow.")
        ledger.add("handover_note", note.id, hub_code="DEW", day=DAY.isoformat())
        sam.clock.to(16, 10)
        closure = day_store.close_day(s, note="Sam's day")
        # Paid out at the hub: gas 30.00, voucher 15.00 (the 51.00 reversed), cash 20.00 and 5.00.
        ledger.add("day_closure", closure.id, hub_code="DEW", contacts=4, payments_net_pence=7000)
    finally:
        s.lock()
    # The family room's laptop syncs at its end of day: Tyler signed out and the float counted
    # on Sam's laptop reach it, so there is nothing left for Tom to settle or count.
    sync(sam)
    sync(tom)
    t = tom.open()
    try:
        tom.clock.to(16, 15)
        checklist = day_store.day_checklist(t, "DEW", DAY)
        assert checklist.blockers == [] and checklist.cash_float.explained, checklist.blockers
        assert checklist.cash_float.count is not None and checklist.cash_float.count.id == count.id
        closure = day_store.close_day(t, note="Family room laptop")
        ledger.add("day_closure", closure.id, hub_code="DEW", contacts=4, payments_net_pence=7000)
    finally:
        t.lock()
    p = priya.open()
    try:
        priya.clock.to(16, 20)
        note = day_store.write_handover(p, "Amira: interpreter to book by Thursday.")
        ledger.add("handover_note", note.id, hub_code="N11", day=DAY.isoformat())
        closure = day_store.close_day(p)
        ledger.add("day_closure", closure.id, hub_code="N11", contacts=1, payments_net_pence=2000)
    finally:
        p.lock()
    sync(*laptops)

    # --- next morning, central office: the export against the ledger ----------------------------
    held = json.loads(central(db, "export", "--what", "all", "--format", "json"))
    check_against_ledger(held, ledger)

    # Every laptop's store checks clean.
    checks = [(lap, lap.start("doctor")) for lap in laptops]
    for lap, proc in checks:
        finish(proc, f"hubdesk doctor on {lap.name}")
    for lap in laptops:
        s = lap.open()
        try:
            assert s.outbox_waiting() == 0 and not sync_state.quarantined(s), lap.name
            assert day_store.day_closure(s, s.hub_code, DAY) is not None, lap.name
        finally:
            s.lock()


def central_received(db: str) -> int:
    from hubcentral.storage import CentralStore

    store = CentralStore.open(db)
    try:
        return store.count("received")
    finally:
        store.close()


def check_against_ledger(held: dict[str, list[dict[str, Any]]], ledger: Ledger) -> None:
    kinds = {kind for kind, rows in held.items() if rows} - {"person", "action"}
    assert kinds == set(ledger.records) - {"person"}, (sorted(kinds), sorted(ledger.records))
    for kind, expected in ledger.records.items():
        if kind == "person":
            continue
        rows = held[kind]
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids)), f"a {kind} held twice"
        assert set(ids) == set(expected), kind
        for row in rows:
            want = expected[row["id"]]
            got = {
                k: datetime.fromisoformat(row[k]) if isinstance(v, datetime) and row.get(k) else row.get(k)
                for k, v in want.items()
            }
            assert got == want, (kind, row["id"])

    # Every payment once: the receipt numbers are exactly the ledger's, none twice.
    receipts = [r["receipt_no"] for r in held["payment"]]
    assert sorted(receipts) == sorted(v["receipt_no"] for v in ledger.records["payment"].values())
    assert len(receipts) == len(set(receipts))
    reversed_ = {r["payment_id"] for r in held["reversal"]}
    corrected = [r for r in held["payment"] if r.get("corrects") in reversed_]
    assert len(corrected) == 1 and corrected[0]["amount_pence"] == 1500

    # The actions: Sam's for Priya and "tell the allocated PA", each once.
    got_actions = sorted((a["contact_id"], a["kind"], a["owner"], a["text"]) for a in held["action"])
    want_actions = sorted(ledger.actions)
    assert [g[:3] for g in got_actions] == [w[:3] for w in want_actions]
    assert [g[3] for g in got_actions if g[1] == "action"] == [w[3] for w in want_actions if w[1] == "action"]

    # People: the caseload, and the walk-in waiting to be matched.
    people = {p["id"]: p for p in held["person"]}
    assert sorted(p["case_id"] for p in people.values() if p.get("case_id")) == sorted(c[0] for c in CASELOAD)
    walk_ins = [p for p in people.values() if p.get("walk_in")]
    assert [p["id"] for p in walk_ins] == list(ledger.records["person"]) and walk_ins[0]["needs_matching"]
