"""What every part of the central store shares: errors, the device record, constants, time."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    EmergencyPayment,
    PaymentDecision,
    Person,
    Reversal,
)

MODELS: dict[str, type[BaseModel]] = {
    "person": Person,
    "contact": Contact,
    "payment": EmergencyPayment,
    "payment_decision": PaymentDecision,
    "reversal": Reversal,
    "session": DropInSession,
    "attendance": Attendance,
}
GENESIS = "0" * 64  # the prev_mac of a device's first audit entry (hubdesk.store.audit.GENESIS)
AUDIT_COLUMNS = "seq, at, actor, action, kind, record_id, detail, body_hash, mac, prev_mac"
AUDIT_KEYS = tuple(AUDIT_COLUMNS.split(", "))
IMMUTABLE = ("contact", "payment", "payment_decision", "reversal", "attendance")
NONCE_KEEP_SECONDS = 15 * 60


class CentralError(Exception):
    """A refusal with a message fit for the admin or the device (no personal data)."""


class EnrolmentRefused(CentralError):
    pass


class CaseloadError(CentralError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:20]) + (f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""))
        self.problems = problems


@dataclass(frozen=True)
class Device:
    device_id: str
    hub_code: str
    public_key: str
    label: str
    enrolled_at: str
    revoked_at: str | None
    last_seen_at: str | None


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.strip().upper().replace("-", "").encode()).hexdigest()


def new_enrolment_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))
