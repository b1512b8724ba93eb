"""A synthetic central record for the service's figures (issue 11, item 5): a caseload whose
circumstances are mixed as the council reports them (about 65% in education, training or
employment, about 90% suitably accommodated, some pathway plans overdue, a few without one),
and both hubs' contacts, payments and actions pushed through the service's own push.

Every name is made up and looks it (Testbury, Mockridge...); case ids start DEMO-. The same
seed gives the same record. `rows` builds events fast for the bench (straight into the tables,
as push writes them) where pushing half a million through HTTP-sized batches would take long.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hubcentral.storage import CentralStore, Device
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import ContactPurpose, Hub, PaymentCategory, SessionType, User
from hubdesk.sync.protocol import CentralReference, PushItem

HUBS = ("DEW", "N11")
PAS = {"DEW": ("sam", "tom"), "N11": ("priya", "omar")}
FIRST = ("Alex", "Jordan", "Casey", "Riley", "Morgan", "Jamie", "Taylor", "Robin", "Sasha", "Kai", "Remi", "Ellis")
LAST = ("Testbury", "Mockridge", "Sampleton", "Fakeley", "Dummworth", "Placeholm", "Examplar", "Stubbings")
CATEGORIES = (("food-voucher", 6000), ("gas", 4000), ("electric", 4000), ("travel", 2000), ("clothing", 10000))

REFERENCE = CentralReference(
    hubs=(Hub(code="DEW", name="Dewsbury hub"), Hub(code="N11", name="No. 11 Huddersfield")),
    users=(
        User(login="sam", display_name="Sam Demo-Duty", role="pa", payment_limit_pence=2500, hub_code="DEW"),
        User(
            login="tom", display_name="Tom Demo-Advanced", role="advanced_pa", payment_limit_pence=5000, hub_code="DEW"
        ),
        User(
            login="nadia",
            display_name="Nadia Demo-Manager",
            role="duty_manager",
            payment_limit_pence=25000,
            hub_code="DEW",
        ),
        User(login="priya", display_name="Priya Demo-Duty", role="pa", payment_limit_pence=2500, hub_code="N11"),
        User(login="omar", display_name="Omar Demo-Duty", role="pa", payment_limit_pence=2500, hub_code="N11"),
        User(
            login="grace",
            display_name="Grace Demo-Manager",
            role="duty_manager",
            payment_limit_pence=25000,
            hub_code="N11",
        ),
    ),
    session_types=(SessionType(code="general", name="General duty drop-in"),),
    contact_purposes=(
        ContactPurpose(code="money", name="Money"),
        ContactPurpose(code="housing", name="Housing"),
        ContactPurpose(code="eet", name="Education, training or employment"),
    ),
    payment_categories=tuple(
        PaymentCategory(code=code, name=code.replace("-", " ").capitalize(), limit_pence=limit)
        for code, limit in CATEGORIES
    ),
    example=True,
)
MANAGER = {"DEW": "nadia", "N11": "grace"}


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def caseload(n: int, as_of: date, seed: int = 7) -> list[dict[str, Any]]:
    """`n` young people aged 16 to 26 on `as_of`, circumstances mixed realistically; the first
    three are the rules' edge cases: a 25th birthday on `as_of`, custody, qualifying with no PA."""
    rng = random.Random(seed)
    people = []
    for i in range(n):
        hub = HUBS[i % 2]
        age_days = rng.randint(16 * 365 + 5, 26 * 365)
        dob = as_of - timedelta(days=age_days)
        status = _pick(rng, {"former_relevant": 70, "relevant": 12, "eligible": 8, "qualifying": 6, None: 4})
        pa = None if status == "qualifying" else rng.choice(PAS[hub])
        acc_kind = _pick(
            rng,
            {
                "independent_tenancy": 30,
                "supported_lodgings": 18,
                "semi_independent": 16,
                "staying_put": 12,
                "with_family": 12,
                "emergency": 3,
                "bed_and_breakfast": 2,
                "custody": 2,
                "no_fixed_abode": 1,
                None: 4,
            },
        )
        circumstances: dict[str, Any] = {}
        if acc_kind is not None:
            fixed_unsuitable = acc_kind in ("bed_and_breakfast", "custody", "no_fixed_abode")
            suitable = False if fixed_unsuitable else _pick(rng, {True: 95, False: 2, None: 3})
            circumstances["accommodation"] = {"kind": acc_kind, "suitable": suitable}
        eet = _pick(rng, {"education": 25, "training": 15, "employment": 25, "neet": 30, None: 5})
        if eet is not None:
            circumstances["eet"] = {
                "status": eet,
                "neet_reason": rng.choice(("illness", "disability", "pregnancy_or_parenting", "other"))
                if eet == "neet"
                else None,
            }
        plan = _pick(rng, {"in date": 84, "overdue": 12, "none": 4})
        if plan != "none":
            last = as_of - timedelta(days=rng.randint(1, 180) if plan == "in date" else rng.randint(190, 400))
            circumstances["pathway_plan"] = {"last_review": last.isoformat()}
        if rng.random() < 0.03:
            circumstances["extended_support"] = True
        people.append(
            {
                "case_id": f"DEMO-{i + 1:05d}",
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "date_of_birth": dob.isoformat(),
                "hub_code": hub,
                "legal_status": status,
                "allocated_pa": pa,
                "expected_contact_days": rng.choice((None, None, None, 7, 14, 28)),
                "circumstances": circumstances,
            }
        )
    if n >= 3:
        turning = as_of.replace(year=as_of.year - 25)
        people[0].update(date_of_birth=turning.isoformat(), legal_status="former_relevant", allocated_pa="sam")
        people[0]["circumstances"] = {**people[0]["circumstances"], "extended_support": False}
        people[1]["circumstances"] = {**people[1]["circumstances"], "accommodation": {"kind": "custody"}}
        people[1].update(date_of_birth=(as_of - timedelta(days=19 * 365)).isoformat(), allocated_pa="tom")
        people[1]["legal_status"] = "former_relevant"
        people[2].update(legal_status="qualifying", allocated_pa=None)
        people[2]["date_of_birth"] = (as_of - timedelta(days=18 * 365 + 40)).isoformat()
    return people


