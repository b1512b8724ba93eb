"""Shared bench helpers: cached demo stores, timers, and the result table."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / ".bench"
PASSPHRASE = "bench passphrase"


@dataclass
class Result:
    name: str
    value: float
    unit: str
    budget: float | None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.budget is None or self.value < self.budget

    def line(self) -> str:
        budget = f"< {self.budget:g} {self.unit}" if self.budget is not None else "(info)"
        mark = "ok  " if self.ok else "OVER"
        return f"{mark} {self.name:<52} {self.value:>10.3f} {self.unit:<3} {budget:<14} {self.detail}"


def demo_store(people: int, days: int, seed: int = 11) -> Path:
    """A demo store built once and kept under .bench/ (it is encrypted like any other), at a
    busy hub's volumes (30-60 contacts a weekday, as `hubdesk demo` makes)."""
    from hubdesk.demo import BUSY_HUB_PER_DAY, build_demo

    path = ROOT / f"demo-{people}p-{days}d-{seed}-busy"
    if not (path / "hubdesk.db").exists():
        os.environ.setdefault("HUBDESK_KDF_PROFILE", "")
        start = time.perf_counter()
        counts = build_demo(path, people=people, days=days, seed=seed, passphrase=PASSPHRASE, per_day=BUSY_HUB_PER_DAY)
        print(f"     built {path.name}: {counts} in {time.perf_counter() - start:.1f} s", flush=True)
    return path


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def peak_mb() -> float:
    """This process's peak resident memory so far (VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


BIG_RECORDS = int(os.environ.get("HUBDESK_BENCH_BIG_RECORDS", "500000"))


def big_store(records: int | None = None, people: int = 10_000, seed: int = 23) -> Path:
    """Ten years of one council: 10,000 people and about 500,000 records (contacts, with
    payments, reversals and sessions in proportion), both hubs. Built once, kept.
    HUBDESK_BENCH_BIG_RECORDS makes the default smaller, to check a bench quickly."""
    records = BIG_RECORDS if records is None else records
    path = ROOT / f"big-{people}p-{records}r-{seed}"
    if (path / "hubdesk.db").exists():
        return path
    import random
    from datetime import UTC, datetime, timedelta

    from hubdesk.demo import build_demo
    from hubdesk.domain.models import Contact
    from hubdesk.store.store import Store

    start = time.perf_counter()
    os.environ.setdefault("HUBDESK_KDF_PROFILE", "")
    build_demo(path, people=people, days=0, seed=seed, passphrase=PASSPHRASE)
    store = Store.unlock(path, "sam", PASSPHRASE)
    rng = random.Random(seed)
    ids = [row[0] for row in store._rows("SELECT id FROM people")]
    purposes = ["housing", "money", "benefits", "ete", "health", "wellbeing", "family", "practical"]
    first = datetime(2016, 12, 1, 10, tzinfo=UTC)
    span = (datetime.now(UTC) - first).total_seconds()
    made = 0
    payments = 0
    while made < records:
        with store.batch():
            for _ in range(2000):
                at = first + timedelta(seconds=rng.random() * span)
                at = at.replace(hour=rng.randint(10, 15))
                kind = rng.choice(["drop_in", "drop_in", "phone", "text", "home_visit"])
                store.clock = lambda a=at: a + timedelta(minutes=3)
                store.record_contact(
                    Contact(
                        person_id=rng.choice(ids),
                        hub_code=rng.choice(["DEW", "N11"]),
                        contact_type=kind,
                        recorded_by="sam",
                        started_at=at,
                        ended_at=at + timedelta(minutes=rng.randint(5, 90)),
                        recorded_at=at + timedelta(minutes=3),
                        seen=kind in ("drop_in", "home_visit"),
                        purposes=tuple(rng.sample(purposes, rng.randint(1, 2))),
                        summary="Synthetic bench contact",
                    )
                )
                made += 1
                if rng.random() < 0.06:
                    store.record_payment(
                        person_id=rng.choice(ids),
                        category="travel",
                        amount_pence=500,
                        method="cash",
                        reason="Synthetic bench payment",
                    )
                    made += 1
                    payments += 1
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"     big store: {made:,} records in {time.perf_counter() - start:.0f} s", flush=True)
    store.lock()
    return path
