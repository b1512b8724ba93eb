"""A hostile desk: signed requests from an enrolled Dewsbury desk that try to change what it
may not (issue 9). Each is refused 4xx with a reason, nothing is stored, and the other
hub's desk still syncs."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sync_helpers import CENTRAL_REFERENCE, LiveServer, central_database, enrol_device, make_store
from test_sync_refusals import send

from hubcentral.storage import CentralStore
from hubdesk.domain.day import HandoverNote
from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Attendance, EmergencyPayment, PaymentDecision, Person, Reversal
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
N11_CASE = {
    "case_id": "KC-N11-1",
    "first_name": "Quinn",
    "last_name": "Hostiletest",
    "date_of_birth": "2004-04-04",
    "hub_code": "N11",
    "allocated_pa": "omar",
    # A "do not disclose address" alert, as the attacker stripped.
    "alerts": [{"kind": "do_not_disclose_address", "text": "Do not disclose"}],
}


@dataclass
class Rig:
    dew: Store
    n11: Store
    server: LiveServer
    central: CentralStore
    n11_person: dict[str, Any]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    """A Dewsbury desk (sam), a No. 11 desk (omar) and one service per engine for the module:
    refusals change nothing a later test relies on (that is what is tested)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUBDESK_KDF_PROFILE", "fast")
        mp.setenv("HUBDESK_HOME", str(tmp_path_factory.mktemp("home")))
        with central_database(request.param, tmp_path_factory.mktemp("central")) as db:
            central = CentralStore.open(db)
            central.set_reference(CENTRAL_REFERENCE, NOW)
            central.load_caseload([N11_CASE], NOW)
            server = LiveServer(db).start()
            dew = make_store(tmp_path_factory.mktemp("dew"), "DEW", "sam")
            n11 = make_store(tmp_path_factory.mktemp("n11"), "N11", "omar")
            enrol_device(dew, server, central)
            enrol_device(n11, server, central)
            with SyncClient(n11) as client:
                client.sync()
            yield Rig(dew, n11, server, central, central.person_by_case_id("KC-N11-1") or {})
            dew.lock()
            n11.lock()
            server.stop()
            central.close()


def held(central: CentralStore) -> tuple[int, int, int]:
    return central.count("records"), central.count("people"), central.head()


def push(rig: Rig, kind: str, body: dict[str, Any], *, user: str = "sam", store: Store | None = None) -> Any:
    store = store or rig.dew
    payload = {
        "hub_code": store.hub_code,
        "items": [
            {
                "id": uuid7(),
                "seq": 1,
                "kind": kind,
                "record_id": body.get("id", "x"),
                "body": body,
                "created_at": NOW.isoformat(),
            }
        ],
    }
    return send(rig.server, store, "POST", "/v1/push", payload, user=user)


def refused(rig: Rig, kind: str, body: dict[str, Any], code: int, words: str, **kw: Any) -> str:
    """Push one item; it must be refused with `code`, a reason naming `words`, and nothing kept."""
    before = held(rig.central)
    response = push(rig, kind, body, **kw)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert (result["status"], result["code"]) == ("rejected", code), result
    assert words in result["reason"]
    assert held(rig.central) == before
    other_desk_still_syncs(rig)
    return result["reason"]


def other_desk_still_syncs(rig: Rig) -> None:
    with SyncClient(rig.n11) as client:
        report = client.sync()
    assert report.quarantined == 0
    person = rig.n11.get_person(rig.n11_person["id"])
    assert person.hub_code == "N11" and person.allocated_pa == "omar"
    assert [a.kind.value for a in person.alerts] == ["do_not_disclose_address"]


def payment(hub: str = "DEW", **changes: Any) -> EmergencyPayment:
    base: dict[str, Any] = {
        "receipt_no": f"{hub}-9-{secrets.randbelow(10**6):06d}",
        "person_id": uuid7(),
        "hub_code": hub,
        "category": "gas",
        "amount_pence": 1500,
        "method": "cash",
        "reason": "Synthetic hostile payment",
        "recorded_by": "sam",
        "recorded_at": NOW,
        "status": "approved",
        "authorised_by": "sam",
        "authorised_at": NOW,
    }
    return EmergencyPayment.model_validate(base | changes)