def events(people: list[dict[str, Any]], as_of: date, per_person: int = 6, seed: int = 7) -> Iterator[tuple]:
    """Contacts (some amended), payments (some declined, some reversed) and actions (some done)
    over the 120 days to `as_of`, as (hub, kind, body) in the order desks would push them.
    `people` need their central ids ("id")."""
    rng = random.Random(seed + 1)
    end = datetime(as_of.year, as_of.month, as_of.day, 16, 0, tzinfo=UTC)
    receipts = dict.fromkeys(HUBS, 0)  # the service refuses a receipt number used twice
    for person in people:
        pid, home = person["id"], person["hub_code"]
        for _ in range(rng.randint(1, per_person * 2)):
            hub = home if rng.random() < 0.85 else HUBS[1 - HUBS.index(home)]
            recorder = rng.choice(PAS[hub])
            at = end - timedelta(days=rng.uniform(0, 120) ** 2 / 120, minutes=rng.randint(0, 400))
            kind = _pick(rng, {"drop_in": 40, "phone": 30, "text": 20, "video": 5, "home_visit": 5})
            seen = kind in ("drop_in", "home_visit") or (kind == "video" and rng.random() < 0.5)
            contact = {
                "id": uuid7(),
                "person_id": pid,
                "hub_code": hub,
                "contact_type": kind,
                "recorded_by": recorder,
                "started_at": at.isoformat(),
                "ended_at": (at + timedelta(minutes=40)).isoformat() if kind == "drop_in" else None,
                "recorded_at": (at + timedelta(minutes=45)).isoformat(),
                "seen": seen,
                "purposes": [rng.choice(("money", "housing", "eet"))],
                "summary": "Synthetic demo contact",
            }
            contact["contact_id"] = contact["id"]
            yield hub, "contact", contact
            if kind in ("text", "phone") and rng.random() < 0.15:
                # Amended: a call was a text after all (out of touch), or the other way round.
                other = "phone" if kind == "text" else "text"
                amended = {
                    **contact,
                    "id": uuid7(),
                    "version": 2,
                    "amends": contact["id"],
                    "contact_type": other,
                    "amend_reason": "wrong type",
                }
                yield hub, "contact", amended
            if rng.random() < 0.25:
                due = (at + timedelta(days=rng.randint(1, 21))).date()
                action = {
                    "id": uuid7(),
                    "kind": "action",
                    "contact_id": contact["id"],
                    "person_id": pid,
                    "hub_code": hub,
                    "person_hub": home,
                    "text": "Synthetic follow-up",
                    "owner": person.get("allocated_pa") or recorder,
                    "due": due.isoformat(),
                    "recorded_by": recorder,
                    "recorded_at": (at + timedelta(minutes=46)).isoformat(),
                }
                yield hub, "action", action
                done_at = at + timedelta(days=rng.randint(0, 30), minutes=50)
                if rng.random() < 0.6 and done_at < end:
                    yield (
                        hub,
                        "action_update",
                        {
                            "id": uuid7(),
                            "action_id": action["id"],
                            "hub_code": hub,
                            "kind": "done",
                            "note": "Synthetic: done",
                            "recorded_by": recorder,
                            "recorded_at": done_at.isoformat(),
                        },
                    )
            if rng.random() < 0.2:
                code, limit = rng.choice(CATEGORIES)
                amount = rng.randint(500, min(2500, limit))
                awaiting = rng.random() < 0.15
                rng.randint(1, 10**8)  # drawn as before, so a seed makes the same demo as it did
                receipts[hub] += 1
                payment = {
                    "id": uuid7(),
                    "receipt_no": f"{hub}-1-{receipts[hub]:08d}",
                    "person_id": pid,
                    "hub_code": hub,
                    "category": code,
                    "amount_pence": amount,
                    "method": "voucher" if code == "food-voucher" else "cash",
                    "voucher_serial": f"DEMO{rng.randint(1, 10**6)}" if code == "food-voucher" else None,
                    "reason": "Synthetic demo payment",
                    "recorded_by": recorder,
                    "recorded_at": (at + timedelta(minutes=30)).isoformat(),
                    "status": "awaiting_approval" if awaiting else "approved",
                    "authorised_by": None if awaiting else recorder,
                    "authorised_at": None if awaiting else (at + timedelta(minutes=30)).isoformat(),
                }
                yield hub, "payment", payment
                if awaiting:
                    decision = rng.choice(("approved", "declined"))
                    yield (
                        hub,
                        "payment_decision",
                        {
                            "id": uuid7(),
                            "payment_id": payment["id"],
                            "decision": decision,
                            "decided_by": MANAGER[hub],
                            "decided_at": (at + timedelta(minutes=35)).isoformat(),
                        },
                    )
                elif rng.random() < 0.08:
                    yield (
                        hub,
                        "reversal",
                        {
                            "id": uuid7(),
                            "payment_id": payment["id"],
                            "hub_code": hub,
                            "reason": "Synthetic mistake",
                            "recorded_by": recorder,
                            "recorded_at": (at + timedelta(minutes=40)).isoformat(),
                        },
                    )


