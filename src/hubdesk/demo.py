"""A synthetic demo store: clearly fake people, a realistic mix of duty work, both hubs.

Every surname is made up and looks it (Mockridge, Testbury, Sampleton...). The demo
users and their passphrase are documented in the README; HUBDESK_PASSPHRASE, when
set, is every demo user's passphrase. The reference data is marked as an example.
"""

from __future__ import annotations

import os
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hubdesk.demo_circumstances import demo_circumstances
from hubdesk.domain.enums import AlertKind, ContactType, LegalStatus, MadeBy, PaymentMethod
from hubdesk.domain.local_offer import EXAMPLE_OFFER
from hubdesk.domain.models import (
    Action,
    Alert,
    Attendance,
    Contact,
    ContactDetails,
    ContactPurpose,
    DropInSession,
    Hub,
    PaymentCategory,
    Person,
    ReferenceData,
    SessionType,
    User,
)
from hubdesk.domain.rules import age_on
from hubdesk.store.store import Store

DEMO_PASSPHRASE = "hubdesk-demo"  # noqa: S105 - documented demo passphrase, fake data only
BUSY_HUB_PER_DAY = (30, 60)
"""Contacts a weekday at a busy hub: what `hubdesk demo` makes unless told otherwise."""


def parse_per_day(text: str) -> tuple[int, int]:
    """'30-60' (or one number, '45') as contacts a day, lowest and highest; ValueError if not."""
    found = re.fullmatch(r"\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?", text)
    if found is None:
        raise ValueError(f"'{text}' is not a number of contacts a day, such as 30-60")
    lo, hi = int(found.group(1)), int(found.group(2) or found.group(1))
    if lo < 0 or hi < lo or hi > 1000:
        raise ValueError(f"'{text}': give the fewest and most contacts a day, 0 to 1000, such as 30-60")
    return lo, hi


HUBS = (Hub(code="DEW", name="Dewsbury hub"), Hub(code="N11", name="No. 11 Huddersfield"))

DEMO_USERS = (
    User(login="sam", display_name="Sam Demo-Duty", role="pa", hub_code="DEW", payment_limit_pence=2500),
    User(
        login="nadia", display_name="Nadia Demo-Manager", role="duty_manager", hub_code="DEW", payment_limit_pence=25000
    ),
    User(login="priya", display_name="Priya Demo-Advisor", role="pa", hub_code="N11", payment_limit_pence=2500),
    User(login="tom", display_name="Tom Demo-Advisor", role="advanced_pa", hub_code="DEW", payment_limit_pence=5000),
    User(login="admin", display_name="Demo Admin", role="admin", payment_limit_pence=0),
)

EXAMPLE_REFERENCE = ReferenceData(
    hubs=HUBS,
    session_types=(
        SessionType(code="duty-drop-in", name="General duty drop-in"),
        SessionType(code="stay-and-play", name="Stay and play"),
        SessionType(code="craft", name="Craft session"),
        SessionType(code="wellbeing", name="Emotional health and wellbeing drop-in"),
        SessionType(code="employment", name="Employment group"),
        SessionType(code="cooking", name="Cooking"),
        SessionType(code="laundrette", name="Laundrette"),
        SessionType(code="football", name="Football"),
        SessionType(code="social", name="Social event"),
    ),
    contact_purposes=(
        ContactPurpose(code="housing", name="Housing"),
        ContactPurpose(code="money", name="Money"),
        ContactPurpose(code="benefits", name="Benefits"),
        ContactPurpose(code="ete", name="Education, training, employment"),
        ContactPurpose(code="health", name="Health"),
        ContactPurpose(code="wellbeing", name="Emotional wellbeing"),
        ContactPurpose(code="family", name="Family and relationships"),
        ContactPurpose(code="immigration", name="Immigration"),
        ContactPurpose(code="practical", name="Practical: laundry, food, computer"),
        ContactPurpose(code="advocacy", name="Advocacy and signposting"),
    ),
    payment_categories=(
        PaymentCategory(code="food-voucher", name="Food voucher", limit_pence=3000),
        PaymentCategory(code="food-parcel", name="Food parcel", limit_pence=2500),
        PaymentCategory(code="gas-top-up", name="Gas top-up", limit_pence=4000),
        PaymentCategory(code="electric-top-up", name="Electricity top-up", limit_pence=4000),
        PaymentCategory(code="travel", name="Travel", limit_pence=3000),
        PaymentCategory(code="clothing", name="Exceptional clothing", limit_pence=10000),
        PaymentCategory(code="emergency-cash", name="Emergency cash", limit_pence=2000),
    ),
    local_offer=EXAMPLE_OFFER,
    example=True,
)

