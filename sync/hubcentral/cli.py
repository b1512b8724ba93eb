"""`hubdesk-central`: run the central record service and administer it.

Every command takes `--db`: a SQLite file path or a `postgresql://` URL (default
HUBDESK_CENTRAL_DB, else central.db in the platform's data directory).

Caseload CSV (`caseload load FILE.csv`, read by hubcentral.caseload), one row per care leaver, keyed by case_id;
a header row names the columns, in any order:
  case_id           required; letters, digits or '-' (the case management system's id)
  first_name        required
  last_name         optional
  preferred_name    optional
  date_of_birth     required; YYYY-MM-DD
  hub_code          required; e.g. DEW, N11
  legal_status      eligible | relevant | former_relevant | qualifying | former_relevant_education
  allocated_pa      the PA's login, or blank for none
  uasc, young_parent, staying_put, custody    yes/no (also true/false, 1/0; blank is no)
  expected_contact_days   1-366, or blank
  alerts            "kind: text" items separated by '|'; kind is risk,
                    do_not_disclose_address, interpreter_needed, contact_preference or other
  phone, email, address   optional contact details
Any other column is an error. A bad row is reported by line and field, and then
nothing of the file is loaded. A row whose case_id is known updates that person
(a new version, pulled by the hub devices); an unchanged row changes nothing.

Reference file (`reference set FILE`): JSON with hubs, users, session_types,
contact_purposes, payment_categories (each a list of objects as in the API's
CentralReference schema) and example (true for demo data).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hubcentral import conflicts, reference_example, walk_ins
from hubcentral.caseload import DEFAULT_MAX_MB, check_caseload, stream_caseload
from hubcentral.conflicts import settlements
from hubcentral.storage import MODELS, CaseloadError, CentralError, CentralStore
from hubdesk.domain.errors import field_errors
from hubdesk.domain.fields import differing
from hubdesk.domain.spreadsheet import records_csv
from hubdesk.reports.output import OutputRefused, check_target, write_private
from hubdesk.sync.protocol import CentralReference

EXPORT_KINDS = ("contact", "payment", "payment_decision", "reversal", "session", "attendance", "person")
# `hubdesk export --what` speaks of people, contacts, payments and sessions: the same words here.
DESK_WORDS = {"people": "person", "contacts": "contact", "payments": "payment", "sessions": "session"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# One port everywhere (this default, `make run`'s demo service, the documents): 8470, the
# one users have seen in the README and the demo from the start.
DEFAULT_PORT = 8470
MAX_CODE_LIFE = timedelta(days=30)


def default_db() -> str:
    env = os.environ.get("HUBDESK_CENTRAL_DB")
    if env:
        return env
    import platformdirs

    return str(Path(platformdirs.user_data_dir("hubdesk-central", appauthor=False)) / "central.db")


def _now() -> datetime:
    return datetime.now(UTC)


def _open(args: argparse.Namespace) -> CentralStore:
    return CentralStore.open(args.db or default_db())


# --- export -------------------------------------------------------------------------------


def _since(text: str | None) -> str | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"--since must be a date like 2026-11-23 (got {text!r})") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _csv(rows: list[dict[str, Any]]) -> str:
    # Every cell spreadsheet-safe: a name typed as =HYPERLINK(...) at a desk stays text.
    return records_csv(rows, lineterminator="\n")


class UnknownKind(ValueError):
    """--what names nothing the central record holds or knows."""


def export_kind(store: CentralStore, what: str) -> str:
    """The kind --what means: all, audit, a kind, or the desk's word for it (people, contacts, ...)."""
    word = what.strip().lower()
    if word in ("all", "audit"):
        return word
    kind = DESK_WORDS.get(word, word)
    known = store.kinds()
    if kind not in known:
        raise UnknownKind(
            f"--what {what!r} is not a kind of record: give all, audit, "
            f"{', '.join(DESK_WORDS)}, or one of {', '.join(known)}"
        )
    return kind


