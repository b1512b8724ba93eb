"""The sync protocol (API v1): message models and request signing, shared by device and service.

A request is signed by the device's Ed25519 key over a canonical text naming the
method, the path (with its query), the time, a one-use nonce, the device, the acting
user and the SHA-256 of the body. The service refuses a request whose time is more
than five minutes from its own clock, or whose nonce it has seen before.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hubdesk.domain.local_offer import Entitlement
from hubdesk.domain.models import (
    ContactPurpose,
    Hub,
    PaymentCategory,
    Person,
    ReferenceData,
    SessionType,
    User,
)
from hubdesk.domain.service_rules import ServiceRules
from hubdesk.domain.text import HubCode, Login

API = "v1"
PREFIX = f"/{API}"
MAX_SKEW_SECONDS = 300
MAX_BATCH = 500
PAGE_SIZE = 500
FIRST_PULL_PAGE_SIZE = 2000  # a new desk's first pull: fewer, larger pages (fewer round trips and commits)
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_INT64 = 2**63 - 1  # the central databases' BIGINT: a larger number is refused, never stored

H_DEVICE = "x-hubdesk-device"
H_USER = "x-hubdesk-user"
H_TIME = "x-hubdesk-time"
H_NONCE = "x-hubdesk-nonce"
H_SIGNATURE = "x-hubdesk-signature"
SIGNED_HEADERS = (H_DEVICE, H_USER, H_TIME, H_NONCE, H_SIGNATURE)

# What a device pushes: the outbox kinds the store writes. The service validates these
# against the domain models; a kind it does not know yet (a newer desk) is kept as an
# immutable event, so a desk upgraded before the service never has its queue blocked.
KINDS = ("person", "contact", "payment", "payment_decision", "reversal", "session", "attendance")
Kind = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description=f"One of {', '.join(KINDS)}, or newer")]

DeviceId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
OutboxId = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


class Message(BaseModel):
    """Protocol messages refuse unknown fields: a typo in a payload is an error, not a drop."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --- signing ---------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical(method: str, path: str, at: str, nonce: str, device: str, user: str, body: bytes) -> bytes:
    """The exact bytes a device signs and the service verifies."""
    return "\n".join(["hubdesk-" + API, method.upper(), path, at, nonce, device, user, body_digest(body)]).encode()


def sign_headers(
    key: Ed25519PrivateKey,
    *,
    method: str,
    path: str,
    device: str,
    user: str,
    body: bytes,
    at: int,
    nonce: str,
) -> dict[str, str]:
    text = canonical(method, path, str(at), nonce, device, user, body)
    return {
        H_DEVICE: device,
        H_USER: user,
        H_TIME: str(at),
        H_NONCE: nonce,
        H_SIGNATURE: b64(key.sign(text)),
    }


