"""Run every benchmark (or some) and print medians against the issues' budgets.

`python -m bench` (`make bench`) runs every module in MODULES, prints one table and writes
.bench/latest.json mapping each figure's name to {"value", "unit", "budget", "pass"}.
`python -m bench --only save --only sync` (or `python -m bench save sync`) runs the modules
whose name contains any of the words; their figures replace the same names in latest.json
and the figures of the modules not run are kept from before. `--list` names the modules.

The real sizes are the defaults. To check a part quickly on smaller data (the figures then
say so in their names or details): HUBDESK_BENCH_BIG_RECORDS (the big store, 500,000),
HUBDESK_BENCH_SAVES, HUBDESK_BENCH_REKEY_RECORDS, HUBDESK_BENCH_SYNC_REPEAT,
HUBDESK_BENCH_PUSH_SIZES, HUBDESK_BENCH_SERVICE_PEOPLE, HUBDESK_BENCH_CASELOAD_MAX,
HUBDESK_BENCH_DEMO_PEOPLE.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time

from bench.common import ROOT, Result

MODULES = [
    "bench.store_bench",
    "bench.save_bench",
    "bench.keys_bench",
    "bench.desk_bench",
    "bench.person_bench",
    "bench.sync_bench",
    "bench.push_bench",
    "bench.report_bench",
    "bench.service_report_bench",
    "bench.caseload_bench",
    "bench.demo_bench",
]
LATEST = ROOT / "latest.json"


def short(module: str) -> str:
    return module.split(".")[-1].removesuffix("_bench")


def chosen(words: list[str]) -> list[str]:
    """The modules named by the words: a word that is a module's short name picks that one
    ("report", not "service_report"), else every module whose short name contains it."""
    if not words:
        return list(MODULES)
    names = [short(m) for m in MODULES]

    def matches(word: str, name: str) -> bool:
        return word == name if word in names else word in name

    unknown = [w for w in words if not any(matches(w, n) for n in names)]
    if unknown:
        raise SystemExit(f"bench: no module matches {', '.join(unknown)} (there are: {', '.join(names)})")
    return [m for m, n in zip(MODULES, names, strict=True) if any(matches(w, n) for w in words)]


def figure(result: Result) -> dict:
    return {"value": result.value, "unit": result.unit, "budget": result.budget, "pass": result.ok}


def write_latest(results: list[Result], keep_others: bool) -> None:
    """Write the figures to .bench/latest.json (atomically); a partial run keeps the rest."""
    data: dict[str, dict] = {}
    if keep_others and LATEST.exists():
        try:
            data = json.loads(LATEST.read_text())
        except (OSError, ValueError):
            data = {}
    for result in results:
        data[result.name] = figure(result)
    ROOT.mkdir(parents=True, exist_ok=True)
    tmp = LATEST.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, LATEST)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="run only the modules whose name contains a word")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="as a word above; repeatable")
    parser.add_argument("--list", action="store_true", help="name the modules and stop")
    args = parser.parse_args(argv)
    if args.list:
        for name in MODULES:
            print(short(name))
        return 0
    words = args.modules + args.only
    modules = chosen(words)
    print(f"hubdesk bench  {time.strftime('%Y-%m-%d %H:%M')}  (2-core machine; medians unless stated)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results: list[Result] = []
    failed = 0
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"== {short(name)}", flush=True)
        for result in module.run():
            print(result.line(), flush=True)
            results.append(result)
            failed += not result.ok
        write_latest(results, keep_others=True)  # what is measured so far survives a later failure
    write_latest(results, keep_others=bool(words))
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("all within budget" if not failed else f"{failed} over budget")
    print(f"figures in {LATEST}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
