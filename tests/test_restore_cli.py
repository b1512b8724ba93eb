"""`hubdesk restore` and the global options as a script uses them: real processes, real files.

Restoring over a store with records not yet sent is refused in one line that says how
many; with --force the old store is kept beside the data folder; the output asks for
enrolment again. Global options work before or after the command."""

from __future__ import annotations

from pathlib import Path

from hubdesk.domain.models import Person
from hubdesk.store.store import Store
from tests.test_cli import PASS, assert_clean_error, hubdesk


def _walk_in(data: Path, n: int) -> None:
    from datetime import date

    with Store.unlock(data, "nadia", PASS) as store:
        store.add_person(
            Person(
                first_name=f"Walkin{n}",
                last_name="Testcase",
                date_of_birth=date(2005, 3, n + 1),
                hub_code="DEW",
                walk_in=True,
                needs_matching=True,
            )
        )


def test_restore_over_unsent_records_refused_then_forced_keeps_the_old_store(tmp_path: Path) -> None:
    data = tmp_path / "desk"
    made = hubdesk("init", "--data-dir", str(data), "--hub", "DEW", "--user", "nadia", "--role", "duty_manager")
    assert made.returncode == 0, made.stderr
    backup = tmp_path / "desk.hubbackup"
    assert hubdesk("backup", "--data-dir", str(data), "--user", "nadia", str(backup)).returncode == 0
    _walk_in(data, 1)
    _walk_in(data, 2)

    refused = hubdesk("restore", "--replace", "--data-dir", str(data), "--user", "nadia", str(backup))
    assert_clean_error(refused, "2 record(s) the central record does not hold (2 waiting to be sent)", "--force")
    with Store.unlock(data, "nadia", PASS) as store:
        assert store.count("people") == 2

    forced = hubdesk("restore", "--replace", "--force", "--data-dir", str(data), "--user", "nadia", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert "ENROL AGAIN" in forced.stdout and "hubdesk enrol --server ADDRESS --code CODE" in forced.stdout
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("desk.replaced-")]
    assert len(kept) == 1 and str(kept[0]) in forced.stdout
    with Store.unlock(data, "nadia", PASS) as store:
        assert store.count("people") == 0
    with Store.unlock(kept[0], "nadia", PASS) as store:
        assert store.count("people") == 2 and store.outbox_waiting() == 2
    assert hubdesk("doctor", "--data-dir", str(data), "--user", "nadia").returncode == 0
    # The restored desk is not enrolled: sync says why and what to do, in one line.
    assert_clean_error(hubdesk("sync", "--data-dir", str(data), "--user", "nadia"), "hubdesk enrol")


def test_global_options_before_or_after_the_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    first = tmp_path / "first"
    made = hubdesk(
        "--data-dir", str(first), "init", "--hub", "DEW", "--user", "nadia", "--role", "duty_manager", env=env
    )
    assert made.returncode == 0, made.stderr
    assert (first / "hubdesk.db").exists() and not home.exists()
    second = tmp_path / "second"
    made = hubdesk(
        "--user", "nadia", "--data-dir", str(second), "init", "--hub", "DEW", "--role", "duty_manager", env=env
    )
    assert made.returncode == 0, made.stderr
    assert (second / "hubdesk.db").exists() and not home.exists()
    for args in (
        ("--data-dir", str(first), "--user", "nadia", "users", "list"),
        ("users", "list", "--data-dir", str(first), "--user", "nadia"),
        ("--user", "nadia", "doctor", "--data-dir", str(first)),
    ):
        result = hubdesk(*args, env=env)
        assert result.returncode == 0, (args, result.stderr)
    assert not home.exists()
    assert_clean_error(
        hubdesk("--data-dir", str(tmp_path / "x"), "init", "--hub", "DEW", "--role", "pa", env=env), "--user"
    )