def dump(record: Any) -> dict[str, Any]:
    return json.loads(record.model_dump_json())


# --- a person of the other hub ---------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"alerts": []}, {"hub_code": "DEW"}, {"allocated_pa": "sam"}],
    ids=["strip-alert", "move-hub", "reallocate"],
)
def test_a_dewsbury_desk_cannot_change_a_no11_young_person(rig: Rig, change: dict[str, Any]) -> None:
    body = {**rig.n11_person, **change, "version": rig.n11_person["version"] + 1}
    reason = refused(rig, "person", body, 403, "belongs to hub N11")
    assert "hubdesk-central person transfer" in reason
    assert rig.central.person_by_case_id("KC-N11-1") == rig.n11_person


def test_a_desk_cannot_make_a_young_person_at_another_hub(rig: Rig) -> None:
    body = dump(Person(first_name="Walkin", last_name="Elsewhere", date_of_birth=date(2005, 1, 1), hub_code="N11"))
    refused(rig, "person", body, 403, "may not move anyone between hubs")


# --- who is acting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "words"), [("omar", "works at hub N11"), ("gone", "not an active user"), ("nobody", "not an active user")]
)
def test_acting_as_another_hubs_user_or_an_inactive_one_is_refused(rig: Rig, user: str, words: str) -> None:
    before = held(rig.central)
    response = push(rig, "payment", dump(payment()), user=user)
    assert response.status_code == 403
    assert words in response.json()["detail"]
    assert held(rig.central) == before
    other_desk_still_syncs(rig)


def test_a_record_naming_another_hubs_user_as_recorder_is_refused(rig: Rig) -> None:
    refused(rig, "payment", dump(payment(recorded_by="omar", authorised_by="omar")), 403, "works at hub N11")


# --- approvals against the reference data ----------------------------------------------


def test_an_approval_over_the_managers_limit_is_refused(rig: Rig) -> None:
    big = payment(amount_pence=999_900, authorised_by="nadia")
    reason = refused(rig, "payment", dump(big), 403, "over nadia's limit of £200.00")
    assert "£9,999.00" in reason


def test_a_pa_cannot_authorise_their_own_payment_over_a_limit(rig: Rig) -> None:
    refused(rig, "payment", dump(payment(amount_pence=4500)), 403, "over the Gas top-up limit")


def test_a_pa_cannot_approve_as_a_manager(rig: Rig) -> None:
    # sam is a PA: naming him the authoriser of a payment recorded by nadia is no approval.
    refused(rig, "payment", dump(payment(recorded_by="nadia", authorised_by="sam")), 403, "may not authorise payments")


def test_a_retired_category_is_still_checked_against_the_pas_limit(rig: Rig) -> None:
    # A category the central record no longer lists never makes a record unsendable
    # (test_sync_states), but the PA's own limit still holds.
    refused(rig, "payment", dump(payment(category="driving-lessons", amount_pence=9000)), 403, "over sam's limit")


# --- records that hang on another -------------------------------------------------------


def test_a_decision_or_attendance_whose_parent_is_not_held_is_refused(rig: Rig) -> None:
    decision = PaymentDecision(payment_id=uuid7(), decision="approved", decided_by="nadia", decided_at=NOW)
    refused(rig, "payment_decision", dump(decision), 403, "is not held by the central record")
    reversal = Reversal(payment_id=uuid7(), hub_code="DEW", reason="Synthetic", recorded_by="sam", recorded_at=NOW)
    refused(rig, "reversal", dump(reversal), 403, "is not held by the central record")
    attendance = Attendance(session_id=uuid7(), kind="children", children=2, recorded_by="sam", recorded_at=NOW)
    refused(rig, "attendance", dump(attendance), 403, "is not held by the central record")


def test_a_decision_or_reversal_on_another_hubs_payment_is_refused(rig: Rig) -> None:
    theirs = payment("N11", recorded_by="omar", authorised_by="omar")
    response = push(rig, "payment", dump(theirs), user="omar", store=rig.n11)
    assert response.json()["results"][0]["status"] == "accepted"
    decision = PaymentDecision(payment_id=theirs.id, decision="declined", decided_by="nadia", decided_at=NOW)
    refused(rig, "payment_decision", dump(decision), 403, "Its payment is for hub N11")
    reversal = Reversal(payment_id=theirs.id, hub_code="DEW", reason="Synthetic", recorded_by="sam", recorded_at=NOW)
    refused(rig, "reversal", dump(reversal), 403, "Its payment is for hub N11")


