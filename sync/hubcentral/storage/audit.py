"""The devices' audit chains: held in order, each continuing the last, rewrites kept as refusals."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from hubcentral.storage.base import StoreBase
from hubcentral.storage.common import AUDIT_COLUMNS, AUDIT_KEYS, GENESIS, Device, iso
from hubdesk.sync.protocol import AuditItem, AuditPage, AuditResult, ItemStatus

HEAD_REASON = "This desk's audit"  # how a problem found from a reported head starts


class AuditMixin(StoreBase):
    def push_audit(
        self, device: Device, user: str, items: list[AuditItem], now: datetime
    ) -> tuple[list[AuditResult], int]:
        """Hold a device's audit entries: each (device, seq) at most once, in seq order with
        no gap, each continuing the chain already held (its prev_mac is the MAC held for the
        entry before). An entry that differs from the copy held, or does not continue it, is
        refused and the refusal kept for `hubdesk-central audit verify`. Returns the answers
        and the last seq held (the service holds 1..held)."""
        results: list[AuditResult] = []
        new_rows: list[list[Any]] = []
        refused: list[tuple[AuditItem, str]] = []
        dev = device.device_id
        # The audit chains are not in the change feed: one device's lock, not everyone's.
        with self.engine.transaction(write=True, serial=False) as tx:
            self.engine.lock_device(tx, dev)
            row = tx.one("SELECT max(seq) FROM audit WHERE device_id = ?", [dev])
            held = int(row[0] or 0) if row else 0
            low = min(item.seq for item in items)
            high = min(max(item.seq for item in items), held)
            have: dict[int, AuditItem] = {}
            if low <= held:
                have = {
                    r[0]: AuditItem(**dict(zip(AUDIT_KEYS, r, strict=True)))
                    for r in tx.all(
                        f"SELECT {AUDIT_COLUMNS} FROM audit WHERE device_id = ? AND seq BETWEEN ? AND ?",
                        [dev, low, high],
                    )
                }
            last_mac = GENESIS
            if held:
                mac_row = tx.one("SELECT mac FROM audit WHERE device_id = ? AND seq = ?", [dev, held])
                last_mac = mac_row[0] if mac_row else GENESIS
            next_seq = held + 1
            stopped = False
            for item in items:
                if item.seq <= held:
                    if have.get(item.seq) == item:
                        results.append(AuditResult(seq=item.seq, status=ItemStatus.ALREADY_HAD, code=200))
                    else:
                        reason = (
                            f"Audit entry {item.seq} differs from the copy the central record holds: "
                            "this desk's history was changed after it was synced"
                        )
                        results.append(AuditResult(seq=item.seq, status=ItemStatus.REJECTED, code=409, reason=reason))
                        refused.append((item, reason))
                    continue
                if stopped:
                    results.append(
                        AuditResult(
                            seq=item.seq,
                            status=ItemStatus.REJECTED,
                            code=409,
                            reason="Not held: an earlier entry of this batch was refused",
                        )
                    )
                    continue
                if item.seq != next_seq:
                    stopped = True
                    results.append(
                        AuditResult(
                            seq=item.seq,
                            status=ItemStatus.REJECTED,
                            code=409,
                            reason=f"Audit entries {next_seq}-{item.seq - 1} are missing: the central record holds "
                            f"entries up to {next_seq - 1}; send from entry {next_seq}",
                        )
                    )
                    continue
                if item.prev_mac != last_mac:
                    stopped = True
                    reason = (
                        f"Audit entry {item.seq} does not continue the chain the central record holds "
                        f"(entry {item.seq - 1} differs): this desk's history was changed after it was synced"
                    )
                    results.append(AuditResult(seq=item.seq, status=ItemStatus.REJECTED, code=409, reason=reason))
                    refused.append((item, reason))
                    continue
                new_rows.append(
                    [
                        dev,
                        item.seq,
                        item.at,
                        item.actor,
                        item.action,
                        item.kind,
                        item.record_id,
                        item.detail,
                        item.body_hash,
                        item.mac,
                        item.prev_mac,
                        user,
                        iso(now),
                    ]
                )
                results.append(AuditResult(seq=item.seq, status=ItemStatus.ACCEPTED, code=201))
                last_mac = item.mac
                next_seq += 1
            tx.executemany(
                f"INSERT INTO audit(device_id, {AUDIT_COLUMNS}, acting_user, received_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                new_rows,
            )
            if refused:
                known = {
                    (r[0], r[1])
                    for r in tx.all(
                        "SELECT seq, offered_mac FROM audit_refusals WHERE device_id = ? AND seq BETWEEN ? AND ?",
                        [dev, min(i.seq for i, _ in refused), max(i.seq for i, _ in refused)],
                    )
                }
                tx.executemany(
                    "INSERT INTO audit_refusals(device_id, seq, offered_mac, offered_hash, reason, acting_user, "
                    "refused_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [
                            dev,
                            i.seq,
                            i.mac,
                            hashlib.sha256(i.model_dump_json().encode()).hexdigest(),
                            reason,
                            user,
                            iso(now),
                        ]
                        for i, reason in refused
                        if (i.seq, i.mac) not in known
                    ],
                )
        return results, next_seq - 1

    def note_head(
        self, device: Device, user: str, head: tuple[int, str], anchor: tuple[int, str] | None, now: datetime
    ) -> tuple[int, str | None]:
        """Keep the audit head a device reports (with every ping and sync) and check it, and
        the anchor (the device's MAC of the last entry it was told is held), against the copy
        held: returns (the last entry held, a problem or None).

        The anchor, and a head at or below the entries held, must carry the MAC held for that
        entry: if not, history the service already holds was re-signed or replaced on the
        desk. A head below the last one reported means entries were deleted from the end, or
        an older copy of the store was put back under this device. Each problem is kept as a
        refusal, so `hubdesk-central audit verify` shows it; the latest head is kept either way."""
        dev = device.device_id
        seq, mac = head
        problem: str | None = None
        problem_at = (seq, mac)
        with self.engine.transaction(write=True, serial=False) as tx:
            self.engine.lock_device(tx, dev)
            row = tx.one("SELECT max(seq) FROM audit WHERE device_id = ?", [dev])
            held = int(row[0] or 0) if row else 0
            last = tx.one("SELECT seq FROM audit_heads WHERE device_id = ?", [dev])
            if last is not None and seq < int(last[0]):
                problem = (
                    f"{HEAD_REASON} history went back from entry {last[0]} to entry {seq}: entries were "
                    "deleted, or an older copy of the store was put back (a restored store must enrol as a new device)"
                )
            for at_seq, at_mac in [p for p in (anchor, head) if p is not None and problem is None]:
                if not 0 < at_seq <= held:
                    continue
                mine = tx.one("SELECT mac FROM audit WHERE device_id = ? AND seq = ?", [dev, at_seq])
                if mine is not None and mine[0] != at_mac:
                    problem = (
                        f"{HEAD_REASON} entry {at_seq} differs from the copy the central record holds: "
                        "its history was changed after it was synced"
                    )
                    problem_at = (at_seq, at_mac)
                    break
            if problem is not None:
                known = tx.one(
                    "SELECT 1 FROM audit_refusals WHERE device_id = ? AND seq = ? AND offered_mac = ?",
                    [dev, *problem_at],
                )
                if known is None:
                    tx.execute(
                        "INSERT INTO audit_refusals(device_id, seq, offered_mac, offered_hash, reason, acting_user, "
                        "refused_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            dev,
                            *problem_at,
                            hashlib.sha256(f"head {problem_at[0]}:{problem_at[1]}".encode()).hexdigest(),
                            problem,
                            user,
                            iso(now),
                        ],
                    )
            tx.execute(
                "INSERT INTO audit_heads(device_id, seq, mac, acting_user, reported_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(device_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, "
                "acting_user = excluded.acting_user, reported_at = excluded.reported_at",
                [dev, seq, mac, user, iso(now)],
            )
        return held, problem

    def audit_head(self, device_id: str) -> tuple[int, str, str] | None:
        """The latest audit head the device reported: (seq, mac, when), or None."""
        with self.engine.transaction(write=False) as tx:
            row = tx.one("SELECT seq, mac, reported_at FROM audit_heads WHERE device_id = ?", [device_id])
        return (int(row[0]), row[1], row[2]) if row else None

    def audit_page(self, device_id: str, since: int, limit: int) -> AuditPage:
        """A device's audit entries after `since`, oldest first (the device compares them with its own)."""
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(
                f"SELECT {AUDIT_COLUMNS} FROM audit WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                [device_id, since, limit + 1],
            )
            row = tx.one("SELECT max(seq) FROM audit WHERE device_id = ?", [device_id])
        items = [AuditItem(**dict(zip(AUDIT_KEYS, r, strict=True))) for r in rows[:limit]]
        return AuditPage(items=items, more=len(rows) > limit, held=int(row[0] or 0) if row else 0)

    def audit_entries(self, device_id: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
        """Held audit entries (ids, actions and logins only), by device then seq, for export."""
        sql = f"SELECT device_id, {AUDIT_COLUMNS}, acting_user, received_at FROM audit"
        where, params = [], []
        if device_id:
            where.append("device_id = ?")
            params.append(device_id)
        if since:
            where.append("received_at >= ?")
            params.append(since)
        if where:
            sql += " WHERE " + " AND ".join(where)
        keys = ("device_id", *AUDIT_KEYS, "acting_user", "received_at")
        with self.engine.transaction(write=False) as tx:
            rows = tx.all(sql + " ORDER BY device_id, seq", params)
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def audit_devices(self) -> list[str]:
        with self.engine.transaction(write=False) as tx:
            rows = tx.all("SELECT device_id FROM audit UNION SELECT device_id FROM audit_refusals ORDER BY 1")
        return [r[0] for r in rows]

    def verify_audit(self, device_id: str) -> tuple[int, list[str]]:
        """Check a device's held chain: no gaps, each entry continuing the one before, and
        every rewrite the device tried to send. Returns (entries held, problems)."""
        with self.engine.transaction(write=False) as tx:
            rows = tx.all("SELECT seq, mac, prev_mac FROM audit WHERE device_id = ? ORDER BY seq", [device_id])
            refusals = tx.all(
                "SELECT seq, min(refused_at), count(*), max(CASE WHEN reason LIKE ? THEN 1 ELSE 0 END) "
                "FROM audit_refusals WHERE device_id = ? GROUP BY seq ORDER BY seq",
                [HEAD_REASON + "%", device_id],
            )
        problems: list[str] = []
        expected, prev_mac = 1, GENESIS
        for seq, mac, prev in rows:
            if seq != expected:
                missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                problems.append(f"audit entries {missing} are missing from the central copy (deleted)")
            elif prev != prev_mac:
                problems.append(
                    f"audit entry {seq} does not continue entry {seq - 1} in the central copy "
                    "(edited or replaced centrally)"
                )
            expected, prev_mac = seq + 1, mac
        for seq, first, count, by_head in refusals:
            times = f" ({count} times)" if count > 1 else ""
            if by_head:
                problems.append(
                    f"audit entry {seq}: the device's reported audit head contradicts the central copy{times} "
                    f"from {first[:16]}: its history was changed after it was synced, or went back"
                )
                continue
            problems.append(
                f"audit entry {seq}: the device sent a different version{times} from {first[:16]}: "
                "its history was changed after it was synced"
            )
        return len(rows), problems
