"""Push: outbox items applied at most once each, checked, and kept or refused with a reason."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from hubcentral.storage.actions import ACTION_MODELS, check_action, feed_hubs
from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import IMMUTABLE, MODELS, Device, iso
from hubcentral.storage.engine import Tx
from hubcentral.storage.report_index import index_events
from hubcentral.storage.trust import check_actors, check_decision, check_payment
from hubdesk.domain.day import CashFloatEvent, FloatCount, HandoverNote
from hubdesk.domain.errors import field_errors
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import EmergencyPayment, PaymentDecision, Person
from hubdesk.sync.protocol import CentralReference, ItemResult, ItemStatus, PushItem, canonical_json, content_hash

FED_EVENTS = frozenset(
    {
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
    }
)
"""The events a hub's desks share: each goes into the feed for the desks of its hub."""
EVENT_TIME = ("started_at", "starts_at", "recorded_at", "decided_at", "written_at")
FEED_INSERT = "INSERT INTO changes(kind, record_id, body, at, hub_code, desk, device_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
SUMMARY_DAYS = 30  # payments kept in a person's activity summary; desks show the last 7 days


def desk_name(device: Device) -> str:
    return device.label or f"desk {device.device_id[:8]}"


def event_time(body: dict[str, Any], default: str) -> str:
    """When an event happened (for the retention window), in the service's spelling."""
    for field in EVENT_TIME:
        value = body.get(field)
        if isinstance(value, str):
            try:
                return iso(datetime.fromisoformat(value))
            except ValueError:
                break
    return default