FIRST_NAMES = [
    "Kayden",
    "Amira",
    "Jade",
    "Tyler",
    "Chloe",
    "Kai",
    "Leah",
    "Mason",
    "Aaliyah",
    "Callum",
    "Demi",
    "Ellis",
    "Faith",
    "Harvey",
    "Isla",
    "Jayden",
    "Kacey",
    "Liam",
    "Mia",
    "Nathan",
    "Olivia",
    "Reece",
    "Sienna",
    "Tia",
    "Zane",
    "Bradley",
    "Caitlin",
    "Dylan",
    "Ebony",
    "Jordan",
    "Keira",
    "Lewis",
    "Megan",
    "Niall",
    "Paige",
    "Ryan",
    "Shannon",
    "Taylor",
    "Wiktor",
    "Yusuf",
    "Abdi",
    "Selam",
    "Dawit",
    "Hana",
    "Omar",
]
SURNAMES = [
    "Mockridge",
    "Testbury",
    "Sampleton",
    "Fakeley",
    "Dummett",
    "Placeford",
    "Proxley",
    "Demoworth",
    "Examplar",
    "Stubbings",
    "Pretendle",
    "Fauxton",
    "Madeup-Smith",
    "Fictor",
    "Testwell",
    "Synthby",
    "Mockley",
    "Shamwell",
    "Notreal",
    "Imaginby",
]
NOTES = (
    "Came in for a chat and a cup of tea; used the laundry.",
    "Asked for help with a universal credit claim; booked with DWP work coach.",
    "Worried about rent arrears; referred to housing options.",
    "Used the computer for job search; CV updated.",
    "Collected food parcel; talked about college course.",
    "Phoned about a missed GP appointment; rebooked.",
)
VOICES = (
    "I just want to sort my flat out.",
    "I didn't want to ask my PA again.",
    "I'm doing better this month.",
    "",
)


def _story_people() -> list[Person]:
    today = date.today()

    def born(years: int, days: int = 40) -> date:
        return date(today.year - years, today.month, 1) - timedelta(days=days)

    return [
        Person(
            first_name="Kayden",
            last_name="Mockridge",
            preferred_name="Kay",
            date_of_birth=born(19),
            case_id="DEMO-1001",
            legal_status=LegalStatus.FORMER_RELEVANT,
            allocated_pa="tom",
            hub_code="DEW",
            alerts=(Alert(kind=AlertKind.CONTACT_PREFERENCE, text="Prefers text messages, not calls"),),
            contact=ContactDetails(phone="07700 900001"),
            expected_contact_days=14,
        ),
        Person(
            first_name="Amira",
            last_name="Testbury",
            date_of_birth=born(20),
            case_id="DEMO-1002",
            legal_status=LegalStatus.FORMER_RELEVANT,
            allocated_pa="priya",
            hub_code="DEW",
            uasc=True,
            alerts=(Alert(kind=AlertKind.INTERPRETER_NEEDED, text="Interpreter needed: Tigrinya"),),
            expected_contact_days=7,
        ),
        Person(
            first_name="Jade",
            last_name="Sampleton",
            date_of_birth=born(17),
            case_id="DEMO-1003",
            legal_status=LegalStatus.RELEVANT,
            allocated_pa="sam",
            hub_code="DEW",
            alerts=(Alert(kind=AlertKind.RISK, text="see safety plan"),),
            expected_contact_days=7,
        ),
    ]


