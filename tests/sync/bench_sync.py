"""Sync benchmarks (issue 4): `make bench` runs them through bench/sync_bench.py (medians,
against the budgets); by hand: `python tests/sync/bench_sync.py [--quick] [--only push|idle|many]`.

1. push 10,000 records and pull 10,000 changes over loopback (device in its own process,
   so its peak memory is its own): target < 10 s, device peak RSS < 200 MB.
2. a sync with nothing to do on a store of 500,000 records: target < 200 ms.
3. 20 desks, each its own process, syncing 1,000 records each at once: all accepted exactly
   once; then rounds of 10 new records a desk, all at once: p50/p95 of a whole sync (< 1 s).
Each runs against SQLite and, when reachable, PostgreSQL (HUBDESK_TEST_PG_URL).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

os.environ.setdefault("HUBDESK_KDF_PROFILE", "fast")
sys.path.insert(0, str(Path(__file__).parent))

from sync_helpers import CENTRAL_REFERENCE, PASSPHRASE, LiveServer, enrol_device, make_store

from hubcentral.storage import CentralStore
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Contact, EmergencyPayment, Person
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

# The device's own peak: VmHWM of this process, reset after the unlock (writing 5 to
# clear_refs resets the high-water mark on Linux), so neither the parent's memory (a child's
# ru_maxrss starts from the parent's peak) nor the KDF's 64 MiB counts. The push is also
# timed alone (push_s): its time must grow with the records, not faster.
DEVICE_CHILD = """
import json, os, sys, time
from pathlib import Path
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

def hwm_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024

store = Store.unlock(Path(sys.argv[1]), "sam", os.environ["BENCH_PASSPHRASE"])
at_unlock = hwm_mb()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
pushing = []
push = SyncClient.push
def timed_push(self, report=None):
    t = time.perf_counter()
    try:
        return push(self, report)
    finally:
        pushing.append(time.perf_counter() - t)
SyncClient.push = timed_push
t = time.perf_counter()
with SyncClient(store) as client:
    report = client.sync()
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "push_s": sum(pushing), "pushed": report.pushed, "pulled": report.pulled,
                  "round_trips": report.round_trips, "peak_rss_mb": hwm_mb(), "unlock_peak_mb": at_unlock}))
"""

WORKING_SET_CHILD = """
import json, os, sys, time
from pathlib import Path
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient
store = Store.unlock(Path(sys.argv[1]), "nadia", os.environ["BENCH_PASSPHRASE"])
t, cpu = time.perf_counter(), time.process_time()
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    profiler = cProfile.Profile()
    profiler.enable()
with SyncClient(store) as client:
    report = client.sync()
first, first_cpu = time.perf_counter() - t, time.process_time() - cpu
if os.environ.get("BENCH_PROFILE"):
    profiler.disable()
    profiler.dump_stats(os.environ["BENCH_PROFILE"])
idle, idle_pulled = [], 0
for _ in range(7):
    t = time.perf_counter()
    with SyncClient(store) as client:
        again = client.sync()
    idle.append(time.perf_counter() - t)
    idle_pulled += again.pulled + again.pushed
held = {k: store.count(t) for k, t in (("people", "people"), ("contacts", "contacts"), ("payments", "payments"))}
print(json.dumps({"first_s": first, "first_cpu_s": first_cpu, "pulled": report.pulled, "round_trips": report.round_trips,
                  "set_aside": report.set_aside, "idle_s": idle, "idle_pulled": idle_pulled, "held": held}))
