"""Caseload load: peak memory of the loading process at 100,000 and 1,000,000 rows (it must stay flat).

Each load runs `hubdesk-central caseload load` in a fresh process on a new SQLite central
database; that process reads its own high-water mark (VmHWM in /proc/self/status) when the
load is done, so the figure is the loader's and nothing else's. `python -m bench caseload`
runs this alone; HUBDESK_BENCH_CASELOAD_MAX=100000 stops at the smaller file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, Result

HEADER = "case_id,first_name,last_name,date_of_birth,hub_code,legal_status,allocated_pa,uasc,alerts,phone\n"
# In the child: load, then report the process's own peak resident set.
CHILD = """
import json, sys
from hubcentral.cli import main
code = main(sys.argv[1:])
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"code": code, "peak_kb": peak}))
"""


def caseload_file(rows: int) -> Path:
    """A synthetic caseload (made-up names, DEMO-style ids), made once and kept under .bench/."""
    path = ROOT / f"caseload-{rows}.csv"
    if path.exists():
        return path
    ROOT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as out:
        out.write(HEADER)
        for n in range(rows):
            hub = "DEW" if n % 2 else "N11"
            out.write(
                f"BENCH-{n:07d},Testfirst{n % 97},Testperson,2005-01-02,{hub},former_relevant,sam,no,"
                f"risk: synthetic,07700 900{n % 1000:03d}\n"
            )
    tmp.rename(path)
    return path


def load(rows: int) -> tuple[float, float]:
    """(peak MB, seconds) of one whole load of `rows` rows into a new database."""
    source = caseload_file(rows)
    db = ROOT / f"caseload-{rows}.db"
    for leftover in ROOT.glob(db.name + "*"):
        leftover.unlink()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "--db", str(db), "caseload", "load", str(source), "--max-mb", "500"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    for leftover in ROOT.glob(db.name + "*"):
        leftover.unlink()
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if report["code"] != 0:
        raise RuntimeError(f"caseload load failed: {done.stderr.strip()[:300]}")
    return report["peak_kb"] / 1024, seconds


def run() -> list[Result]:
    largest = int(os.environ.get("HUBDESK_BENCH_CASELOAD_MAX", "1000000"))
    sizes = [n for n in (100_000, 1_000_000) if n <= largest]
    measured = {n: load(n) for n in sizes}
    results = []
    for n, (peak, seconds) in measured.items():
        results.append(
            Result(f"caseload load {n:,} rows: loader's peak RSS", peak, "MB", None, f"{seconds:.0f} s, SQLite")
        )
        results.append(Result(f"caseload load {n:,} rows: rows a second", n / seconds, "/s", None))
    if len(measured) == 2:
        small, large = measured[100_000][0], measured[1_000_000][0]
        # Flat: ten times the rows may cost the fixed buffers a little more, never ten times.
        results.append(Result("caseload load peak RSS, 1M rows / 100k rows", large / small, "x", 1.25))
    return results


if __name__ == "__main__":
    for result in run():
        print(result.line())
