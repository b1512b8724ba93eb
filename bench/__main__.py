"""Run every benchmark that exists and print medians against the issues' budgets."""

from __future__ import annotations

import importlib
import sys
import time

MODULES = [
    "bench.store_bench",
    "bench.keys_bench",
    "bench.desk_bench",
    "bench.sync_bench",
    "bench.report_bench",
    "bench.service_report_bench",
    "bench.caseload_bench",
]


def main() -> int:
    failed = 0
    print(f"hubdesk bench  {time.strftime('%Y-%m-%d %H:%M')}  (2-core machine; medians unless stated)")
    only = sys.argv[1:]
    for name in MODULES:
        if only and not any(o in name for o in only):
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"== {name.split('.')[-1]}", flush=True)
        for result in module.run():
            print(result.line(), flush=True)
            failed += not result.ok
    print("all within budget" if not failed else f"{failed} over budget")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
