"""The audit chain: each entry's MAC covers the one before, so an edit or deletion shows.

What it proves, honestly: the MAC key is derived from the database key (HKDF; after a
rekey, the key it had is kept inside the encrypted database), so the chain shows changes
made by someone who cannot unlock the store (raw edits to the file, a damaged or swapped
database): they break the chain, the head kept in `meta`, or the link between a record's
body and its entry's body hash. Anyone who can unlock (any user, or the recovery key)
holds the MAC key and could rewrite history and sign it again; the local check cannot
tell. History is evidence once the central record holds it: from the sync that sent an
entry, the service's copy counts, and the desk's audit head and its MAC of the last entry
held, sent with every ping and sync (hubdesk.sync.audit_head), show a re-signed or
shortened chain to the service.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS = "0" * 64


CHAIN_KEY_META = "audit_chain_key"


def audit_key(db_key: bytes | bytearray) -> bytes:
    """The chain's MAC key as a store that was never rekeyed has it: HKDF of its database key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hubdesk audit chain v1").derive(bytes(db_key))


def chain_key(conn, db_key: bytes | bytearray) -> bytes:
    """The chain's MAC key for this store. A rekey (a user removed) changes the database key
    but must not change the chain's key (the central record holds the MACs already made),
    so before its first rekey a store keeps the key it had, inside the encrypted database
    (meta `audit_chain_key`); until then it is derived from the database key."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", [CHAIN_KEY_META]).fetchone()
    if row is not None and isinstance(row[0], bytes | bytearray) and len(row[0]) == 32:
        return bytes(row[0])
    return audit_key(db_key)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    kind: str
    record_id: str | None
    detail: str
    body_hash: str
    mac: str = ""

    def message(self, prev_mac: str) -> bytes:
        fields = (
            str(self.seq),
            self.at,
            self.actor,
            self.action,
            self.kind,
            self.record_id or "",
            self.detail,
            self.body_hash,
            prev_mac,
        )
        return "\x1f".join(fields).encode("utf-8")

    def sign(self, key: bytes, prev_mac: str) -> str:
        return hmac.new(key, self.message(prev_mac), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None
    message: str


def verify_chain(entries: list[AuditEntry], key: bytes, head: tuple[int, str] | None) -> list[AuditProblem]:
    """Walk the chain in order; report each entry that was edited, removed or added."""
    problems: list[AuditProblem] = []
    prev_mac = GENESIS
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            missing = f"{expected_seq}" if entry.seq == expected_seq + 1 else f"{expected_seq}-{entry.seq - 1}"
            problems.append(AuditProblem(expected_seq, f"audit entries {missing} are missing (deleted)"))
        good = hmac.compare_digest(entry.mac, entry.sign(key, prev_mac))
        if not good:
            problems.append(
                AuditProblem(
                    entry.seq,
                    f"audit entry {entry.seq} ({entry.action} {entry.kind}) was altered or its predecessor removed",
                )
            )
        prev_mac = entry.mac
        expected_seq = entry.seq + 1
    last_seq = entries[-1].seq if entries else 0
    last_mac = entries[-1].mac if entries else GENESIS
    if head is not None:
        head_seq, head_mac = head
        if head_seq > last_seq:
            problems.append(
                AuditProblem(
                    last_seq + 1, f"audit entries {last_seq + 1}-{head_seq} are missing from the end (deleted)"
                )
            )
        elif head_seq < last_seq:
            problems.append(AuditProblem(head_seq + 1, f"audit entries after {head_seq} were added outside hubdesk"))
        elif not hmac.compare_digest(head_mac, last_mac):
            problems.append(AuditProblem(last_seq, f"audit entry {last_seq} does not match the recorded chain head"))
    return problems
