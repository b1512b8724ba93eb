"""`hubdesk-central conflicts settle ID --keep device|central|merged`: finish what the service kept.

A conflict holds both sides of an edit made against an old version: the device's (or, for
a caseload load that met a desk's edit, the caseload's) and the central record's. Settling
it, in one transaction:

- `--keep central`: the central record stays as it is; the conflict is marked settled.
- `--keep device`: the device's side becomes the record's next version.
- `--keep merged`: a version made of both, given one of two ways:
    `--from-device FIELD [FIELD ...]` starts from the central side and takes the named
    top-level fields from the device's (e.g. `--from-device preferred_name contact`); or
    `--body FILE` gives the whole record as JSON (for a merge inside a field).
  Either way the result must be a valid record with the same id and hub.

The new version is numbered after the central record's current one and goes into the feed
(every desk of the record's hub pulls it). A hub move is never made here: that is
`person transfer`. A settled conflict stays settled: settling it again is refused and
changes nothing. Who settled it, when, what was kept and which fields are kept in
`conflict_settlements`, and shown by `conflicts list --all` and a subject access export.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hubcentral.storage import MODELS, CentralError, CentralStore, iso
from hubcentral.storage.engine import Tx
from hubcentral.storage.push import FEED_INSERT, event_time
from hubdesk.domain.errors import field_errors
from hubdesk.sync.protocol import canonical_json, content_hash

KEEP = ("device", "central", "merged")
SETTLEMENTS = """CREATE TABLE IF NOT EXISTS conflict_settlements (
    conflict_id TEXT PRIMARY KEY, keep TEXT NOT NULL, fields TEXT NOT NULL, version BIGINT,
    settled_by TEXT NOT NULL, settled_at TEXT NOT NULL
)"""
MAX_BODY = 1_000_000


class SettleError(CentralError):
    """A settlement refused: ids, versions and field names only, never content."""


def ensure_table(store: CentralStore) -> None:
    with store.engine.transaction(write=True) as tx:
        tx.execute(SETTLEMENTS)


def settlements(store: CentralStore) -> dict[str, dict[str, Any]]:
    ensure_table(store)
    with store.engine.transaction(write=False) as tx:
        rows = tx.all("SELECT conflict_id, keep, fields, version, settled_by, settled_at FROM conflict_settlements")
    keys = ("conflict_id", "keep", "fields", "version", "settled_by", "settled_at")
    return {r[0]: {**dict(zip(keys, r, strict=True)), "fields": json.loads(r[2])} for r in rows}


def _current(tx: Tx, kind: str, record_id: str) -> dict[str, Any] | None:
    if kind == "person":
        row = tx.one("SELECT body FROM people WHERE id = ?", [record_id])
    else:
        row = tx.one("SELECT body FROM records WHERE kind = ? AND record_id = ?", [kind, record_id])
    return json.loads(row[0]) if row else None


def settle(
    store: CentralStore,
    conflict_id: str,
    keep: str,
    now: datetime,
    *,
    by: str = "central admin",
    body: dict[str, Any] | None = None,
    from_device: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Settle one conflict; returns what was done (keep, fields, the new version or None)."""
    if keep not in KEEP:
        raise SettleError(f"--keep must be one of {', '.join(KEEP)}, not {keep!r}")
    if keep == "merged" and (body is None) == (not from_device):
        raise SettleError("--keep merged needs either --from-device FIELD ... or --body FILE (one of the two)")
    if keep != "merged" and (body is not None or from_device):
        raise SettleError("--from-device and --body go with --keep merged only")
    ensure_table(store)
    with store.engine.transaction(write=True) as tx:
        row = tx.one(
            "SELECT kind, record_id, local_body, remote_body, settled_at, outbox_id FROM conflicts WHERE id = ?",
            [conflict_id.strip()],
        )
        if row is None:
            raise SettleError(f"No conflict {conflict_id.strip()} is held (see `hubdesk-central conflicts list`)")
        kind, record_id, local_text, remote_text, settled_at, outbox_id = row
        if settled_at is not None:
            earlier = tx.one("SELECT keep FROM conflict_settlements WHERE conflict_id = ?", [conflict_id.strip()])
            how = f" (kept {earlier[0]})" if earlier else ""
            raise SettleError(
                f"Conflict {conflict_id.strip()} was already settled on {settled_at[:16]}{how}; nothing changed"
            )
        local, remote = json.loads(local_text), json.loads(remote_text)
        current = _current(tx, kind, record_id)
        model = MODELS.get(kind)
        chosen: dict[str, Any] | None = None
        fields: list[str] = []
        if keep == "device":
            chosen = dict(local)
        elif keep == "merged" and body is not None:
            chosen = dict(body)
            fields = sorted(k for k in chosen if chosen.get(k) != (current or remote).get(k))
        elif keep == "merged":
            base = current or remote
            unknown = sorted(set(from_device) - set(local))
            if unknown:
                raise SettleError(
                    f"The device's side has no field {', '.join(unknown)}; its fields are {', '.join(sorted(local))}"
                )
            chosen = {**base, **{f: local[f] for f in from_device}}
            fields = sorted(from_device)
        version = None
        if chosen is not None:
            if current is None or model is None:
                raise SettleError(f"The central record holds no {kind} {record_id} to put a new version on")
            if chosen.get("id") != record_id:
                raise SettleError(f"The record given is not {kind} {record_id} (its id differs)")
            if chosen.get("hub_code") != current.get("hub_code"):
                raise SettleError(
                    f"The result would move the record from hub {current.get('hub_code')} to "
                    f"{chosen.get('hub_code')}: moves are `hubdesk-central person transfer`"
                )
            version = int(current.get("version", 1)) + 1
            try:
                record = model.model_validate({**chosen, "version": version})
            except ValidationError as exc:
                problems = "; ".join(f"{k or 'record'}: {v}" for k, v in field_errors(exc).items())
                raise SettleError(f"The result is not a valid {kind}: {problems}") from None
            _put(store, tx, kind, record_id, record.model_dump(mode="json"), conflict_id, now)
        tx.execute("UPDATE conflicts SET settled_at = ? WHERE id = ? AND settled_at IS NULL", [iso(now), conflict_id])
        tx.execute(
            "INSERT INTO conflict_settlements(conflict_id, keep, fields, version, settled_by, settled_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [conflict_id, keep, json.dumps(fields), version, by, iso(now)],
        )
    side = "the caseload's side" if outbox_id == "caseload" else "the device's side"
    return {
        "conflict_id": conflict_id,
        "kind": kind,
        "record_id": record_id,
        "keep": keep,
        "fields": fields,
        "version": version,
        "device_side": side,
    }