def verify(public_key: bytes, signature: str, text: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(unb64(signature), text)
    except (InvalidSignature, ValueError):
        return False
    return True


def canonical_json(data: Any) -> str:
    """One spelling of a JSON value, so the same record always hashes the same."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(kind: str, record_id: str, body: Any) -> str:
    return hashlib.sha256(canonical_json([kind, record_id, body]).encode()).hexdigest()


# --- enrolment -------------------------------------------------------------------------


class EnrolRequest(Message):
    code: Annotated[str, Field(min_length=4, max_length=64)]
    device_id: DeviceId
    hub_code: HubCode
    public_key: Annotated[str, Field(min_length=40, max_length=48, description="Ed25519, base64url")]
    label: Annotated[str, Field(max_length=80)] = ""


class EnrolResponse(Message):
    device_id: str
    hub_code: str
    enrolled_at: AwareDatetime
    bundle_key: str = Field("", description="The service's X25519 public key (base64url) that bundles are sealed to")


# --- push ------------------------------------------------------------------------------


class PushItem(Message):
    id: OutboxId = Field(description="The outbox row's UUIDv7; applied at most once")
    seq: int = Field(ge=1, le=MAX_INT64, description="The device's change number")
    kind: Kind
    record_id: Annotated[str, Field(min_length=1, max_length=64)]
    body: dict[str, Any]
    created_at: AwareDatetime


class PushRequest(Message):
    hub_code: HubCode
    items: Annotated[list[PushItem], Field(max_length=MAX_BATCH)]


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    ALREADY_HAD = "already_had"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class ItemResult(Message):
    id: str
    status: ItemStatus
    code: int = Field(description="201 accepted, 200 already had, 409 conflict or id reused, 422 invalid")
    reason: str | None = None
    remote: dict[str, Any] | None = Field(None, description="The service's version, on a conflict")


class PushResponse(Message):
    results: list[ItemResult]
    cursor: int = Field(description="The service's change sequence after this push")


# --- audit -----------------------------------------------------------------------------

MacHex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class AuditItem(Message):
    """One entry of the device's audit chain, as the store keeps it: ids, actions and
    logins only, never personal data. `prev_mac` is the MAC of the entry before (all
    zeros for the first), so the service can check that the chain it holds continues."""

    seq: int = Field(ge=1, le=MAX_INT64)
    at: Annotated[str, Field(max_length=40)]
    actor: Annotated[str, Field(max_length=40)]
    action: Annotated[str, Field(max_length=40)]
    kind: Annotated[str, Field(max_length=40)]
    record_id: Annotated[str, Field(max_length=64)] | None = None
    detail: Annotated[str, Field(max_length=1000)] = ""
    body_hash: Annotated[str, Field(pattern=r"^([0-9a-f]{64})?$")] = ""
    mac: MacHex
    prev_mac: MacHex


class AuditPushRequest(Message):
    items: Annotated[
        list[AuditItem], Field(min_length=1, max_length=MAX_BATCH, description="Consecutive entries, oldest first")
    ]


class AuditResult(Message):
    seq: int
    status: ItemStatus
    code: int = Field(
        description="201 accepted, 200 already held, 409 differs from the copy held or does not continue it"
    )
    reason: str | None = None


class AuditPushResponse(Message):
    results: list[AuditResult]
    held: int = Field(description="The last entry the service holds for this device (it holds 1..held)")


class AuditPage(Message):
    items: list[AuditItem]
    more: bool
    held: int


# --- pull ------------------------------------------------------------------------------


class CentralReference(Message):
    """Reference data as the central record holds it: the device's ReferenceData, plus users."""

    hubs: tuple[Hub, ...] = ()
    users: tuple[User, ...] = ()
    session_types: tuple[SessionType, ...] = ()
    contact_purposes: tuple[ContactPurpose, ...] = ()
    payment_categories: tuple[PaymentCategory, ...] = ()
    service_rules: ServiceRules = ServiceRules()
    local_offer: tuple[Entitlement, ...] = ()
    example: bool = False
    retention_days: int = Field(
        90, ge=1, le=3650, description="How many days of its hub's events a desk holds (the working set)"
    )

    def device_reference(self) -> ReferenceData:
        return ReferenceData(
            hubs=self.hubs,
            session_types=self.session_types,
            contact_purposes=self.contact_purposes,
            payment_categories=self.payment_categories,
            service_rules=self.service_rules,
            local_offer=self.local_offer,
            example=self.example,
        )


# What the feed carries: people and reference data to every desk; a hub's events to its desks;
# each young person's recent-activity summary to every desk.
FEED_KINDS = (
    "person",
    "reference",
    "summary",
    "contact",
    "payment",
    "payment_decision",
    "reversal",
    "session",
    "attendance",
    "handover_note",
    "cash_float",
    "float_count",
    "action",
    "action_update",
    "offer_given",
)
# Of another hub's young person a desk holds only what duty needs to find and help them
# safely: never their contact details, notes or voice (DESIGN.md, "Working sets and trust").
OTHER_HUB_PERSON_FIELDS = frozenset(
    {
        "id",
        "case_id",
        "first_name",
        "last_name",
        "preferred_name",
        "date_of_birth",
        "approx_age",
        "hub_code",
        "allocated_pa",
        "alerts",
        "walk_in",
        "needs_matching",
        "version",
    }
)


def other_hub_person(body: dict[str, Any]) -> dict[str, Any]:
    """A person as a desk of another hub receives them."""
    return {k: v for k, v in body.items() if k in OTHER_HUB_PERSON_FIELDS}


class Change(Message):
    seq: int
    kind: Kind = Field(description=f"One of {', '.join(FEED_KINDS)}; a desk sets aside a kind it does not know")
    record_id: str
    body: dict[str, Any]
    desk: str = Field("", description="For a hub's events: the desk that recorded it")


class RecentPayment(Message):
    id: str
    at: AwareDatetime
    amount_pence: int
    category: str
    hub_code: str


class LastContact(Message):
    at: AwareDatetime
    contact_type: str
    hub_code: str


class PersonSummary(Message):
    """A young person's recent activity at every hub: their last contact, and the payments of
    the last 30 days (a desk shows the last 7). Ids, times, amounts and codes only."""

    person_id: str
    last_contact: LastContact | None = None
    payments: list[RecentPayment] = []


class RawChangesPage(BaseModel):
    """A page as a desk first reads it: each change is checked on its own, so one it cannot
    read is set aside and the rest applied (the feed never wedges)."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    changes: list[Any]
    cursor: int
    more: bool
    reset: bool = False
    database_id: str = ""
    server_time: datetime | None = None
    first_pull: str = ""


class ChangesPage(Message):
    changes: list[Change]
    cursor: int = Field(description="Pass as `since` for the next page")
    more: bool
    reset: bool = Field(False, description="The cursor given was ahead of the service: replayed from 0")
    database_id: str = Field(
        "",
        description="Changes when the service's database is replaced or restored; "
        "a device seeing a new one pulls again from 0",
    )
    server_time: datetime | None = Field(
        None,
        description="The service's clock when the page was made: a desk measures its retention window "
        "from this, never from its own clock",
    )
    first_pull: str = Field(
        "",
        description="In a desk's first pull (asked with since=0 and first_pull=start), where to ask from "
        "next; empty on the last page, whose cursor the desk goes on from",
    )


class Ping(Message):
    device_id: str
    hub_code: str
    user: Login
    cursor: int
    server_time: datetime


class ErrorBody(Message):
    detail: str
    errors: list[dict[str, str]] = []


def person_from(body: dict[str, Any]) -> Person:
    return Person.model_validate(body)
