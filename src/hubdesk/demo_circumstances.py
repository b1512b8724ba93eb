"""Synthetic circumstances for the demo's young people, mixed as the council reports them:
about 65% in education, training or employment, about 90% suitably accommodated (of those
recorded), most pathway plans in date and some overdue. Each person's own generator is
seeded from their number, so the demo's other random choices stay as they were."""

from __future__ import annotations

import random
from datetime import date, timedelta

from hubdesk.domain.circumstances import (
    AccommodationType,
    Circumstances,
    EetStatus,
    ImmigrationStatus,
    NeetReason,
)
from hubdesk.domain.enums import LegalStatus
from hubdesk.domain.models import Person

_SUITABLE = [
    (AccommodationType.SUPPORTED_LODGINGS, 3),
    (AccommodationType.SEMI_INDEPENDENT, 3),
    (AccommodationType.INDEPENDENT_TENANCY, 4),
    (AccommodationType.WITH_FAMILY, 2),
]
_UNSUITABLE = [
    (AccommodationType.BED_AND_BREAKFAST, 2),
    (AccommodationType.EMERGENCY, 2),
    (AccommodationType.NO_FIXED_ABODE, 1),
    (AccommodationType.INDEPENDENT_TENANCY, 1),  # a tenancy that has gone wrong
]
_ENGAGED = [(EetStatus.EDUCATION, 4), (EetStatus.TRAINING, 2), (EetStatus.EMPLOYMENT, 4)]
_NEET = [
    (NeetReason.ILLNESS, 2),
    (NeetReason.DISABILITY, 1),
    (NeetReason.PREGNANCY_OR_PARENTING, 2),
    (NeetReason.OTHER, 4),
]
_IMMIGRATION = [
    (ImmigrationStatus.AWAITING_DECISION, 5),
    (ImmigrationStatus.LEAVE_TO_REMAIN, 4),
    (ImmigrationStatus.APPEAL, 1),
    (ImmigrationStatus.APPEAL_RIGHTS_EXHAUSTED, 1),
]
_LANGUAGES = ["Tigrinya", "Arabic", "Kurdish (Sorani)", "Dari", "Pashto", "Amharic"]


def _pick(rng: random.Random, weighted: list[tuple[object, int]]):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def demo_circumstances(person: Person, n: int, today: date) -> Person:
    """The person with synthetic circumstances (a walk-in keeps none)."""
    if person.walk_in:
        return person
    rng = random.Random(104_729 * (n + 1))

    def ago(low: int, high: int) -> date:
        return today - timedelta(days=rng.randint(low, high))

    data: dict[str, object] = {}
    if rng.random() < 0.95:  # "not recorded" for the rest
        if person.custody:
            kind, suitable = AccommodationType.CUSTODY, False
        elif person.staying_put:
            kind, suitable = AccommodationType.STAYING_PUT, True
        elif rng.random() < 0.9:
            kind, suitable = _pick(rng, _SUITABLE), True
        else:
            kind, suitable = _pick(rng, _UNSUITABLE), False
        data["accommodation"] = {"kind": kind, "suitable": suitable, "since": ago(7, 700)}
    if rng.random() < 0.97:
        if rng.random() < 0.65:
            data["eet"] = {"status": _pick(rng, _ENGAGED), "since": ago(14, 500)}
        else:
            data["eet"] = {"status": EetStatus.NEET, "neet_reason": _pick(rng, _NEET), "since": ago(14, 300)}
    if person.legal_status is not LegalStatus.QUALIFYING:  # qualifying: advice and support, no plan
        roll = rng.random()
        if roll < 0.85:
            data["pathway_plan"] = {"last_review": ago(0, 170)}
        elif roll < 0.97:
            data["pathway_plan"] = {"last_review": ago(190, 420)}  # overdue
    if person.uasc:
        data["immigration"] = {"status": _pick(rng, _IMMIGRATION), "since": ago(30, 900)}
        if rng.random() < 0.7:
            data["interpreter_language"] = rng.choice(_LANGUAGES)
    if rng.random() < 0.6:
        data["health_passport_given"] = ago(30, 1500)
    if person.young_parent:
        data["children"] = rng.choice([1, 1, 1, 2, 2, 3])
    return person.model_copy(update={"circumstances": Circumstances.model_validate(data)})
