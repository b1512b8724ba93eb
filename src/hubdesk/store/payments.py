"""Emergency payments, their decisions and reversals: Store's methods for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hubdesk.domain.enums import PaymentStatus
from hubdesk.domain.models import (
    EmergencyPayment,
    PaymentDecision,
    Reversal,
    User,
)
from hubdesk.domain.rules import can_approve, check_authorisation
from hubdesk.store.common import _iso, _json
from hubdesk.store.errors import (
    NotAllowed,
    NotFound,
)


@dataclass(frozen=True)
class Receipt:
    """What save_payment returns: the payment, and what the desk should say."""

    payment: EmergencyPayment


class PaymentsRepo:
    """Payments, approvals and reversals.

    A part of Store, which inherits it: it uses Store's _save, _audit, _outbox, _rows and _models."""

    # --- payments -------------------------------------------------------------------------

    def next_receipt_no(self) -> str:
        """Peek at the receipt number the next payment here will get."""
        rows = self._rows("SELECT value FROM counters WHERE name = 'receipt'")
        nxt = (rows[0][0] if rows else 0) + 1
        return f"{self.hub_code}-{self.device_no}-{nxt:06d}"

    def record_payment(
        self,
        *,
        person_id: str,
        category: str,
        amount_pence: int,
        method: str,
        reason: str,
        voucher_serial: str | None = None,
        voice: str = "",
        receipt: str = "signed",
        approver: User | None = None,
        corrects: str | None = None,
    ) -> EmergencyPayment:
        """Save a payment with its receipt number. Over a limit it needs a verified
        approver (see verify_manager), else it is saved awaiting approval."""
        self._require_open()
        if self.user is None:
            raise NotAllowed("Unlock as a user to record a payment")
        self.get_person(person_id)
        cat = self.payment_category(category)
        if not cat.active:
            raise NotAllowed(f"{cat.name} is no longer a payment category")
        check = check_authorisation(self.user, cat, amount_pence)
        self.refuse_closed_day(self.hub_code, self.clock())
        if approver is not None:
            ok, why = can_approve(approver, amount_pence, self.service_rules())
            if not ok:
                raise NotAllowed(why)
        with self._save() as now:
            if check.needs_manager and approver is None:
                status, by, at = PaymentStatus.AWAITING_APPROVAL, None, None
            else:
                status, by, at = PaymentStatus.APPROVED, (approver or self.user).login, now
            self.db.execute(
                "INSERT INTO counters(name, value) VALUES ('receipt', 1) "
                "ON CONFLICT(name) DO UPDATE SET value = value + 1"
            )
            number = self._rows("SELECT value FROM counters WHERE name = 'receipt'")[0][0]
            payment = EmergencyPayment(
                receipt_no=f"{self.hub_code}-{self.device_no}-{number:06d}",
                person_id=person_id,
                hub_code=self.hub_code,
                category=category,
                amount_pence=amount_pence,
                method=method,
                voucher_serial=voucher_serial or None,
                reason=reason,
                voice=voice,
                recorded_by=self.user.login,
                recorded_at=now,
                status=status,
                authorised_by=by,
                authorised_at=at,
                receipt=receipt,
                corrects=corrects,
            )
            body = _json(payment)
            seq = self._audit(now, "create", "payment", payment.id, payment.receipt_no, body)
            self.db.execute(
                "INSERT INTO payments(id, receipt_no, person_id, hub_code, category, method, amount_pence, "
                "status, recorded_at, body, audit_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    payment.id,
                    payment.receipt_no,
                    person_id,
                    payment.hub_code,
                    category,
                    payment.method.value,
                    amount_pence,
                    status.value,
                    _iso(now),
                    body,
                    seq,
                ],
            )
            if approver is not None:
                self._audit(now, "approve", "payment", payment.id, f"by {approver.login}")
            self._outbox(now, "payment", payment.id, body)
        return payment

    def get_payment(self, payment_id: str) -> EmergencyPayment:
        found = self._models(EmergencyPayment, "SELECT body FROM payments WHERE id = ?", [payment_id])
        if not found:
            raise NotFound("No such payment")
        return found[0]

    def payment_by_receipt(self, receipt_no: str) -> EmergencyPayment:
        found = self._models(EmergencyPayment, "SELECT body FROM payments WHERE receipt_no = ?", [receipt_no])
        if not found:
            raise NotFound(f"No payment with receipt {receipt_no}")
        return found[0]

    def payment_state(self, payment_id: str) -> str:
        """approved / awaiting_approval / declined / reversed, after later decisions."""
        if self._rows("SELECT 1 FROM reversals WHERE payment_id = ?", [payment_id]):
            return "reversed"
        decision = self._rows("SELECT decision FROM payment_decisions WHERE payment_id = ?", [payment_id])
        if decision:
            return decision[0][0]
        return self.get_payment(payment_id).status.value

    def decide_payment(self, payment_id: str, approve: bool, manager: User, reason: str = "") -> PaymentDecision:
        """Approve or decline a payment saved awaiting approval (manager already verified)."""
        payment = self.get_payment(payment_id)
        if self.payment_state(payment_id) != PaymentStatus.AWAITING_APPROVAL.value:
            raise NotAllowed("That payment is not awaiting approval")
        if approve:
            ok, why = can_approve(manager, payment.amount_pence, self.service_rules())
            if not ok:
                raise NotAllowed(why)
        with self._save() as now:
            decision = PaymentDecision(
                payment_id=payment_id,
                decision=PaymentStatus.APPROVED if approve else PaymentStatus.DECLINED,
                decided_by=manager.login,
                decided_at=now,
                reason=reason,
            )
            body = _json(decision)
            seq = self._audit(now, "approve" if approve else "decline", "payment", payment_id, "", body)
            self.db.execute(
                "INSERT INTO payment_decisions(id, payment_id, decision, decided_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [decision.id, payment_id, decision.decision.value, _iso(now), body, seq],
            )
            self._outbox(now, "payment_decision", decision.id, body)
        return decision

    def reverse_payment(self, payment_id: str, reason: str) -> Reversal:
        """Put right a saved payment. It stays in the history, with this pointing at it."""
        self._require_open()
        payment = self.get_payment(payment_id)
        if self._rows("SELECT 1 FROM reversals WHERE payment_id = ?", [payment_id]):
            raise NotAllowed(f"Payment {payment.receipt_no} is already reversed")
        with self._save() as now:
            reversal = Reversal(
                payment_id=payment_id,
                hub_code=self.hub_code,
                reason=reason,
                recorded_by=self._actor(),
                recorded_at=now,
            )
            body = _json(reversal)
            seq = self._audit(now, "reverse", "payment", payment_id, payment.receipt_no, body)
            self.db.execute(
                "INSERT INTO reversals(id, payment_id, hub_code, recorded_at, body, audit_seq) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [reversal.id, payment_id, self.hub_code, _iso(now), body, seq],
            )
            self._outbox(now, "reversal", reversal.id, body)
        return reversal

    def payments_for_person(self, person_id: str, limit: int = 50) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments WHERE person_id = ? ORDER BY recorded_at DESC LIMIT ?",
            [person_id, limit],
        )

    def payments_between(self, hub_code: str, start: datetime, end: datetime) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments WHERE hub_code = ? AND recorded_at >= ? AND recorded_at < ? "
            "ORDER BY recorded_at",
            [hub_code, _iso(start), _iso(end)],
        )

    def awaiting_approval(self, hub_code: str | None = None) -> list[EmergencyPayment]:
        return self._models(
            EmergencyPayment,
            "SELECT body FROM payments p WHERE hub_code = ? AND status = 'awaiting_approval' "
            "AND NOT EXISTS (SELECT 1 FROM payment_decisions d WHERE d.payment_id = p.id) "
            "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id) ORDER BY recorded_at",
            [hub_code or self.hub_code],
        )

    def reversals(self) -> list[Reversal]:
        return self._models(Reversal, "SELECT body FROM reversals ORDER BY recorded_at")
