"""`hubdesk report daily` and `hubdesk report in-touch`: the reports on the command line.

A report is written in clear, so it goes to stdout or to a new file outside the data
folder (as `hubdesk export` does), and making one is audited as an export.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hubdesk import config
from hubdesk.cli import CliError
from hubdesk.reports import daily, in_touch
from hubdesk.reports.output import OutputRefused, check_target, write_private

LONDON = ZoneInfo("Europe/London")
DATE_HELP = "a date like 2026-11-24 (or 24/11/2026, today, yesterday)"
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def parse_day(text: str, today: date | None = None) -> date:
    """'2026-11-24', '24/11/2026', 'today', 'yesterday' -> date; a plain message otherwise."""
    today = today or datetime.now(LONDON).date()
    cleaned = (text or "").strip().lower()
    if cleaned == "today":
        return today
    if cleaned == "yesterday":
        return today - timedelta(days=1)
    try:
        match = _DMY.match(cleaned)
        day = date(int(match[3]), int(match[2]), int(match[1])) if match else date.fromisoformat(cleaned)
    except ValueError:
        raise CliError(f"'{text}' is not a date: give {DATE_HELP}") from None
    if not date(2000, 1, 1) <= day <= date(2099, 12, 31):
        raise CliError("the date must be between 2000 and 2099")
    return day


def _day_arg(text: str) -> date:
    try:
        return parse_day(text)
    except CliError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _target(args: argparse.Namespace) -> Path | None:
    """Where to write, refused inside the data folder (the report is in clear)."""
    if not getattr(args, "output", None):
        return None
    data_dir = config.data_dir(args.data_dir).resolve()
    target = Path(args.output).expanduser().resolve()
    if target == data_dir or data_dir in target.parents:
        raise CliError("a report is in clear: write it outside the data folder (or to stdout)")
    try:
        return check_target(target, force=args.force)
    except OutputRefused as exc:
        raise CliError(str(exc)) from None


def _write(text: str, target: Path | None, what: str, force: bool = False) -> None:
    if target is None:
        sys.stdout.write(text)
        return
    try:
        write_private(target, text, force=force)
    except OutputRefused as exc:
        raise CliError(str(exc)) from None
    print(f"Wrote the {what} to {target}", file=sys.stderr)


def _audit(store, what: str, detail: str) -> None:
    with store._save() as now:
        store._audit(now, "export", "report", None, f"{what} {detail}")


def cmd_daily(args: argparse.Namespace, store) -> int:
    target = _target(args)
    hub = (args.hub or store.hub_code).strip().upper()
    day = args.date or datetime.now(LONDON).date()
    summary = daily.daily_summary(store, hub, day)
    text = daily.render(summary, args.format)
    _audit(store, "daily", f"{hub} {day.isoformat()} {args.format}")
    _write(text, target, "daily summary", args.force)
    return 0


def cmd_in_touch(args: argparse.Namespace, store) -> int:
    target = _target(args)
    as_of = args.date or datetime.now(LONDON).date()
    report = in_touch.in_touch_report(store, as_of=as_of, pa=args.pa, hub_code=args.hub)
    text = in_touch.RENDERERS[args.format](report)
    scope = " ".join(
        x for x in (f"pa={report.pa}" if report.pa else "", f"hub={report.hub_code}" if report.hub_code else "") if x
    )
    _audit(store, "in-touch", f"{as_of.isoformat()} {args.format} {scope}".strip())
    _write(text, target, "keeping-in-touch list", args.force)
    return 0


def _store_options(parser: argparse.ArgumentParser) -> None:
    # Also accepted after the report's name; SUPPRESS keeps a value given before it.
    parser.add_argument("--data-dir", default=argparse.SUPPRESS, help="the store's folder (default: HUBDESK_HOME)")
    parser.add_argument("--user", default=argparse.SUPPRESS, help="your user name (default: HUBDESK_USER)")
    parser.add_argument(
        "--recovery-key", action="store_true", default=argparse.SUPPRESS, help="open with the recovery key instead"
    )


def add_parsers(subparsers) -> None:
    report = subparsers.add_parser("report", help="the day's summary and the keeping-in-touch list")
    kinds = report.add_subparsers(
        dest="report_command", required=True, parser_class=type(report), metavar="daily|in-touch"
    )

    p = kinds.add_parser("daily", help="the day's summary for a hub")
    _store_options(p)
    p.add_argument("--hub", help="hub code (default: this desk's hub)")
    p.add_argument("--date", type=_day_arg, help=f"the day: {DATE_HELP} (default: today)")
    p.add_argument("--format", default="md", choices=daily.FORMATS)
    p.add_argument("--output", help="file to write (default: stdout); never inside the data folder")
    p.add_argument("--force", action="store_true", help="replace the --output file if it exists")
    p.set_defaults(store_command=cmd_daily)

    p = kinds.add_parser("in-touch", help="who is in touch and who is overdue")
    _store_options(p)
    p.add_argument("--pa", help="only young people allocated to this PA (login)")
    p.add_argument("--hub", help="only young people at this hub")
    p.add_argument("--date", type=_day_arg, help=f"as of this day: {DATE_HELP} (default: today)")
    p.add_argument("--format", default="csv", choices=in_touch.FORMATS)
    p.add_argument("--output", help="file to write (default: stdout); never inside the data folder")
    p.add_argument("--force", action="store_true", help="replace the --output file if it exists")
    p.set_defaults(store_command=cmd_in_touch)
