"""A young person's circumstances: the person screen's lines at a glance, and the form that
changes them (contact details, accommodation, EET, pathway plan, immigration, health
passport, children, how often to be in touch). Saved as a new version of the person."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Checkbox, Footer, Input, Label, Select, Static

from hubdesk.domain.circumstances import (
    AccommodationType,
    CircumstanceError,
    Circumstances,
    EetStatus,
    Flag,
    ImmigrationStatus,
    NeetReason,
    PreferredContact,
    add_months,
    day_text,
    frequency_text,
    parse_count,
    parse_frequency,
)
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import ContactDetails, Person
from hubdesk.messages import Saved
from hubdesk.store.circumstances import change_circumstances, out_of_date
from hubdesk.store.errors import StoreError, VersionConflict
from hubdesk.widgets.fields import Field, TickBox
from hubdesk.widgets.people import ALERT_MARK, age_text, band_text, status_text
from hubdesk.widgets.times import parse_day

from .base import DeskBase
from .form import FormState


def _since(day: date | None) -> str:
    return f" since {day_text(day)}" if day else ""


def circumstance_lines(person: Person, today: date) -> list[str]:
    """The person screen's circumstances, one line a subject; what is missing says so."""
    c = person.circumstances
    contact = person.contact
    if c.empty and contact == ContactDetails() and not person.uasc:
        return [
            f"Circumstances not recorded yet (e adds them) · in touch: {frequency_text(person.expected_contact_days)}"
        ]
    lines: list[str] = []
    acc = c.accommodation
    if acc is None:
        lines.append("Accommodation: not recorded")
    else:
        suitable = {True: "suitable", False: "UNSUITABLE", None: "suitability not recorded"}[acc.suitable]
        lines.append(f"Accommodation: {acc.kind.label}{_since(acc.since)} · {suitable}")
    if c.eet is None:
        lines.append("EET: not recorded")
    else:
        why = f" ({c.eet.neet_reason.label.lower()})" if c.eet.neet_reason else ""
        lines.append(f"EET: {c.eet.status.label}{why}{_since(c.eet.since)}")
    plan = c.pathway_plan
    if plan is None:
        lines.append("Pathway plan: none recorded")
    else:
        late = " · OVERDUE" if plan.overdue(today) else ""
        lines.append(f"Pathway plan: reviewed {day_text(plan.last_review)}, next due {day_text(plan.due)}{late}")
    if person.uasc or c.immigration or c.interpreter_language:
        status = c.immigration.status.label if c.immigration else "immigration status not recorded"
        language = f" · interpreter: {c.interpreter_language}" if c.interpreter_language else ""
        lines.append(
            f"Separated young person: {status}{_since(c.immigration.since if c.immigration else None)}{language}"
        )
    more = [f"In touch: {frequency_text(person.expected_contact_days)}"]
    if c.health_passport_given:
        more.append(f"health passport given {day_text(c.health_passport_given)}")
    if c.children:
        more.append(f"young parent, {c.children} {'child' if c.children == 1 else 'children'}")
    if c.extended_support:
        more.append("extended support past 25")
    lines.append(" · ".join(more))
    how = f" · prefers {contact.preferred.label.lower()}" if contact.preferred else ""
    lines.append(f"Phone: {contact.phone or '-'}    Email: {contact.email or '-'}{how}")
    if contact.address:
        lines.append(f"Address: {contact.address}")
    return lines


def flag_line(person: Person, today: date) -> str:
    """What is out of date, marked: 'Pathway plan overdue · Accommodation unsuitable · NEET'."""
    shown = [f for f in out_of_date(person, today) if f is not Flag.ACCOMMODATION_NOT_RECORDED]
    return f"{ALERT_MARK} " + " · ".join(f.label for f in shown) if shown else ""


# --- the form -----------------------------------------------------------------------------

_SUITABLE = [("Yes", "yes"), ("No", "no")]
_DATE_FIELDS = {
    "acc_since": "Accommodation since",
    "eet_since": "Since",
    "plan_last": "Last review",
    "plan_due": "Next due",
    "imm_since": "Since",
    "passport": "Health passport given",
}
# Which form field shows a record rule, by the model's field name.
_FIELD_OF = {
    "accommodation": "accommodation",
    "eet": "eet",
    "pathway_plan": "plan_due",
    "immigration": "immigration",
    "interpreter_language": "interpreter",
    "health_passport_given": "passport",
    "children": "children",
    "phone": "phone",
    "email": "email",
    "address": "address",
}


def _select(options, value, widget_id: str, prompt: str = "not recorded") -> Select:
    return Select(options, value=value if value is not None else Select.NULL, prompt=prompt, id=widget_id)


