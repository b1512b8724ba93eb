"""Actions that get followed up: each action a contact creates, and what later became of it.

An `ActionItem` is made once, when the contact is saved (one for each of its actions, and one
for "tell the allocated PA"); it is never edited. What happens to it later is an
`ActionUpdate` event (done with a note, or passed on to another user), so two desks never
conflict over an action: its state is its updates folded in time order, and done is final.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Record, When
from hubdesk.domain.text import HubCode, Login, OptionalNote, ShortText, invalid


class ActionKind(StrEnum):
    ACTION = "action"
    TELL_PA = "tell_pa"


class UpdateKind(StrEnum):
    DONE = "done"
    PASSED_ON = "passed_on"


class ActionItem(Record):
    """One action to follow up. `hub_code` is the hub whose desk recorded it; `person_hub` is the
    young person's own hub, whose desks (the allocated PA's) must see it too."""

    id: str = Field(default_factory=uuid7)
    kind: ActionKind = ActionKind.ACTION
    contact_id: str
    person_id: str
    hub_code: HubCode
    person_hub: HubCode
    text: ShortText
    owner: Login | None = None
    owner_text: OptionalNote = ""
    due: date | None = None
    recorded_by: Login
    recorded_at: When


class ActionUpdate(Record):
    """Done (with a note) or passed on (to another user): an event, never edited."""

    id: str = Field(default_factory=uuid7)
    action_id: str
    hub_code: HubCode
    kind: UpdateKind
    note: OptionalNote = ""
    to: Login | None = None
    recorded_by: Login
    recorded_at: When

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.kind is UpdateKind.PASSED_ON and not self.to:
            raise invalid("Say who the action is passed on to")
        if self.kind is UpdateKind.DONE and self.to:
            raise invalid("A done action is not passed on to anyone")
        if self.kind is UpdateKind.DONE and not self.note.strip():
            raise invalid("Say what was done")
        return self


@dataclass(frozen=True)
class ActionState:
    """An action as it stands after its updates."""

    owner: str | None
    done: bool
    done_at: str | None
    done_by: str | None
    note: str


def fold(item: ActionItem, updates: Iterable[ActionUpdate]) -> ActionState:
    """Apply the updates in time order (ties by id, so every desk agrees); done is final."""
    owner, done, done_at, done_by, note = item.owner, False, None, None, ""
    for update in sorted(updates, key=lambda u: (u.recorded_at, u.id)):
        if done:
            break
        if update.kind is UpdateKind.DONE:
            done, done_at, done_by, note = True, update.recorded_at.isoformat(), update.recorded_by, update.note
        else:
            owner, note = update.to, update.note
    return ActionState(owner=owner, done=done, done_at=done_at, done_by=done_by, note=note)


def is_overdue(due: date | None, done: bool, today: date) -> bool:
    return not done and due is not None and due < today


def unlock_line(mine: int, overdue: int) -> str | None:
    """What the desk says at unlock: "3 actions for you, 1 overdue"."""
    if mine == 0:
        return None
    noun = "action" if mine == 1 else "actions"
    return f"{mine} {noun} for you" + (f", {overdue} overdue" if overdue else "")