def test_a_decision_on_a_held_payment_is_checked_against_the_managers_limit(rig: Rig) -> None:
    waiting = payment(
        amount_pence=19_000,
        status="awaiting_approval",
        authorised_by=None,
        authorised_at=None,
        category="food-voucher",
        method="voucher",
        voucher_serial="V1",
    )
    assert push(rig, "payment", dump(waiting)).json()["results"][0]["status"] == "accepted"
    as_pa = PaymentDecision(payment_id=waiting.id, decision="approved", decided_by="sam", decided_at=NOW)
    refused(rig, "payment_decision", dump(as_pa), 403, "sam may not authorise payments")
    ok = PaymentDecision(payment_id=waiting.id, decision="approved", decided_by="nadia", decided_at=NOW)
    assert push(rig, "payment_decision", dump(ok)).json()["results"][0]["status"] == "accepted"


# --- the feed --------------------------------------------------------------------------


def test_a_handover_note_that_is_only_an_id_never_enters_the_feed(rig: Rig) -> None:
    refused(rig, "handover_note", {"id": uuid7()}, 422, "Not a valid handover_note")


def test_a_handover_note_for_another_hub_is_refused(rig: Rig) -> None:
    note = HandoverNote(hub_code="N11", day=NOW.date(), text="Synthetic", written_by="sam", written_at=NOW)
    refused(rig, "handover_note", dump(note), 403, "The record is for hub N11")


# --- the central admin's moves, and the caseload against a desk's edits -------------------


def test_the_central_admin_moves_a_young_person_between_hubs(rig: Rig, tmp_path: Any) -> None:
    from hubcentral.cli import main

    rig.central.load_caseload([{**N11_CASE, "case_id": "KC-MOVE-1", "alerts": []}], NOW)
    assert main(["person", "transfer", "KC-MOVE-1", "DEW", "--db", rig.server.db]) == 0
    moved = rig.central.person_by_case_id("KC-MOVE-1")
    assert moved is not None and (moved["hub_code"], moved["version"]) == ("DEW", 2)
    assert main(["person", "transfer", "KC-NOBODY", "DEW", "--db", rig.server.db]) == 1
    assert main(["person", "transfer", "KC-MOVE-1", "XYZ", "--db", rig.server.db]) == 1


def test_a_caseload_load_never_overwrites_a_desk_edit(rig: Rig) -> None:
    case = {**N11_CASE, "case_id": "KC-DEW-EDIT", "hub_code": "DEW", "allocated_pa": "sam", "alerts": []}
    rig.central.load_caseload([case], NOW)
    with SyncClient(rig.dew) as client:
        client.sync()
    held_id = rig.central.person_by_case_id("KC-DEW-EDIT")["id"]  # type: ignore[index]
    person = rig.dew.get_person(held_id)
    rig.dew.update_person(person.model_copy(update={"preferred_name": "Deskname"}), person.version)
    with SyncClient(rig.dew) as client:
        assert client.sync().accepted == 1
    # The system sends the same row again: the desk's edit stands.
    result = rig.central.load_caseload([case], NOW)
    assert (result.same, result.changed, result.conflicts) == (1, 0, 0)
    assert rig.central.person_by_case_id("KC-DEW-EDIT")["preferred_name"] == "Deskname"  # type: ignore[index]
    # The system changed them too: a conflict kept with both sides, not an overwrite.
    before = len(rig.central.conflicts())
    result = rig.central.load_caseload([{**case, "preferred_name": "Systemname"}], NOW)
    assert (result.changed, result.conflicts) == (0, 1)
    assert rig.central.person_by_case_id("KC-DEW-EDIT")["preferred_name"] == "Deskname"  # type: ignore[index]
    conflict = rig.central.conflicts()[before]
    assert conflict["local_body"]["preferred_name"] == "Systemname"
    assert conflict["remote_body"]["preferred_name"] == "Deskname"
    # Loading the same file again does not pile up conflicts.
    assert rig.central.load_caseload([{**case, "preferred_name": "Systemname"}], NOW).conflicts == 0
