"""Visit / contact form: everything DOMAIN.md lists for a contact, validated as you type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Footer, Input, Label, Select, SelectionList, Static

from hubdesk.domain.enums import ContactType, MadeBy
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Action, Contact, Person, Safeguarding
from hubdesk.messages import Saved
from hubdesk.store.errors import StoreError
from hubdesk.widgets.fields import Field, TickBox
from hubdesk.widgets.people import age_text, band_text, status_text
from hubdesk.widgets.ticks import TickList
from hubdesk.widgets.times import date_example, hhmm, parse_day, parse_when

from .base import DeskBase
from .form import FormState
from .person import alert_lines

MADE_BY = {
    MadeBy.DUTY_PA: "Duty PA",
    MadeBy.ALLOCATED_PA: "Allocated PA",
    MadeBy.SOCIAL_WORKER: "Social worker",
    MadeBy.OTHER: "Someone else",
}

# Which field shows a whole-record rule, by the words of its message.
_RECORD_RULES = {"seen": "seen", "safeguarding": "sg_action", "end time": "started"}


class ContactFormScreen(FormState, DeskBase[str | None]):
    """visit=True signs the person in now (a drop-in visit); otherwise any other contact."""

    CSS_PATH = "contact.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="contact.save", tooltip="Save this record"),
        Binding("escape", "back", "Cancel", id="contact.back", tooltip="Back (asks first if anything is typed)"),
    ]

    def __init__(self, person_id: str, *, visit: bool) -> None:
        super().__init__()
        self.person_id = person_id
        self.visit = visit
        self.touched: set[str] = set()
        self.opened_at: datetime | None = None
        self.AUTO_FOCUS = "#purposes" if visit else "#contact_type"
        self.form_kind = "visit form" if visit else "contact form"

    def reopen(self) -> ContactFormScreen:
        return ContactFormScreen(self.person_id, visit=self.visit)

    def compose(self) -> ComposeResult:
        store = self.store
        person: Person = store.view_person(self.person_id)
        self.person = person
        day = self.today()
        self.opened_at = self.now()
        purposes = [(p.name, p.code) for p in store.reference().contact_purposes]
        heading = "Sign in: drop-in visit" if self.visit else "Record a contact"
        yield Static(
            f"{heading} · {person.display_name}, {age_text(person, day)} "
            f"({band_text(person, day)}), {status_text(person)}",
            classes="title",
            markup=False,
            id="form-title",
        )
        alerts = alert_lines(person)
        if alerts:
            yield Static("\n".join(alerts), classes="alerts", markup=False)
        with VerticalScroll(id="contact-form"):
            if not self.visit:
                with Horizontal(classes="row"):
                    yield Field(
                        "Type",
                        Select(
                            [(t.label, t.value) for t in ContactType if t is not ContactType.DROP_IN],
                            value=ContactType.PHONE.value,
                            allow_blank=False,
                            id="contact_type",
                        ),
                        name="contact_type",
                    )
                    yield Field(
                        "When it happened", Input(hhmm(self.opened_at), id="started"), name="started", hint="14:05"
                    )
                    yield Field(
                        "Made by",
                        Select(
                            [(label, m.value) for m, label in MADE_BY.items()],
                            value=MadeBy.DUTY_PA.value,
                            allow_blank=False,
                            id="made_by",
                        ),
                        name="made_by",
                    )
                    yield TickBox("Seen", value=False, id="seen", compact=True)
            yield Field("Purposes", TickList(*purposes, id="purposes"), name="purposes", hint="space to tick")
            if not purposes:
                yield Label("No contact purposes on this desk yet: sync with the central record.", classes="form-error")
            yield Field("What happened", Input(id="summary", placeholder="a line is enough"), name="summary")
            yield Field(
                "Young person's voice",
                Input(id="voice", placeholder="what they said and wanted, in their words"),
                name="voice",
            )
            with Horizontal(classes="row"):
                yield Field("Action (optional)", Input(id="action_text"), name="action_text")
                yield Field("Who owns it", Input(id="action_owner"), name="action_owner")
                yield Field("By when", Input(id="action_due"), name="action_due", hint=date_example(self.today()))
            yield TickBox("Tell the allocated PA", id="tell_pa", compact=True)
            yield TickBox("Safeguarding concern", id="concern", compact=True)
            with Vertical(id="safeguarding"):
                yield Field("Action taken", Input(id="sg_action"), name="sg_action")
                with Horizontal(classes="row"):
                    yield Field("Manager informed at", Input(id="sg_informed"), name="sg_informed", hint="14:05")
                    yield Field("Manager's name", Input(id="sg_manager"), name="sg_manager")
            yield Label("", id="form-error", classes="form-error", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#safeguarding").display = False
        self.start_tracking()

    # --- reading the form -----------------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def build(self) -> tuple[Contact | None, dict[str, str]]:
        """The Contact the form describes, or {field: message} saying what is wrong."""
        store = self.store
        errors: dict[str, str] = {}
        now = self.now()
        made_by = MadeBy.DUTY_PA
        if self.visit:
            contact_type, started, seen = ContactType.DROP_IN, now, True
        else:
            contact_type = ContactType(self.query_one("#contact_type", Select).value)
            made_by = MadeBy(self.query_one("#made_by", Select).value)
            seen = self.query_one("#seen", Checkbox).value
            try:
                started = parse_when(self._text("started"), self.today())
                if started > now + timedelta(minutes=5):
                    errors["started"] = "That is in the future"
            except ValueError as exc:
                errors["started"] = str(exc)
                started = now
        actions: tuple[Action, ...] = ()
        action_text, owner = self._text("action_text").strip(), self._text("action_owner").strip()
        due = None
        if self._text("action_due").strip():
            try:
                due = parse_day(self._text("action_due"), self.today())
                if due < self.today():
                    errors["action_due"] = "That date has passed"
            except ValueError as exc:
                errors["action_due"] = str(exc)
        if action_text or owner or due:
            try:
                actions = (Action(text=action_text, owner=owner, due=due),)
            except ValidationError as exc:
                for key, msg in field_errors(exc).items():
                    errors["action_owner" if key == "owner" else "action_text"] = msg
        concern = self.query_one("#concern", Checkbox).value
        safeguarding = None
        if concern:
            informed = None
            try:
                informed = parse_when(self._text("sg_informed"), self.today())
                if informed > now:
                    errors["sg_informed"] = "That is in the future: say when the manager was told"
            except ValueError as exc:
                errors["sg_informed"] = (
                    "Say when the manager was told" if not self._text("sg_informed").strip() else str(exc)
                )
            if not self._text("sg_manager").strip():
                errors["sg_manager"] = "Name the manager who was told"
            try:
                safeguarding = Safeguarding(
                    action_taken=self._text("sg_action"),
                    manager_informed_at=informed or now,
                    manager=self._text("sg_manager") or None,
                )
            except ValidationError as exc:
                mapping = {"action_taken": "sg_action", "manager_informed_at": "sg_informed", "manager": "sg_manager"}
                for key, msg in field_errors(exc).items():
                    errors.setdefault(mapping.get(key, "sg_action"), msg)
            if safeguarding is None:
                errors.setdefault("sg_action", "Say what action was taken")
        if not self.query_one("#purposes", SelectionList).selected:
            errors["purposes"] = "Pick at least one purpose"
        contact = None
        try:
            contact = Contact(
                person_id=self.person_id,
                hub_code=store.hub_code,
                contact_type=contact_type,
                made_by=made_by,
                recorded_by=store.user.login if store.user else "recovery",
                started_at=started.astimezone(UTC),
                recorded_at=now,
                seen=seen,
                purposes=tuple(self.query_one("#purposes", SelectionList).selected),
                summary=self._text("summary"),
                voice=self._text("voice"),
                actions=actions,
                tell_allocated_pa=self.query_one("#tell_pa", Checkbox).value,
                safeguarding_concern=concern,
                safeguarding=safeguarding,
            )
        except ValidationError as exc:
            for key, msg in field_errors(exc).items():
                if key == "":
                    target = next((f for word, f in _RECORD_RULES.items() if word in msg.lower()), "")
                    errors.setdefault(target, msg)
                elif key == "safeguarding":
                    errors.setdefault("sg_action", msg)
                elif key == "actions":
                    errors.setdefault("action_text", msg)
                else:
                    errors.setdefault(key, msg)
        if errors:
            return None, errors
        return contact, {}

    def show_errors(self, errors: dict[str, str], *, all_fields: bool) -> None:
        shown_elsewhere = []
        for field in self.query(Field):
            name = field.field_name
            show = all_fields or name in self.touched
            field.set_error(errors.get(name) if show else None)
        for name, msg in errors.items():
            if not self.query(f"#field-{name}"):
                shown_elsewhere.append(msg)
        self.query_one("#form-error", Label).update("\n".join(shown_elsewhere) if all_fields else "")

    # --- as you type ----------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    def _changed(self, event) -> None:
        widget = (
            getattr(event, "input", None)
            or getattr(event, "checkbox", None)
            or getattr(event, "selection_list", None)
            or getattr(event, "select", None)
        )
        if not self.note_change(widget.id if widget is not None else None):
            return
        if isinstance(event, Checkbox.Changed) and event.checkbox.id == "concern":
            self._concern_changed(event.value)
        if (
            isinstance(event, Select.Changed)
            and event.select.id == "contact_type"
            and event.value == ContactType.HOME_VISIT.value
        ):
            self.query_one("#seen", Checkbox).value = True
        if self.desk.store is None:
            return  # locked with typing still queued (ctrl+l on a busy laptop): checked at ctrl+s
        _, errors = self.build()
        self.show_errors(errors, all_fields=False)

    _SAFEGUARDING_FIELDS = ("sg_action", "sg_informed", "sg_manager")

    def _concern_changed(self, ticked: bool) -> None:
        """Show the safeguarding section; hiding one that holds typing asks first."""
        box = self.query_one("#safeguarding")
        typed = [f for f in self._SAFEGUARDING_FIELDS if self._text(f).strip()]
        if ticked or not typed:
            box.display = ticked
            if ticked:
                # At 80x24 it opens below the fold: bring into view what it asks for.
                self.call_after_refresh(box.scroll_visible, animate=False)
            return
        from .modals import ConfirmModal

        def answer(untick: bool | None) -> None:
            if untick:
                for name in self._SAFEGUARDING_FIELDS:
                    self.query_one(f"#{name}", Input).value = ""
                box.display = False
            else:
                self.query_one("#concern", Checkbox).value = True

        self.app.push_screen(
            ConfirmModal(
                "Untick the safeguarding concern? What you typed about it will be cleared.",
                yes="Untick and clear",
                no="Keep it ticked",
                default_yes=False,
            ),
            answer,
        )

    @on(TickBox.TypedInto)
    def _typed_into_tick_box(self, event: TickBox.TypedInto) -> None:
        self.query_one("#form-error", Label).update(
            f"“{event.box.label}” is a tick box: Space ticks it. Press Tab to move on to a box you can type in."
        )

    # --- saving ---------------------------------------------------------------------------

    def action_save(self) -> None:
        contact, errors = self.build()
        self.show_errors(errors, all_fields=True)
        if contact is None:
            self.focus_first_error(errors)
            return
        try:
            saved = self.store.record_contact(contact)
        except StoreError as exc:
            self.query_one("#form-error", Label).update(str(exc))
            return
        name = self.person.display_name
        self.say(f"{name} signed in" if self.visit else f"Contact with {name} saved")
        self.post_message(Saved("visit" if self.visit else "contact", saved.id))
        self.dismiss(saved.contact_id)
