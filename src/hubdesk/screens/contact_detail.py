"""One contact opened from a list: every field to read, its history, and amending it.

An amendment is a new version that points at the one it replaces (the store's
`amend_contact`); the earlier versions stay, and each says who saved it, when and why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from hubdesk.domain.enums import ContactType, MadeBy
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Action, Contact, Safeguarding, when
from hubdesk.messages import Saved
from hubdesk.store import day as day_store
from hubdesk.store import desk as desk_queries
from hubdesk.store import history
from hubdesk.store.errors import StoreError
from hubdesk.widgets.fields import Field
from hubdesk.widgets.people import age_text, band_text, plain, status_text
from hubdesk.widgets.ticks import TickList
from hubdesk.widgets.times import LONDON, date_example, hhmm, parse_day, parse_when

from .base import DeskBase, ModalBase
from .contact import MADE_BY
from .form import FormState
from .person import alert_lines

# Words for the contact's fields, as the history names what an amendment changed.
FIELD_WORDS = {
    "person_id": "person",
    "hub_code": "hub",
    "contact_type": "type",
    "made_by": "made by",
    "made_by_name": "made by (name)",
    "started_at": "started",
    "ended_at": "ended",
    "seen": "seen",
    "purposes": "purposes",
    "summary": "what happened",
    "voice": "their voice",
    "actions": "actions",
    "tell_allocated_pa": "tell the allocated PA",
    "safeguarding_concern": "safeguarding concern",
    "safeguarding": "safeguarding details",
}
VISIT_WORDS = {"started_at": "signed in at", "ended_at": "signed out at"}

# Which field shows a whole-record rule, by the words of its message.
_RECORD_RULES = {"seen": "seen", "safeguarding": "sg_action", "end time": "ended"}


def _day_text(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _time_text(moment: datetime, day: date) -> str:
    """A time as typed back: '14:05' on the given day, else with its date."""
    local = moment.astimezone(LONDON)
    return hhmm(moment) if local.date() == day else f"{local.day} {local:%b %Y %H:%M}"


class DiscardModal(ModalBase[bool]):
    """'Discard what you typed?' with Keep as the default: enter or escape keeps the typing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "keep", "Keep", id="contact_detail.discard.keep", tooltip="Keep what you typed"),
        Binding("d", "discard", "Discard", id="contact_detail.discard.discard", tooltip="Throw the typing away"),
    ]

    def __init__(self, question: str = "Discard what you typed?") -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question, markup=False)
            with Horizontal():
                yield Button("Keep (enter)", id="keep", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")

    def on_mount(self) -> None:
        self.query_one("#keep", Button).focus()

    @on(Button.Pressed, "#keep")
    def action_keep(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#discard")
    def action_discard(self) -> None:
        self.dismiss(True)


class ContactDetailScreen(FormState, DeskBase[None]):
    """A saved contact in full; ctrl+s saves what was changed as an amendment, with a reason."""

    CSS_PATH = "contact_detail.tcss"
    AUTO_FOCUS = "#started"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Amend", id="contact_detail.save", tooltip="Save the changes as a new version"),
        Binding("escape", "back", "Back", id="contact_detail.back", tooltip="Back (asks first if anything is typed)"),
        Binding("ctrl+o", "person", "Person", id="contact_detail.person", tooltip="Open the young person's page"),
    ]

    form_kind = "contact amendment"

    def __init__(self, contact_id: str, *, from_person: bool = False, version: Contact | None = None) -> None:
        """version: the version being amended (a form given back after a set-aside keeps the
        one its typing was against, so a newer version saved meanwhile is not overwritten)."""
        super().__init__()
        self.contact_id = contact_id
        self.from_person = from_person
        self.touched: set[str] = set()
        self.contact: Contact = version or self.store.current_contact(contact_id)
        # Each time as first shown, with the saved value it stands for: left as shown, the
        # saved time (seconds and all) is kept, so an untouched time is never a "change".
        self.shown_times: dict[str, tuple[str, datetime]] = {}

    # --- what it shows --------------------------------------------------------------------

    @property
    def day(self) -> date:
        """The hub day the contact belongs to: its times are amended within it."""
        return self.contact.started_at.astimezone(LONDON).date()

    def _words(self, field_name: str) -> str:
        if self.contact.is_visit and field_name in VISIT_WORDS:
            return VISIT_WORDS[field_name]
        return FIELD_WORDS.get(field_name, field_name.replace("_", " "))

    def _shown(self, widget_id: str, moment: datetime, day: date) -> str:
        text = _time_text(moment, day)
        self.shown_times[widget_id] = (text, moment)
        return text

    def compose(self) -> ComposeResult:
        store = self.store
        contact = self.contact
        self.shown_times = {}
        person = store.get_person(contact.person_id)
        visit = contact.is_visit
        yield Static(
            f"{contact.contact_type.label} · {person.display_name}, {age_text(person, self.today())} "
            f"({band_text(person, self.today())}), {status_text(person)}",
            classes="title",
            markup=False,
            id="detail-title",
        )
        alerts = alert_lines(person)
        if alerts:
            yield Static("\n".join(alerts), classes="alerts", markup=False)
        with VerticalScroll(id="contact-detail"):
            yield Static(self._record_text(), id="record", markup=False)
            with Horizontal(classes="row"):
                if not visit:
                    yield Field(
                        "Type",
                        Select(
                            [(t.label, t.value) for t in ContactType if t is not ContactType.DROP_IN],
                            value=contact.contact_type.value,
                            allow_blank=False,
                            id="contact_type",
                        ),
                        name="contact_type",
                    )
                    yield Field(
                        "Made by",
                        Select(
                            [(label, m.value) for m, label in MADE_BY.items()],
                            value=contact.made_by.value,
                            allow_blank=False,
                            id="made_by",
                        ),
                        name="made_by",
                    )
                hint = f"14:05 on {_day_text(self.day)}"
                yield Field(
                    "Signed in at" if visit else "When it happened",
                    Input(self._shown("started", contact.started_at, self.day), id="started"),
                    name="started",
                    hint=hint,
                )
                if contact.ended_at is not None:
                    yield Field(
                        "Signed out at" if visit else "Ended at",
                        Input(self._shown("ended", contact.ended_at, self.day), id="ended"),
                        name="ended",
                        hint="14:05",
                    )
                if not visit:
                    yield Checkbox("Seen", value=contact.seen, id="seen", compact=True)
            reference = store.reference(include_retired=True)
            active = {p.code for p in store.reference().contact_purposes}
            purposes = [
                (p.name, p.code, p.code in contact.purposes)
                for p in reference.contact_purposes
                if p.code in active or p.code in contact.purposes
            ]
            known = {p.code for p in reference.contact_purposes}
            purposes += [(code, code, True) for code in contact.purposes if code not in known]
            yield Field("Purposes", TickList(*purposes, id="purposes"), name="purposes", hint="space to tick")
            yield Field("What happened", TextArea(contact.summary, id="summary"), name="summary")
            yield Field("Young person's voice", TextArea(contact.voice, id="voice"), name="voice")
            first = contact.actions[0] if contact.actions else None
            with Horizontal(classes="row"):
                yield Field(
                    "Action (optional)", Input(first.text if first else "", id="action_text"), name="action_text"
                )
                yield Field("Who owns it", Input(first.owner if first else "", id="action_owner"), name="action_owner")
                due = f"{first.due:%d/%m/%Y}" if first and first.due else ""
                yield Field("By when", Input(due, id="action_due"), name="action_due", hint=date_example(self.today()))
            yield Checkbox("Tell the allocated PA", value=contact.tell_allocated_pa, id="tell_pa", compact=True)
            yield Checkbox("Safeguarding concern", value=contact.safeguarding_concern, id="concern", compact=True)
            sg = contact.safeguarding
            with Vertical(id="safeguarding"):
                yield Field("Action taken", Input(sg.action_taken if sg else "", id="sg_action"), name="sg_action")
                with Horizontal(classes="row"):
                    informed = self._shown("sg_informed", sg.manager_informed_at, self.today()) if sg else ""
                    yield Field(
                        "Manager informed at", Input(informed, id="sg_informed"), name="sg_informed", hint="14:05"
                    )
                    yield Field(
                        "Manager's name", Input((sg.manager or "") if sg else "", id="sg_manager"), name="sg_manager"
                    )
            yield Label("", id="form-error", classes="form-error", markup=False)
            yield Label("History (enter on a version reads it in full)", classes="section-title")
            yield DataTable(id="history", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_safeguarding()
        self._fill_history()
        self.start_tracking()

    def _record_text(self) -> str:
        """What is not typed into the form: who recorded it and when, and the day's state."""
        store = self.store
        contact = self.contact
        names = desk_queries.user_names(store)
        versions = history.contact_history(store, contact.contact_id)
        first = versions[0]
        lines = [
            f"Recorded {when(first.contact.recorded_at)} by {names.get(first.saved_by, first.saved_by)}"
            f" at {contact.hub_code}" + (" · seen" if contact.seen else " · not seen")
        ]
        if contact.version > 1:
            last = versions[-1]
            lines.append(
                f"Version {contact.version}, amended {when(last.saved_at)} by "
                f"{names.get(last.saved_by, last.saved_by)}: {contact.amend_reason or '(no reason given)'}"
            )
        if contact.in_building:
            lines.append("In the building now (o on the desk signs them out)")
        for action in contact.actions[1:]:
            due = f", by {_day_text(action.due)}" if action.due else ""
            lines.append(f"Also an action: {action.text} (owner: {action.owner}{due})")
        if day_store.day_closure(store, contact.hub_code, self.day) is not None:
            lines.append(
                f"{_day_text(self.day)} is closed at {contact.hub_code}: a change is saved as an amendment "
                "beside the original."
            )
        return "\n".join(lines)

    def _fill_history(self) -> None:
        names = desk_queries.user_names(self.store)
        table = self.query_one("#history", DataTable)
        table.clear(columns=True)
        table.add_columns("Version", "Saved", "By", "Changed", "Reason")
        for v in reversed(history.contact_history(self.store, self.contact_id)):
            changed = ", ".join(self._words(name) for name in v.changed) if v.contact.version > 1 else "first recorded"
            table.add_row(
                str(v.contact.version),
                when(v.saved_at),
                plain(names.get(v.saved_by, v.saved_by)),
                plain(changed),
                plain(v.contact.amend_reason if v.contact.version > 1 else ""),
                key=v.contact.id,
            )

    def _show_safeguarding(self) -> None:
        """Shown while the concern is ticked, and while anything is typed in it: typed text
        is never hidden away."""
        typed = any(self._text(name).strip() for name in ("sg_action", "sg_informed", "sg_manager"))
        self.query_one("#safeguarding").display = self.query_one("#concern", Checkbox).value or typed

    # --- reading the form -----------------------------------------------------------------

    def reopen(self) -> ContactDetailScreen:
        return ContactDetailScreen(self.contact_id, from_person=self.from_person, version=self.contact)

    def _restore(self, values: dict[str, object]) -> None:
        super()._restore(values)
        for area in self.query(TextArea):
            if area.id in values and values[area.id] != area.text:
                area.load_text(str(values[area.id]))
                self.touched.add(area.id)
        self._show_safeguarding()

    def form_values(self) -> dict[str, object]:
        values = super().form_values()
        for area in self.query(TextArea):
            if area.id:
                values[area.id] = area.text
        return values

    def _text(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        return widget.text if isinstance(widget, TextArea) else self.query_one(f"#{widget_id}", Input).value

    def _when(self, widget_id: str, base: date, errors: dict[str, str], empty: str) -> datetime | None:
        text = self._text(widget_id)
        if not text.strip():
            errors[widget_id] = empty
            return None
        shown = self.shown_times.get(widget_id)
        if shown is not None and text.strip() == shown[0]:
            return shown[1]
        try:
            return parse_when(text, base)
        except ValueError as exc:
            errors[widget_id] = str(exc)
            return None

    def build(self) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """What the PA changed, as {Contact field: new value}, or {form field: message}."""
        store = self.store
        current = self.contact
        now = self.now()
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        day_start, day_end = store.day_bounds(self.day)
        visit = current.is_visit

        if not visit:
            values["contact_type"] = ContactType(self.query_one("#contact_type", Select).value)
            values["made_by"] = MadeBy(self.query_one("#made_by", Select).value)
            values["seen"] = self.query_one("#seen", Checkbox).value

        started = self._when("started", self.day, errors, "Say when it started")
        if started is not None:
            if started > now:
                errors["started"] = "That is in the future"
            elif started < day_start:
                errors["started"] = f"That is before {_day_text(self.day)} began"
            elif started >= day_end:
                errors["started"] = f"That is after {_day_text(self.day)}: a contact stays on its own day"
            else:
                values["started_at"] = started.astimezone(UTC)
        if current.ended_at is not None:
            out = "signed out" if visit else "it ended"
            ended = self._when("ended", self.day, errors, f"Say when {out}")
            if ended is not None:
                if ended > now:
                    errors["ended"] = "That is in the future"
                elif started is not None and ended < started.replace(second=0, microsecond=0):
                    errors["ended"] = "Sign-out is before the sign-in time" if visit else "The end is before the start"
                else:
                    values["ended_at"] = ended.astimezone(UTC)

        # Kept in the order they were recorded; newly ticked ones after them.
        ticked = self.query_one("#purposes", SelectionList).selected
        values["purposes"] = tuple(p for p in current.purposes if p in ticked) + tuple(
            p for p in ticked if p not in current.purposes
        )
        values["summary"] = self._text("summary")
        values["voice"] = self._text("voice")
        values["tell_allocated_pa"] = self.query_one("#tell_pa", Checkbox).value

        action_text, owner = self._text("action_text").strip(), self._text("action_owner").strip()
        due = None
        old_first = current.actions[0] if current.actions else None
        if self._text("action_due").strip():
            try:
                due = parse_day(self._text("action_due"), self.today())
                # A due date that has passed since the action was set is history, not a slip.
                if due < self.today() and (old_first is None or due != old_first.due):
                    errors["action_due"] = "That date has passed"
            except ValueError as exc:
                errors["action_due"] = str(exc)
        actions = current.actions[1:]
        if action_text or owner or due:
            try:
                actions = (Action(text=action_text, owner=owner, due=due), *actions)
            except ValidationError as exc:
                for key, msg in field_errors(exc).items():
                    errors.setdefault("action_owner" if key == "owner" else "action_text", msg)
        values["actions"] = actions

        concern = self.query_one("#concern", Checkbox).value
        sg_texts = {name: self._text(name).strip() for name in ("sg_action", "sg_informed", "sg_manager")}
        values["safeguarding_concern"] = concern
        values["safeguarding"] = None
        if concern:
            informed = self._when("sg_informed", self.today(), errors, "Say when the manager was told")
            if informed is not None and informed > now:
                errors["sg_informed"] = "That is in the future"
            try:
                old = current.safeguarding
                safeguarding = Safeguarding(
                    action_taken=sg_texts["sg_action"],
                    manager_informed_at=informed or now,
                    manager=sg_texts["sg_manager"] or None,
                    follow_up_by=old.follow_up_by if old else None,
                )
                if safeguarding != old and not safeguarding.manager:
                    errors["sg_manager"] = "Name the manager who was told"
                values["safeguarding"] = safeguarding
            except ValidationError as exc:
                mapping = {"action_taken": "sg_action", "manager_informed_at": "sg_informed", "manager": "sg_manager"}
                for key, msg in field_errors(exc).items():
                    errors.setdefault(mapping.get(key, "sg_action"), msg)
        elif any(sg_texts.values()):
            errors["sg_action"] = "Tick 'Safeguarding concern', or clear these details"

        if errors:
            return None, errors
        try:
            candidate = Contact.model_validate(current.model_dump() | values)
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
            return None, errors
        return {name: getattr(candidate, name) for name in history.changed_fields(current, candidate)}, {}

    def show_errors(self, errors: dict[str, str], *, all_fields: bool) -> None:
        for field in self.query(Field):
            name = field.field_name
            field.set_error(errors.get(name) if all_fields or name in self.touched else None)
        elsewhere = [msg for name, msg in errors.items() if not self.query(f"#field-{name}")]
        self.query_one("#form-error", Label).update("\n".join(elsewhere) if all_fields else "")

    # --- as you type ----------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _changed(self, event) -> None:
        control = getattr(event, "control", None)
        if not self.note_change(control.id if control is not None else None):
            return
        self._show_safeguarding()
        _, errors = self.build()
        self.show_errors(errors, all_fields=False)

    # --- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Opened from the person's page, escape is the way back there.
        return not (action == "person" and self.from_person)

    def action_person(self) -> None:
        from .person import PersonScreen

        self.app.push_screen(PersonScreen(self.contact.person_id))

    def action_back(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(DiscardModal(), answer)

    def action_save(self) -> None:
        changes, errors = self.build()
        self.show_errors(errors, all_fields=True)
        if changes is None:
            self.focus_first_error(errors)
            return
        if not changes:
            self.say("Nothing has changed, so there is nothing to amend.")
            return
        from .modals import ReasonModal

        what = ", ".join(self._words(name) for name in changes)
        self.app.push_screen(
            ReasonModal(f"Amend this contact ({what})?", "Why is it being amended?"),
            callback=lambda reason: self._amend(changes, reason),
        )

    def _amend(self, changes: dict[str, Any], reason: str | None) -> None:
        if not reason:
            return  # cancelled: what was typed stays in the form
        error = self.query_one("#form-error", Label)
        store = self.store
        try:
            latest = store.current_contact(self.contact_id)
            if latest.id != self.contact.id:
                names = desk_queries.user_names(store)
                who = names.get(latest.recorded_by, latest.recorded_by)
                error.update(
                    f"Not saved: {who} saved a newer version (version {latest.version}) since this was opened. "
                    "Go back and open it again to see it."
                )
                return
            amended = store.amend_contact(
                self.contact_id, {**changes, "recorded_by": store.user.login if store.user else "recovery"}, reason
            )
        except StoreError as exc:
            error.update(str(exc))
            self.say(str(exc), severity="error")
            return
        except ValidationError as exc:
            error.update("; ".join(field_errors(exc).values()))
            return
        self.say(f"Amended: version {amended.version} saved; the earlier version stays in the history.")
        self.post_message(Saved("contact_amend", amended.id))
        self.contact = amended
        self.call_later(self._reload)

    async def _reload(self) -> None:
        """Show the new version as saved, with its place in the history."""
        self.initial = None
        self.touched = set()
        await self.recompose()
        self.on_mount()
        self.query_one("#started", Input).focus()

    @on(DataTable.RowSelected, "#history")
    def _read_version(self, event: DataTable.RowSelected) -> None:
        version_id = event.row_key.value
        found = [v for v in history.contact_history(self.store, self.contact_id) if v.contact.id == version_id]
        if found:
            from .modals import TextModal
            from .person import contact_text

            v = found[0].contact
            self.app.push_screen(TextModal(f"Version {v.version}", contact_text(self, v)))