def _put(
    store: CentralStore, tx: Tx, kind: str, record_id: str, body: dict[str, Any], conflict_id: str, now: datetime
) -> None:
    """The settled version: a person through the caseload's own path; a mutable event (a
    session) updated in place and put in the feed for the desks of its hub."""
    if kind == "person":
        store._put_person(tx, body, now)
        return
    text = canonical_json(body)
    tx.execute(
        "UPDATE records SET version = ?, device_id = 'central', outbox_id = ?, content_hash = ?, body = ?, "
        "received_at = ? WHERE kind = ? AND record_id = ?",
        [
            body["version"],
            f"settle:{conflict_id}",
            content_hash(kind, record_id, body),
            text,
            iso(now),
            kind,
            record_id,
        ],
    )
    at = event_time(body, iso(now))  # the feed keeps events by when they happened (retention)
    tx.execute(FEED_INSERT, [kind, record_id, text, at, body.get("hub_code"), "central admin", None])


# --- commands -------------------------------------------------------------------------------


def _read_body(path: str) -> dict[str, Any]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SettleError(f"Cannot read {path}: {type(exc).__name__}") from None
    if len(data) > MAX_BODY:
        raise SettleError(f"{path} is larger than a record can be ({MAX_BODY:,} bytes)")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise SettleError(f"{path} is not JSON") from None
    if not isinstance(body, dict):
        raise SettleError(f"{path} must hold one JSON object: the whole record")
    return body


def cmd_settle(args: argparse.Namespace) -> int:
    from hubcentral.cli import _open

    if len(args.by) > 60:
        print("hubdesk-central: not settled: --by is at most 60 characters", file=sys.stderr)
        return 2
    try:
        body = _read_body(args.body) if args.body else None
        done = settle(
            _open(args),
            args.conflict_id,
            args.keep,
            datetime.now(UTC),
            by=args.by,
            body=body,
            from_device=tuple(args.from_device or ()),
        )
    except SettleError as exc:
        print(f"hubdesk-central: not settled: {exc}", file=sys.stderr)
        return 2
    if done["version"] is None:
        print(f"Settled conflict {done['conflict_id']}: kept the central record as it is.")
    else:
        what = (
            done["device_side"] if done["keep"] == "device" else f"a merge ({', '.join(done['fields']) or 'no change'})"
        )
        print(
            f"Settled conflict {done['conflict_id']}: kept {what}; {done['kind']} {done['record_id']} is now "
            f"version {done['version']}, which the desks pull."
        )
    return 0


def register(conflicts_subparsers: Any, db: argparse.ArgumentParser) -> None:
    """Adds `conflicts settle` to the `conflicts` command's subparsers."""
    ks = conflicts_subparsers.add_parser(
        "settle",
        parents=[db],
        help="Settle a conflict: keep the device's side, the central record, or a merge",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ks.add_argument("conflict_id", help="from `hubdesk-central conflicts list`")
    ks.add_argument("--keep", required=True, choices=KEEP)
    ks.add_argument("--from-device", nargs="+", metavar="FIELD", help="merged: take these fields from the device")
    ks.add_argument("--body", metavar="FILE", help="merged: the whole record as JSON")
    ks.add_argument("--by", default="central admin", help="who settled it (kept with the settlement)")
    ks.set_defaults(func=cmd_settle)