"""


def pg_url() -> str | None:
    url = os.environ.get("HUBDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception:
        return None
    return url


class Engine:
    """A fresh central database on one engine (a temp file, or a throwaway PG schema)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.schema = None
        if kind == "sqlite":
            self.db = str(tmp / f"central-{secrets.token_hex(3)}.db")
        else:
            import psycopg

            base = pg_url()
            assert base
            self.base = base
            self.schema = "bench_" + secrets.token_hex(5)
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {self.schema}")
            self.db = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(self.base, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def bulk_contacts(store: Store, n: int) -> None:
    """n real contacts through the store's own API, in one transaction (nested saves)."""
    with store._save():
        person = store.add_person(
            Person(
                first_name="Bench",
                last_name="Testcase",
                date_of_birth=date(2005, 1, 1),
                hub_code=store.hub_code,
                walk_in=True,
                needs_matching=True,
            )
        )
        start = datetime(2026, 11, 23, 10, tzinfo=UTC)
        for i in range(n - 1):
            store.record_contact(
                Contact(
                    person_id=person.id,
                    hub_code=store.hub_code,
                    contact_type="phone",
                    recorded_by="sam",
                    started_at=start + timedelta(seconds=i),
                    recorded_at=start + timedelta(seconds=i),
                    seen=False,
                    purposes=("money",),
                    summary=f"Synthetic bench call {i}",
                )
            )


def caseload(central: CentralStore, n: int) -> None:
    rows = [
        {
            "case_id": f"KC-{i}",
            "first_name": "Casey",
            "last_name": "Testperson",
            "date_of_birth": "2005-05-05",
            "hub_code": "DEW",
        }
        for i in range(n)
    ]
    central.load_caseload(rows, datetime.now(UTC))


def bench_push_pull(kind: str, tmp: Path, n: int, people: int | None = None) -> dict:
    """Push n records and pull `people` (n unless given) people loaded from a caseload."""
    people = n if people is None else people
    eng = Engine(kind, tmp)
    central = CentralStore.open(eng.db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    server = LiveServer(eng.db).start()
    try:
        store = make_store(tmp / f"push-{kind}", "DEW", "sam")
        enrol_device(store, server, central)
        bulk_contacts(store, n)
        caseload(central, people)
        data_dir = store.data_dir
        store.lock()
        out = subprocess.run(
            [sys.executable, "-c", DEVICE_CHILD, str(data_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_PASSPHRASE": PASSPHRASE},
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert central.count("received") == n, central.count("received")
        return result
    finally:
        server.stop()
        central.close()
        eng.drop()


def bench_idle(kind: str, tmp: Path, n: int) -> dict:
    eng = Engine(kind, tmp)
    central = CentralStore.open(eng.db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    server = LiveServer(eng.db).start()
    try:
        store = make_store(tmp / f"idle-{kind}", "DEW", "sam")
        enrol_device(store, server, central)
        bulk_contacts(store, 200)
        with SyncClient(store) as c:
            c.sync()
        # Pad the store to n records: contacts with their outbox rows, already synced.
        person_id = store._rows("SELECT id FROM people LIMIT 1")[0][0]
        body = store._rows("SELECT body FROM contacts LIMIT 1")[0][0]
        with store._save():
            for start in range(0, n, 10_000):
                rows = []
                for _ in range(min(10_000, n - start)):
                    cid = uuid7()
                    rows.append((cid, cid, person_id, body))
                store.db.conn.executemany(
                    "INSERT INTO contacts(id, contact_id, version, person_id, hub_code, contact_type, started_at, "
                    "recorded_at, recorded_by, body, audit_seq) VALUES (?, ?, 1, ?, 'DEW', 'phone', "
                    "'2026-11-23T10:00:00', '2026-11-23T10:00:00', 'sam', ?, 1)",
                    rows,
                )
                store.db.conn.executemany(
                    "INSERT INTO outbox(id, kind, record_id, body, created_at, state) "
                    "VALUES (?, 'contact', ?, ?, '2026-11-23T10:00:00', 'synced')",
                    [(uuid7(), r[0], r[3]) for r in rows],
                )
        times = []
        for _ in range(7):
            t = time.perf_counter()
            with SyncClient(store) as c:
                report = c.sync()
            times.append(time.perf_counter() - t)
            assert report.pushed == 0 and report.pulled == 0
        records = store.count("contacts")
        store.lock()
        return {"records": records, "median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000}
    finally:
        server.stop()
        central.close()
        eng.drop()


def bench_working_set(kind: str, tmp: Path, own: int, other: int, events: int) -> dict:
    """Issue 9: a new Dewsbury desk's first pull of its working set (`own` Dewsbury people in
    full, `other` No. 11 people cut to what duty needs, `events` of 90 busy days recorded at
    another Dewsbury desk), then a sync with nothing to do on that desk (median of 7)."""
    now = datetime.now(UTC)
    eng = Engine(kind, tmp)
    central = CentralStore.open(eng.db)
    central.set_reference(CENTRAL_REFERENCE, now)
    people = [
        {
            "case_id": f"KC-{hub}-{i}",
            "first_name": "Casey",
            "last_name": "Testperson",
            "date_of_birth": "2005-05-05",
            "hub_code": hub,
            "allocated_pa": "sam" if hub == "DEW" else "omar",
            "contact": {"phone": "07700 900000", "address": "1 Synthetic Street"},
            "alerts": [{"kind": "risk", "text": "Synthetic alert"}],
        }
        for hub, n in (("DEW", own), ("N11", other))
        for i in range(n)
    ]
    central.load_caseload(people, now)
    server = LiveServer(eng.db).start()
    try:
        busy = make_store(tmp / f"ws-a-{kind}", "DEW", "sam")
        enrol_device(busy, server, central)
        dew = [p["id"] for p in central.records("person") if p["hub_code"] == "DEW"]
        items = []
        for i in range(events):
            at = now - timedelta(minutes=6 * (i + 1))  # 20,000 events: the last 83 days
            person_id = dew[i % len(dew)]
            if i % 4 == 3:
                kind_, record = (
                    "payment",
                    EmergencyPayment(
                        receipt_no=f"DEW-1-{i:06d}",
                        person_id=person_id,
                        hub_code="DEW",
                        category="gas",
                        amount_pence=1500,
                        method="cash",
                        reason="Synthetic bench top-up",
                        recorded_by="sam",
                        recorded_at=at,
                        status="approved",
                        authorised_by="sam",
                        authorised_at=at,
                    ),
                )
            else:
                kind_, record = (
                    "contact",
                    Contact(
                        person_id=person_id,
                        hub_code="DEW",
                        contact_type="drop_in" if i % 2 else "phone",
                        recorded_by="sam",
                        started_at=at,
                        ended_at=at + timedelta(minutes=20) if i % 2 else None,
                        recorded_at=at,
                        seen=bool(i % 2),
                        purposes=("money",),
                        summary=f"Synthetic bench visit {i}",
                    ),
                )
            body = json.loads(record.model_dump_json())
            items.append(
                {
                    "id": uuid7(),
                    "seq": i + 1,
                    "kind": kind_,
                    "record_id": body["id"],
                    "body": body,
                    "created_at": at.isoformat(),
                }
            )
        with SyncClient(busy) as c:
            for start in range(0, len(items), 500):
                c.request("POST", "/v1/push", {"hub_code": "DEW", "items": items[start : start + 500]})
        busy.lock()
        fresh = make_store(tmp / f"ws-b-{kind}", "DEW", "nadia", device_no=2)
        enrol_device(fresh, server, central)
        data_dir = fresh.data_dir
        fresh.lock()
        # The new desk in its own process, as on a laptop: not sharing a GIL with the service.
        service_cpu = time.process_time()  # this process runs only the service meanwhile
        out = subprocess.run(
            [sys.executable, "-c", WORKING_SET_CHILD, str(data_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "BENCH_PASSPHRASE": PASSPHRASE},
            check=True,
        )
        service_cpu = time.process_time() - service_cpu
        r = json.loads(out.stdout.strip().splitlines()[-1])
        assert r["held"] == {"people": own + other, "contacts": events - events // 4, "payments": events // 4}, r
        assert r["set_aside"] == 0 and r["idle_pulled"] == 0
        first, report_pulled, round_trips, times = r["first_s"], r["pulled"], r["round_trips"], r["idle_s"]
        return {
            "first_s": first,
            "first_cpu_s": r["first_cpu_s"],
            "service_cpu_s": service_cpu,  # the first pull and the 7 syncs with nothing to do
            "pulled": report_pulled,
            "round_trips": round_trips,
            "idle_median_ms": statistics.median(times) * 1000,
            "idle_max_ms": max(times) * 1000,
        }
    finally:
        server.stop()
        central.close()
        eng.drop()


MANY_CHILD = """
import json, os, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from hubdesk.domain.models import Contact
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient
store = Store.unlock(Path(sys.argv[1]), "sam", os.environ["BENCH_PASSPHRASE"])
person = store._rows("SELECT person_id FROM contacts LIMIT 1")[0][0]
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    record = json.loads(line)["record"]
    now = datetime.now(UTC)
    for i in range(record):
        store.record_contact(Contact(person_id=person, hub_code=store.hub_code, contact_type="phone",
                                     recorded_by="sam", started_at=now - timedelta(seconds=i), recorded_at=now,
                                     seen=False, purposes=("money",), summary=f"Synthetic bench call {i}"))
    t, cpu = time.perf_counter(), time.process_time()
    try:
        with SyncClient(store, timeout=120) as client:
            report = client.sync()
        out = {"s": time.perf_counter() - t, "cpu_s": time.process_time() - cpu, "pushed": report.pushed,
               "pulled": report.pulled, "round_trips": report.round_trips}
    except Exception as exc:
        out = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    print(json.dumps(out), flush=True)
store.lock()
"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def bench_many(kind: str, tmp: Path, devices: int, each: int, rounds: int = 3, per_round: int = 10) -> dict:
    """`devices` desks at one hub, each its own process, syncing at once (every desk told to
    start at the same moment, the service in this process). First each pushes its `each`
    waiting records (and pulls what the others sent so far): every record held exactly once.
    Then, after a catch-up sync, `rounds` rounds in which each desk records `per_round`
    contacts and syncs: the time of each whole sync (push, audit, pull), p50/p95."""
    eng = Engine(kind, tmp)
    central = CentralStore.open(eng.db)
    central.set_reference(CENTRAL_REFERENCE, datetime.now(UTC))
    server = LiveServer(eng.db).start()
    dirs = []
    children: list[subprocess.Popen[str]] = []
    try:
        for i in range(devices):
            s = make_store(tmp / f"many-{kind}-{i}", "DEW", "sam")
            enrol_device(s, server, central)
            bulk_contacts(s, each)
            dirs.append(s.data_dir)
            s.lock()
        env = {**os.environ, "BENCH_PASSPHRASE": PASSPHRASE}
        for d in dirs:
            children.append(
                subprocess.Popen(
                    [sys.executable, "-c", MANY_CHILD, str(d)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        for child in children:
            assert child.stdout is not None
            json.loads(child.stdout.readline())  # unlocked and ready

        def together(record: int) -> tuple[list[dict], float]:
            t = time.perf_counter()
            for child in children:
                assert child.stdin is not None
                child.stdin.write(json.dumps({"record": record}) + "\n")
            for child in children:
                assert child.stdin is not None
                child.stdin.flush()
            answers = []
            for child in children:
                assert child.stdout is not None
                answers.append(json.loads(child.stdout.readline()))
            return answers, time.perf_counter() - t

        first, wall = together(0)
        held = central.count("received")
        errors = [a["error"] for a in first if "error" in a]
        together(0)  # catch up: each desk pulls what the others pushed after its first pull
        steady: list[dict] = []
        service_cpu = time.process_time()  # this process runs only the service meanwhile
        for _ in range(rounds):
            answers, _ = together(per_round)
            steady += answers
        service_cpu = time.process_time() - service_cpu
        errors += [a["error"] for a in steady if "error" in a]
        times = [a["s"] for a in steady if "s" in a]
        first_times = [a["s"] for a in first if "s" in a]
        return {
            "devices": devices,
            "each": each,
            "wall_s": wall,
            "received": held,
            "exactly_once": held == devices * each and not errors,
            "errors": errors[:3],
            "first_p50_s": _pct(first_times, 0.5),
            "first_p95_s": _pct(first_times, 0.95),
            "syncs": len(times),
            "p50_ms": _pct(times, 0.5) * 1000,
            "p95_ms": _pct(times, 0.95) * 1000,
            "cpu_p50_ms": _pct([a["cpu_s"] for a in steady if "cpu_s" in a], 0.5) * 1000,
            "pulled_p50": _pct([a["pulled"] for a in steady if "pulled" in a], 0.5),
            "round_trips_p50": _pct([a["round_trips"] for a in steady if "round_trips" in a], 0.5),
            "service_cpu_per_sync_ms": service_cpu / max(1, len(times)) * 1000,
        }
    finally:
        for child in children:
            if child.stdin:
                child.stdin.close()
        for child in children:
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        server.stop()
        central.close()
        eng.drop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only", choices=("push", "idle", "many", "working-set"), default=None, help="run one benchmark"
    )
    args = parser.parse_args()
    n, idle_n, devices, each = (1000, 20_000, 4, 100) if args.quick else (10_000, 500_000, 20, 1000)
    engines = ["sqlite"] + (["postgresql"] if pg_url() else [])
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in engines if args.only in (None, "push") else []:
            r = bench_push_pull(kind, tmp, n)
            ok = r["seconds"] < 10 and r["peak_rss_mb"] < 200
            print(
                f"[{kind}] push {r['pushed']} + pull {r['pulled']}: {r['seconds']:.2f} s, "
                f"{r['round_trips']} round trips, device peak RSS {r['peak_rss_mb']:.0f} MB "
                f"{'OK' if ok else 'OVER TARGET'}",
                flush=True,
            )
        for kind in (engines[:1] if args.quick else engines) if args.only in (None, "idle") else []:
            r = bench_idle(kind, tmp, idle_n)
            print(
                f"[{kind}] nothing to do on {r['records']} records: median {r['median_ms']:.0f} ms, "
                f"max {r['max_ms']:.0f} ms {'OK' if r['median_ms'] < 200 else 'OVER TARGET'}",
                flush=True,
            )
        for kind in engines if args.only in (None, "working-set") else []:
            sizes = (500, 500, 2000) if args.quick else (5000, 5000, 20_000)
            r = bench_working_set(kind, tmp, *sizes)
            print(
                f"[{kind}] first pull of a working set {sizes}: {r['first_s']:.2f} s ({r['pulled']} changes, "
                f"{r['round_trips']} round trips; CPU: desk {r['first_cpu_s']:.2f} s, service {r['service_cpu_s']:.2f} s); "
                f"nothing to do: median {r['idle_median_ms']:.0f} ms",
                flush=True,
            )
        for kind in engines if args.only in (None, "many") else []:
            r = bench_many(kind, tmp, devices, each)
            print(
                f"[{kind}] {r['devices']} desks x {r['each']} at once: {r['wall_s']:.1f} s, received {r['received']} "
                f"({'exactly once' if r['exactly_once'] else 'NOT exactly once'}), first sync p95 "
                f"{r['first_p95_s']:.1f} s; then {r['syncs']} syncs of {10} new records each at once: "
                f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms (CPU a sync: desk {r['cpu_p50_ms']:.0f} ms, "
                f"service {r['service_cpu_per_sync_ms']:.0f} ms) {r['errors'] or ''}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
