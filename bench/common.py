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
    """A demo store built once and kept under .bench/ (it is encrypted like any other)."""
    from hubdesk.demo import build_demo

    path = ROOT / f"demo-{people}p-{days}d-{seed}"
    if not (path / "hubdesk.db").exists():
        os.environ.setdefault("HUBDESK_KDF_PROFILE", "")
        start = time.perf_counter()
        counts = build_demo(path, people=people, days=days, seed=seed, passphrase=PASSPHRASE)
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


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
