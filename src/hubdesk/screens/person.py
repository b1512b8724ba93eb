"""A person: alerts first and unmissable, then details, recent contacts and payments."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Label, Static

from hubdesk.domain.models import Person, when
from hubdesk.store import desk as desk_queries
from hubdesk.store import working_set
from hubdesk.store.circumstances import open_conflicts
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import (
    ALERT_MARK,
    age_text,
    alert_text,
    band_text,
    money_cell,
    plain,
    status_text,
)

from .base import DeskBase
from .circumstances import circumstance_lines, flag_line
from .local_offer import LocalOfferLine


def alert_lines(person: Person) -> list[str]:
    return [f"{ALERT_MARK} {alert_text(a)}" for a in person.alerts]


def flags(person: Person) -> list[str]:
    names = [
        ("uasc", "UASC history"),
        ("staying_put", "Staying put"),
        ("custody", "Custody"),
        ("young_parent", "Young parent"),
    ]
    return [label for attr, label in names if getattr(person, attr)]


class PersonScreen(DeskBase[None]):
    CSS_PATH = "person.tcss"
    AUTO_FOCUS = "#person-contacts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="person.back", tooltip="Back"),
        Binding(
            "v",
            "visit",
            "Visit/out",
            id="person.visit",
            tooltip="Sign in for a drop-in visit, or sign out if in the building",
        ),
        Binding("c", "contact", "Contact", id="person.contact", tooltip="Record a contact"),
        Binding(
            "e",
            "details",
            "Details",
            id="person.details",
            tooltip="Change their details: phone, accommodation, EET, pathway plan and more",
        ),
        Binding("p", "payment", "Payment", id="person.payment", tooltip="Record an emergency payment"),
        Binding(
            "r", "reverse", "Reverse", id="person.reverse", tooltip="Reverse the highlighted payment, with a reason"
        ),
        Binding("l", "local_offer", "Offer", id="person.offer", tooltip="The local offer: entitled, had, give one"),
    ]

    def __init__(self, person_id: str) -> None:
        super().__init__()
        self.person_id = person_id
        self.person: Person | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="person-name", classes="title", markup=False)
        yield Static("", id="person-alerts", classes="alerts", markup=False)
        yield Static("", id="person-flags", markup=False)
        yield Static("", id="person-details", markup=False)
        yield LocalOfferLine("", id="person-offer", markup=False)
        with Vertical(id="person-lists"):
            yield Label("Recent contacts", classes="section-title")
            yield DataTable(id="person-contacts", cursor_type="row")
            yield Label("Payments", classes="section-title")
            yield DataTable(id="person-payments", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#person-contacts", DataTable).add_columns(
            "When", "Type", "Purposes", "Summary", "Recorded by", "Sync"
        )
        self.query_one("#person-payments", DataTable).add_columns(
            "When", "Receipt", "Category", "Amount", "Method", "Status", "Sync"
        )
        self.person = self.store.view_person(self.person_id)
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None and self.person is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        person = self.person = store.get_person(self.person_id)
        day = self.today()
        names = desk_queries.user_names(store)
        self.query_one("#person-name", Static).update(
            f"{person.display_name}  ·  {age_text(person, day)} ({band_text(person, day)})  ·  {status_text(person)}"
        )
        alerts = self.query_one("#person-alerts", Static)
        alerts.update("\n".join(alert_lines(person)))
        alerts.display = bool(person.alerts)
        pa = names.get(person.allocated_pa, person.allocated_pa) if person.allocated_pa else "none"
        details = [
            f"Name: {person.first_name} {person.last_name or ''}".rstrip()
            + (f" (prefers {person.preferred_name})" if person.preferred_name else ""),
            f"Date of birth: {person.date_of_birth:%-d %b %Y}"
            if person.date_of_birth
            else f"Approximate age: {person.approx_age}",
            f"Case id: {person.case_id or '-'}    Allocated PA: {pa}",
        ]
        if flags(person):
            details.append("Also: " + ", ".join(flags(person)))
        marked = self.query_one("#person-flags", Static)
        marked.display = False
        if person.walk_in:
            pass
        elif person.hub_code != store.hub_code:
            details.append(f"Their circumstances and contact details are kept by the {person.hub_code} desks")
        else:
            details += circumstance_lines(person, day)
            marked.update(flag_line(person, day))
            marked.display = bool(marked.content)
            waiting = open_conflicts(store, person.id)
            if waiting:
                details.append(
                    f"{ALERT_MARK} A change to these details conflicts with the central record: "
                    "settle it in Sync details"
                )
        visit = desk_queries.visit_in_building(store, person.id)
        if visit:
            details.append(f"In the building since {when(visit.started_at)} (v signs out)")
        if person.needs_matching:
            details.append("Walk-in: waiting to be matched by the central record")
        # Recent activity at every hub (another hub's records stay there; their summary comes).
        details += working_set.activity_lines(store, person.id, store.clock())
        self.query_one("#person-details", Static).update("\n".join(details))
        self.query_one(LocalOfferLine).show(store, person.id, day)

        purposes = {p.code: p.name for p in store.reference(include_retired=True).contact_purposes}
        table = self.query_one("#person-contacts", DataTable)
        table.clear()
        contacts = store.contacts_for_person(person.id, limit=20)
        payments = store.payments_for_person(person.id, limit=20)
        # waiting / sending / synced / needs attention, for each record shown
        shown = [c.id for c in contacts] + [p.id for p in payments]
        synced = desk_queries.record_sync_states(store, shown)
        # Records another desk of this hub made say which desk.
        synced |= {rid: f"at {desk}" for rid, desk in working_set.recorded_at_desk(store, shown).items()}
        for c in contacts:
            summary = c.summary if len(c.summary) <= 50 else c.summary[:49] + "…"
            if c.safeguarding_concern:
                summary = "SAFEGUARDING · " + summary
            table.add_row(
                when(c.started_at),
                c.contact_type.label,
                plain(", ".join(purposes.get(p, p) for p in c.purposes)),
                plain(summary),
                plain(names.get(c.recorded_by, c.recorded_by)),
                synced.get(c.id, ""),
                key=c.contact_id,
            )
        categories = {c.code: c.name for c in store.reference(include_retired=True).payment_categories}
        table = self.query_one("#person-payments", DataTable)
        table.clear()
        for p in payments:
            table.add_row(
                when(p.recorded_at),
                p.receipt_no,
                plain(categories.get(p.category, p.category)),
                money_cell(p.amount_pence),
                p.method.label,
                store.payment_state(p.id).replace("_", " "),
                synced.get(p.id, ""),
                key=p.id,
            )

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected, "#person-contacts")
    def _show_contact(self, event: DataTable.RowSelected) -> None:
        """Enter opens the contact: the whole note and voice, its history, and amending it."""
        if event.row_key.value:
            from .contact_detail import ContactDetailScreen

            self.app.push_screen(ContactDetailScreen(event.row_key.value, from_person=True))

    def action_visit(self) -> None:
        visit = desk_queries.visit_in_building(self.store, self.person_id)
        if visit is not None:
            from .modals import confirm_sign_out

            confirm_sign_out(self, visit.contact_id, after=self.refresh_data)
            return
        from .contact import ContactFormScreen

        if not self.day_is_closed():
            self.app.push_screen(ContactFormScreen(self.person_id, visit=True))

    def action_contact(self) -> None:
        from .contact import ContactFormScreen

        if not self.day_is_closed():
            self.app.push_screen(ContactFormScreen(self.person_id, visit=False))

    def action_details(self) -> None:
        from .circumstances import CircumstancesFormScreen

        person = self.person
        if person is not None and person.hub_code != self.store.hub_code:
            self.say(f"Their details are changed at a {person.hub_code} desk.")
            return
        self.app.push_screen(CircumstancesFormScreen(self.person_id))

    def action_local_offer(self) -> None:
        from .local_offer import LocalOfferScreen

        self.app.push_screen(LocalOfferScreen(self.person_id))

    def action_payment(self) -> None:
        from .payment import PaymentFormScreen

        if not self.day_is_closed():
            self.app.push_screen(PaymentFormScreen(self.person_id))

    def action_reverse(self) -> None:
        table = self.query_one("#person-payments", DataTable)
        if table.row_count == 0:
            self.say("No payment to reverse.")
            return
        payment_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not payment_id:
            return
        reverse_payment(self, payment_id, after=self.refresh_data)


def contact_text(screen: DeskBase, contact) -> str:
    """A saved contact in full, as plain lines."""
    store = screen.store
    names = desk_queries.user_names(store)
    purposes = {p.code: p.name for p in store.reference(include_retired=True).contact_purposes}
    lines = [
        f"When: {when(contact.started_at)}" + (f" to {when(contact.ended_at)}" if contact.ended_at else ""),
        f"Recorded: {when(contact.recorded_at)} by {names.get(contact.recorded_by, contact.recorded_by)}",
        f"Seen: {'yes' if contact.seen else 'no'}",
        "Purposes: " + ", ".join(purposes.get(p, p) for p in contact.purposes),
        f"What happened: {contact.summary}",
    ]
    if contact.voice:
        lines.append(f"In their words: {contact.voice}")
    for action in contact.actions:
        due = f", by {action.due.day} {action.due:%b %Y}" if action.due else ""
        lines.append(f"Action: {action.text} (owner: {action.owner}{due})")
    if contact.tell_allocated_pa:
        lines.append("The allocated PA is to be told.")
    if contact.safeguarding:
        sg = contact.safeguarding
        lines.append(
            f"SAFEGUARDING: {sg.action_taken}; manager told {when(sg.manager_informed_at)}"
            + (f" ({sg.manager})" if sg.manager else "")
        )
    if contact.version > 1:
        lines.append(f"Version {contact.version}: {contact.amend_reason}")
    return "\n".join(lines)


def reverse_payment(screen: DeskBase, payment_id: str, after) -> None:
    """Ask for the reason, then reverse: the payment stays, the reversal points at it."""
    from hubdesk.domain.money import format_pence
    from hubdesk.messages import Saved

    from .modals import ReasonModal

    store = screen.store
    payment = store.get_payment(payment_id)
    if store.payment_state(payment_id) == "reversed":
        screen.say(f"{payment.receipt_no} is already reversed.")
        return

    def done(reason: str | None) -> None:
        if not reason:
            return
        try:
            reversal = screen.store.reverse_payment(payment_id, reason)
        except StoreError as exc:
            screen.say(str(exc), severity="error")
            return
        screen.say(f"{payment.receipt_no} reversed. Record the right payment if one is due.")
        screen.post_message(Saved("reversal", reversal.id))
        after()

    screen.app.push_screen(
        ReasonModal(
            f"Reverse {payment.receipt_no} ({format_pence(payment.amount_pence)})?", "Why is it being reversed?"
        ),
        callback=done,
    )
