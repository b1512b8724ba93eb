"""Push: outbox items applied at most once each, checked, and kept or refused with a reason."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import IMMUTABLE, MODELS, Device, iso
from hubcentral.storage.engine import Tx
from hubdesk.domain.errors import field_errors
from hubdesk.domain.ids import uuid7
from hubdesk.sync.protocol import ItemResult, ItemStatus, PushItem, canonical_json, content_hash

FED_EVENTS = frozenset({"handover_note"})


class _Batch:
    """One push batch's view of the records it touches, and the rows it writes at the end."""

    def __init__(self, records: dict[tuple[str, str], tuple]) -> None:
        self.records = records
        self.inserts: dict[tuple[str, str], list[Any]] = {}
        self.updates: dict[tuple[str, str], list[Any]] = {}
        self.received: list[list[Any]] = []

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
    ) -> None:
        held = key in self.records
        self.records[key] = (version, digest, body, hub)
        if key in self.inserts or not held:
            self.inserts[key] = [key[0], key[1], version, hub, device_id, outbox_id, digest, body, at]
        else:
            self.updates[key] = [version, hub, device_id, outbox_id, digest, body, at, key[0], key[1]]

    def flush(self, tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO records(kind, record_id, version, hub_code, device_id, outbox_id, content_hash, body, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            list(self.inserts.values()),
        )
        # A handover note is for the next duty at its hub, whichever desk they unlock:
        # it goes into the change feed that every desk pulls.
        tx.executemany(
            "INSERT INTO changes(kind, record_id, body, at) VALUES (?, ?, ?, ?)",
            [[row[0], row[1], row[7], row[8]] for row in self.inserts.values() if row[0] in FED_EVENTS],
        )
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


class PushMixin(StoreBase):
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
            batch = _Batch(self._held_records(tx, items))
            for item in items:
                follows = (item.kind, item.record_id) in conflicted
                # Built on an edit of this batch that conflicted: it conflicts too.
                result = self._push_one(tx, device, user, item, now, seen, batch, follows_conflict=follows)
                if result.status is ItemStatus.CONFLICT:
                    conflicted.add((item.kind, item.record_id))
                results.append(result)
            batch.flush(tx)
            head = int((tx.one("SELECT max(seq) FROM changes") or [0])[0] or 0)
        return results, head

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
            for parent_kind, field in (("payment", "payment_id"), ("session", "session_id")):
                parent = item.body.get(field)
                if isinstance(parent, str) and item.kind in ("payment_decision", "attendance"):
                    wanted.add((parent_kind, parent))
        ids = sorted({record_id for _, record_id in wanted})
        found: dict[tuple[str, str], tuple] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in tx.all(
                f"SELECT kind, record_id, version, content_hash, body, hub_code FROM records "
                f"WHERE record_id IN ({marks})",
                chunk,
            ):
                if (row[0], row[1]) in wanted:
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
            if seen[0] != digest or seen[1] != device.device_id:
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

    def _apply(self, tx: Tx, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        model = MODELS.get(item.kind)
        if model is None:
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
        hub = getattr(record, "hub_code", None)
        if hub is None and item.kind in ("payment_decision", "attendance"):
            parent_key = (
                ("payment", record.payment_id) if item.kind == "payment_decision" else ("session", record.session_id)  # type: ignore[attr-defined]
            )
            parent = batch.records.get(parent_key)
            hub = parent[3] if parent else None
        if item.kind != "person" and hub is not None and hub != device.hub_code:
            return ItemResult(
                id=item.id,
                status=ItemStatus.REJECTED,
                code=403,
                reason=f"The record is for hub {hub}; this device is enrolled at {device.hub_code}",
            )
        if item.kind == "person":
            return self._apply_person(tx, device, item, digest, now)
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
        batch.put(key, version, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now))
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def _apply_event(self, device: Device, item: PushItem, digest: str, now: datetime, batch: _Batch) -> ItemResult:
        """A kind this service has no model for: kept as an immutable event, hub checked."""
        if item.body.get("id") != item.record_id:
            return ItemResult(
                id=item.id, status=ItemStatus.REJECTED, code=422, reason="record_id does not match the record's id"
            )
        hub = item.body.get("hub_code")
        if hub is not None and hub != device.hub_code:
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
        batch.put(key, 1, hub, device.device_id, item.id, digest, canonical_json(item.body), iso(now))
        return ItemResult(id=item.id, status=ItemStatus.ACCEPTED, code=201)

    def _apply_person(self, tx: Tx, device: Device, item: PushItem, digest: str, now: datetime) -> ItemResult:
        """A person edit is accepted only on top of the version it was made against."""
        version = int(item.body.get("version", 1))
        row = tx.one("SELECT version, content_hash, body FROM people WHERE id = ?", [item.record_id])
        if row is None or row[0] == version - 1:
            self._put_person(tx, item.body, now)
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
        if not self.active_user(env.user):
            raise BundleError(f"User {env.user} is not an active user in the central reference data")
        tally = {status.value: 0 for status in ItemStatus}
        for start in range(0, len(content.items), MAX_BATCH):
            results, _ = self.push(device, env.user, content.items[start : start + MAX_BATCH], now)
            for result in results:
                tally[result.status.value] += 1
        return tally