def _random_person(rng: random.Random, n: int, today: date) -> Person:
    age = rng.choice([16, 17, 18, 18, 19, 19, 20, 20, 21, 22, 23, 24, 25])
    dob = today - timedelta(days=age * 365 + rng.randint(0, 364))
    age = age_on(dob, today)
    if age < 18:
        status = rng.choice([LegalStatus.ELIGIBLE, LegalStatus.RELEVANT])
    elif age < 21:
        status = rng.choice([LegalStatus.FORMER_RELEVANT] * 4 + [LegalStatus.QUALIFYING])
    else:
        status = rng.choice([LegalStatus.FORMER_RELEVANT, LegalStatus.FORMER_RELEVANT_EDUCATION])
    alerts = []
    if rng.random() < 0.08:
        alerts.append(Alert(kind=AlertKind.DO_NOT_DISCLOSE_ADDRESS, text="Do not disclose address"))
    if rng.random() < 0.06:
        alerts.append(Alert(kind=AlertKind.INTERPRETER_NEEDED, text="Interpreter needed: Arabic"))
    if rng.random() < 0.05:
        alerts.append(Alert(kind=AlertKind.RISK, text="lone working not advised"))
    first = rng.choice(FIRST_NAMES)
    return Person(
        first_name=first,
        last_name=rng.choice(SURNAMES),
        preferred_name=first[:3] if rng.random() < 0.1 else None,
        date_of_birth=dob,
        case_id=f"DEMO-{2000 + n}",
        legal_status=status,
        allocated_pa=None if status is LegalStatus.QUALIFYING else rng.choice(["sam", "tom", "priya"]),
        hub_code=rng.choice(["DEW", "N11"]),
        uasc=rng.random() < 0.07,
        young_parent=rng.random() < 0.12,
        staying_put=age < 21 and rng.random() < 0.1,
        custody=rng.random() < 0.03,
        alerts=tuple(alerts),
        expected_contact_days=rng.choice([7, 14, 28, 56]),
    )


def demo_caseload(people: int, seed: int, today: date) -> list[Person]:
    """The demo's young people at both hubs: the three from the day at the hub, then random ones."""
    rng = random.Random(seed)
    caseload = _story_people()
    caseload += [_random_person(rng, n, today) for n in range(max(0, people - len(caseload)))]
    # Circumstances mixed as the council reports them (each person seeded apart: the rest is unchanged).
    caseload = [demo_circumstances(p, n, today) for n, p in enumerate(caseload)]
    return caseload[: max(people, 0)]


def create_demo_store(data_dir: Path, passphrase: str) -> Store:
    """A new, unlocked demo store for the Dewsbury desk: the demo users and the example reference."""
    store, _recovery = Store.create(data_dir, hub=HUBS[0], first_user=DEMO_USERS[1], passphrase=passphrase, device_no=2)
    try:
        for user in DEMO_USERS:
            if user.login != DEMO_USERS[1].login:
                store.add_user(user, passphrase)
        store.set_reference(EXAMPLE_REFERENCE)
    except BaseException:
        store.lock()
        raise
    return store


def build_demo(
    data_dir: Path,
    *,
    people: int = 200,
    days: int = 14,
    seed: int = 1,
    passphrase: str | None = None,
    today: date | None = None,
    per_day: tuple[int, int] = (4, 12),
    only_hub: str | None = None,
) -> dict[str, int]:
    """Make a standalone demo store in data_dir (which must not hold one). Returns counts.

    The desk holds the whole demo caseload as records of its own making: right for a desk
    that never syncs (tests, benches, `hubdesk demo`). `make run` instead loads the caseload
    into its central service and lets the desk pull its working set (hubdesk.demo_run);
    offline, it makes only `only_hub`'s people, which such a desk may send later."""
    passphrase = passphrase or os.environ.get("HUBDESK_PASSPHRASE") or DEMO_PASSPHRASE
    today = today or date.today()
    caseload = demo_caseload(people, seed, today)
    if only_hub:
        caseload = [p for p in caseload if p.hub_code == only_hub]
    store = create_demo_store(data_dir, passphrase)
    try:
        for start in range(0, len(caseload), 500):
            with store.batch():
                for person in caseload[start : start + 500]:
                    store.add_person(person)
        counts = add_demo_history(store, caseload, days=days, seed=seed, today=today, per_day=per_day)
        return {"people": len(caseload), **counts}
    finally:
        store.lock()


