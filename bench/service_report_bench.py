"""Service report budget (issue 11, item 5): `hubdesk-central report service` across both hubs on
10,000 people and 500,000 records, < 2 s, on SQLite and (when reachable) PostgreSQL.

The central record is built once and kept (.bench/ for SQLite, schema bench_service_<n> for
PostgreSQL): the caseload through load_caseload, the records (synthetic demo_service events)
written straight into `records` and the report's narrow tables by report_index.index_events,
the same function push calls, in 5,000-row transactions (pushing half a million through the
service's batches of 500 takes minutes). HUBDESK_BENCH_SERVICE_PEOPLE scales it down (the
records follow, about 50 a person) to see how the time grows.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime

from bench.common import ROOT, Result, median, timed

PEOPLE = int(os.environ.get("HUBDESK_BENCH_SERVICE_PEOPLE", "10000"))
PER_PERSON = 30  # contacts a person, about; with actions, payments and amendments ~50 records each
DAY = date(2026, 11, 23)
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
BUDGET_S = 2.0


def _pg_url(schema: str) -> str | None:
    base = os.environ.get("HUBDESK_TEST_PG_URL", PG_DEFAULT)
    try:
        import psycopg

        with psycopg.connect(base, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    except Exception:
        return None
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def build(db: str) -> tuple[int, float]:
    """Fill an empty central record; returns (records, seconds). Kept if already built."""
    from hubcentral import demo_service
    from hubcentral.storage import CentralStore, iso
    from hubcentral.storage.report_index import index_events
    from hubdesk.sync.protocol import canonical_json, content_hash

    store = CentralStore.open(db)
    try:
        with store.engine.transaction(write=False) as tx:
            held = int(tx.one("SELECT count(*) FROM records")[0])  # type: ignore[index]
        if held:
            return held, 0.0
        start = time.perf_counter()
        now = datetime(DAY.year, DAY.month, DAY.day, 17, tzinfo=UTC)
        store.set_reference(demo_service.REFERENCE, now)
        store.load_caseload(demo_service.caseload(PEOPLE, DAY, seed=11), now)
        people = store.records("person")
        rows: list[list] = []
        written = 0

        def flush() -> None:
            nonlocal rows, written
            with store.engine.transaction(write=True) as tx:
                tx.executemany(
                    "INSERT INTO records(kind, record_id, version, hub_code, device_id, outbox_id, content_hash, "
                    "body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                index_events(tx, [(r[0], r[1], r[7]) for r in rows])
            written += len(rows)
            rows = []

        for hub, kind, body in demo_service.events(people, DAY, PER_PERSON, seed=11):
            text, digest = canonical_json(body), content_hash(kind, body["id"], body)
            rows.append([kind, body["id"], 1, hub, f"bench-{hub}", body["id"], digest, text, iso(now)])
            if len(rows) >= 5000:
                flush()
        flush()
        if store.engine.name == "postgresql":
            # What autovacuum does after a bulk load: the visibility map and the planner's statistics.
            import psycopg

            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
        return written, time.perf_counter() - start
    finally:
        store.close()


def measure(db: str, engine: str) -> list[Result]:
    from hubcentral.report import report_text
    from hubcentral.storage import CentralStore

    records, built = build(db)
    store = CentralStore.open(db)
    try:
        report_text(store, DAY, "html")  # warm: the first run may bring the narrow tables up to date
        samples = timed(lambda: report_text(store, DAY, "html"), 5)
        csv_samples = timed(lambda: report_text(store, DAY, "csv"), 3)
    finally:
        store.close()
    scale = f"{PEOPLE:,} people, {records:,} records" + (f"; built in {built:.0f} s" if built else "")
    budget = BUDGET_S if PEOPLE >= 10_000 else None
    return [
        Result(f"service report html, {engine}", median(samples), "s", budget, scale),
        Result(f"service report csv, {engine}", median(csv_samples), "s", budget, scale),
    ]


def run() -> list[Result]:
    results = []
    ROOT.mkdir(parents=True, exist_ok=True)
    results += measure(str(ROOT / f"service-{PEOPLE}p.db"), "SQLite")
    url = _pg_url(f"bench_service_{PEOPLE}p")
    if url is None:
        results.append(Result("service report, PostgreSQL", 0.0, "s", None, "not reachable: skipped"))
    else:
        results += measure(url, "PostgreSQL")
    return results


if __name__ == "__main__":
    for r in run():
        print(r.line(), flush=True)
