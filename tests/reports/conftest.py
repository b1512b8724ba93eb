"""A demo store built once for the report tests, with the edge cases a report gets wrong:
birthdays on the day, contacts either side of local midnight in GMT and in BST, amended
and moved contacts, reversals (same day and a later day), decisions, a session register,
a float and voucher stock. Every person is synthetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from hubdesk.demo import DEMO_PASSPHRASE, build_demo
from hubdesk.domain.models import Attendance, Contact, DropInSession, Person, Safeguarding
from hubdesk.store import day as day_store
from hubdesk.store.store import Store

TODAY = date(2026, 4, 3)  # demo days run 13 Mar to 2 Apr 2026; BST starts 29 Mar at 01:00 UTC
DAYS = 21
BUSY_DAY = date(2026, 3, 24)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Edge:
    """Ids of the records planted for the edge cases."""

    bday18: str = ""
    bday21: str = ""
    gmt: str = ""
    walk_in: str = ""
    amended_contact: str = ""
    moved_contact: str = ""
    wrong_person: str = ""
    right_person: str = ""
    reversed_same_day: str = ""
    reversed_later: str = ""
    approved_by_decision: str = ""


def _contact(
    store: Store,
    person: Person,
    at: datetime,
    kind: str = "phone",
    *,
    hub: str = "DEW",
    minutes: int | None = 10,
    purposes: tuple[str, ...] = ("housing",),
    **extra,
) -> Contact:
    store.clock = lambda: at + timedelta(minutes=1)
    return store.record_contact(
        Contact(
            person_id=person.id,
            hub_code=hub,
            contact_type=kind,
            recorded_by="sam",
            started_at=at,
            ended_at=at + timedelta(minutes=minutes) if minutes is not None else None,
            recorded_at=at + timedelta(minutes=1),
            seen=kind in ("drop_in", "home_visit"),
            purposes=purposes,
            summary="Synthetic edge-case contact.",
            **extra,
        )
    )


def _at(store: Store, moment: datetime) -> None:
    store.clock = lambda: moment


def plant_edges(store: Store) -> Edge:
    edge = Edge()
    nadia = store.get_user("nadia")
    add = store.add_person
    b18 = add(
        Person(
            first_name="Edgar",
            last_name="Birthdaytest",
            date_of_birth=date(2008, 3, 20),
            hub_code="DEW",
            case_id="EDGE-1",
            allocated_pa="sam",
            expected_contact_days=7,
        )
    )
    b21 = add(
        Person(
            first_name="Ada",
            last_name="Midnighttest",
            date_of_birth=date(2005, 3, 31),
            hub_code="DEW",
            case_id="EDGE-2",
            allocated_pa="tom",
        )
    )
    gmt = add(
        Person(
            first_name="Gus",
            last_name="Gmttest",
            date_of_birth=date(2004, 6, 1),
            hub_code="N11",
            case_id="EDGE-3",
            allocated_pa="priya",
        )
    )
    walk = add(Person(first_name="Wren", walk_in=True, needs_matching=True, approx_age=19, hub_code="DEW"))
    wrong = add(
        Person(
            first_name="Wynn",
            last_name="Wrongtest",
            date_of_birth=date(2006, 1, 9),
            hub_code="DEW",
            case_id="EDGE-5",
            allocated_pa="sam",
            expected_contact_days=7,
        )
    )
    right = add(
        Person(
            first_name="Rhea",
            last_name="Righttest",
            date_of_birth=date(2003, 9, 9),
            hub_code="DEW",
            case_id="EDGE-6",
            allocated_pa="sam",
            expected_contact_days=7,
        )
    )
    edge.bday18, edge.bday21, edge.gmt, edge.walk_in = b18.id, b21.id, gmt.id, walk.id
    edge.wrong_person, edge.right_person = wrong.id, right.id

    # A birthday on the day: 17 on the 19th (16-17), 18 on the 20th (18-20).
    _contact(store, b18, utc(2026, 3, 19, 14, 0), "phone")
    _contact(store, b18, utc(2026, 3, 20, 10, 30), "drop_in", minutes=50)
    # GMT: 23:55 on the 19th is the 19th; 00:05 on the 20th is the 20th.
    _contact(store, gmt, utc(2026, 3, 19, 23, 55), "text", hub="N11")
    _contact(store, gmt, utc(2026, 3, 20, 0, 5), "phone", hub="N11")
    # BST: 22:50 UTC on the 30th is 23:50 on the 30th (age 20); 23:15 UTC is 00:15 on the
    # 31st, her 21st birthday, so the 31st and 21-25, not the 30th and 18-20.
    _contact(store, b21, utc(2026, 3, 30, 22, 50), "phone")
    _contact(store, b21, utc(2026, 3, 30, 23, 15), "video")

    # The busy day at Dewsbury.
    day = BUSY_DAY
    store.user = store.get_user("sam")
    _at(store, utc(2026, 3, 24, 8, 55))
    day_store.record_float_event(store, "opening", 10000, day=day, note="Counted in from the safe")
    _at(store, utc(2026, 3, 24, 9, 0))
    day_store.record_voucher_stock(store, "received", "V100000", "V100009", day=day)
    _at(store, utc(2026, 3, 24, 12, 30))
    day_store.record_float_event(store, "top_up", 5000, day=day, note="From finance")

    _contact(store, walk, utc(2026, 3, 24, 11, 0), "drop_in", minutes=None, purposes=("practical",))
    amended = _contact(store, b21, utc(2026, 3, 24, 12, 0), "phone", purposes=("housing",))
    _at(store, utc(2026, 3, 24, 12, 20))
    store.amend_contact(amended.contact_id, {"purposes": ("money", "benefits")}, "wrong purpose")
    _at(store, utc(2026, 3, 25, 9, 0))  # amended the next morning: recorded late, still the 24th
    store.amend_contact(amended.contact_id, {"contact_type": "video"}, "it was a video call")
    edge.amended_contact = amended.contact_id
    moved = _contact(store, b18, utc(2026, 3, 24, 13, 0), "phone", purposes=("health",))
    _at(store, utc(2026, 3, 24, 13, 30))
    store.amend_contact(moved.contact_id, {"hub_code": "N11"}, "taken at No. 11")
    edge.moved_contact = moved.contact_id
    _contact(
        store,
        right,
        utc(2026, 3, 24, 14, 0),
        "drop_in",
        minutes=40,
        purposes=("wellbeing", "family"),
        safeguarding_concern=True,
        safeguarding=Safeguarding(
            action_taken="Called the out-of-hours team.",
            manager_informed_at=utc(2026, 3, 24, 14, 20),
            follow_up_by=date(2026, 3, 26),
        ),
    )

    _at(store, utc(2026, 3, 24, 10, 20))
    p = store.record_payment(
        person_id=right.id, category="travel", amount_pence=1500, method="cash", reason="Bus fare to a job interview"
    )
    _at(store, utc(2026, 3, 24, 10, 40))
    store.reverse_payment(p.id, "Recorded against the wrong category")
    edge.reversed_same_day = p.id
    _at(store, utc(2026, 3, 24, 10, 30))
    store.record_payment(
        person_id=right.id, category="emergency-cash", amount_pence=2000, method="cash", reason="No money until Monday"
    )
    _at(store, utc(2026, 3, 24, 10, 45))
    store.record_payment(
        person_id=b21.id, category="gas-top-up", amount_pence=3500, method="utility_top_up", reason="Gas ran out"
    )
    _at(store, utc(2026, 3, 24, 11, 0))
    p = store.record_payment(
        person_id=b18.id, category="electric-top-up", amount_pence=3000, method="cash", reason="Meter empty"
    )
    _at(store, utc(2026, 3, 24, 11, 10))
    store.decide_payment(p.id, True, nadia)
    edge.approved_by_decision = p.id
    _at(store, utc(2026, 3, 24, 11, 20))
    p = store.record_payment(
        person_id=b18.id, category="clothing", amount_pence=5000, method="card", reason="Winter coat"
    )
    _at(store, utc(2026, 3, 24, 11, 25))
    store.decide_payment(p.id, False, nadia, "Clothing grant already given this year")
    _at(store, utc(2026, 3, 24, 11, 30))
    store.record_payment(
        person_id=right.id,
        category="food-voucher",
        amount_pence=1000,
        method="voucher",
        voucher_serial="V100001",
        reason="Food for the weekend",
    )
    _at(store, utc(2026, 3, 25, 11, 0))
    p = store.record_payment(
        person_id=right.id,
        category="food-voucher",
        amount_pence=1000,
        method="voucher",
        voucher_serial="V100005",
        reason="Food",
    )
    _at(store, utc(2026, 3, 26, 9, 30))
    store.reverse_payment(p.id, "Voucher not handed over")
    edge.reversed_later = p.id

    session = DropInSession(
        hub_code="DEW",
        session_type="stay-and-play",
        starts_at=utc(2026, 3, 24, 12, 0),
        ends_at=utc(2026, 3, 24, 14, 0),
        staff=("sam",),
        partners=("Health visitor",),
        opened_by="sam",
    )
    _at(store, utc(2026, 3, 24, 12, 0))
    store.open_session(session)
    for who in (b18, right):
        store.add_attendance(
            Attendance(
                session_id=session.id, kind="person", person_id=who.id, recorded_by="sam", recorded_at=session.starts_at
            )
        )
    store.add_attendance(
        Attendance(
            session_id=session.id, kind="walk_in", person_id=walk.id, recorded_by="sam", recorded_at=session.starts_at
        )
    )
    store.add_attendance(
        Attendance(session_id=session.id, kind="children", children=3, recorded_by="sam", recorded_at=session.starts_at)
    )
    store.close_session(session.id, at=utc(2026, 3, 24, 14, 0))

    # The float counted £2.50 short, with a reason; vouchers counted (V100001 was issued).
    _at(store, utc(2026, 3, 24, 16, 30))
    expected = day_store.reconcile_float(store, "DEW", day).expected_pence
    day_store.count_float(store, day=day, total_pence=expected - 250, reason="Coins <dropped> behind the till")
    day_store.record_voucher_stock(store, "counted", "V100000", "V100000", day=day)
    day_store.record_voucher_stock(store, "counted", "V100002", "V100009", day=day)
    day_store.write_handover(store, "Wren still needs matching to a case.", day=day)

    # In touch: a visit first put against the wrong person, then moved to the right one.
    wrong_visit = _contact(store, wrong, utc(2026, 4, 1, 11, 0), "drop_in", minutes=30)
    _at(store, utc(2026, 4, 1, 12, 0))
    store.amend_contact(wrong_visit.contact_id, {"person_id": right.id}, "wrong person picked")
    return edge


@dataclass
class DemoStore:
    data_dir: Path
    edge: Edge

    def open(self) -> Store:
        return Store.unlock(self.data_dir, "sam", DEMO_PASSPHRASE)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoStore:
    """Built once: the demo (80 people, 21 days to 2 Apr 2026) plus the planted edges."""
    data_dir = tmp_path_factory.mktemp("reports") / "demo"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("TZ", "Europe/London")
        mp.delenv("HUBDESK_PASSPHRASE", raising=False)
        build_demo(data_dir, people=80, days=DAYS, seed=5, today=TODAY)
        store = Store.unlock(data_dir, "sam", DEMO_PASSPHRASE)
        try:
            edge = plant_edges(store)
        finally:
            store.lock()
    return DemoStore(data_dir, edge)


@pytest.fixture
def demo_store(demo: DemoStore):
    store = demo.open()
    yield store
    store.lock()
