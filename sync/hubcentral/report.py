"""`hubdesk-central report service`: the service's figures across every hub, from all desks'
records and the caseload (issue 11, item 5).

Read from the report's narrow tables (storage.report_index: one row per contact, payment and
action, written at push) and the people, so 10,000 people and 500,000 records take a few
column scans. The figures themselves are hubdesk.domain.figures.compute, the same function
the desk's end of day uses for its hub.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hubcentral.storage import CentralStore, iso
from hubcentral.storage.report_index import rebuild, up_to_date
from hubdesk.domain.figures import (
    ActionCount,
    PaymentFact,
    PersonFacts,
    ServiceFigures,
    compute,
    window_start,
)
from hubdesk.domain.service_rules import BANDS_2022, BANDS_2026, BandDef, ServiceRules
from hubdesk.reports.figures import FORMATS, render

LONDON = ZoneInfo("Europe/London")
# --bands: the reference data's own (default), or the 2022 or 2026 report's.
BAND_SETS: dict[str, tuple[BandDef, ...] | None] = {"reference": None, "2022": BANDS_2022, "2026": BANDS_2026}


def day_start(day: date) -> datetime:
    """Midnight in England at the start of `day`, in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=LONDON).astimezone(UTC)


def _local_day(text: str) -> date:
    return datetime.fromisoformat(text).astimezone(LONDON).date()


def service_figures(
    store: CentralStore,
    as_of: date,
    *,
    since: date | None = None,
    bands: tuple[BandDef, ...] | None = None,
) -> ServiceFigures:
    """The figures at the end of `as_of` (England's day), payments from `since` (default: the
    first of the month). The narrow tables are brought up to date first if they lag the records."""
    since = since or as_of.replace(day=1)
    end = iso(day_start(as_of + timedelta(days=1)))
    with store.engine.transaction(write=False) as tx:
        fresh = up_to_date(tx)
    if not fresh:
        with store.engine.transaction(write=True) as tx:
            rebuild(tx)
    with store.engine.transaction(write=False) as tx:
        people = [PersonFacts.from_body(json.loads(row[0])) for row in tx.all("SELECT body FROM people")]
        touches = tx.all(
            "SELECT person_id, max(at) FROM report_contacts WHERE touch = 1 AND superseded = 0 AND at < ? "
            "AND at >= ? GROUP BY person_id",
            [end, iso(day_start(window_start(as_of)))],
        )
        # Open at the end of the day: recorded before it, not done by then; overdue: due before the day.
        actions = tx.all(
            "SELECT person_hub, count(*), coalesce(sum(CASE WHEN due < ? THEN 1 ELSE 0 END), 0) FROM report_actions "
            "WHERE recorded_at < ? AND (done_at IS NULL OR done_at >= ?) GROUP BY person_hub",
            [as_of.isoformat(), end, end],
        )
        payments = tx.all(
            "SELECT hub_code, category, count(*), sum(amount_pence) FROM report_payments "
            "WHERE at >= ? AND at < ? AND coalesce(decided, status) = 'approved' "
            "AND (reversed_at IS NULL OR reversed_at >= ?) GROUP BY hub_code, category",
            [iso(day_start(since)), end, end],
        )
    reference = store.reference()
    hubs = [h.code for h in reference.hubs] if reference else []
    rules = reference.service_rules if reference else ServiceRules()
    if bands is not None:
        rules = rules.model_copy(update={"age_bands": bands})
    return compute(
        as_of,
        people,
        {pid: _local_day(at) for pid, at in touches},
        [ActionCount(hub, int(n), int(overdue)) for hub, n, overdue in actions],
        [PaymentFact(hub, category, int(pence or 0), int(n)) for hub, category, n, pence in payments],
        rules=rules,
        since=since,
        hubs=hubs,
    )


def report_text(
    store: CentralStore, as_of: date, fmt: str, *, since: date | None = None, bands: str = "reference"
) -> str:
    figures = service_figures(store, as_of, since=since, bands=BAND_SETS[bands])
    reference = store.reference()
    hub_names = {h.code: h.name for h in reference.hubs} if reference else {}
    categories = {c.code: c.name for c in reference.payment_categories} if reference else {}
    return render(figures, fmt, hub_names, categories)


# --- the command -------------------------------------------------------------------------------


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-30") from None


def cmd_report_service(args: argparse.Namespace) -> int:
    from hubcentral.cli import _open
    from hubdesk.reports.output import OutputRefused, check_target, write_private

    if args.since is not None and args.since > args.date:
        print("hubdesk-central: no report: --since is after --date", file=sys.stderr)
        return 2
    try:
        if args.out:
            check_target(Path(args.out), force=args.force)
        store = _open(args)
        try:
            text = report_text(store, args.date, args.format, since=args.since, bands=args.bands)
        finally:
            store.close()
        if args.out:
            target = write_private(Path(args.out), text, force=args.force)
            print(f"Wrote the service report to {target}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except OutputRefused as exc:
        print(f"hubdesk-central: no report: {exc}", file=sys.stderr)
        return 2
    return 0


def add_parser(sub: argparse._SubParsersAction, db: argparse.ArgumentParser) -> None:
    """`report service`: registered by hubcentral.cli."""
    r = sub.add_parser("report", help="The service's figures")
    rsub = r.add_subparsers(dest="action", required=True)
    rs = rsub.add_parser("service", parents=[db], help="The service's figures across every hub, on a day")
    rs.add_argument("--date", required=True, type=_day, help="the day the figures are for (YYYY-MM-DD)")
    rs.add_argument("--since", type=_day, default=None, help="payments from this day (default: the 1st of the month)")
    rs.add_argument("--format", choices=FORMATS, default="md")
    rs.add_argument(
        "--bands",
        choices=list(BAND_SETS),
        default="reference",
        help="age bands: the reference data's (default), or the 2022 or 2026 report's",
    )
    rs.add_argument("--out", default=None, help="write to a new file (0600) instead of stdout")
    rs.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    rs.set_defaults(func=cmd_report_service)
