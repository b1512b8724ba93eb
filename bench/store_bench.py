"""Store-level budgets: unlock, opening the desk's data, search keystrokes, memory."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from bench.common import PASSPHRASE, Result, demo_store, median, p95, timed
from hubdesk.store.keys import calibrate
from hubdesk.store.store import Store


def run() -> list[Result]:
    results: list[Result] = []
    kdf = calibrate()
    derive = timed(lambda: kdf.derive(b"bench passphrase", b"s" * 16), 5)
    results.append(
        Result(
            "Argon2id unlock KDF (calibrated, 64 MiB)",
            median(derive),
            "s",
            1.0,
            f"t={kdf.iterations}, lanes {kdf.lanes}; by design 0.3-1.0 s",
        )
    )

    path = demo_store(10_000, 30)

    def open_desk() -> None:
        store = Store.unlock(path, "sam", PASSPHRASE)
        start, end = store.day_bounds(date.today())
        store.in_building()
        store.contacts_between(store.hub_code, start, end)
        store.payments_between(store.hub_code, start, end)
        store.sessions_between(store.hub_code, start, end)
        store.outbox_waiting()
        store.lock()

    open_desk()
    samples = timed(open_desk, 5)
    kdf_part = median(timed(lambda: Store.unlock(path, "sam", PASSPHRASE).lock(), 3))
    results.append(
        Result(
            "unlock + desk data on 10,000 people (incl. KDF)",
            median(samples),
            "s",
            None,
            f"KDF+open alone {kdf_part:.3f} s",
        )
    )

    store = Store.unlock(path, "sam", PASSPHRASE)
    build = timed(lambda: setattr(store, "_person_index", None) or store.search_people("a"), 3)
    results.append(Result("build search index, 10,000 people", median(build), "s", 1.0))
    keystrokes: list[float] = []
    for word in ("kay", "amira", "jade", "mockr", "tes", "sam", "zane", "omar", "DEMO-10", "01/03/2007"):
        for i in range(1, len(word) + 1):
            keystrokes += timed(lambda q=word[:i]: store.search_people(q), 3)
    results.append(
        Result(
            "search keystroke p95, 10,000 people (store)",
            p95(keystrokes) * 1000,
            "ms",
            25,
            f"median {median(keystrokes) * 1000:.2f} ms, n={len(keystrokes)}",
        )
    )
    store.lock()

    code = (
        "import sys; sys.path.insert(0, '.')\n"
        "from bench.common import peak_mb, PASSPHRASE\n"
        "from hubdesk.store.store import Store\n"
        f"s = Store.unlock({str(path)!r}, 'sam', PASSPHRASE)\n"
        "s.search_people('kay'); s.people()\n"
        "print(peak_mb())\n"
    )
    rss = float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    results.append(
        Result("peak memory of the unlocked store + search index, 10,000 people", rss, "MB", 250, "VmHWM, with the KDF")
    )
    return results
