"""The desk's audit head (its last entry's sequence number and MAC), sent with every ping
and every sync so the service can tell when history it already holds was changed on the
desk.

The head goes as the signed query parameter `audit_head=SEQ:MAC` on `GET /v1/ping` and on
the first `GET /v1/changes` of a pull, with `audit_anchor=SEQ:MAC`: the desk's own MAC of
the last entry the service said it holds. The service keeps the latest head per device
and checks both against its copy: the anchor (and a head at or below what it holds) must
carry the MAC it holds for that entry, else history it already holds was re-signed or
replaced on the desk (each MAC covers the one before, so re-signing any earlier entry
changes it); and a head never goes back, else entries were deleted from the end or an
older copy of the store was put back under the same device. The answer says what the
service found. An entry edited without re-signing keeps its MAC: the desk's own chain
check (`hubdesk doctor`) and `hubdesk sync --compare-audit` find that.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hubdesk.sync.protocol import ChangesPage, Ping

AUDIT_HEAD_PATTERN = r"^\d{1,19}:[0-9a-f]{64}$"
PARAM = "audit_head"
ANCHOR = "audit_anchor"


class AuditedPing(Ping):
    """The ping's answer with what the service holds of this desk's audit chain."""

    audit_held: int = Field(0, description="The last audit entry the service holds for this device")
    audit_problem: str | None = Field(None, description="Set when the head sent contradicts the copy held")


class AuditedChangesPage(ChangesPage):
    audit_problem: str | None = Field(
        None, description="Set (on the page that carried the desk's audit head) when it contradicts the copy held"
    )


class HeadAnswer(BaseModel):
    """What the desk reads of the service's answer about its head (the rest is read as before)."""

    model_config = ConfigDict(extra="ignore")

    audit_held: int = 0
    audit_problem: str | None = None


def parse_head(text: str) -> tuple[int, str]:
    seq, mac = text.split(":", 1)
    return int(seq), mac