def export(store: CentralStore, what: str, since: str | None, fmt: str) -> str:
    what = export_kind(store, what)
    if what == "audit":
        # The devices' audit chains: ids, actions and logins only, by device then seq.
        entries = store.audit_entries(since=since)
        return json.dumps(entries, indent=2) + "\n" if fmt == "json" else _csv(entries)
    kinds = store.kinds() if what == "all" else (what,)
    data = {kind: store.records(kind, since) for kind in kinds}
    if fmt == "json":
        return json.dumps(data if what == "all" else data[what], indent=2, ensure_ascii=False) + "\n"
    if what == "all":
        raise SystemExit("--format csv exports one kind at a time: give --what contact, payment, ...")
    return _csv(data[what])


# --- commands -----------------------------------------------------------------------------


def _kind(text: str) -> str:
    text = text.strip().lower()
    if text != "all" and not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", text):
        raise argparse.ArgumentTypeError("give all, or a kind such as people, contacts, payments or sessions")
    return text


def _duration(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)\s*([mhd])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("give a duration like 30m, 24h or 7d")
    digits, unit = match[1].lstrip("0") or "0", match[2]
    # An unused code is a way in: it lives at most MAX_CODE_LIFE (and a huge number is no overflow).
    n = int(digits) if len(digits) <= 9 else MAX_CODE_LIFE.days * 24 * 60 + 1
    life = timedelta(minutes=n) if unit == "m" else timedelta(hours=n) if unit == "h" else timedelta(days=n)
    if not timedelta(0) < life <= MAX_CODE_LIFE:
        raise argparse.ArgumentTypeError(f"give a duration above 0 and at most {MAX_CODE_LIFE.days}d")
    return life


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    try:
        from hubcentral.app import build
        from hubcentral.limits import RefusalLog
        from hubcentral.serving import Limits, Server, uvicorn_config
    except ImportError as exc:  # a hub laptop's install: the service's packages are an extra
        print(
            f"The central service needs its own packages ({exc.name} is missing): pip install 'hubdesk[central]'",
            file=sys.stderr,
        )
        return 2

    if (args.tls_cert is None) != (args.tls_key is None):
        print("Give both --tls-cert and --tls-key, or neither", file=sys.stderr)
        return 2
    if args.tls_cert is None and args.host not in LOOPBACK:
        print(
            f"Plain HTTP is only for loopback: give --tls-cert and --tls-key to serve on {args.host}", file=sys.stderr
        )
        return 2
    # One line per refused request, at most 20 a minute; the rest counted in one line.
    service_log = logging.getLogger("hubcentral")
    if not service_log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s hubcentral: %(message)s"))
        service_log.addHandler(handler)
        service_log.propagate = False
    refusals = RefusalLog(service_log)
    limits = Limits(
        keep_alive=args.keep_alive, header_timeout=args.header_timeout, max_connections=args.max_connections
    )
    app, service = build(args.db or default_db(), refusals=refusals)
    print(
        f"Serving the central record from {service.store.engine} on "
        f"{'https' if args.tls_cert else 'http'}://{args.host}:{args.port}/v1/",
        file=sys.stderr,
    )
    config = uvicorn_config(
        app,
        limits,
        refusals,
        host=args.host,
        port=args.port,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
        log_level=args.log_level,
    )
    try:
        Server(config, refusals).run()
    finally:
        service.store.close()
    return 0


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"give a number, not {text!r}") from None
        if not 0 < value <= 1_000_000:
            raise argparse.ArgumentTypeError("give a number above 0")
        return value

    return parse


def cmd_enrol(args: argparse.Namespace) -> int:
    store = _open(args)
    hub = args.hub.strip().upper()
    ref = store.reference()
    if ref is not None and ref.hubs and hub not in {h.code for h in ref.hubs}:
        print(f"No hub {hub} in the reference data; known: {', '.join(h.code for h in ref.hubs)}", file=sys.stderr)
        return 2
    now = _now()
    code = store.make_enrolment_code(hub, now + args.expires, now)
    print(code)
    print(
        f"One-time code for a desk at hub {hub}; it expires {(now + args.expires):%d %b %Y %H:%M} UTC.", file=sys.stderr
    )
    return 0


