"""Key budgets (issue 10): unlock with a key-pair slot stays under 1 s including the KDF;
removing a user and rekeying a 500,000-record store stays under 30 s.

HUBDESK_BENCH_REKEY_RECORDS picks a smaller big store where building 500,000 records
takes too long (the rekey rewrites every page, so its time follows the file's size)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import PASSPHRASE, Result, big_store, demo_store, median, timed
from hubdesk.store.keys import KeySlotFile
from hubdesk.store.store import Store, db_path, slots_path


def run() -> list[Result]:
    results: list[Result] = []
    path = demo_store(10_000, 30)
    Store.unlock(path, "sam", PASSPHRASE).lock()  # a first-format slot converts here, once
    assert not KeySlotFile.load(slots_path(path)).slots["sam"].first_format
    kdf = KeySlotFile.load(slots_path(path)).slots["sam"].kdf
    unlock = timed(lambda: Store.unlock(path, "sam", PASSPHRASE).lock(), 5)
    results.append(
        Result(
            "unlock, key-pair slot, 10,000 people (incl. KDF)",
            median(unlock),
            "s",
            1.0,
            f"Argon2id {kdf.memory_kib // 1024} MiB t={kdf.iterations}; HPKE open + open db",
        )
    )

    records = int(os.environ.get("HUBDESK_BENCH_REKEY_RECORDS", "500000"))
    source = big_store(records)
    work = Path(tempfile.mkdtemp(prefix="hubdesk-rekey-bench-"))
    try:
        copy = work / "store"
        shutil.copytree(source, copy)
        size_mb = db_path(copy).stat().st_size / 1e6
        store = Store.unlock(copy, "nadia", PASSPHRASE)
        start = time.perf_counter()
        removal = store.remove_users(["tom"])
        took = time.perf_counter() - start
        assert removal.rekeyed
        store.lock()
        reopen = median(timed(lambda: Store.unlock(copy, "sam", PASSPHRASE).lock(), 3))
        budget = 30.0 * records / 500_000
        results.append(
            Result(
                f"remove a user + rekey, {records:,} records",
                took,
                "s",
                budget,
                f"{size_mb:,.0f} MB, {size_mb / took:,.0f} MB/s; unlock after {reopen:.2f} s",
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results
