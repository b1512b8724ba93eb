"""Sync budgets (issue 4), on SQLite and, when reachable, PostgreSQL (HUBDESK_TEST_PG_URL):

1. push 10,000 records and pull 10,000 changes over loopback (the device in its own
   process, its peak memory its own VmHWM from after unlock): < 10 s, device peak < 200 MB;
2. a sync with nothing to do on a store of 500,000 records: < 200 ms;
3. 20 desks, each its own process, syncing 1,000 records each at once: every record held
   exactly once; then rounds in which each records 10 contacts and all sync at once: p95 of a
   whole sync (push, audit, pull) < 1 s;
4. a new desk's first pull of a hub's working set (5,000 own people, 5,000 other-hub people,
   20,000 events): < 10 s (with the desk's and the service's CPU time, as the machine may be
   shared), and a sync with nothing to do on that desk: < 200 ms.

The benchmarks themselves live in tests/sync/bench_sync.py (also runnable by hand, with
--quick and --only); this module runs them for `make bench` and reports medians.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from bench.common import Result

SYNC_TESTS = Path(__file__).resolve().parent.parent / "tests" / "sync"
PUSH_REPEAT = int(os.environ.get("HUBDESK_BENCH_SYNC_REPEAT", "3"))


def run() -> list[Result]:
    saved = os.environ.get("HUBDESK_KDF_PROFILE")
    os.environ["HUBDESK_KDF_PROFILE"] = "fast"  # the bench desks' unlock is not what is measured here
    if str(SYNC_TESTS) not in sys.path:
        sys.path.insert(0, str(SYNC_TESTS))
    try:
        import bench_sync

        return _run(bench_sync)
    finally:
        if saved is None:
            os.environ.pop("HUBDESK_KDF_PROFILE", None)
        else:
            os.environ["HUBDESK_KDF_PROFILE"] = saved


def _run(bs: ModuleType) -> list[Result]:
    results: list[Result] = []
    engines = ["sqlite"] + (["postgresql"] if bs.pg_url() else [])
    if len(engines) == 1:
        print("     PostgreSQL not reachable: sync budgets on SQLite only (set HUBDESK_TEST_PG_URL)", flush=True)
    label = {"sqlite": "sqlite", "postgresql": "pg"}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for kind in engines:
            runs = [bs.bench_push_pull(kind, tmp / f"push-{i}", 10_000) for i in range(PUSH_REPEAT)]
            seconds = [r["seconds"] for r in runs]
            last = runs[-1]
            results.append(
                Result(
                    f"sync push + pull 10,000 [{label[kind]}]",
                    statistics.median(seconds),
                    "s",
                    10,
                    f"runs {', '.join(f'{s:.2f}' for s in seconds)}; {last['round_trips']} round trips",
                )
            )
            results.append(
                Result(
                    f"sync device peak memory, push + pull 10,000 [{label[kind]}]",
                    max(r["peak_rss_mb"] for r in runs),
                    "MB",
                    200,
                    "max of the runs; the device's own VmHWM after unlock "
                    f"(at unlock {max(r['unlock_peak_mb'] for r in runs):.0f} MB)",
                )
            )
        for kind in engines:
            r = bs.bench_idle(kind, tmp, 500_000)
            results.append(
                Result(
                    f"sync, nothing to do, {r['records']:,} records [{label[kind]}]",
                    r["median_ms"],
                    "ms",
                    200,
                    f"max {r['max_ms']:.0f} ms of 7",
                )
            )
        for kind in engines:
            runs = [bs.bench_working_set(kind, tmp / f"ws-{i}", 5000, 5000, 20_000) for i in range(PUSH_REPEAT)]
            r = runs[-1]

            def median(key: str, runs: list[dict] = runs) -> float:
                return statistics.median(x[key] for x in runs)

            each_run = ", ".join(f"{x['first_s']:.1f}" for x in runs)

            results.append(
                Result(
                    f"first pull of a working set, 5,000 + 5,000 people, 20,000 events [{label[kind]}]",
                    median("first_s"),
                    "s",
                    10,
                    f"runs {each_run}; {r['pulled']:,} changes, "
                    f"{r['round_trips']} round trips; CPU (medians): desk {median('first_cpu_s'):.1f} s, "
                    f"service {median('service_cpu_s'):.1f} s",
                )
            )
            results.append(
                Result(
                    f"sync, nothing to do, on that desk [{label[kind]}]",
                    median("idle_median_ms"),
                    "ms",
                    200,
                    f"max {r['idle_max_ms']:.0f} ms of 7",
                )
            )
        for kind in engines:
            r = bs.bench_many(kind, tmp, 20, 1000)
            off = abs(r["received"] - 20 * 1000) + len(r["errors"])
            results.append(
                Result(
                    f"20 desks x 1,000 at once: not held exactly once [{label[kind]}]",
                    off,
                    "n",
                    1,
                    f"held {r['received']:,}, {r['wall_s']:.1f} s wall, that sync's p95 {r['first_p95_s']:.1f} s "
                    f"{' '.join(r['errors'])}",
                )
            )
            results.append(
                Result(
                    f"20 desks at once, 10 new records each: whole sync p95 [{label[kind]}]",
                    r["p95_ms"],
                    "ms",
                    1000,
                    f"p50 {r['p50_ms']:.0f} ms of {r['syncs']} syncs, each desk its own process; "
                    f"desk CPU p50 {r['cpu_p50_ms']:.0f} ms",
                )
            )
    return results