class _Batch:
    """One push batch's view of the records it touches, and the rows it writes at the end."""

    def __init__(self, records: dict[tuple[str, str], tuple], reference: CentralReference | None) -> None:
        self.records = records
        self.reference = reference
        self.inserts: dict[tuple[str, str], list[Any]] = {}
        self.updates: dict[tuple[str, str], list[Any]] = {}
        self.received: list[list[Any]] = []
        self.fed: list[list[Any]] = []
        self.activity: dict[str, list[tuple[str, dict[str, Any], str]]] = {}
        self.receipts: dict[str, str] = {}  # receipt number -> the payment holding it
        self.new_receipts: list[list[Any]] = []

    def put(
        self,
        key: tuple[str, str],
        version: int,
        hub: str | None,
        device_id: str,
        outbox_id: str,
        digest: str,
        body: str,
        at: str,
        desk: str = "",
    ) -> None:
        held = key in self.records
        self.records[key] = (version, digest, body, hub)
        if key in self.inserts or not held:
            self.inserts[key] = [key[0], key[1], version, hub, device_id, outbox_id, digest, body, at]
        else:
            self.updates[key] = [version, hub, device_id, outbox_id, digest, body, at, key[0], key[1]]
        if key[0] in FED_EVENTS:
            # What one desk records reaches the hub's other desks at their next sync.
            data = json.loads(body)
            self.fed.append([key[0], key[1], body, event_time(data, at), hub, desk, device_id])
            for other in feed_hubs(key[0], data, hub, self.records) if key[0] in ACTION_MODELS else ():
                # An action about another hub's young person reaches that hub's desks too.
                self.fed.append([key[0], key[1], body, event_time(data, at), other, desk, device_id])
            if key[0] in ("contact", "payment"):
                self.activity.setdefault(str(data.get("person_id") or ""), []).append((key[0], data, hub or ""))
            elif key[0] in ("reversal", "payment_decision"):
                # These name the payment, not the young person: its person is the payment's.
                paid = self.records.get(("payment", str(data.get("payment_id") or "")))
                person_id = json.loads(paid[2]).get("person_id") if paid else None
                if person_id:
                    self.activity.setdefault(str(person_id), []).append((key[0], data, hub or ""))

    def flush(self, tx: Tx, now: datetime) -> None:
        tx.executemany(
            "INSERT INTO records(kind, record_id, version, hub_code, device_id, outbox_id, content_hash, body, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(self.inserts.values()),
        )
        tx.executemany("INSERT INTO receipts(receipt_no, payment_id, device_id) VALUES (?, ?, ?)", self.new_receipts)
        tx.executemany(FEED_INSERT, self.fed)
        index_events(tx, [(row[0], row[1], row[2]) for row in self.fed])  # the service report's columns
        self._summaries(tx, now)
        tx.executemany(
            "UPDATE records SET version = ?, hub_code = ?, device_id = ?, outbox_id = ?, content_hash = ?, "
            "body = ?, received_at = ? WHERE kind = ? AND record_id = ?",
            list(self.updates.values()),
        )
        tx.executemany(
            "INSERT INTO received(outbox_id, device_id, device_seq, kind, record_id, content_hash, status, code, "
            "reason, acting_user, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            self.received,
        )

    def _summaries(self, tx: Tx, now: datetime) -> None:
        """Each young person's recent activity (last contact; payments of the last 30 days), for
        the desks of every hub: the other hub's desks see this, never the records themselves."""
        people = sorted(p for p in self.activity if p)
        held: dict[str, dict[str, Any]] = {}
        for start in range(0, len(people), 500):
            chunk = people[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for person_id, body in tx.all(
                f"SELECT person_id, body FROM person_activity WHERE person_id IN ({marks})", chunk
            ):
                held[person_id] = json.loads(body)
        keep_from = iso(now - timedelta(days=SUMMARY_DAYS))
        rows, fed = [], []
        for person_id in people:
            summary = held.get(person_id) or {"person_id": person_id, "last_contact": None, "payments": []}
            for kind, data, hub in self.activity[person_id]:
                if kind == "contact":
                    at = event_time(data, "")
                    last = summary["last_contact"]
                    if at and (last is None or at >= last["at"]):
                        summary["last_contact"] = {"at": at, "contact_type": data.get("contact_type"), "hub_code": hub}
                elif kind == "payment" and data.get("status") != "declined":
                    summary["payments"].append(
                        {
                            "id": data.get("id"),
                            "at": event_time(data, iso(now)),
                            "amount_pence": data.get("amount_pence"),
                            "category": data.get("category"),
                            "hub_code": hub,
                        }
                    )
                elif kind == "reversal" or (kind == "payment_decision" and data.get("decision") == "declined"):
                    # A reversed or declined payment was not given: other hubs stop counting it.
                    summary["payments"] = [p for p in summary["payments"] if p["id"] != data.get("payment_id")]
            summary["payments"] = sorted(
                (p for p in summary["payments"] if p["at"] >= keep_from), key=lambda p: p["at"]
            )
            text = canonical_json(summary)
            rows.append([person_id, text])
            fed.append(["summary", person_id, text, iso(now), None, "", None])
        tx.executemany(
            "INSERT INTO person_activity(person_id, body) VALUES (?, ?) "
            "ON CONFLICT(person_id) DO UPDATE SET body = excluded.body",
            rows,
        )
        # A summary supersedes the person's earlier ones: the feed keeps only the latest.
        for start in range(0, len(people), 500):
            chunk = people[start : start + 500]
            marks = ",".join("?" * len(chunk))
            tx.execute(f"DELETE FROM changes WHERE kind = 'summary' AND record_id IN ({marks})", chunk)
        tx.executemany(FEED_INSERT, fed)


def _refused(item: PushItem, code: int, reason: str) -> ItemResult:
    return ItemResult(id=item.id, status=ItemStatus.REJECTED, code=code, reason=reason)


# A kind that hangs on another record: (the parent's kind, the field naming it).
PARENTS: dict[str, tuple[str, str]] = {
    "payment_decision": ("payment", "payment_id"),
    "reversal": ("payment", "payment_id"),
    "attendance": ("session", "session_id"),
    "action_update": ("action", "action_id"),
}
# Kinds the service keeps without a central model but puts in the feed: checked in full.
FED_MODELS: dict[str, type[BaseModel]] = {
    "handover_note": HandoverNote,
    "cash_float": CashFloatEvent,
    "float_count": FloatCount,
    **ACTION_MODELS,
}


class PushMixin(StoreBase):
    def _mark_desk_edit(self, tx: Tx, person_id: str, version: int, device_id: str, now: datetime) -> None:
        """Remember that a desk changed this person since the caseload was last loaded."""
        tx.execute(
            "INSERT INTO desk_edits(person_id, version, device_id, at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(person_id) DO UPDATE SET version = excluded.version, device_id = excluded.device_id, "
            "at = excluded.at",
            [person_id, version, device_id, iso(now)],
        )

    def push(self, device: Device, user: str, items: list[PushItem], now: datetime) -> tuple[list[ItemResult], int]:
        """Apply a batch: each outbox id at most once, whatever is resent or sent at once.

        A batch costs a handful of round trips, not a few per item: what is already held
        (receipts, records and the parents of decisions and attendance) is read at once,
        and the new records and receipts are written together at the end (psycopg
        pipelines executemany). Persons still go one by one (their case id can clash)."""
        results: list[ItemResult] = []
        conflicted: set[tuple[str, str]] = set()
        with self.engine.transaction(write=True) as tx:
            seen = self._received(tx, [item.id for item in items])
            batch = _Batch(self._held_records(tx, items), self._reference(tx))
            batch.receipts = self._held_receipts(tx, items)
            for item in items:
                follows = (item.kind, item.record_id) in conflicted
                # Built on an edit of this batch that conflicted: it conflicts too.
                result = self._push_one(tx, device, user, item, now, seen, batch, follows_conflict=follows)
                if result.status is ItemStatus.CONFLICT:
                    conflicted.add((item.kind, item.record_id))
                results.append(result)
            batch.flush(tx, now)
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
        return results, head

    def _held_receipts(self, tx: Tx, items: list[PushItem]) -> dict[str, str]:
        """The payments already holding the receipt numbers of this batch's payments: one
        query per batch. A database made before receipts were kept is filled once, first."""
        numbers = sorted(
            {str(i.body.get("receipt_no")) for i in items if i.kind == "payment" and i.body.get("receipt_no")}
        )
        if not numbers:
            return {}
        if not getattr(self, "_receipts_filled", False):
            after = "" if tx.one("SELECT 1 FROM receipts LIMIT 1") is None else None
            while after is not None:  # in slices: half a million payments never sit in memory at once
                rows = tx.all(
                    "SELECT record_id, device_id, body FROM records WHERE kind = 'payment' AND record_id > ? "
                    "ORDER BY record_id LIMIT 5000",
                    [after],
                )
                tx.executemany(
                    "INSERT INTO receipts(receipt_no, payment_id, device_id) VALUES (?, ?, ?) "
                    "ON CONFLICT(receipt_no) DO NOTHING",
                    [[json.loads(body).get("receipt_no"), record_id, dev] for record_id, dev, body in rows],
                )
                after = rows[-1][0] if len(rows) == 5000 else None
            self._receipts_filled = True
        found: dict[str, str] = {}
        for start in range(0, len(numbers), 500):
            chunk = numbers[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                (r[0], r[1])
                for r in tx.all(f"SELECT receipt_no, payment_id FROM receipts WHERE receipt_no IN ({marks})", chunk)
            )
        return found

    def _received(self, tx: Tx, ids: list[str]) -> dict[str, tuple]:
        """What of these outbox ids was received before: one query per batch, not per item."""
        found: dict[str, tuple] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in tx.all(
                f"SELECT outbox_id, content_hash, device_id, status, code, reason FROM received "
                f"WHERE outbox_id IN ({marks})",
                chunk,
            ):
                found[row[0]] = tuple(row[1:])
        return found

    def _held_records(self, tx: Tx, items: list[PushItem]) -> dict[tuple[str, str], tuple]:
        """The records a batch touches, and the payments and sessions its decisions and
        attendance hang on, read at once: (kind, id) -> (version, content_hash, body, hub)."""
        wanted: set[tuple[str, str]] = set()
        for item in items:
            if item.kind == "person":
                continue
            wanted.add((item.kind, item.record_id))
            parent = PARENTS.get(item.kind)
            if parent is not None and isinstance(item.body.get(parent[1]), str):
                wanted.add((parent[0], item.body[parent[1]]))
        found: dict[tuple[str, str], tuple] = {}
        for kind in sorted({kind for kind, _ in wanted}):
            # By kind and id, the primary key: by id alone no index serves, and every batch
            # read the whole table (100,000 records pushed took 20 times as long as 10,000).
            ids = sorted(record_id for k, record_id in wanted if k == kind)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in tx.all(
                    f"SELECT kind, record_id, version, content_hash, body, hub_code FROM records "
                    f"WHERE kind = ? AND record_id IN ({marks})",
                    [kind, *chunk],
                ):
                    found[(row[0], row[1])] = tuple(row[2:])
        return found

    def _push_one(
        self,
        tx: Tx,
        device: Device,
        user: str,
        item: PushItem,
        now: datetime,
        received: dict[str, tuple],
        batch: _Batch,
        follows_conflict: bool = False,
    ) -> ItemResult:
        digest = content_hash(item.kind, item.record_id, item.body)
        seen = received.get(item.id)
        if seen is not None:
            if seen[0] != digest or not self._same_desk_line(tx, seen[1], device):
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.REJECTED,
                    code=409,
                    reason="This outbox id was already received with different content",
                )
            if seen[2] == ItemStatus.REJECTED:
                return ItemResult(id=item.id, status=ItemStatus.REJECTED, code=seen[3], reason=seen[4])
            if seen[2] == ItemStatus.CONFLICT:
                # The device may not have heard the first answer: tell it again, with both sides.
                row = tx.one("SELECT remote_body FROM conflicts WHERE outbox_id = ?", [item.id])
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.CONFLICT,
                    code=409,
                    reason=seen[4],
                    remote=json.loads(row[0]) if row else None,
                )
            return ItemResult(id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason=f"first answered {seen[2]}")
        # Only a person can break a constraint after the checks made under the write lock
        # (its case_id is unique); a savepoint costs two round trips, so only persons pay.
        guard = tx.savepoint() if item.kind == "person" else nullcontext()
        try:
            with guard:
                if follows_conflict:
                    if item.kind == "person":
                        row = tx.one("SELECT body FROM people WHERE id = ?", [item.record_id])
                        remote = json.loads(row[0]) if row else {}
                    else:
                        held = batch.records.get((item.kind, item.record_id))
                        remote = json.loads(held[2]) if held else {}
                    result = self._conflict(tx, device, item, remote, now)
                else:
                    result = self._apply(tx, device, item, digest, now, batch)
        except self.engine.integrity_errors:
            result = ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=409,
                reason="The record clashes with one already held (a duplicate id or receipt number)",
            )
        batch.received.append(
            [
                item.id,
                device.device_id,
                item.seq,
                item.kind,
                item.record_id,
                digest,
                result.status.value,
                result.code,
                result.reason,
                user,
                iso(now),
            ]
        )
        # The same id twice in one batch: the second is answered like a resend.
        received[item.id] = (digest, device.device_id, result.status.value, result.code, result.reason)
        return result

    def _same_desk_line(self, tx: Tx, sent_by: str, device: Device) -> bool:
        """Whether an outbox id first sent by `sent_by` may be answered as already held for
        `device`: the same device, or another of the same hub sending the same content (a
        desk restored from a backup is a new device, and resends what the old one sent
        after the backup was made)."""
        if sent_by == device.device_id:
            return True
        row = tx.one("SELECT hub_code FROM devices WHERE device_id = ?", [sent_by])
        return row is not None and row[0] == device.hub_code

    def _apply(self, tx: Tx, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        model = MODELS.get(item.kind)
        if model is None:
            if item.kind in ACTION_MODELS:
                try:
                    action = ACTION_MODELS[item.kind].model_validate(item.body)
                except ValidationError:
                    action = None  # _apply_event says what is wrong with it
                why = action and check_action(tx, batch.reference, item.kind, action, device.hub_code, batch.records)
                if why:
                    return _refused(item, 403, why)
            return self._apply_event(device, item, digest, now, batch)
        try:
            record = model.model_validate(item.body)
        except ValidationError as exc:
            fields = "; ".join(f"{k or 'record'}: {v}" for k, v in field_errors(exc).items())
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason=f"Not a valid {item.kind}: {fields}"
            )
        if getattr(record, "id", None) != item.record_id:
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason="record_id does not match the record's id"
            )
        if item.kind == "person":
            return self._apply_person(tx, device, item, record, digest, now)  # type: ignore[arg-type]
        hub = getattr(record, "hub_code", None)
        parent_body: dict[str, Any] | None = None
        if item.kind in PARENTS:
            # A decision, reversal or attendance hangs on a record this service holds, of this hub.
            parent_kind, field = PARENTS[item.kind]
            parent = batch.records.get((parent_kind, getattr(record, field)))
            if parent is None:
                return _refused(
                    item, 403, f"Its {parent_kind} {getattr(record, field)} is not held by the central record"
                )
            if parent[3] != device.hub_code:
                return _refused(
                    item, 403, f"Its {parent_kind} is for hub {parent[3]}; this device is enrolled at {device.hub_code}"
                )
            hub = hub or parent[3]
            parent_body = json.loads(parent[2])
        if hub != device.hub_code:
            return _refused(item, 403, f"The record is for hub {hub}; this device is enrolled at {device.hub_code}")
        why = check_actors(batch.reference, item.kind, record, device.hub_code)
        if why is None and isinstance(record, EmergencyPayment):
            why = check_payment(batch.reference, record, device.hub_code)
            holder = batch.receipts.get(record.receipt_no)
            if why is None and holder is not None and holder != record.id:
                # Never two payments under one receipt number (a desk restored from an old
                # backup once handed out numbers the old laptop had already used).
                return _refused(
                    item,
                    409,
                    f"Receipt number {record.receipt_no} is already held for another payment: "
                    "this payment is kept on the desk; tell the central admin",
                )
        if why is None and isinstance(record, PaymentDecision):
            assert parent_body is not None
            why = check_decision(batch.reference, record, EmergencyPayment.model_validate(parent_body), device.hub_code)
        if why:
            return _refused(item, 403, why)
        version = int(getattr(record, "version", 1))
        key = (item.kind, item.record_id)
        row = batch.records.get(key)
        if row is not None:
            if row[1] == digest:
                return ItemResult(
                    id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held"
                )
            if item.kind in IMMUTABLE:
                return ItemResult(
                    id=item.id,
                    status=ItemStatus.REJECTED,
                    code=409,
                    reason="A different record with this id is already held",
                )
            if version <= row[0]:
                return self._conflict(tx, device, item, json.loads(row[2]), now)
        batch.put(
            key, version, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now), desk_name(device)
        )
        if isinstance(record, EmergencyPayment):
            batch.receipts[record.receipt_no] = record.id
            batch.new_receipts.append([record.receipt_no, record.id, device.device_id])
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def _apply_event(self, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        """A kind this service has no model for: kept as an immutable event, hub checked.
        A kind that other desks pull is validated in full first: the feed never carries
        what a desk cannot read."""
        fed = FED_MODELS.get(item.kind)
        if fed is not None:
            try:
                record = fed.model_validate(item.body)
            except ValidationError as exc:
                fields = "; ".join(f"{k or 'record'}: {v}" for k, v in field_errors(exc).items())
                return _refused(item, 422, f"Not a valid {item.kind}: {fields}")
            why = check_actors(batch.reference, item.kind, record, device.hub_code)
            if why:
                return _refused(item, 403, why)
        if item.body.get("id") != item.record_id:
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason="record_id does not match the record's id"
            )
        hub = item.body.get("hub_code")
        if (hub is not None or fed is not None) and hub != device.hub_code:
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=403,
                reason=f"The record is for hub {hub}; this device is enrolled at {device.hub_code}",
            )
        key = (item.kind, item.record_id)
        row = batch.records.get(key)
        if row is not None:
            if row[1] == digest:
                return ItemResult(
                    id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held"
                )
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=409,
                reason="A different record with this id is already held",
            )
        batch.put(
            key, 1, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now), desk_name(device)
        )
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def _apply_person(
        self, tx: Tx, device: Device, item: PushItem, person: Person, digest: str, now: datetime
    ) -> ItemResult:
        """A person is changed only by a desk of their hub (moves between hubs are the central
        admin's), and an edit is accepted only on top of the version it was made against."""
        version = person.version
        row = tx.one("SELECT version, content_hash, body, hub_code FROM people WHERE id = ?", [item.record_id])
        if row is not None and row[3] != device.hub_code:
            return _refused(
                item,
                403,
                f"This young person belongs to hub {row[3]}; only a desk there may change them "
                "(moves between hubs are the central admin's: hubdesk-central person transfer)",
            )
        if person.hub_code != device.hub_code:
            return _refused(
                item,
                403,
                f"The record puts this young person at hub {person.hub_code}; a desk at {device.hub_code} "
                "may not move anyone between hubs (the central admin may: hubdesk-central person transfer)",
            )
        if row is None or row[0] == version - 1:
            self._put_person(tx, item.body, now)
            self._mark_desk_edit(tx, person.id, version, device.device_id, now)
            return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)
        if row[1] == digest:
            return ItemResult(id=item.id, status=ItemStatus.ALREADY_HAD, code=200, reason="The record was already held")
        return self._conflict(tx, device, item, json.loads(row[2]), now)

    def _conflict(self, tx: Tx, device: Device, item: PushItem, remote: dict[str, Any], now: datetime) -> ItemResult:
        tx.execute(
            "INSERT INTO conflicts(id, kind, record_id, device_id, outbox_id, local_body, remote_body, detected_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                uuid7(),
                item.kind,
                item.record_id,
                device.device_id,
                item.id,
                canonical_json(item.body),
                canonical_json(remote),
                iso(now),
            ],
        )
        return ItemResult(
            id=item.id,
            status=ItemStatus.CONFLICT,
            code=409,
            reason=f"Edited against an old version; the central record has version {remote.get('version')}. "
            "Both sides are kept for a person to settle.",
            remote=remote,
        )

    def import_bundle(self, data: bytes, now: datetime) -> dict[str, int]:
        """Apply an offline bundle with the push rules: importing it twice changes nothing."""
        from hubdesk.sync.bundle import BundleError, envelope, open_sealed
        from hubdesk.sync.protocol import MAX_BATCH, unb64

        env = envelope(data)
        device = self.device(env.device_id)
        if device is None:
            raise BundleError("The bundle is from a device this service has not enrolled")
        if device.revoked_at is not None:
            raise BundleError("The bundle is from a revoked device: refused")
        content = open_sealed(env, device_public_key=unb64(device.public_key), service_key=self.bundle_key())
        if content.hub_code != device.hub_code:
            raise BundleError(f"The device is enrolled at hub {device.hub_code}, not {content.hub_code}: refused")
        why = self.user_refusal(env.user, device.hub_code)
        if why:
            raise BundleError(why)
        tally = {status.value: 0 for status in ItemStatus}
        for start in range(0, len(content.items), MAX_BATCH):
            results, _ = self.push(device, env.user, content.items[start : start + MAX_BATCH], now)
            for result in results:
                tally[result.status.value] += 1
        return tally
