"""Report budgets (issue 5): daily summary on the 500,000-record store, keeping in touch."""

from __future__ import annotations

from datetime import date

from bench.common import BIG_RECORDS, PASSPHRASE, Result, big_store, median, timed
from hubdesk.reports.daily import daily_summary
from hubdesk.reports.in_touch import in_touch_report
from hubdesk.store.store import Store


def run() -> list[Result]:
    path = big_store()
    store = Store.unlock(path, "sam", PASSPHRASE)
    try:
        days = [
            row[0][:10]
            for row in store._rows("SELECT started_at FROM contacts WHERE hub_code = 'DEW' ORDER BY rowid DESC LIMIT 5")
        ]
        samples = []
        for day in days:
            d = date.fromisoformat(day)
            daily_summary(store, "DEW", d)
            samples += timed(lambda d=d: daily_summary(store, "DEW", d), 3)
        results = [
            Result(
                f"daily summary, hub and date, {BIG_RECORDS:,}-record store",
                median(samples) * 1000,
                "ms",
                300,
                f"n={len(samples)}, max {max(samples) * 1000:.0f} ms",
            )
        ]
        in_touch_report(store, as_of=date.today())
        touch = timed(lambda: in_touch_report(store, as_of=date.today()), 5)
        results.append(Result("keeping-in-touch list, 10,000 people", median(touch) * 1000, "ms", 500))
        return results
    finally:
        store.lock()
