"""Emergency payment form: money typed as money, a duty manager's approval when over a limit."""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Label, Select, Static

from hubdesk.domain.enums import PaymentMethod, PaymentStatus, ReceiptKind
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import EmergencyPayment, PaymentCategory
from hubdesk.domain.money import MoneyError, format_pence, parse_pounds
from hubdesk.domain.rules import check_authorisation
from hubdesk.messages import Saved
from hubdesk.store.errors import StoreError
from hubdesk.store.working_set import recent_payments_warning
from hubdesk.widgets.fields import Field
from hubdesk.widgets.money import MoneyInput
from hubdesk.widgets.people import age_text, band_text

from .approval import ApprovalModal, ApprovalResult
from .base import DeskBase
from .form import FormState
from .person import alert_lines

RECEIPT_LABELS = {
    ReceiptKind.SIGNED: "Signed for",
    ReceiptKind.VERBAL: "Acknowledged verbally",
    ReceiptKind.NOT_PRESENT: "Young person not present",
}


class PaymentFormScreen(FormState, DeskBase[str | None]):
    CSS_PATH = "payment.tcss"
    AUTO_FOCUS = "#category"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="payment.save", tooltip="Save this payment"),
        Binding("escape", "back", "Cancel", id="payment.back", tooltip="Back (asks first if anything is typed)"),
    ]

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id
        self.touched: set[str] = set()
        self.form_kind = "payment form"

    def reopen(self) -> PaymentFormScreen:
        return PaymentFormScreen(self.person_id)

    def compose(self) -> ComposeResult:
        store = self.store
        person = store.view_person(self.person_id)
        self.person = person
        day = self.today()
        self.categories: dict[str, PaymentCategory] = {c.code: c for c in store.reference().payment_categories}
        yield Static(
            f"Emergency payment · {person.display_name}, {age_text(person, day)} ({band_text(person, day)})",
            classes="title",
            markup=False,
            id="form-title",
        )
        alerts = alert_lines(person)
        if alerts:
            yield Static("\n".join(alerts), classes="alerts", markup=False)
        # Said before the PA saves: emergency payments in the last 7 days, at either hub.
        recent = recent_payments_warning(store, self.person_id, store.clock())
        if recent:
            yield Static(recent, classes="alerts", markup=False, id="recent-payments")
        with VerticalScroll(id="payment-form"):
            with Horizontal(classes="row"):
                yield Field(
                    "Category",
                    Select(
                        [(f"{c.name} (limit {format_pence(c.limit_pence)})", c.code) for c in self.categories.values()],
                        id="category",
                        prompt="Pick a category",
                    ),
                    name="category",
                )
                yield Field("Amount", MoneyInput(id="amount"), name="amount", hint="£")
            with Horizontal(classes="row"):
                yield Field(
                    "Method",
                    Select([(m.label, m.value) for m in PaymentMethod], id="method", prompt="Pick a method"),
                    name="method",
                )
                # Always open: enabled only once the method's change was handled, a Tab typed
                # straight after picking Voucher skipped it and the serial went into the reason.
                yield Field(
                    "Voucher serial", Input(id="voucher_serial", placeholder="vouchers only"), name="voucher_serial"
                )
            yield Field("Reason", Input(id="reason", placeholder="why it is needed today"), name="reason")
            yield Field(
                "Young person's voice",
                Input(id="voice", placeholder="what they said, in their words"),
                name="voice",
            )
            yield Field(
                "Receipt",
                Select(
                    [(label, kind.value) for kind, label in RECEIPT_LABELS.items()],
                    value=ReceiptKind.SIGNED.value,
                    allow_blank=False,
                    id="receipt",
                ),
                name="receipt",
            )
            yield Static("", id="authorisation", markup=False)
            yield Label(f"Receipt number will be {store.next_receipt_no()}", id="next-receipt", classes="muted")
            yield Label("", id="form-error", classes="form-error", markup=False)
        yield Footer(compact=True)

    # --- reading the form -----------------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _select(self, widget_id: str) -> str | None:
        value = self.query_one(f"#{widget_id}", Select).value
        return value if isinstance(value, str) else None

    def build(self) -> tuple[dict | None, dict[str, str]]:
        """The arguments for store.record_payment, or {field: message}."""
        store = self.store
        errors: dict[str, str] = {}
        category = self._select("category")
        method = self._select("method")
        if category is None:
            errors["category"] = "Pick a category"
        if method is None:
            errors["method"] = "Pick how it is paid"
        try:
            amount = parse_pounds(self._text("amount"))
        except MoneyError as exc:
            errors["amount"] = str(exc)
            amount = 0
        # A serial on another method is refused by the domain's rule, never dropped unseen.
        serial = self._text("voucher_serial").strip() or None
        user = store.user
        login = user.login if user else "recovery"
        try:
            # Validate with the domain's own rules; receipt number and status are stand-ins.
            EmergencyPayment(
                receipt_no="X-1-000000",
                person_id=self.person_id,
                hub_code=store.hub_code,
                category=category or "x",
                amount_pence=amount or 1,
                method=method or PaymentMethod.CASH.value,
                voucher_serial=serial,
                reason=self._text("reason"),
                voice=self._text("voice"),
                recorded_by=login,
                recorded_at=self.now().astimezone(UTC),
                status=PaymentStatus.APPROVED,
                authorised_by=login,
                receipt=self._select("receipt") or ReceiptKind.SIGNED.value,
            )
        except ValidationError as exc:
            for key, msg in field_errors(exc).items():
                target = key or ("voucher_serial" if "serial" in msg.lower() else "")
                errors.setdefault(target, msg)
        if errors:
            return None, errors
        return {
            "person_id": self.person_id,
            "category": category,
            "amount_pence": amount,
            "method": method,
            "reason": self._text("reason"),
            "voucher_serial": serial,
            "voice": self._text("voice"),
            "receipt": self._select("receipt") or "signed",
        }, {}

    def authorisation(self) -> tuple[bool, tuple[str, ...]]:
        store = self.store
        category = self.categories.get(self._select("category") or "")
        amount = self.query_one("#amount", MoneyInput).pence_or_none()
        if category is None or amount is None or store.user is None:
            return False, ()
        check = check_authorisation(store.user, category, amount)
        return check.needs_manager, check.reasons

    def show_errors(self, errors: dict[str, str], *, all_fields: bool) -> None:
        for field in self.query(Field):
            show = all_fields or field.field_name in self.touched
            field.set_error(errors.get(field.field_name) if show else None)
        other = [m for k, m in errors.items() if not self.query(f"#field-{k}")]
        self.query_one("#form-error", Label).update("\n".join(other) if all_fields else "")
        needs, reasons = self.authorisation()
        self.query_one("#authorisation", Static).update("Needs a duty manager: " + "; ".join(reasons) if needs else "")

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event) -> None:
        widget = getattr(event, "input", None) or getattr(event, "select", None)
        if not self.note_change(widget.id if widget is not None else None):
            return
        if self.desk.store is None:
            return  # locked with typing still queued (ctrl+l on a busy laptop): checked at ctrl+s
        _, errors = self.build()
        self.show_errors(errors, all_fields=False)

    # --- saving ---------------------------------------------------------------------------

    def action_save(self) -> None:
        args, errors = self.build()
        self.show_errors(errors, all_fields=True)
        if args is None:
            self.focus_first_error(errors)
            return
        needs, reasons = self.authorisation()
        if not needs:
            self._record(args, None)
            return

        def decided(result: ApprovalResult | None) -> None:
            if result is None:
                return
            self._record(args, result.approver)

        self.app.push_screen(ApprovalModal(args["amount_pence"], reasons), callback=decided)

    def _record(self, args: dict, approver) -> None:
        try:
            payment = self.store.record_payment(**args, approver=approver)
        except StoreError as exc:
            self.query_one("#form-error", Label).update(str(exc))
            return
        amount = format_pence(payment.amount_pence)
        if payment.status is PaymentStatus.AWAITING_APPROVAL:
            self.say(f"{amount} saved AWAITING APPROVAL. Receipt {payment.receipt_no}", timeout=30)
        elif approver is not None:
            self.say(f"{amount} approved by {approver.display_name}. Receipt {payment.receipt_no}", timeout=30)
        else:
            self.say(f"{amount} saved. Receipt {payment.receipt_no}", timeout=30)
        self.post_message(Saved("payment", payment.id))
        self.dismiss(payment.id)

    def on_mount(self) -> None:
        self.start_tracking()
