"""The service's rules travel as reference data (issue 11, item 4): set centrally, they reach
the desk at its next sync, and the central record checks each approval against them (who
may authorise, up to what, per role), not against a rule that only a duty manager approves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sync_helpers import CENTRAL_REFERENCE, USERS, LiveServer

from hubcentral import cli
from hubcentral.storage.trust import check_decision, check_payment
from hubdesk.domain.enums import PaymentStatus
from hubdesk.domain.models import EmergencyPayment, PaymentDecision, User
from hubdesk.domain.service_rules import BANDS_2026, RoleAuthority, ServiceRules
from hubdesk.store import desk as desk_queries
from hubdesk.store.store import Store
from hubdesk.sync.client import SyncClient

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = ServiceRules(
    age_bands=BANDS_2026,
    authorities=(
        RoleAuthority(role="team_leader", may_authorise=True, limit_pence=5000),
        RoleAuthority(role="service_manager", may_authorise=True, limit_pence=50_000),
    ),
    example=False,
)
TESS = User(
    login="tess", display_name="Tess Test-Leader", role="team_leader", payment_limit_pence=30000, hub_code="DEW"
)
REFERENCE = CENTRAL_REFERENCE.model_copy(update={"users": (*USERS, TESS), "service_rules": RULES})


def _payment(amount: int, authorised_by: str | None) -> EmergencyPayment:
    return EmergencyPayment(
        receipt_no="DEW-1-000001",
        person_id="p",
        hub_code="DEW",
        category="food-voucher",
        amount_pence=amount,
        method="voucher",
        voucher_serial="V1",
        reason="Synthetic",
        recorded_by="sam",
        recorded_at=NOW,
        status=PaymentStatus.APPROVED if authorised_by else PaymentStatus.AWAITING_APPROVAL,
        authorised_by=authorised_by,
        authorised_at=NOW if authorised_by else None,
    )


def test_the_central_record_checks_approvals_against_the_rules() -> None:
    assert check_payment(REFERENCE, _payment(5000, "tess"), "DEW") is None
    assert "over what a team leader may authorise (£50.00)" in (
        check_payment(REFERENCE, _payment(5001, "tess"), "DEW") or ""
    )
    # In this council a duty manager may not authorise at all.
    assert "nadia may not authorise payments" in (check_payment(REFERENCE, _payment(1000, "nadia"), "DEW") or "")
    waiting = _payment(4000, None)
    decide = PaymentDecision(payment_id=waiting.id, decision="approved", decided_by="tess", decided_at=NOW)
    assert check_decision(REFERENCE, decide, waiting, "DEW") is None
    by_nadia = decide.model_copy(update={"decided_by": "nadia"})
    assert "may not authorise payments" in (check_decision(REFERENCE, by_nadia, waiting, "DEW") or "")


def test_the_rules_reach_the_desk(device: Store, server: LiveServer, tmp_path: Path) -> None:
    assert device.service_rules() == ServiceRules()  # the example ones until the first pull
    path = tmp_path / "reference.json"
    path.write_text(REFERENCE.model_dump_json())
    assert cli.main(["--db", server.db, "reference", "set", str(path)]) == 0
    with SyncClient(device) as client:
        client.sync()
    assert device.service_rules() == RULES
    assert [b.label for b in device.service_rules().age_bands] == ["18", "19-22"]
    # The desk's approval list follows: Tess (team leader) approves, Nadia (duty manager) no longer.
    assert [u.login for u in desk_queries.duty_managers(device)] == ["tess"]
