"""The `hubdesk` command line: scriptable, every command takes --data-dir.

Passphrases come from a prompt, or from HUBDESK_PASSPHRASE for automation. Errors
are one clear line on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from hubdesk import config
from hubdesk.domain.enums import Role

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A plain message for stderr."""


def _err(message: str) -> None:
    print(f"hubdesk: {message}", file=sys.stderr)


def _passphrase(prompt: str = "Passphrase: ", *, confirm: bool = False) -> str:
    env = os.environ.get("HUBDESK_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise CliError("no passphrase: run in a terminal, or set HUBDESK_PASSPHRASE")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again, to confirm: ") != first:
        raise CliError("the two passphrases differ; nothing was changed")
    return first


def _user(args: argparse.Namespace) -> str:
    login = getattr(args, "user", None) or os.environ.get("HUBDESK_USER")
    if not login:
        if not sys.stdin.isatty():
            raise CliError("say who you are with --user NAME (or HUBDESK_USER)")
        login = input("User: ")
    return login.strip().lower()


def _open(args: argparse.Namespace, *, progress=None, read_only_for: str | None = None):
    """Unlock for a command. With read_only_for (backup, export), a full disk does not stop
    it: the store opens read-only and the unlock is written to the audit chain next time."""
    from hubdesk.store.errors import DiskFull
    from hubdesk.store.store import Store

    data_dir = config.data_dir(args.data_dir)
    if getattr(args, "recovery_key", False):
        code = os.environ.get("HUBDESK_RECOVERY_KEY") or getpass.getpass("Recovery key: ")

        def attempt(**options):
            return Store.recover(data_dir, code, **options)
    else:
        login = _user(args)
        passphrase = _passphrase(f"Passphrase for {login}: ")

        def attempt(**options):
            return Store.unlock(data_dir, login, passphrase, **options)

    try:
        store = attempt(progress=progress)
    except DiskFull:
        if read_only_for is None:
            raise
        _err("the disk is full: opening the store read-only (this unlock goes into the audit trail next time)")
        store = attempt(read_only=True, purpose=read_only_for)
    for notice in store.notices:
        _err(notice)
    return store


