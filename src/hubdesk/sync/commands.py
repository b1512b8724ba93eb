"""`hubdesk enrol` and `hubdesk sync`: parsers and handlers for the CLI to wire in.

Each handler takes (args, store) for an unlocked store and returns the exit status:
0 done; 1 done, but some records need attention (conflicts or quarantined);
2 refused by the service; 3 service unreachable (progress kept, run again); 4 not enrolled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient, SyncError, enrol, write_bundle


def add_parsers(subparsers: Any) -> None:
    """Add `enrol` and `sync` to the CLI's subparsers; each sets `store_command`."""
    p = subparsers.add_parser("enrol", help="Enrol this desk with the central record service")
    p.add_argument("--server", required=True, help="The service's address, e.g. https://records.example.gov.uk")
    p.add_argument("--code", required=True, help="The one-time code from `hubdesk-central enrol`")
    p.add_argument("--label", default="", help="A name for this desk in the service's device list")
    p.add_argument("--ca", default=None, help="A CA bundle to trust for the service's TLS certificate")
    p.set_defaults(store_command=run_enrol)

    s = subparsers.add_parser("sync", help="Send what is waiting, then fetch caseload and reference changes")
    s.add_argument(
        "--to-file",
        default=None,
        metavar="F",
        help="Write the push as an encrypted, signed bundle to carry to the service",
    )
    s.add_argument("--quiet", action="store_true", help="No progress line; only the outcome")
    s.add_argument(
        "--compare-audit",
        action="store_true",
        help="Only compare this desk's audit history with the central record's copy "
        "(an entry changed or deleted here after it was synced shows)",
    )
    s.add_argument("--ca", default=None, help="A CA bundle to trust for the service's TLS certificate")
    s.set_defaults(store_command=run_sync)


def run_enrol(args: argparse.Namespace, store: Store) -> int:
    try:
        answer = enrol(store, args.server, args.code, label=args.label, verify=args.ca or True)
    except SyncError as exc:
        print(f"Not enrolled: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"Enrolled this desk as device {answer.device_id} at hub {answer.hub_code}.")
    return 0


def _progress_line(quiet: bool):
    def show(phase: str, done: int, total: int | None) -> None:
        if quiet:
            return
        what = "Sending" if phase == "push" else "Receiving"
        of = f" of {total}" if total is not None else ""
        print(f"\r{what} {done}{of}...", end="", file=sys.stderr, flush=True)

    return show


def run_sync(args: argparse.Namespace, store: Store) -> int:
    if getattr(args, "to_file", None):
        try:
            count = write_bundle(store, Path(args.to_file))
        except (SyncError, OSError) as exc:
            print(f"No bundle written: {exc}", file=sys.stderr)
            return getattr(exc, "exit_code", 3)
        print(
            f"Wrote {count} records to {args.to_file} (sealed for the central record service). "
            "They stay waiting here until the service has them."
        )
        return 0
    if getattr(args, "compare_audit", False):
        return run_compare_audit(args, store)
    try:
        with SyncClient(store, progress=_progress_line(args.quiet), verify=args.ca or True) as client:
            report = client.sync()
    except SyncError as exc:
        if not args.quiet:
            print(file=sys.stderr)
        print(f"Sync did not finish: {exc}", file=sys.stderr)
        return exc.exit_code
    if not args.quiet:
        print(file=sys.stderr)
    print(report.line())
    for note in report.notes:
        print(note)
    for problem in report.audit_problems:
        print(f"Audit history: {problem}. Tell the central admin.")
    if report.conflicts or report.quarantined:
        print("Some records need attention: see the conflicts and quarantined records on the desk.")
    return report.exit_code


def run_compare_audit(args: argparse.Namespace, store: Store) -> int:
    """0: this desk's audit history matches the central copy; 1: it does not (each entry named)."""
    try:
        with SyncClient(store, verify=args.ca or True) as client:
            compared, problems = client.compare_audit()
    except SyncError as exc:
        print(f"Audit history not compared: {exc}", file=sys.stderr)
        return exc.exit_code
    if not problems:
        print(f"Audit history matches the central record's copy ({compared} entries compared).")
        return 0
    print(f"Audit history differs from the central record's copy ({compared} entries compared):")
    for problem in problems:
        print(f"  {problem}")
    return 1