def add_demo_history(
    store: Store,
    caseload: list[Person],
    *,
    days: int,
    seed: int,
    today: date,
    per_day: tuple[int, int] = (4, 12),
) -> dict[str, int]:
    """`days` of duty work at this desk's hub (weekdays only) about people in `caseload`.

    Everything is recorded by the hub's own users, as the central record requires."""
    rng = random.Random(seed + 1)
    if not caseload:
        return {"contacts": 0, "payments": 0, "sessions": 0}
    recorders = [u.login for u in DEMO_USERS if u.hub_code == store.hub_code and u.role != "duty_manager"]
    purposes = [p.code for p in EXAMPLE_REFERENCE.contact_purposes]
    categories = EXAMPLE_REFERENCE.payment_categories
    sam = store.get_user("sam")
    counts = {"contacts": 0, "payments": 0, "sessions": 0}
    real_clock, real_user = store.clock, store.user
    try:
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            opening = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)
            with store.batch():
                for _ in range(rng.randint(*per_day)):
                    who = rng.choice(caseload)
                    start = opening + timedelta(minutes=rng.randint(0, 330))
                    kind = rng.choice([ContactType.DROP_IN] * 3 + [ContactType.PHONE, ContactType.TEXT])
                    store.clock = lambda s=start: s + timedelta(minutes=2)
                    store.record_contact(
                        Contact(
                            person_id=who.id,
                            hub_code=store.hub_code,  # a device records at its own hub
                            contact_type=kind,
                            made_by=MadeBy.DUTY_PA,
                            recorded_by=rng.choice(recorders),
                            started_at=start,
                            ended_at=start + timedelta(minutes=rng.randint(10, 120))
                            if kind is ContactType.DROP_IN
                            else start + timedelta(minutes=rng.randint(3, 20)),
                            recorded_at=start + timedelta(minutes=2),
                            seen=kind is ContactType.DROP_IN,
                            purposes=tuple(rng.sample(purposes, rng.randint(1, 2))),
                            summary=rng.choice(NOTES),
                            voice=rng.choice(VOICES),
                            actions=(Action(text="Follow up next week", owner="allocated PA"),)
                            if rng.random() < 0.2
                            else (),
                            tell_allocated_pa=rng.random() < 0.3,
                        )
                    )
                    counts["contacts"] += 1
                store.user = sam
                for _ in range(rng.randint(0, 3)):
                    who = rng.choice(caseload)
                    category = rng.choice(categories)
                    amount = rng.choice([500, 1000, 1500, 2000, 2500])
                    method = {"food-voucher": PaymentMethod.VOUCHER}.get(
                        category.code,
                        rng.choice([PaymentMethod.CASH, PaymentMethod.UTILITY_TOP_UP, PaymentMethod.CARD]),
                    )
                    store.clock = lambda s=opening: s + timedelta(minutes=rng.randint(5, 300))
                    store.record_payment(
                        person_id=who.id,
                        category=category.code,
                        amount_pence=amount,
                        method=method.value,
                        voucher_serial=f"V{rng.randint(100000, 999999)}" if method is PaymentMethod.VOUCHER else None,
                        reason="Demo: emergency support on duty",
                        voice=rng.choice(VOICES),
                    )
                    counts["payments"] += 1
                if rng.random() < 0.5:
                    session = DropInSession(
                        hub_code=store.hub_code,
                        session_type=rng.choice(EXAMPLE_REFERENCE.session_types).code,
                        starts_at=opening + timedelta(hours=1),
                        ends_at=opening + timedelta(hours=3),
                        staff=("sam",),
                        partners=("DWP work coach",),
                        opened_by="sam",
                    )
                    store.clock = lambda s=opening: s + timedelta(hours=1)
                    store.open_session(session)
                    for who in rng.sample(caseload, min(len(caseload), rng.randint(2, 6))):
                        store.add_attendance(
                            Attendance(
                                session_id=session.id,
                                kind="person",
                                person_id=who.id,
                                recorded_by="sam",
                                recorded_at=session.starts_at,
                            )
                        )
                    store.add_attendance(
                        Attendance(
                            session_id=session.id,
                            kind="children",
                            children=rng.randint(1, 4),
                            recorded_by="sam",
                            recorded_at=session.starts_at,
                        )
                    )
                    store.close_session(session.id, at=opening + timedelta(hours=3))
                    counts["sessions"] += 1
    finally:
        store.clock, store.user = real_clock, real_user
    return counts
