"""The service's fixed vocabularies (what is configurable lives in reference data)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PA = "pa"
    ADVANCED_PA = "advanced_pa"
    DUTY_MANAGER = "duty_manager"
    TEAM_LEADER = "team_leader"
    SERVICE_MANAGER = "service_manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "pa": "Personal Advisor",
            "advanced_pa": "Advanced PA",
            "duty_manager": "Duty manager",
            "team_leader": "Team leader",
            "service_manager": "Service manager",
            "admin": "Central admin",
        }[self.value]


class LegalStatus(StrEnum):
    """Children Act 1989 (as amended) categories."""

    ELIGIBLE = "eligible"
    RELEVANT = "relevant"
    FORMER_RELEVANT = "former_relevant"
    QUALIFYING = "qualifying"
    FORMER_RELEVANT_EDUCATION = "former_relevant_education"

    @property
    def label(self) -> str:
        return {
            "eligible": "Eligible",
            "relevant": "Relevant",
            "former_relevant": "Former relevant",
            "qualifying": "Qualifying",
            "former_relevant_education": "Former relevant (education)",
        }[self.value]


class ContactType(StrEnum):
    DROP_IN = "drop_in"
    PHONE = "phone"
    TEXT = "text"
    VIDEO = "video"
    HOME_VISIT = "home_visit"
    OTHER_SETTING = "other_setting"

    @property
    def label(self) -> str:
        return {
            "drop_in": "Drop-in visit",
            "phone": "Phone",
            "text": "Text or message",
            "video": "Video call",
            "home_visit": "Home visit",
            "other_setting": "Other setting",
        }[self.value]


class MadeBy(StrEnum):
    """Who made the contact (not always who recorded it)."""

    DUTY_PA = "duty_pa"
    ALLOCATED_PA = "allocated_pa"
    SOCIAL_WORKER = "social_worker"
    OTHER = "other"


class PaymentMethod(StrEnum):
    CASH = "cash"
    VOUCHER = "voucher"
    UTILITY_TOP_UP = "utility_top_up"
    CARD = "card"
    BANK_TRANSFER_REQUEST = "bank_transfer_request"

    @property
    def label(self) -> str:
        return {
            "cash": "Cash (petty cash float)",
            "voucher": "Voucher",
            "utility_top_up": "Utility top-up",
            "card": "Card",
            "bank_transfer_request": "Bank transfer request",
        }[self.value]

    @property
    def needs_serial(self) -> bool:
        return self is PaymentMethod.VOUCHER


class PaymentStatus(StrEnum):
    APPROVED = "approved"
    AWAITING_APPROVAL = "awaiting_approval"
    DECLINED = "declined"


class ReceiptKind(StrEnum):
    """How the young person acknowledged receipt."""

    SIGNED = "signed"
    VERBAL = "verbal"
    NOT_PRESENT = "not_present"


class AlertKind(StrEnum):
    RISK = "risk"
    DO_NOT_DISCLOSE_ADDRESS = "do_not_disclose_address"
    INTERPRETER_NEEDED = "interpreter_needed"
    CONTACT_PREFERENCE = "contact_preference"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "risk": "Risk",
            "do_not_disclose_address": "Do not disclose address",
            "interpreter_needed": "Interpreter needed",
            "contact_preference": "Preferred contact",
            "other": "Alert",
        }[self.value]


class AttendanceKind(StrEnum):
    PERSON = "person"
    WALK_IN = "walk_in"
    CHILDREN = "children"