def devices(central: CentralStore, now: datetime) -> dict[str, Device]:
    """One enrolled desk at each hub (made-up keys: the demo pushes straight to the store)."""
    out = {}
    for n, hub in enumerate(HUBS):
        code = central.make_enrolment_code(hub, now + timedelta(hours=1), now)
        key = f"{'A' * 42}{n}"
        out[hub] = central.enrol(code, f"demo-desk-{hub.lower()}-0001", hub, key, f"{hub} demo desk", now)
    return out


def build(central: CentralStore, people: int, as_of: date, *, per_person: int = 6, seed: int = 7) -> dict[str, int]:
    """Reference data, the caseload, and both hubs' records pushed through push(): returns the
    push's tally by status. Refused items would be a bug in the generator: the caller checks."""
    now = datetime(as_of.year, as_of.month, as_of.day, 17, 0, tzinfo=UTC)
    central.set_reference(REFERENCE, now)
    central.load_caseload(caseload(people, as_of, seed), now)
    held = central.records("person")
    desks = devices(central, now)
    batches: dict[str, list[PushItem]] = {h: [] for h in HUBS}
    seqs = dict.fromkeys(HUBS, 0)
    tally: dict[str, int] = {}

    def flush(hub: str) -> None:
        if batches[hub]:
            user = PAS[hub][0]
            results, _ = central.push(desks[hub], user, batches[hub], now)
            for r in results:
                tally[r.status.value] = tally.get(r.status.value, 0) + 1
                if r.status.value == "rejected":
                    tally.setdefault("first_reason:" + (r.reason or "")[:80], 1)
            batches[hub] = []

    for hub, kind, body in events(held, as_of, per_person, seed):
        seqs[hub] += 1
        batches[hub].append(
            PushItem(id=uuid7(), seq=seqs[hub], kind=kind, record_id=body["id"], body=body, created_at=now)
        )
        if len(batches[hub]) >= 500:
            flush(hub)
    for hub in HUBS:
        flush(hub)
    return tally