# --- commands --------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    from hubdesk.domain.models import Hub, User
    from hubdesk.domain.money import parse_pounds
    from hubdesk.store.store import Store

    data_dir = config.data_dir(args.data_dir)
    if not args.user:
        raise CliError("say who the first user is with --user LOGIN")
    hub = Hub(code=args.hub, name=args.hub_name or args.hub)
    limit = parse_pounds(args.limit) if args.limit else 0
    user = User(
        login=args.user,
        display_name=args.name or args.user,
        role=args.role,
        hub_code=hub.code,
        payment_limit_pence=limit,
    )
    passphrase = _passphrase(f"New passphrase for {user.login}: ", confirm=True)
    store, recovery = Store.create(data_dir, hub=hub, first_user=user, passphrase=passphrase, device_no=args.device)
    store.lock()
    print(f"Made a new store for {hub.code} in {data_dir}")
    print()
    print("RECOVERY KEY (shown once; write it down and keep it locked away):")
    print(f"    {recovery}")
    print()
    print("It opens the store if every passphrase is forgotten.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from hubdesk.demo import DEMO_PASSPHRASE, build_demo

    data_dir = config.data_dir(args.data_dir)
    if args.people < 0 or args.days < 0:
        raise CliError("--people and --days must be 0 or more")
    counts = build_demo(data_dir, people=args.people, days=args.days, seed=args.seed, per_day=args.per_day)
    source = "HUBDESK_PASSPHRASE" if os.environ.get("HUBDESK_PASSPHRASE") else f"'{DEMO_PASSPHRASE}'"
    print(f"Demo store in {data_dir}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    print(f"Demo users: sam (PA), nadia (duty manager), priya, tom, admin; passphrase {source}")
    return EXIT_OK


def cmd_users(args: argparse.Namespace) -> int:
    from hubdesk.domain.models import User
    from hubdesk.domain.money import format_pence, parse_pounds

    with _open(args) as store:
        if args.users_command == "list":
            for u in store.users():
                state = "" if u.active else " (inactive)"
                print(
                    f"{u.login:<16} {u.role.label:<18} {u.hub_code or '-':<6} "
                    f"limit {format_pence(u.payment_limit_pence):>9}{state}"
                )
            return EXIT_OK
        new = User(
            login=args.login,
            display_name=args.name or args.login,
            role=args.role,
            hub_code=args.hub or store.hub_code,
            payment_limit_pence=parse_pounds(args.limit) if args.limit else 0,
        )
        if os.environ.get("HUBDESK_NEW_PASSPHRASE"):
            new_pass = os.environ["HUBDESK_NEW_PASSPHRASE"]
        elif sys.stdin.isatty():
            new_pass = getpass.getpass(f"New passphrase for {new.login}: ")
            if getpass.getpass("Again, to confirm: ") != new_pass:
                raise CliError("the two passphrases differ; nothing was changed")
        else:
            raise CliError("set HUBDESK_NEW_PASSPHRASE for the new user, or run in a terminal")
        store.add_user(new, new_pass)
        print(f"Added {new.login} ({new.role.label})")
    return EXIT_OK


def cmd_users_remove(args: argparse.Namespace) -> int:
    from hubdesk.cli_keys import cmd_users_remove as remove

    return remove(args, _open)


def cmd_passwd(args: argparse.Namespace) -> int:
    data_dir = config.data_dir(args.data_dir)
    from hubdesk.store.store import Store

    if args.recovery_key:
        code = os.environ.get("HUBDESK_RECOVERY_KEY") or getpass.getpass("Recovery key: ")
        store = Store.recover(data_dir, code)
        login = _user(args)
        old = None
    else:
        login = _user(args)
        old = _passphrase(f"Current passphrase for {login}: ")
        store = Store.unlock(data_dir, login, old)
    with store:
        new = os.environ.get("HUBDESK_NEW_PASSPHRASE")
        if not new:
            if not sys.stdin.isatty():
                raise CliError("set HUBDESK_NEW_PASSPHRASE, or run in a terminal")
            new = getpass.getpass("New passphrase: ")
            if getpass.getpass("Again, to confirm: ") != new:
                raise CliError("the two passphrases differ; nothing was changed")
        store.set_passphrase(login, new, old)
    print(f"Passphrase changed for {login}")
    return EXIT_OK


EXPORTS = ("people", "contacts", "payments", "sessions")


def export_rows(store, what: str) -> list[dict]:
    """Records as flat dicts for CSV/JSON; nested values become JSON text in CSV."""
    from hubdesk.domain.models import Contact, DropInSession, EmergencyPayment

    if what == "people":
        return [p.model_dump(mode="json") for p in store.people()]
    if what == "contacts":
        contacts = store._models(Contact, "SELECT body FROM contacts ORDER BY started_at, version")
        return [c.model_dump(mode="json") for c in contacts]
    if what == "payments":
        rows = []
        for p in store._models(EmergencyPayment, "SELECT body FROM payments ORDER BY recorded_at"):
            row = p.model_dump(mode="json")
            row["state"] = store.payment_state(p.id)
            rows.append(row)
        for r in store.reversals():
            rows.append(r.model_dump(mode="json") | {"state": "reversal"})
        return rows
    rows = []
    for s in store._models(DropInSession, "SELECT body FROM sessions ORDER BY starts_at"):
        row = s.model_dump(mode="json")
        row["attendance"] = [a.model_dump(mode="json") for a in store.attendance(s.id)]
        rows.append(row)
    return rows


def _render(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    from hubdesk.domain.spreadsheet import records_csv

    return records_csv(rows)


def cmd_export(args: argparse.Namespace) -> int:
    data_dir = config.data_dir(args.data_dir).resolve()
    target = Path(args.output).resolve() if args.output else None
    if target is not None and (target == data_dir or data_dir in target.parents):
        raise CliError("an export is in clear: write it outside the data folder (or to stdout)")
    if target is not None:
        from hubdesk.reports.output import OutputRefused, check_target

        try:
            check_target(target, force=args.force)
        except OutputRefused as exc:
            raise CliError(str(exc)) from None
    with _open(args, read_only_for=f"export {args.what} ({args.format})") as store:
        text = _render(export_rows(store, args.what), args.format)
        if not store.read_only:  # a read-only unlock's owed entry already names the export
            with store._save() as now:
                store._audit(now, "export", args.what, None, args.format)
    if target is None:
        sys.stdout.write(text)
    else:
        from hubdesk.reports.output import OutputRefused, write_private

        try:
            write_private(target, text, force=args.force)
        except OutputRefused as exc:
            raise CliError(str(exc)) from None
        print(f"Wrote {args.what} to {target}", file=sys.stderr)
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from hubdesk.store.doctor import doctor

    data_dir = config.data_dir(args.data_dir)
    if args.recovery_key:
        code = os.environ.get("HUBDESK_RECOVERY_KEY") or getpass.getpass("Recovery key: ")
        report = doctor(data_dir, recovery_code=code)
    else:
        login = _user(args)
        report = doctor(data_dir, login=login, passphrase=_passphrase(f"Passphrase for {login}: "))
    print(report.text())
    return EXIT_OK if report.ok else EXIT_FAIL


def cmd_backup(args: argparse.Namespace) -> int:
    from hubdesk.store.backup import make_backup

    with _open(args, read_only_for="backup") as store:
        header = make_backup(store, Path(args.file))
    print(f"Backup written to {args.file} ({header['db_size']:,} bytes, sha256 {header['db_sha256'][:16]}...)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from hubdesk.store.backup import restore_backup

    data_dir = config.data_dir(args.data_dir)
    options = {"replace": args.replace, "force": args.force, "other_hub": args.other_hub}
    if args.recovery_key:
        code = os.environ.get("HUBDESK_RECOVERY_KEY") or getpass.getpass("Recovery key: ")
        done = restore_backup(Path(args.file), data_dir, recovery_code=code, **options)
    else:
        login = _user(args)
        done = restore_backup(
            Path(args.file), data_dir, login=login, passphrase=_passphrase(f"Passphrase for {login}: "), **options
        )
    print(f"Restored the {done.header['hub_code']} store made {done.header['made_at']} into {data_dir}")
    if done.kept is not None:
        print(f"The store it replaced is kept, encrypted, in {done.kept} (open it with --data-dir there)")
    print()
    print("ENROL AGAIN: the restored store is a new device for the central record, so that nothing it")
    print("sends can be taken for what the old device sent. Records made now are kept and sent after")
    where = f" --server {done.server}" if done.server else " --server ADDRESS"
    print(f"enrolment. Ask the central admin for a code, then: hubdesk enrol{where} --code CODE")
    return EXIT_OK


def cmd_desk(args: argparse.Namespace) -> int:
    try:
        from hubdesk.app import run_desk
    except ImportError:
        raise CliError("the desk is not available in this build") from None
    return run_desk(config.data_dir(args.data_dir))


# --- parser ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(
            EXIT_USAGE,
            f"hubdesk: {message} (see `hubdesk {self.prog.split()[-1]} --help`)\n"
            if " " in self.prog
            else f"hubdesk: {message} (see `hubdesk --help`)\n",
        )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _per_day(text: str) -> tuple[int, int]:
    from hubdesk.demo import parse_per_day

    try:
        return parse_per_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _global_options(default: object) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """--data-dir, and --user / --recovery-key. The top level sets their defaults; each
    command's copy leaves an option it was not given alone (argparse.SUPPRESS), so
    `hubdesk --data-dir X init` and `hubdesk init --data-dir X` mean the same."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir", default=default, help="the store's folder (default: HUBDESK_HOME or the platform's)"
    )
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--user", default=default, help="your user name (default: HUBDESK_USER, else asked)")
    who.add_argument(
        "--recovery-key",
        action="store_true",
        default=False if default is None else default,
        help="open with the recovery key instead",
    )
    return common, who


def build_parser() -> argparse.ArgumentParser:
    top_common, top_who = _global_options(None)
    common, who = _global_options(argparse.SUPPRESS)

    parser = _Parser(
        prog="hubdesk", description="The duty desk for a care leavers' service.", parents=[top_common, top_who]
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("desk", parents=[common], help="open the desk (the default)")
    p.set_defaults(func=cmd_desk)

    p = sub.add_parser("init", parents=[common], help="make a new store on this device")
    p.add_argument("--hub", required=True, help="hub code, e.g. DEW")
    p.add_argument("--hub-name", help="the hub's name")
    p.add_argument("--user", default=argparse.SUPPRESS, help="first user's login name (required)")
    p.add_argument("--name", help="first user's display name")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--limit", help="payment authorisation limit in pounds, e.g. 25.00")
    p.add_argument("--device", type=_positive_int, default=1, help="device number for receipts (1-9999)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo", parents=[common], help="make a synthetic demo store")
    p.add_argument("--people", type=_positive_int, default=200)
    p.add_argument("--days", type=_positive_int, default=14)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--per-day", type=_per_day, default="30-60", help="contacts a weekday, fewest-most (default 30-60, a busy hub)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export", parents=[common, who], help="export records as CSV or JSON")
    p.add_argument("--what", required=True, choices=EXPORTS)
    p.add_argument("--format", default="csv", choices=["csv", "json"])
    p.add_argument("--output", help="file to write (default: stdout); never inside the data folder")
    p.add_argument("--force", action="store_true", help="replace the --output file if it exists")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("doctor", parents=[common, who], help="check the store; non-zero exit on damage")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("backup", parents=[common, who], help="write an encrypted backup")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", parents=[common, who], help="restore an encrypted backup")
    p.add_argument("file")
    p.add_argument("--replace", action="store_true", help="replace the store already in the data folder")
    p.add_argument(
        "--force", action="store_true", help="replace it even with records not yet sent (it is kept beside it)"
    )
    p.add_argument("--other-hub", action="store_true", help="restore a backup of another hub's store over this one")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("passwd", parents=[common, who], help="change a passphrase")
    p.set_defaults(func=cmd_passwd)

    p = sub.add_parser("users", parents=[common], help="list, add or remove users")
    users = p.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    u = users.add_parser("list", parents=[common, who])
    u.set_defaults(func=cmd_users)
    u = users.add_parser("add", parents=[common, who])
    u.add_argument("--login", required=True)
    u.add_argument("--name")
    u.add_argument("--role", required=True, choices=[r.value for r in Role])
    u.add_argument("--hub")
    u.add_argument("--limit", help="payment authorisation limit in pounds")
    u.set_defaults(func=cmd_users)
    from hubdesk.cli_keys import add_remove_parser

    add_remove_parser(users, [common, who], cmd_users_remove)

    _add_plugin_parsers(sub, common, who)
    return parser


class _WithParents:
    """Subparsers that give each new command the common options (--data-dir, --user)."""

    def __init__(self, sub: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
        self._sub, self._parents = sub, parents

    def add_parser(self, name: str, **kwargs):
        kwargs.setdefault("parents", self._parents)
        return self._sub.add_parser(name, **kwargs)


def _add_plugin_parsers(sub, common, who) -> None:
    """Commands that live beside the core (sync, reports) add themselves when present.
    A command that sets `store_command` is handed an unlocked Store."""
    for module in ("hubdesk.sync.commands", "hubdesk.reports.commands"):
        try:
            mod = __import__(module, fromlist=["add_parsers"])
        except ImportError:
            continue
        mod.add_parsers(_WithParents(sub, [common, who]))


def _run_store_command(args: argparse.Namespace) -> int:
    with _open(args) as store:
        return args.store_command(args, store)


def sqlcipher_errors() -> type[Exception]:
    from hubdesk.store.sqlcipher import Error

    return Error


def main(argv: Sequence[str] | None = None) -> int:
    from hubdesk.domain.money import MoneyError
    from hubdesk.store.errors import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None and getattr(args, "store_command", None) is not None:
        func = _run_store_command
    if func is None:
        args.data_dir = getattr(args, "data_dir", None)
        func = cmd_desk
    try:
        return func(args)
    except (CliError, StoreError, MoneyError) as exc:
        _err(str(exc))
    except ValidationError as exc:
        from hubdesk.domain.errors import field_errors

        _err("; ".join(f"{k.replace('_', ' ')}: {v}" if k else v for k, v in field_errors(exc).items()))
    except KeyboardInterrupt:
        _err("stopped; nothing half-saved")
        return 130
    except sqlcipher_errors() as exc:
        from hubdesk.store.sqlcipher import translate

        _err(str(translate(exc, "finish")))
    except OSError as exc:
        _err(f"{exc.strerror or 'file error'}" + (f": {exc.filename}" if exc.filename else ""))
    except Exception as exc:  # the last guard: no traceback, no data
        _err(f"unexpected error ({type(exc).__name__}); nothing was half-saved. Run `hubdesk doctor`.")
    return EXIT_FAIL


if __name__ == "__main__":
    raise SystemExit(main())