class CircumstancesFormScreen(FormState, DeskBase[str | None]):
    """Change a young person's details; saved against the version that was opened."""

    DEFAULT_CSS = """
    CircumstancesFormScreen { padding: 0 1; }
    CircumstancesFormScreen #circumstances-form { height: 1fr; }
    CircumstancesFormScreen .row { height: auto; }
    CircumstancesFormScreen .row > Field { width: 1fr; margin-right: 1; }
    CircumstancesFormScreen .row > TickBox { width: auto; margin-top: 1; }
    CircumstancesFormScreen #form-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="circumstances.save", tooltip="Save these details"),
        Binding("escape", "back", "Cancel", id="circumstances.back", tooltip="Back (asks first if anything is typed)"),
    ]
    AUTO_FOCUS = "#phone"
    form_kind = "details form"

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id
        self.touched: set[str] = set()
        self.base_version = 0
        self._suggested_due = ""
        self._due_typed = False

    def reopen(self) -> CircumstancesFormScreen:
        return CircumstancesFormScreen(self.person_id)

    def compose(self) -> ComposeResult:
        person: Person = self.store.view_person(self.person_id)
        self.person = person
        self.base_version = person.version
        day = self.today()
        c, contact = person.circumstances, person.contact
        acc, eet, plan, imm = c.accommodation, c.eet, c.pathway_plan, c.immigration

        def d(value: date | None) -> str:
            return day_text(value) if value else ""

        yield Static(
            f"Details · {person.display_name}, {age_text(person, day)} ({band_text(person, day)}), "
            f"{status_text(person)}",
            classes="title",
            markup=False,
        )
        example = day_text(day)
        with VerticalScroll(id="circumstances-form"):
            with Horizontal(classes="row"):
                yield Field("Phone", Input(contact.phone, id="phone"), name="phone")
                yield Field("Email", Input(contact.email, id="email"), name="email")
                yield Field(
                    "Preferred contact",
                    _select([(p.label, p.value) for p in PreferredContact], contact.preferred, "preferred", "not said"),
                    name="preferred",
                )
            yield Field("Address", Input(contact.address, id="address"), name="address")
            with Horizontal(classes="row"):
                yield Field(
                    "Accommodation",
                    _select(
                        [(a.label, a.value) for a in AccommodationType], acc.kind if acc else None, "accommodation"
                    ),
                    name="accommodation",
                )
                suitable = None if acc is None or acc.suitable is None else ("yes" if acc.suitable else "no")
                yield Field("Suitable", _select(_SUITABLE, suitable, "suitable"), name="suitable")
                yield Field(
                    "Since", Input(d(acc.since if acc else None), id="acc_since"), name="acc_since", hint=example
                )
            with Horizontal(classes="row"):
                yield Field(
                    "Education, work (EET)",
                    _select([(e.label, e.value) for e in EetStatus], eet.status if eet else None, "eet"),
                    name="eet",
                )
                yield Field(
                    "NEET reason",
                    _select(
                        [(r.label, r.value) for r in NeetReason],
                        eet.neet_reason if eet else None,
                        "neet_reason",
                        "not NEET",
                    ),
                    name="neet_reason",
                )
                yield Field("Since", Input(d(eet.since if eet else None), id="eet_since"), name="eet_since")
            with Horizontal(classes="row"):
                yield Field(
                    "Plan last reviewed",
                    Input(d(plan.last_review if plan else None), id="plan_last"),
                    name="plan_last",
                    hint=example,
                )
                yield Field(
                    "Next review due",
                    Input(d(plan.next_due if plan else None), id="plan_due"),
                    name="plan_due",
                    hint="by 6 months",
                )
            with Horizontal(classes="row"):
                yield Field(
                    "Immigration status",
                    _select(
                        [(s.label, s.value) for s in ImmigrationStatus], imm.status if imm else None, "immigration"
                    ),
                    name="immigration",
                )
                yield Field("Since", Input(d(imm.since if imm else None), id="imm_since"), name="imm_since")
                yield Field(
                    "Interpreter language", Input(c.interpreter_language or "", id="interpreter"), name="interpreter"
                )
            with Horizontal(classes="row"):
                yield Field("Health passport", Input(d(c.health_passport_given), id="passport"), name="passport")
                yield Field(
                    "Children",
                    Input("" if c.children is None else str(c.children), id="children"),
                    name="children",
                )
                every = person.expected_contact_days
                yield Field(
                    "In touch every",
                    Input("" if every is None else str(every), id="every"),
                    name="every",
                    hint="days",
                )
                yield TickBox("Extended support past 25", value=c.extended_support, id="extended", compact=True)
            yield Label("", id="form-error", classes="form-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.start_tracking()

    # --- reading the form -----------------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _choice(self, widget_id: str) -> str | None:
        value = self.query_one(f"#{widget_id}", Select).value
        return None if value is Select.NULL or value is None else str(value)

    def build(self) -> tuple[tuple[ContactDetails, Circumstances, int | None] | None, dict[str, str]]:
        errors: dict[str, str] = {}
        today = self.today()
        days: dict[str, date | None] = {}
        for name, what in _DATE_FIELDS.items():
            text = self._text(name).strip()
            days[name] = None
            if not text:
                continue
            try:
                days[name] = parse_day(text, today)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if name != "plan_due" and days[name] > today:  # type: ignore[operator]
                errors[name] = f"{what}: that is in the future"
        try:
            children = parse_count(self._text("children"))
        except CircumstanceError as exc:
            errors["children"], children = str(exc), None
        try:
            every = parse_frequency(self._text("every"))
        except CircumstanceError as exc:
            errors["every"], every = str(exc), None

        data: dict[str, object] = {
            "interpreter_language": self._text("interpreter").strip() or None,
            "health_passport_given": days["passport"],
            "children": children,
            "extended_support": self.query_one("#extended", Checkbox).value,
        }
        kind = self._choice("accommodation")
        suitable = self._choice("suitable")
        if kind:
            data["accommodation"] = {
                "kind": kind,
                "suitable": None if suitable is None else suitable == "yes",
                "since": days["acc_since"],
            }
        elif suitable or days["acc_since"]:
            errors.setdefault("accommodation", "Pick the type of accommodation")
        status, reason = self._choice("eet"), self._choice("neet_reason")
        if status:
            data["eet"] = {"status": status, "neet_reason": reason, "since": days["eet_since"]}
        elif reason or days["eet_since"]:
            errors.setdefault("eet", "Pick education, training, employment or NEET")
        if days["plan_last"]:
            data["pathway_plan"] = {"last_review": days["plan_last"], "next_due": days["plan_due"]}
        elif days["plan_due"]:
            errors.setdefault("plan_last", "Give the date of the last review")
        immigration = self._choice("immigration")
        if immigration:
            data["immigration"] = {"status": immigration, "since": days["imm_since"]}
        elif days["imm_since"]:
            errors.setdefault("immigration", "Pick the immigration status")

        circumstances = contact = None
        try:
            circumstances = Circumstances.model_validate(data)
        except ValidationError as exc:
            for key, message in field_errors(exc).items():
                target = _FIELD_OF.get(key, "accommodation")
                if key == "eet" and "reason" in message:
                    target = "neet_reason"
                if key == "accommodation" and "suitable" in message:
                    target = "suitable"
                errors.setdefault(target, message)
        try:
            contact = ContactDetails(
                phone=self._text("phone"),
                email=self._text("email"),
                address=self._text("address"),
                preferred=self._choice("preferred"),
            )
        except ValidationError as exc:
            for key, message in field_errors(exc).items():
                errors.setdefault(_FIELD_OF.get(key, "phone"), message)
        if errors or circumstances is None or contact is None:
            return None, errors
        return (contact, circumstances, every), {}

    def show_errors(self, errors: dict[str, str], *, all_fields: bool) -> None:
        for field in self.query(Field):
            show = all_fields or field.field_name in self.touched
            field.set_error(errors.get(field.field_name) if show else None)
        elsewhere = [m for n, m in errors.items() if not self.query(f"#field-{n}")]
        self.query_one("#form-error", Label).update("\n".join(elsewhere) if all_fields else "")

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event) -> None:
        widget = getattr(event, "input", None) or getattr(event, "select", None) or getattr(event, "checkbox", None)
        if not self.note_change(widget.id if widget is not None else None):
            return
        if isinstance(event, Select.Changed) and event.select.id == "eet" and event.value != EetStatus.NEET.value:
            self.query_one("#neet_reason", Select).value = Select.NULL
        if isinstance(event, Input.Changed) and event.input.id == "plan_due" and event.value != self._suggested_due:
            self._due_typed = True
        if isinstance(event, Input.Changed) and event.input.id == "plan_last" and not self._due_typed:
            self._suggest_due()
        if self.desk.store is None:
            return
        _, errors = self.build()
        self.show_errors(errors, all_fields=False)

    def _suggest_due(self) -> None:
        """A new review date moves the next one to six months on, unless it was typed."""
        try:
            last = parse_day(self._text("plan_last"), self.today())
        except ValueError:
            return
        self._suggested_due = day_text(add_months(last, 6))
        self.query_one("#plan_due", Input).value = self._suggested_due

    # --- saving ---------------------------------------------------------------------------

    def action_save(self) -> None:
        built, errors = self.build()
        self.show_errors(errors, all_fields=True)
        if built is None:
            self.focus_first_error(errors)
            return
        contact, circumstances, every = built
        person = self.person
        if (contact, circumstances, every) == (person.contact, person.circumstances, person.expected_contact_days):
            self.say("Nothing changed: no new version saved")
            self.dismiss(None)
            return
        try:
            saved = change_circumstances(
                self.store,
                self.person_id,
                self.base_version,
                contact=contact,
                circumstances=circumstances,
                expected_contact_days=every,
            )
        except VersionConflict:
            self.query_one("#form-error", Label).update(
                "Someone changed these details on this desk since you opened them: "
                "Escape, open them again, and make your change again."
            )
            return
        except StoreError as exc:
            self.query_one("#form-error", Label).update(str(exc))
            return
        self.say(f"{saved.display_name}'s details saved")
        self.post_message(Saved("person", saved.id))
        self.dismiss(saved.id)
