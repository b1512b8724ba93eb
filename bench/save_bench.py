"""The store's own budgets from issues 2 and 12: saving a contact or a payment (validate, seal,
commit with audit entry, outbox row and the person's contact summary): p95 < 15 ms, and its
time against a plain sqlite-utils insert of the same row into a SQLCipher database with
`synchronous=FULL` (goal under 3x); unlock after the KDF < 300 ms.

The saves run on a copy of the big store (10,000 people; HUBDESK_BENCH_SAVE_RECORDS records,
500,000 by default, the report bench's store), each its own transaction as at the desk. The
plain inserts go into a new database opened the same way (hubdesk.store.sqlcipher.connect:
WAL, synchronous=FULL, the same cipher settings), interleaved one for one with the saves so
both see the same machine; the ratio is of their medians. HUBDESK_BENCH_SAVES sets how many.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import PASSPHRASE, ROOT, Result, big_store, median, p95

RECORDS = int(os.environ.get("HUBDESK_BENCH_SAVE_RECORDS", os.environ.get("HUBDESK_BENCH_BIG_RECORDS", "500000")))
SAVES = int(os.environ.get("HUBDESK_BENCH_SAVES", "300"))


def _plain_db(path: Path):
    from hubdesk.store import sqlcipher
    from hubdesk.store.keys import new_database_key

    conn = sqlcipher.connect(path, new_database_key(), create=True)
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db = sqlcipher.database(conn)
    return conn, db


def _contact_row(contact) -> dict:
    return {
        "id": contact.id,
        "contact_id": contact.contact_id,
        "version": contact.version,
        "amends": contact.amends,
        "person_id": contact.person_id,
        "hub_code": contact.hub_code,
        "contact_type": contact.contact_type.value,
        "started_at": contact.started_at.isoformat(),
        "ended_at": contact.ended_at.isoformat() if contact.ended_at else None,
        "recorded_at": contact.recorded_at.isoformat(),
        "recorded_by": contact.recorded_by,
        "body": contact.model_dump_json(),
        "audit_seq": 1,
    }


def _payment_row(payment) -> dict:
    return {
        "id": payment.id + "-plain",
        "receipt_no": payment.receipt_no + "-plain",
        "person_id": payment.person_id,
        "hub_code": payment.hub_code,
        "category": payment.category,
        "method": payment.method.value,
        "amount_pence": payment.amount_pence,
        "status": payment.status.value,
        "recorded_at": payment.recorded_at.isoformat(),
        "body": payment.model_dump_json(),
        "audit_seq": 1,
    }


def measure_saves(path: Path, saves: int, synchronous: str = "FULL") -> dict[str, list[float]]:
    """Saves through the store, each followed by the plain insert of the same row.
    synchronous="OFF" on both sides leaves out the flush to disk: what is left is the work
    of the save itself (on an idle laptop with a fast disk the flush is short, and this is
    the part the ratio shows)."""
    from hubdesk.domain.models import Contact
    from hubdesk.store.store import Store

    store = Store.unlock(path, "sam", PASSPHRASE)
    conn, plain = _plain_db(path.parent / f"plain-{synchronous}.db")
    for connection in (store._conn, conn):
        connection.execute(f"PRAGMA synchronous = {synchronous}")
    out: dict[str, list[float]] = {"contact": [], "contact_plain": [], "payment": [], "payment_plain": []}
    try:
        ids = [r[0] for r in store._rows("SELECT id FROM people WHERE hub_code = ? ORDER BY id", [store.hub_code])]
        ids = ids[:: max(1, len(ids) // 500)]

        def contact(i: int) -> Contact:
            now = datetime.now(UTC)
            return Contact(
                person_id=ids[i % len(ids)],
                hub_code=store.hub_code,
                contact_type="phone",
                recorded_by="sam",
                started_at=now - timedelta(minutes=5),
                recorded_at=now,
                seen=False,
                purposes=("money",),
                summary="Synthetic bench call about a gas top-up",
            )

        def save_payment(i: int):
            return store.record_payment(
                person_id=ids[i % len(ids)],
                category="travel",
                amount_pence=500,
                method="cash",
                reason="Synthetic bench bus fare",
            )

        for i in range(5):  # warm: the pages the first saves touch come into the cache
            store.record_contact(contact(i))
            plain["contacts"].insert(_contact_row(contact(i)), pk="id")
            plain["payments"].insert(_payment_row(save_payment(i)), pk="id")
        for i in range(saves):
            c = contact(i)
            start = time.perf_counter()
            store.record_contact(c)
            out["contact"].append(time.perf_counter() - start)
            row = _contact_row(contact(i))
            start = time.perf_counter()
            plain["contacts"].insert(row)
            out["contact_plain"].append(time.perf_counter() - start)
            start = time.perf_counter()
            payment = save_payment(i)
            out["payment"].append(time.perf_counter() - start)
            row = _payment_row(payment)
            start = time.perf_counter()
            plain["payments"].insert(row)
            out["payment_plain"].append(time.perf_counter() - start)
    finally:
        conn.close()
        store.lock()
    return out


def unlock_after_kdf(path: Path, repeat: int = 5) -> tuple[list[float], list[float], list[float]]:
    """Store.unlock's time less the Argon2id derivation inside it (timed in the same call),
    and the first search (which builds the person index)."""
    from hubdesk.store import keys
    from hubdesk.store.store import Store

    spent: list[float] = []
    original = keys.KdfParams.derive

    def derive(self, secret, salt):
        start = time.perf_counter()
        try:
            return original(self, secret, salt)
        finally:
            spent.append(time.perf_counter() - start)

    keys.KdfParams.derive = derive  # type: ignore[method-assign]
    after, kdf, first_search = [], [], []
    try:
        for _ in range(repeat):
            spent.clear()
            start = time.perf_counter()
            store = Store.unlock(path, "sam", PASSPHRASE)
            took = time.perf_counter() - start
            kdf.append(sum(spent))
            after.append(took - sum(spent))
            start = time.perf_counter()
            store.search_people("kay")
            first_search.append(time.perf_counter() - start)
            store.lock()
    finally:
        keys.KdfParams.derive = original  # type: ignore[method-assign]
    return after, kdf, first_search


def run() -> list[Result]:
    source = big_store(RECORDS)
    ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="save-bench-", dir=ROOT))
    try:
        copy = work / "store"
        shutil.copytree(source, copy)
        _warm(copy)
        after, kdf, first_search = unlock_after_kdf(copy)
        t = measure_saves(copy, SAVES)
        cpu = measure_saves(copy, SAVES, synchronous="OFF")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    scale = f"{RECORDS:,}-record store"
    ready = [a + s for a, s in zip(after, first_search, strict=True)]
    results = [
        Result(
            f"unlock after the KDF, ready to search (open + first search), 10,000 people, {scale}",
            median(ready) * 1000,
            "ms",
            300,
            f"open {median(after) * 1000:.0f} ms + first search (builds the index) "
            f"{median(first_search) * 1000:.0f} ms; KDF {median(kdf):.2f} s",
        ),
        Result(f"unlock after the KDF, open alone, {scale}", median(after) * 1000, "ms", None),
    ]
    for kind in ("contact", "payment"):
        saves, plain = t[kind], t[f"{kind}_plain"]
        results.append(
            Result(
                f"save a {kind} p95, {scale}",
                p95(saves) * 1000,
                "ms",
                15,
                f"median {median(saves) * 1000:.2f} ms, n={len(saves)}",
            )
        )
        results.append(
            Result(
                f"save a {kind} / plain insert, synchronous=FULL",
                statistics.median(saves) / statistics.median(plain),
                "x",
                3,
                f"plain insert median {median(plain) * 1000:.2f} ms, p95 {p95(plain) * 1000:.2f} ms",
            )
        )
        saves, plain = cpu[kind], cpu[f"{kind}_plain"]
        results.append(
            Result(
                f"save a {kind} / plain insert, without the flush (synchronous=OFF both)",
                statistics.median(saves) / statistics.median(plain),
                "x",
                None,
                f"save median {median(saves) * 1000:.2f} ms, plain {median(plain) * 1000:.2f} ms",
            )
        )
    return results


def _warm(path: Path) -> None:
    """One unlock first: a first-format slot converts and pending migrations run, once."""
    from hubdesk.store.store import Store

    Store.unlock(path, "sam", PASSPHRASE).lock()


if __name__ == "__main__":
    for result in run():
        print(result.line())
