"""Who may change what: a desk is trusted only as far as its enrolment and its users' roles go.

Pure checks over the reference data, each returning the reason for a refusal (fit for
the desk and the admin: logins, hubs, amounts and ids, never personal data) or None.
"""

from __future__ import annotations

from pydantic import BaseModel

from hubdesk.domain.enums import PaymentStatus
from hubdesk.domain.models import EmergencyPayment, PaymentDecision, User
from hubdesk.domain.money import format_pence
from hubdesk.domain.rules import can_approve
from hubdesk.domain.service_rules import ServiceRules
from hubdesk.sync.protocol import CentralReference

# The fields of each kind that name a user who did something at the desk.
ACTORS: dict[str, tuple[str, ...]] = {
    "contact": ("recorded_by",),
    "payment": ("recorded_by", "authorised_by"),
    "payment_decision": ("decided_by",),
    "reversal": ("recorded_by",),
    "session": ("opened_by",),
    "attendance": ("recorded_by",),
    "handover_note": ("written_by",),
    "cash_float": ("recorded_by",),
    "float_count": ("counted_by",),
}


def hub_user(reference: CentralReference | None, login: str | None, hub: str) -> tuple[User | None, str | None]:
    """The active user `login` of `hub` in the reference data, or the reason they are not one.
    A user with no hub in the reference data works council-wide."""
    if reference is None:
        return None, "The central record has no reference data yet: no user can act"
    user = next((u for u in reference.users if u.login == login), None)
    if user is None:
        return None, f"User {login} is not an active user in the central reference data (not listed)"
    if not user.active:
        return None, f"User {login} is not an active user in the central reference data"
    if user.hub_code is not None and user.hub_code != hub:
        return None, f"User {login} works at hub {user.hub_code}, not at {hub} where this device is enrolled"
    return user, None


def check_actors(reference: CentralReference | None, kind: str, record: BaseModel, hub: str) -> str | None:
    """Everyone a record names as acting is an active user of the device's hub."""
    for field in ACTORS.get(kind, ()):
        login = getattr(record, field, None)
        if login is None:
            continue
        _, why = hub_user(reference, login, hub)
        if why:
            return f"{field}: {why}"
    return None


def check_payment(reference: CentralReference | None, payment: EmergencyPayment, hub: str) -> str | None:
    """An approved payment was authorised within the limits: by its recorder within their
    limit and the category's, or by a duty manager within theirs. A category the central
    record has since retired is no refusal (records made before never become unsendable):
    then only the people's limits are checked."""
    assert reference is not None  # check_actors has refused already when there is none
    category = next((c for c in reference.payment_categories if c.code == payment.category), None)
    if payment.status is not PaymentStatus.APPROVED:
        return None
    amount = format_pence(payment.amount_pence)
    authoriser, why = hub_user(reference, payment.authorised_by, hub)
    if authoriser is None:
        return f"authorised_by: {why}"
    rules = reference.service_rules
    if payment.authorised_by == payment.recorded_by and authoriser.role not in rules.approver_roles:
        if category is not None and payment.amount_pence > category.limit_pence:
            return (
                f"{amount} is over the {category.name} limit of {format_pence(category.limit_pence)}: "
                "it needs a duty manager's approval"
            )
        if payment.amount_pence > authoriser.payment_limit_pence:
            return (
                f"{amount} is over {authoriser.login}'s limit of {format_pence(authoriser.payment_limit_pence)}: "
                "it needs a duty manager's approval"
            )
        return None
    ok, why = can_approve(authoriser, payment.amount_pence, rules)
    return None if ok else f"Approval refused by the reference data: {_plain(why, authoriser)}"


def check_decision(
    reference: CentralReference | None, decision: PaymentDecision, payment: EmergencyPayment, hub: str
) -> str | None:
    """A decision on a payment awaiting approval is made by a duty manager, an approval within their limit."""
    manager, why = hub_user(reference, decision.decided_by, hub)
    if manager is None:
        return f"decided_by: {why}"
    rules: ServiceRules = reference.service_rules if reference is not None else ServiceRules()
    if manager.role not in rules.approver_roles:
        return f"Decision refused: {manager.login} may not authorise payments ({manager.role.label.lower()})"
    if decision.decision is PaymentStatus.APPROVED:
        ok, why = can_approve(manager, payment.amount_pence, rules)
        if not ok:
            return f"Approval refused by the reference data: {_plain(why, manager)}"
    return None


def _plain(why: str, user: User) -> str:
    """can_approve names people by display name; the service's answers name logins."""
    return why.replace(user.display_name, user.login)
