"""`make run`: build the demo profile if it is not there yet, then open the desk on it."""

from __future__ import annotations

import os
import sys

from hubdesk import config
from hubdesk.demo import DEMO_PASSPHRASE, build_demo
from hubdesk.store.store import Store, store_exists


def main() -> int:
    data_dir = config.data_dir()
    if not store_exists(data_dir):
        print(f"Building the demo store in {data_dir} (synthetic people only)...", flush=True)
        counts = build_demo(data_dir, people=300, days=21, seed=7)
        print("  " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    passphrase = os.environ.get("HUBDESK_PASSPHRASE") or DEMO_PASSPHRASE
    print(f"Demo users: sam (PA), nadia (duty manager), priya, tom, admin; passphrase '{passphrase}'")
    try:
        from hubdesk.app import run_desk
    except ImportError:
        # Until the desk exists: show what the demo store holds.
        with Store.unlock(data_dir, "sam", passphrase) as store:
            for table in ("people", "contacts", "payments", "reversals", "sessions", "attendance", "audit", "outbox"):
                print(f"  {table:<11} {store.count(table):>7,}")
            print(f"  in the building now: {len(store.in_building())}")
        return 0
    return run_desk(data_dir)


if __name__ == "__main__":
    sys.exit(main())