def cmd_caseload_load(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        # Checked once through before the database is touched; then streamed into one transaction.
        checked = check_caseload(path, int(args.max_mb * 1_000_000))
        result = _open(args).load_caseload(stream_caseload(checked), _now())
    except CaseloadError as exc:
        print(f"Nothing loaded from {path.name}:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        print(f"Nothing loaded: {'; '.join(f'{k}: {v}' for k, v in field_errors(exc).items())}", file=sys.stderr)
        return 1
    print(
        f"Loaded {checked.rows} rows: {result.new} new, {result.changed} changed, {result.same} unchanged"
        + (
            f", {result.conflicts} edited at a desk since the last load: kept as conflicts, not overwritten "
            "(hubdesk-central conflicts list)."
            if result.conflicts
            else "."
        )
    )
    return 1 if result.conflicts else 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    problems = _open(args).feed_problems()
    if not problems:
        print("Every item in the change feed is one desks can read.")
        return 0
    for p in problems:
        print(f"{p['seq']:>10}  {p['kind']:<16} {p['record_id'][:40]:<40}  {p['reason']}")
    print(f"{len(problems)} unreadable: desks set them aside; remove each with `hubdesk-central quarantine drop SEQ`.")
    return 1


def cmd_quarantine_drop(args: argparse.Namespace) -> int:
    store = _open(args)
    failed = 0
    for seq in args.seq:
        if store.drop_feed_item(seq):
            print(f"Removed feed item {seq}.")
        else:
            print(f"Feed item {seq} is not an unreadable one (see quarantine list): kept", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def cmd_person_transfer(args: argparse.Namespace) -> int:
    try:
        body = _open(args).transfer_person(args.person, args.hub, _now())
    except CentralError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"Moved {body.get('case_id') or body['id']} to hub {args.hub} (version {body['version']}).")
    return 0


def cmd_reference_set(args: argparse.Namespace) -> int:
    try:
        reference = CentralReference.model_validate_json(Path(args.file).read_bytes())
    except OSError as exc:
        print(f"Cannot read {args.file}: {type(exc).__name__}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        print("Reference data not set:", file=sys.stderr)
        for err in exc.errors(include_input=False, include_url=False):
            print(f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", file=sys.stderr)
        return 1
    seq = _open(args).set_reference(reference, _now())
    print(
        f"Reference data set (change {seq}): {len(reference.hubs)} hubs, {len(reference.users)} users, "
        f"{len(reference.payment_categories)} payment categories."
    )
    return 0


def cmd_reference_show(args: argparse.Namespace) -> int:
    reference = _open(args).reference()
    if reference is None:
        print("No reference data yet: load it with `hubdesk-central reference set FILE`", file=sys.stderr)
        return 1
    print(reference.model_dump_json(indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Records in clear: to stdout, or to a new 0600 file (an existing one only with --force)."""
    if args.person is not None:
        from hubcentral import subject_access

        return subject_access.cmd_export(args)
    if args.format == "html":
        print(
            "hubdesk-central: nothing exported: --format html is for one young person (--person CASE_ID)",
            file=sys.stderr,
        )
        return 2
    since = _since(args.since)
    try:
        if args.out:
            check_target(Path(args.out), force=args.force)
        text = export(_open(args), args.what, since, args.format)
        if args.out:
            target = write_private(Path(args.out), text, force=args.force)
            print(f"Wrote {args.what} to {target}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except (UnknownKind, OutputRefused) as exc:
        print(f"hubdesk-central: nothing exported: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_import_bundle(args: argparse.Namespace) -> int:
    from hubdesk.sync.bundle import BundleError

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"Cannot read {args.file}: {type(exc).__name__}", file=sys.stderr)
        return 1
    try:
        tally = _open(args).import_bundle(data, _now())
    except (BundleError, ValidationError) as exc:
        print(
            f"Bundle not imported: {exc if isinstance(exc, BundleError) else 'its contents are not valid'}",
            file=sys.stderr,
        )
        return 2
    print(
        f"Bundle imported: {tally['accepted']} new, {tally['already_had']} already held, "
        f"{tally['conflict']} conflicts, {tally['rejected']} rejected."
    )
    return 1 if tally["conflict"] or tally["rejected"] else 0


def cmd_conflicts_list(args: argparse.Namespace) -> int:
    """Ids, versions and the names of the fields that differ (contact.phone), never their
    values: both sides are in the record, shown to a person who may see them."""
    store = _open(args)
    conflicts = [c for c in store.conflicts() if args.all or c["settled_at"] is None]
    settled = settlements(store) if args.all else {}
    if not conflicts:
        print("No conflicts to settle.")
    for c in conflicts:
        how = settled.get(c["id"])
        print(
            f"{c['id']}  {c['detected_at'][:16]}  {c['kind']:<8} {c['record_id']}  from device {c['device_id']}: "
            f"its version {c['local_body'].get('version')} against central version "
            f"{c['remote_body'].get('version')}; differs in {', '.join(differing(c['local_body'], c['remote_body']))}"
            + (f"; settled {c['settled_at'][:16]}" if c["settled_at"] else "")
            + (f" by {how['settled_by']}, kept {how['keep']}" if how else "")
        )
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Each device's audit chain as held: gaps, entries not continuing the one before, and
    rewrites a device tried to send. Exit 1 if any."""
    store = _open(args)
    devices = [args.device] if args.device else store.audit_devices()
    if not devices:
        print("No audit entries held yet.")
        return 0
    bad = 0
    for device_id in devices:
        held, problems = store.verify_audit(device_id)
        head = store.audit_head(device_id)  # the desk's own last entry, as it last reported it
        where = (
            f"  the desk last reported its chain at entry {head[0]} ({head[2][:16]}): "
            f"{max(head[0] - held, 0)} not yet held here"
            if head
            else ""
        )
        if not problems:
            print(f"{device_id}: {held} entries, intact")
            if where:
                print(where)
            continue
        bad += 1
        print(f"{device_id}: {held} entries, {len(problems)} problems")
        if where:
            print(where)
        for problem in problems:
            print(f"  {problem}")
    return 1 if bad else 0


def cmd_devices_list(args: argparse.Namespace) -> int:
    devices = _open(args).devices()
    if not devices:
        print("No devices enrolled.")
    for d in devices:
        state = f"revoked {d.revoked_at[:16]}" if d.revoked_at else "active"
        print(
            f"{d.device_id}  {d.hub_code:<8} {state:<24} enrolled {d.enrolled_at[:16]}  "
            f"last seen {(d.last_seen_at or 'never')[:16]}  {d.label}"
        )
    return 0


def cmd_devices_revoke(args: argparse.Namespace) -> int:
    if not _open(args).revoke(args.device_id, _now()):
        print(f"No device {args.device_id}", file=sys.stderr)
        return 1
    print(f"Revoked {args.device_id}: its requests are refused from now on.")
    return 0


def parser() -> argparse.ArgumentParser:
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        help="SQLite file or postgresql:// URL (default HUBDESK_CENTRAL_DB, else the data dir)",
    )
    p = argparse.ArgumentParser(prog="hubdesk-central", description="The hubdesk central record service.")
    p.add_argument("--db", default=None, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", parents=[db], help="Run the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    s.add_argument("--tls-cert", default=None)
    s.add_argument("--tls-key", default=None)
    s.add_argument("--log-level", default="info")
    s.add_argument(
        "--keep-alive", type=_positive(int), default=5, help="Seconds an idle connection is kept after an answer"
    )
    s.add_argument(
        "--header-timeout",
        type=_positive(float),
        default=10.0,
        help="Seconds a connection has to send its request head before it is closed",
    )
    s.add_argument(
        "--max-connections",
        type=_positive(int),
        default=1000,
        help="Open connections at most; at the limit the longest-idle one is closed for a new one",
    )
    s.set_defaults(func=cmd_serve)

    e = sub.add_parser("enrol", parents=[db], help="Make a one-time enrolment code for a hub device")
    e.add_argument("--hub", required=True)
    e.add_argument("--expires", type=_duration, default=timedelta(hours=24), help="e.g. 30m, 24h, 7d")
    e.set_defaults(func=cmd_enrol)

    c = sub.add_parser("caseload", help="The caseload (care leavers) devices pull")
    csub = c.add_subparsers(dest="action", required=True)
    cl = csub.add_parser("load", parents=[db], help="Load a CSV from the case management system")
    cl.add_argument("file")
    cl.add_argument(
        "--max-mb", type=_positive(float), default=DEFAULT_MAX_MB, help="refuse a larger file (default 50 MB)"
    )
    cl.set_defaults(func=cmd_caseload_load)

    q = sub.add_parser("quarantine", help="Change-feed items desks cannot read (they set them aside)")
    qsub = q.add_subparsers(dest="action", required=True)
    qsub.add_parser("list", parents=[db], help="List unreadable feed items").set_defaults(func=cmd_quarantine_list)
    qd = qsub.add_parser("drop", parents=[db], help="Remove unreadable feed items by their number")
    qd.add_argument("seq", type=int, nargs="+")
    qd.set_defaults(func=cmd_quarantine_drop)

    pe = sub.add_parser("person", help="A young person's record, as the central admin")
    pesub = pe.add_subparsers(dest="action", required=True)
    pt = pesub.add_parser("transfer", parents=[db], help="Move a young person to another hub")
    pt.add_argument("person", help="case id (or the record id of a walk-in)")
    pt.add_argument("hub", help="the hub code they move to")
    pt.set_defaults(func=cmd_person_transfer)

    r = sub.add_parser("reference", help="Hubs, users and roles, codes, payment categories and limits")
    rsub = r.add_subparsers(dest="action", required=True)
    rs = rsub.add_parser("set", parents=[db], help="Replace reference data from a JSON file")
    rs.add_argument("file")
    rs.set_defaults(func=cmd_reference_set)
    rsub.add_parser("show", parents=[db], help="Print the reference data").set_defaults(func=cmd_reference_show)
    reference_example.register(rsub)

    x = sub.add_parser("export", parents=[db], help="Export records for the case management system")
    x.add_argument(
        "--what",
        type=_kind,
        default="all",
        help=f"all, or one kind: {', '.join(DESK_WORDS)} (the desk's words), {', '.join(EXPORT_KINDS)} "
        "(or a newer kind the desks send); audit for the devices' audit chains. An unknown kind is refused",
    )
    x.add_argument("--since", default=None, help="Received on or after this date (YYYY-MM-DD)")
    x.add_argument("--format", choices=("json", "csv", "html"), default="json")
    x.add_argument(
        "--person",
        default=None,
        metavar="CASE_ID",
        help="Everything held about one young person (subject access), as --format html or json",
    )
    x.add_argument("--out", default=None, help="Write to this new file (mode 0600) instead of standard output")
    x.add_argument("--force", action="store_true", help="Replace the --out file if it exists")
    x.set_defaults(func=cmd_export)

    b = sub.add_parser("import-bundle", parents=[db], help="Apply a sync bundle carried from a desk")
    b.add_argument("file")
    b.set_defaults(func=cmd_import_bundle)

    k = sub.add_parser("conflicts", help="Edits made against an old version, kept with both sides")
    ksub = k.add_subparsers(dest="action", required=True)
    kl = ksub.add_parser("list", parents=[db])
    kl.add_argument("--all", action="store_true", help="include settled ones")
    kl.set_defaults(func=cmd_conflicts_list)
    conflicts.register(ksub, db)
    walk_ins.register(sub, db)

    a = sub.add_parser("audit", help="The devices' audit chains held centrally")
    asub = a.add_subparsers(dest="action", required=True)
    av = asub.add_parser("verify", parents=[db], help="Report gaps and rewritten history, per device")
    av.add_argument("--device", default=None, help="one device id (default: every device)")
    av.set_defaults(func=cmd_audit_verify)

    d = sub.add_parser("devices", help="Enrolled hub devices")
    dsub = d.add_subparsers(dest="action", required=True)
    dsub.add_parser("list", parents=[db]).set_defaults(func=cmd_devices_list)
    dr = dsub.add_parser("revoke", parents=[db])
    dr.add_argument("device_id")
    dr.set_defaults(func=cmd_devices_revoke)

    from hubcentral import report as service_report

    service_report.add_parser(sub, db)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.func is cmd_serve:
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("hubdesk-central: stopped; nothing was half-applied", file=sys.stderr)
        return 130
    except ImportError as exc:  # e.g. a postgresql:// URL on an install without the extra
        print(f"hubdesk-central: {exc.name} is not installed: pip install 'hubdesk[central]'", file=sys.stderr)
        return 2
    except Exception as exc:  # the last guard: one line, no traceback, no data
        print(f"hubdesk-central: unexpected error ({type(exc).__name__}); nothing was half-applied", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["MODELS", "main"]
