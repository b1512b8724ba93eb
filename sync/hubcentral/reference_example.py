"""`hubdesk-central reference example`: a complete reference file to start a new service from.

Every section `reference set` reads is filled in (hubs, users and roles, session types,
contact purposes, payment categories with limits, the retention window), and it is
marked as an example three ways, so it is never mistaken for a council's real
configuration: `"example": true` (desks show the example banner), every hub and user name
begins "Example", and every login ends "-example". No amount here is the council's: the
categories are the ones DOMAIN.md names, the limits are other councils' examples, and
they are all for the council to set.

    hubdesk-central reference example > reference.json
    (edit: hubs, users, categories and limits)
    hubdesk-central reference set reference.json
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hubdesk.domain.local_offer import EXAMPLE_OFFER
from hubdesk.domain.models import ContactPurpose, Hub, PaymentCategory, SessionType, User
from hubdesk.sync.protocol import CentralReference


def example_reference() -> CentralReference:
    hubs = (Hub(code="DEW", name="Example hub: Dewsbury"), Hub(code="N11", name="Example hub: No. 11 Huddersfield"))
    users = (
        User(login="pa1-example", display_name="Example Duty-PA", role="pa", hub_code="DEW", payment_limit_pence=2500),
        User(
            login="pa2-example", display_name="Example Second-PA", role="pa", hub_code="N11", payment_limit_pence=2500
        ),
        User(
            login="apa-example",
            display_name="Example Advanced-PA",
            role="advanced_pa",
            hub_code="DEW",
            payment_limit_pence=5000,
        ),
        User(
            login="dm-example",
            display_name="Example Duty-Manager",
            role="duty_manager",
            hub_code=None,  # no hub: works at both
            payment_limit_pence=25000,
        ),
        User(login="admin-example", display_name="Example Admin", role="admin", hub_code=None),
        User(
            login="left-example",
            display_name="Example Leaver",
            role="pa",
            hub_code="DEW",
            active=False,  # a leaver stays listed, inactive: their records keep their name
        ),
    )
    session_types = (
        SessionType(code="drop-in", name="Drop-in"),
        SessionType(code="stay-and-play", name="Stay and play"),
        SessionType(code="cooking", name="Cooking on a budget"),
        SessionType(code="job-club", name="Job club"),
    )
    purposes = (
        ContactPurpose(code="housing", name="Housing"),
        ContactPurpose(code="money", name="Money"),
        ContactPurpose(code="benefits", name="Benefits"),
        ContactPurpose(code="eet", name="Education, training or employment"),
        ContactPurpose(code="health", name="Health"),
        ContactPurpose(code="wellbeing", name="Emotional wellbeing"),
        ContactPurpose(code="family", name="Family and relationships"),
        ContactPurpose(code="immigration", name="Immigration"),
        ContactPurpose(code="practical", name="Practical: laundry, food, computer"),
        ContactPurpose(code="advocacy", name="Advocacy and signposting"),
    )
    categories = (
        PaymentCategory(code="food-voucher", name="Food voucher", limit_pence=4000),
        PaymentCategory(code="food-parcel", name="Food parcel", limit_pence=3000),
        PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),
        PaymentCategory(code="electric", name="Electricity top-up", limit_pence=4000),
        PaymentCategory(code="travel", name="Travel", limit_pence=2500),
        PaymentCategory(code="clothing", name="Exceptional clothing", limit_pence=10000),
        PaymentCategory(code="emergency-cash", name="Emergency cash", limit_pence=5000),
    )
    return CentralReference(
        hubs=hubs,
        users=users,
        session_types=session_types,
        contact_purposes=purposes,
        payment_categories=categories,
        local_offer=EXAMPLE_OFFER,
        example=True,
        retention_days=90,
    )


def example_json() -> str:
    data: dict[str, Any] = example_reference().model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def cmd_reference_example(args: argparse.Namespace) -> int:
    sys.stdout.write(example_json())
    print(
        'This is an EXAMPLE (marked "example": true): set the council\'s hubs, users, categories and '
        "limits before `hubdesk-central reference set`.",
        file=sys.stderr,
    )
    return 0


def register(reference_subparsers: Any) -> None:
    """Adds `reference example` to the `reference` command's subparsers."""
    rx = reference_subparsers.add_parser(
        "example", help="Print a complete, clearly marked example reference file (edit it, then `reference set`)"
    )
    rx.set_defaults(func=cmd_reference_example)
