"""Push scaling (issue 12): a desk's outbox of 10,000 and of 100,000 records pushed over
loopback to a new central record (SQLite), the device in its own process. The push must
grow with the records: 100,000 within 11 times the time of 10,000 (it was 20 times: for
each batch the desk sorted every pending row after the cursor and walked every waiting row
to mark 500 of them sending, and the service read its whole records table).

Each desk's store (its outbox filled through the store's own API, one person and n-1
contacts: tests/sync/bench_sync.py's bulk_contacts) is built once and kept under .bench/;
each run enrols a copy. HUBDESK_BENCH_PUSH_SIZES=2000,20000 picks other sizes (the ratio's
budget stays 1.1 times the ratio of the sizes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, Result

SYNC_TESTS = Path(__file__).resolve().parent.parent / "tests" / "sync"
SIZES = [int(x) for x in os.environ.get("HUBDESK_BENCH_PUSH_SIZES", "10000,100000").split(",")]
PEOPLE = 1000  # the caseload the desk pulls after its push: small, the push is what is measured


def _outbox_store(bs, n: int) -> Path:
    """A desk store holding n records waiting to be sent, built once (not enrolled)."""
    from sync_helpers import make_store

    path = ROOT / f"push-outbox-{n}"
    if (path / "hubdesk.db").exists():
        return path
    work = ROOT / f"push-outbox-{n}.building"
    shutil.rmtree(work, ignore_errors=True)
    start = time.perf_counter()
    store = make_store(work, "DEW", "sam")
    bs.bulk_contacts(store, n)
    store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.lock()
    work.rename(path)
    print(f"     built {path.name} in {time.perf_counter() - start:.0f} s", flush=True)
    return path


def push(bs, n: int, tmp: Path) -> dict:
    from sync_helpers import CENTRAL_REFERENCE, PASSPHRASE, LiveServer, enrol_device

    from hubcentral.storage import CentralStore
    from hubdesk.store.store import Store

    source = _outbox_store(bs, n)
    copy = tmp / f"desk-{n}"
    shutil.copytree(source, copy)
    eng = bs.Engine("sqlite", tmp)
    central = CentralStore.open(eng.db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    bs.caseload(central, PEOPLE)
    server = LiveServer(eng.db).start()
    try:
        store = Store.unlock(copy, "sam", PASSPHRASE)
        enrol_device(store, server, central)
        store.lock()
        out = subprocess.run(
            [sys.executable, "-c", bs.DEVICE_CHILD, str(copy)],
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_PASSPHRASE": PASSPHRASE},
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        held = central.count("received")
        assert held == n, f"the central record received {held} of {n}"
        return result
    finally:
        server.stop()
        central.close()
        eng.drop()
        shutil.rmtree(copy, ignore_errors=True)


def run() -> list[Result]:
    saved = os.environ.get("HUBDESK_KDF_PROFILE")
    os.environ["HUBDESK_KDF_PROFILE"] = "fast"  # the desks' unlock is not what is measured here
    if str(SYNC_TESTS) not in sys.path:
        sys.path.insert(0, str(SYNC_TESTS))
    try:
        import bench_sync as bs

        ROOT.mkdir(parents=True, exist_ok=True)
        measured: dict[int, dict] = {}
        with tempfile.TemporaryDirectory(dir=ROOT) as d:
            for n in SIZES:
                measured[n] = push(bs, n, Path(d))
    finally:
        if saved is None:
            os.environ.pop("HUBDESK_KDF_PROFILE", None)
        else:
            os.environ["HUBDESK_KDF_PROFILE"] = saved
    results = []
    for n, r in measured.items():
        results.append(
            Result(
                f"push {n:,} records [sqlite]",
                r["push_s"],
                "s",
                None,
                f"{n / r['push_s']:,.0f} a second; whole sync {r['seconds']:.1f} s, {r['round_trips']} round trips",
            )
        )
        results.append(
            Result(
                f"device peak memory, push {n:,} [sqlite]",
                r["peak_rss_mb"],
                "MB",
                200,
                f"VmHWM after unlock; {r['unlock_peak_mb']:.0f} MB at unlock (KDF)",
            )
        )
    if len(SIZES) >= 2:
        small, large = SIZES[0], SIZES[-1]
        growth = measured[large]["push_s"] / measured[small]["push_s"]
        results.append(
            Result(
                f"push {large:,} / push {small:,} (linear: < {1.1 * large / small:g}x)",
                growth,
                "x",
                1.1 * large / small,
                f"{large / small:g} times the records",
            )
        )
    return results


if __name__ == "__main__":
    for result in run():
        print(result.line())
