"""`hubdesk-central walk-ins list|match`: link a walk-in recorded at a desk to a known young person.

A desk records someone it cannot find as a walk-in (a person with no case id, marked
"needs matching"), and records their visits and payments against that walk-in. The central
admin matches the walk-in to a young person of the caseload by case id. The events stay as
they were (they are immutable, and a desk may still hold them under the walk-in's id); the
match is kept as its own record, kind `walk_in_match`, so it is in every export
(`hubdesk-central export --what walk_in_match`, `--what all`) and a subject access export
for the young person includes what was recorded under the walk-in. The walk-in's record
gets a new version with "needs matching" cleared, which every desk pulls.

A walk-in is matched once: matching it again is refused (nothing changes).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from hubcentral.storage import CentralError, CentralStore, iso
from hubcentral.storage.engine import Tx
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Person
from hubdesk.sync.protocol import canonical_json, content_hash

KIND = "walk_in_match"


class MatchError(CentralError):
    """A match refused; the message names ids and case ids only."""


def matches(tx: Tx) -> dict[str, dict[str, Any]]:
    """Every walk-in match held: walk-in id -> the match record."""
    return {r[0]: json.loads(r[1]) for r in tx.all("SELECT record_id, body FROM records WHERE kind = ?", [KIND])}


def walk_ins(store: CentralStore, include_matched: bool = False) -> list[dict[str, Any]]:
    """Walk-ins held (people with no case id recorded as walk-ins), oldest first, each with
    the case id it was matched to (or None)."""
    with store.engine.transaction(write=False) as tx:
        rows = tx.all(
            "SELECT id, body, updated_at FROM people WHERE case_id IS NULL AND body LIKE ? ORDER BY updated_at",
            ['%"walk_in":true%'],
        )
        held = matches(tx)
    out = []
    for person_id, text, updated_at in rows:
        body = json.loads(text)
        match = held.get(person_id)
        if match is not None and not include_matched:
            continue
        out.append(
            {
                "id": person_id,
                "hub_code": body.get("hub_code"),
                "first_name": body.get("first_name"),
                "last_name": body.get("last_name"),
                "preferred_name": body.get("preferred_name"),
                "date_of_birth": body.get("date_of_birth"),
                "approx_age": body.get("approx_age"),
                "updated_at": updated_at,
                "matched_to": match.get("case_id") if match else None,
            }
        )
    return out


def match(store: CentralStore, walk_in_id: str, case_id: str, now: datetime, by: str, note: str = "") -> dict[str, Any]:
    """Match a walk-in to the young person with `case_id`, in one transaction: the match
    record, and the walk-in's new version with "needs matching" cleared (in the feed)."""
    walk_in_id, case_id = walk_in_id.strip(), case_id.strip()
    with store.engine.transaction(write=True) as tx:
        row = tx.one("SELECT body FROM people WHERE id = ?", [walk_in_id])
        if row is None:
            raise MatchError(f"No walk-in with id {walk_in_id} is held (see `hubdesk-central walk-ins list`)")
        walk_in = json.loads(row[0])
        if walk_in.get("case_id") or not walk_in.get("walk_in"):
            raise MatchError(f"Record {walk_in_id} is not a walk-in: it is a young person of the caseload")
        done = tx.one("SELECT body FROM records WHERE kind = ? AND record_id = ?", [KIND, walk_in_id])
        if done is not None:
            earlier = json.loads(done[0])
            raise MatchError(
                f"Walk-in {walk_in_id} was already matched to case {earlier['case_id']} on "
                f"{earlier['matched_at'][:16]}; nothing changed"
            )
        target = tx.one("SELECT id FROM people WHERE case_id = ?", [case_id])
        if target is None:
            raise MatchError(f"No young person with case id {case_id} is held (load the caseload first)")
        record = {
            "id": walk_in_id,
            "walk_in_id": walk_in_id,
            "person_id": target[0],
            "case_id": case_id,
            "hub_code": walk_in.get("hub_code"),
            "matched_by": by,
            "matched_at": iso(now),
            "note": note,
        }
        tx.execute(
            "INSERT INTO records(kind, record_id, version, hub_code, device_id, outbox_id, content_hash, body, "
            "received_at) VALUES (?, ?, 1, ?, 'central', ?, ?, ?, ?)",
            [
                KIND,
                walk_in_id,
                walk_in.get("hub_code"),
                f"central:{uuid7()}",
                content_hash(KIND, walk_in_id, record),
                canonical_json(record),
                iso(now),
            ],
        )
        cleared = Person.model_validate({**walk_in, "needs_matching": False, "version": int(walk_in["version"]) + 1})
        store._put_person(tx, cleared.model_dump(mode="json"), now)
    return record


# --- commands -------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    from hubcentral.cli import _open

    found = walk_ins(_open(args), include_matched=args.all)
    if not found:
        print("No walk-ins waiting to be matched." if not args.all else "No walk-ins held.")
        return 0
    for w in found:
        name = " ".join(p for p in (w["first_name"], w["last_name"]) if p)
        age = w["date_of_birth"] or (f"about {w['approx_age']}" if w["approx_age"] else "age not known")
        state = f"matched to {w['matched_to']}" if w["matched_to"] else "needs matching"
        print(f"{w['id']}  {w['hub_code'] or '?':<6} {w['updated_at'][:16]}  {name[:40]:<40} {age:<14} {state}")
    if not args.all:
        print(f"{len(found)} to match: hubdesk-central walk-ins match WALK_IN_ID CASE_ID")
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from hubcentral.cli import _open

    if len(args.by) > 60 or len(args.note) > 500:
        print("--by is at most 60 characters and --note at most 500: nothing changed", file=sys.stderr)
        return 2
    try:
        record = match(_open(args), args.walk_in, args.case_id, datetime.now(UTC), args.by, args.note)
    except MatchError as exc:
        print(f"hubdesk-central: {exc}", file=sys.stderr)
        return 2
    print(
        f"Matched walk-in {record['walk_in_id']} to case {record['case_id']}: kept as a walk_in_match record "
        "(in exports); desks pull the walk-in with 'needs matching' cleared."
    )
    return 0


def register(sub: Any, db: argparse.ArgumentParser) -> None:
    """Adds `walk-ins list|match` to hubdesk-central's commands."""
    w = sub.add_parser("walk-ins", help="Walk-ins recorded at desks, to match to a young person of the caseload")
    wsub = w.add_subparsers(dest="action", required=True)
    wl = wsub.add_parser("list", parents=[db], help="Walk-ins waiting to be matched")
    wl.add_argument("--all", action="store_true", help="include matched ones, with their case id")
    wl.set_defaults(func=cmd_list)
    wm = wsub.add_parser("match", parents=[db], help="Match a walk-in to a young person by case id")
    wm.add_argument("walk_in", help="the walk-in's id (from walk-ins list)")
    wm.add_argument("case_id", help="the young person's case id")
    wm.add_argument("--by", default="central admin", help="who matched them (kept with the match)")
    wm.add_argument("--note", default="", help="why (e.g. 'confirmed date of birth with the PA')")
    wm.set_defaults(func=cmd_match)
