"""The central admin finishes what the service starts (issue 12): `conflicts settle`,
`walk-ins list|match` and `reference example`, through hubdesk-central's own CLI, on both
engines. Hostile inputs (an unknown id, a conflict settled again, a bad --keep, a merge that
is not a valid record, a walk-in matched twice) are one-line refusals, exit non-zero, and
change nothing."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hubcentral.cli import main as central_cli
from hubcentral.storage import CentralStore, Device
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Contact, Person
from hubdesk.sync.protocol import PushItem, b64

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = {
    "case_id": "KC-ADM-1",
    "first_name": "Adminia",
    "last_name": "Testcase",
    "date_of_birth": "2005-02-03",
    "hub_code": "DEW",
    "legal_status": "relevant",
}


def run(db: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = central_cli([*args] if args[:2] == ("reference", "example") else [*args, "--db", db])
    except SystemExit as exc:  # argparse's own refusal (a bad choice)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def desk(central: CentralStore) -> Device:
    code = central.make_enrolment_code("DEW", NOW + timedelta(hours=1), NOW)
    return central.enrol(code, uuid7(), "DEW", b64(secrets.token_bytes(32)), "Test desk 1", NOW)


def push(central: CentralStore, device: Device, kind: str, body: dict[str, Any], seq: int) -> str:
    [result] = central.push(
        device,
        "sam",
        [PushItem(id=uuid7(), seq=seq, kind=kind, record_id=body["id"], body=body, created_at=NOW)],
        NOW,
    )[0]
    return result.status.value


def state(central: CentralStore) -> tuple:
    """What an admin command must leave alone when it refuses."""
    with central.engine.transaction(write=False) as tx:
        return (
            tx.all("SELECT id, version, body FROM people ORDER BY id"),
            tx.all("SELECT id, settled_at FROM conflicts ORDER BY id"),
            tx.one("SELECT max(seq) FROM changes"),
            tx.all("SELECT kind, record_id, body FROM records ORDER BY kind, record_id"),
        )


@pytest.fixture
def conflicted(central: CentralStore) -> tuple[CentralStore, str, list[str]]:
    """A young person whose record a desk edited twice against version 1: the first edit taken
    (version 2), the other three kept as conflicts, both sides held."""
    central.load_caseload([CASE], NOW)
    person = central.person_by_case_id("KC-ADM-1")
    assert person is not None
    device = desk(central)
    taken = {**person, "version": 2, "preferred_name": "Addy", "contact": {**person["contact"], "phone": "0111"}}
    assert push(central, device, "person", taken, 1) == "accepted"
    for n, preferred in enumerate(("Deskname", "Otherdesk", "Thirddesk"), start=2):
        edit = {
            **person,
            "version": 2,
            "preferred_name": preferred,
            "contact": {**person["contact"], "phone": f"022{n}"},
        }
        assert push(central, device, "person", edit, n) == "conflict"
    ids = [c["id"] for c in central.conflicts()]
    assert len(ids) == 3
    return central, person["id"], ids


def test_settle_keeping_the_device_the_central_record_or_a_merge(
    conflicted, central_db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    central, _person_id, (first, second, third) = conflicted
    head = state(central)[2][0]
    code, out, err = run(central_db, capsys, "conflicts", "settle", first, "--keep", "device", "--by", "Test Admin")
    assert code == 0, err
    assert "now version 3" in out
    person = central.person_by_case_id("KC-ADM-1")
    assert (person["version"], person["preferred_name"], person["contact"]["phone"]) == (3, "Deskname", "0222")
    assert state(central)[2][0] > head  # in the feed: every desk pulls version 3

    # A merge: the central record, with the device's preferred name only.
    code, out, err = run(
        central_db, capsys, "conflicts", "settle", second, "--keep", "merged", "--from-device", "preferred_name"
    )
    assert code == 0, err
    person = central.person_by_case_id("KC-ADM-1")
    assert (person["version"], person["preferred_name"], person["contact"]["phone"]) == (4, "Otherdesk", "0222")

    # The central record kept: nothing changes but the conflict.
    code, out, err = run(central_db, capsys, "conflicts", "settle", third, "--keep", "central")
    assert code == 0 and "kept the central record" in out
    assert central.person_by_case_id("KC-ADM-1")["version"] == 4
    assert all(c["settled_at"] for c in central.conflicts())
    code, out, _ = run(central_db, capsys, "conflicts", "list", "--all")
    assert first in out and second in out


def test_a_merge_given_as_a_whole_record(conflicted, central_db: str, capsys, tmp_path: Path) -> None:
    central, _person_id, (first, *_rest) = conflicted
    current = central.person_by_case_id("KC-ADM-1")
    body = tmp_path / "merged.json"
    body.write_text(
        json.dumps({**current, "preferred_name": "Mergedname", "contact": {**current["contact"], "phone": "0333"}})
    )
    code, _out, err = run(central_db, capsys, "conflicts", "settle", first, "--keep", "merged", "--body", str(body))
    assert code == 0, err
    person = central.person_by_case_id("KC-ADM-1")
    assert (person["version"], person["preferred_name"], person["contact"]["phone"]) == (3, "Mergedname", "0333")


@pytest.mark.parametrize(
    "args, says",
    [
        (["--keep", "both"], "invalid choice"),
        (["--keep", "merged"], "needs either --from-device"),
        (["--keep", "merged", "--from-device", "nosuchfield"], "has no field nosuchfield"),
        (["--keep", "device", "--from-device", "preferred_name"], "go with --keep merged only"),
        (["--keep", "merged", "--body", "BAD_DATE"], "not a valid person: date_of_birth"),
        (["--keep", "merged", "--body", "OTHER_HUB"], "person transfer"),
        (["--keep", "merged", "--body", "NOT_JSON"], "is not JSON"),
        (["--keep", "merged", "--body", "MISSING"], "Cannot read"),
    ],
)
def test_a_bad_settlement_changes_nothing(
    conflicted, central_db: str, capsys, tmp_path: Path, args: list[str], says: str
) -> None:
    central, _, (first, *_rest) = conflicted
    current = central.person_by_case_id("KC-ADM-1")
    files = {
        "BAD_DATE": json.dumps({**current, "date_of_birth": "1900-01-01"}),
        "OTHER_HUB": json.dumps({**current, "hub_code": "N11"}),
        "NOT_JSON": "{not json",
    }
    args = [str(tmp_path / a) if a in files or a == "MISSING" else a for a in args]
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    before = state(central)
    code, out, err = run(central_db, capsys, "conflicts", "settle", first, *args)
    assert code == 2 and out == ""
    assert says in err and "Traceback" not in err
    assert state(central) == before


def test_unknown_or_already_settled_conflicts_are_refused(conflicted, central_db: str, capsys) -> None:
    central, _, (first, *_rest) = conflicted
    before = state(central)
    code, out, err = run(central_db, capsys, "conflicts", "settle", "no-such-conflict", "--keep", "central")
    assert (code, out) == (2, "") and err.strip() == (
        "hubdesk-central: not settled: No conflict no-such-conflict is held (see `hubdesk-central conflicts list`)"
    )
    assert state(central) == before
    assert run(central_db, capsys, "conflicts", "settle", first, "--keep", "device")[0] == 0
    settled = state(central)
    code, out, err = run(central_db, capsys, "conflicts", "settle", first, "--keep", "central")
    assert code == 2 and out == "" and "already settled" in err and "(kept device)" in err
    assert len(err.strip().splitlines()) == 1
    assert state(central) == settled


@pytest.fixture
def walked_in(central: CentralStore) -> tuple[CentralStore, Person, Contact]:
    """A Dewsbury desk recorded someone it could not find as a walk-in, and their visit."""
    central.load_caseload([CASE], NOW)
    device = desk(central)
    person = Person(
        first_name="Walkina", last_name="Testcase", approx_age=19, hub_code="DEW", walk_in=True, needs_matching=True
    )
    assert push(central, device, "person", person.model_dump(mode="json"), 1) == "accepted"
    visit = Contact(
        person_id=person.id,
        hub_code="DEW",
        contact_type="drop_in",
        recorded_by="sam",
        started_at=NOW,
        recorded_at=NOW,
        seen=True,
        purposes=("money",),
        summary="Synthetic walk-in visit",
    )
    assert push(central, device, "contact", visit.model_dump(mode="json"), 2) == "accepted"
    return central, person, visit


def test_a_walk_in_is_matched_to_a_known_person_and_the_match_is_in_the_exports(
    walked_in, central_db: str, capsys
) -> None:
    central, walk_in, _visit = walked_in
    code, out, _ = run(central_db, capsys, "walk-ins", "list")
    assert code == 0 and walk_in.id in out and "Walkina Testcase" in out and "about 19" in out
    code, out, err = run(
        central_db, capsys, "walk-ins", "match", walk_in.id, "KC-ADM-1", "--by", "Test Admin", "--note", "DOB checked"
    )
    assert code == 0, err
    assert "Matched walk-in" in out
    code, out, _ = run(central_db, capsys, "walk-ins", "list")
    assert walk_in.id not in out and "No walk-ins waiting" in out
    code, out, _ = run(central_db, capsys, "walk-ins", "list", "--all")
    assert walk_in.id in out and "matched to KC-ADM-1" in out
    # The desks pull the walk-in with 'needs matching' cleared.
    with central.engine.transaction(write=False) as tx:
        body = json.loads(tx.one("SELECT body FROM people WHERE id = ?", [walk_in.id])[0])
    assert (body["version"], body["needs_matching"]) == (2, False)
    # The match is a record of its own: in `export --what walk_in_match` and `--what all`.
    code, out, _ = run(central_db, capsys, "export", "--what", "walk_in_match")
    [match] = json.loads(out)
    assert (match["walk_in_id"], match["case_id"], match["matched_by"], match["note"]) == (
        walk_in.id,
        "KC-ADM-1",
        "Test Admin",
        "DOB checked",
    )
    code, out, _ = run(central_db, capsys, "export")
    assert json.loads(out)["walk_in_match"] == [match]


@pytest.mark.parametrize(
    "which, case_id, says",
    [
        ("WALK_IN", "KC-NOPE-1", "No young person with case id KC-NOPE-1"),
        ("unknown-id", "KC-ADM-1", "No walk-in with id unknown-id"),
        ("CASELOAD", "KC-ADM-1", "is not a walk-in"),
        ("AGAIN", "KC-ADM-1", "already matched to case KC-ADM-1"),
    ],
)
def test_a_bad_match_changes_nothing(walked_in, central_db: str, capsys, which: str, case_id: str, says: str) -> None:
    central, walk_in, _ = walked_in
    target = {"WALK_IN": walk_in.id, "AGAIN": walk_in.id}.get(which, which)
    if which == "CASELOAD":
        target = central.person_by_case_id("KC-ADM-1")["id"]
    if which == "AGAIN":
        assert run(central_db, capsys, "walk-ins", "match", walk_in.id, "KC-ADM-1")[0] == 0
    before = state(central)
    code, out, err = run(central_db, capsys, "walk-ins", "match", target, case_id)
    assert code == 2 and out == "" and says in err and len(err.strip().splitlines()) == 1
    assert state(central) == before


def test_the_reference_example_is_complete_marked_and_accepted(central_db: str, capsys, tmp_path: Path) -> None:
    code, out, err = run(central_db, capsys, "reference", "example")
    assert code == 0 and "EXAMPLE" in err
    data = json.loads(out)
    assert data["example"] is True and data["retention_days"] == 90
    for section in ("hubs", "users", "session_types", "contact_purposes", "payment_categories"):
        assert data[section], section
    assert all(h["name"].startswith("Example") for h in data["hubs"])
    assert all(u["login"].endswith("-example") and u["display_name"].startswith("Example") for u in data["users"])
    hubs = {h["code"] for h in data["hubs"]}
    assert all(u["hub_code"] in hubs | {None} for u in data["users"])
    assert {u["role"] for u in data["users"]} >= {"pa", "duty_manager", "admin"}
    assert all(c["limit_pence"] > 0 for c in data["payment_categories"])
    path = tmp_path / "reference.json"
    path.write_text(out)
    code, out, err = run(central_db, capsys, "reference", "set", str(path))
    assert code == 0, err
    store = CentralStore.open(central_db)
    try:
        held = store.reference()
        assert held is not None and held.example and held.model_dump(mode="json") == data
    finally:
        store.close()
