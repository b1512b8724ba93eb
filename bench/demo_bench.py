"""`hubdesk demo --people 10000` itself (issue 2's budget, issue 12's volumes): under 2 minutes,
run as a user would (its own process, the KDF calibrated, 14 days at 30-60 contacts a weekday).
HUBDESK_BENCH_DEMO_PEOPLE picks another size (the budget then is for information only)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, Result

PEOPLE = int(os.environ.get("HUBDESK_BENCH_DEMO_PEOPLE", "10000"))


def run() -> list[Result]:
    ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="demo-bench-", dir=ROOT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBDESK_")}
    try:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "hubdesk", "demo", "--data-dir", str(work / "demo"), "--people", str(PEOPLE)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        took = time.perf_counter() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"hubdesk demo failed: {done.stderr.strip()[-300:]}")
    made = ", ".join(re.findall(r"[\d,]+ (?:contacts|payments|sessions)", done.stdout))
    return [
        Result(
            f"hubdesk demo --people {PEOPLE:,}",
            took,
            "s",
            120 if PEOPLE >= 10_000 else None,
            f"{made} in 14 days; the KDF calibrated",
        )
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
