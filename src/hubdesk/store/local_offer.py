"""The local offer in the desk's store: what a young person is entitled to today and what they
have had (given at the desk, or paid in the entitlement's payment category), and recording a
gift. A gift is an event with its audit entry and outbox row, synced to the desks of the hub
that gave it and of the young person's own hub."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hubdesk.domain.local_offer import Eligibility, Entitlement, OfferGiven, check
from hubdesk.store.errors import NotAllowed, NotFound

if TYPE_CHECKING:
    from hubdesk.store.store import Store

LONDON = ZoneInfo("Europe/London")
PULLED = ("offer_given",)


def _day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(LONDON).date()


def had(store: Store, person_id: str, offer: tuple[Entitlement, ...] | None = None) -> dict[str, date]:
    """Entitlement code -> the last day they had it: given at a desk, or paid (approved, not
    reversed) in its payment category."""
    last: dict[str, date] = {}
    for code, at in store._rows(
        "SELECT entitlement, max(recorded_at) FROM offer_given WHERE person_id = ? GROUP BY entitlement", [person_id]
    ):
        last[code] = _day(at)
    offer = store.reference().local_offer if offer is None else offer
    by_category = {e.payment_category: e.code for e in offer if e.payment_category}
    if by_category:
        marks = ",".join("?" * len(by_category))
        for category, at in store._rows(
            f"SELECT category, max(recorded_at) FROM payments p WHERE person_id = ? AND category IN ({marks}) "
            "AND coalesce((SELECT decision FROM payment_decisions d WHERE d.payment_id = p.id), status) = 'approved' "
            "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id) GROUP BY category",
            [person_id, *by_category],
        ):
            code, day = by_category[category], _day(at)
            last[code] = max(last.get(code, day), day)
    return last


def offer_for(store: Store, person_id: str, day: date) -> list[Eligibility]:
    """Every active entitlement, checked for this young person on `day`: entitled ones first."""
    offer = store.reference().local_offer
    if not offer:
        return []
    person = store.get_person(person_id)
    last = had(store, person_id, offer)
    found = [check(e, person, day, last.get(e.code)) for e in offer]
    return sorted(found, key=lambda x: (not x.eligible, not x.again, x.entitlement.name.lower()))


def summary_line(store: Store, person_id: str, day: date) -> str | None:
    """The person screen's line: "Local offer: entitled to 6 (2 had); l shows them"."""
    offer = offer_for(store, person_id, day)
    if not offer:
        return None
    entitled = [x for x in offer if x.eligible]
    had_some = [x for x in entitled if x.had_on is not None]
    could = [x.entitlement.name for x in entitled if x.again][:3]
    line = f"Local offer: entitled to {len(entitled)} of {len(offer)}, had {len(had_some)}"
    if could:
        line += " · could have now: " + ", ".join(could) + ("…" if len([x for x in entitled if x.again]) > 3 else "")
    return line


def give(store: Store, person_id: str, code: str, note: str = "", payment_id: str | None = None) -> OfferGiven:
    """Record that the young person was given this entitlement (with a note, or the payment)."""
    if store.user is None:
        raise NotAllowed("Unlock as a user to record the local offer")
    entitlement = next((e for e in store.reference().local_offer if e.code == code), None)
    if entitlement is None:
        raise NotFound(f"{code} is not in the local offer")
    person = store.get_person(person_id)
    with store._save() as now:
        gift = OfferGiven(
            person_id=person_id,
            hub_code=store.hub_code,
            person_hub=person.hub_code,
            entitlement=code,
            note=note,
            payment_id=payment_id,
            recorded_by=store.user.login,
            recorded_at=now,
        )
        body = gift.model_dump_json()
        seq = store._audit(now, "give", "offer", gift.id, code, body)
        _insert(store, gift, body, seq)
        store._outbox(now, "offer_given", gift.id, body)
    return gift


def _insert(store: Store, gift: OfferGiven, body: str, seq: int) -> None:
    from hubdesk.store.store import _iso

    store.db.execute(
        "INSERT INTO offer_given(id, person_id, hub_code, person_hub, entitlement, payment_id, recorded_at, body, "
        "audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            gift.id,
            gift.person_id,
            gift.hub_code,
            gift.person_hub,
            gift.entitlement,
            gift.payment_id,
            _iso(gift.recorded_at),
            body,
            seq,
        ],
    )


def apply_pulled(store: Store, kind: str, body: dict[str, Any], audit_seq: int) -> bool:
    """A gift another desk recorded (inside the pull's save); False if already held."""
    from hubdesk.store.working_set import NotHeld

    gift = OfferGiven.model_validate(body)
    if store._rows("SELECT 1 FROM offer_given WHERE id = ?", [gift.id]):
        return False
    if not store._rows("SELECT 1 FROM people WHERE id = ?", [gift.person_id]):
        raise NotHeld("its young person is not held on this desk")
    _insert(store, gift, gift.model_dump_json(), audit_seq)
    return True
