"""The desk: today at this hub - who is in, contacts, payments, sessions, sync status."""

from __future__ import annotations

import gc
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Label, Static

from hubdesk.domain.models import head_count, when
from hubdesk.store import day as day_store
from hubdesk.store import desk as desk_queries
from hubdesk.store import working_set
from hubdesk.store.errors import StoreError
from hubdesk.widgets.columns import Column, add_row, fit_columns, lay_out
from hubdesk.widgets.fast_table import FastTable
from hubdesk.widgets.people import alert_cell, duration, money_cell, plain, time_only
from hubdesk.widgets.status import SyncStatus

from .base import DeskBase

# Each table's columns, the ones that matter first kept longest as the desk narrows to 80
# columns (the payments and sessions tables share one row: at 80 they have 48 and 32 cells).
TABLES: dict[str, tuple[Column, ...]] = {
    "in-building": (
        Column("name", "Name", 20, 0, least=14, most=30),
        Column("in", "Signed in", 9, 2),
        Column("for", "For", 10, 3),
        Column("alerts", "Alerts", 6, 1),
    ),
    "contacts": (
        Column("time", "Time", 5, 2),
        Column("name", "Name", 20, 0, least=14, most=30),
        Column("type", "Type", 10, 3, least=6, most=16),
        Column("purposes", "Purposes", 16, 4, least=10, most=40),
        Column("flags", "Flags", 12, 1, most=22),
    ),
    "payments": (
        Column("time", "Time", 5, 3),
        Column("receipt", "Receipt", 12, 5),
        Column("name", "Name", 14, 0, least=10, most=30),
        Column("category", "Category", 12, 4, least=8, most=20),
        Column("amount", "Amount", 9, 1),
        Column("status", "Status", 9, 2, most=17),
    ),
    "sessions": (
        Column("starts", "Starts", 6, 3),
        Column("session", "Session", 12, 0, least=8, most=24),
        Column("people", "People", 10, 2),
        Column("state", "State", 6, 1),
    ),
}

STATE_LABEL = {
    "approved": "approved",
    "awaiting_approval": "AWAITING APPROVAL",
    "declined": "declined",
    "reversed": "reversed",
}


class DeskScreen(DeskBase[None]):
    CSS_PATH = "desk.tcss"
    AUTO_FOCUS = "#in-building"
    handover_hidden = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Find", id="desk.search", tooltip="Find a person"),
        Binding("v", "visit", "Visit", id="desk.visit", tooltip="Sign a young person in for a drop-in visit"),
        Binding("c", "contact", "Contact", id="desk.contact", tooltip="Record a phone call, message or other contact"),
        Binding("p", "payment", "Pay", id="desk.payment", tooltip="Record an emergency payment"),
        Binding("o", "sign_out", "Out", id="desk.sign_out", tooltip="Sign out the person highlighted in the building"),
        Binding("s", "sessions", "Sessions", id="desk.sessions", tooltip="Drop-in sessions and their registers"),
        Binding("a", "actions", "Actions", id="desk.actions", tooltip="Actions to follow up: for me, my caseload"),
        # Below 100 columns the footer is full (Lock would fall off): `a` still works, unshown.
        Binding("a", "actions_narrow", show=False, id="desk.actions_narrow", tooltip="Actions to follow up"),
        Binding("e", "end_of_day", "End", id="desk.end_of_day", tooltip="End of day checklist"),
        Binding(
            "y",
            "sync",
            "Sync",
            id="desk.sync",
            tooltip="Sync with the central record now: send what is waiting, then fetch changes",
        ),
        Binding(
            "Y",
            "sync_screen",
            "Sync details",
            id="desk.sync_screen",
            tooltip="Each record's sync state: quarantined records with reasons, conflicts to settle",
            show=False,
        ),
        Binding(
            "h",
            "hide_handover",
            "Hide handover",
            id="desk.hide_handover",
            tooltip="Hide the handover note from the last duty (it stays on the end-of-day screen)",
            show=False,
        ),
        Binding("comma", "settings", "Settings", id="desk.settings", tooltip="Idle lock and theme"),
        Binding("q", "quit", "Quit", id="desk.quit", tooltip="Lock and close hubdesk", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="desk-head"):
            yield Static("", id="desk-title", markup=False)
        # Its own row: at 80 columns the status and its progress bar need the width.
        yield SyncStatus(id="sync-status")
        yield Static("", id="handover", markup=False)
        with Vertical(id="desk-body"):
            with Vertical(classes="desk-section", id="section-in"):
                yield Label("In the building now", classes="section-title", id="in-title")
                yield FastTable(id="in-building", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="desk-section"):
                yield Label("Today's contacts", classes="section-title", id="contacts-title")
                yield FastTable(id="contacts", cursor_type="row")
            with Horizontal(id="desk-lower"):
                with Vertical(classes="desk-section", id="section-payments"):
                    yield Label("Today's payments", classes="section-title", id="payments-title")
                    yield FastTable(id="payments", cursor_type="row")
                with Vertical(classes="desk-section", id="section-sessions"):
                    yield Label("Today's sessions", classes="section-title", id="sessions-title")
                    yield FastTable(id="sessions", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fit_tables()
        self.refresh_data()
        self.set_interval(30, self._tick, name="desk-refresh")
        # Build the in-memory search index once the desk is on screen, not on the first key.
        self.call_after_refresh(self._warm_search)

    def on_resize(self) -> None:
        # At 80 columns the footer's room goes to the desk's own keys (DeskBase.on_resize).
        self.refresh_bindings()  # the Actions key shows from 100 columns
        # After the layout settles: each table's width is only known then.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self._fit_tables() and self.desk.store is not None:
            self.refresh_data()

    def _fit_tables(self) -> bool:
        """Columns for each table at its width now; True if any changed."""
        changed = False
        for table_id, columns in TABLES.items():
            table = self.query_one(f"#{table_id}", DataTable)
            width = (table.size.width or self.app.size.width) - 1  # room for a scrollbar
            fitted = fit_columns(columns, width, essential=2, squeeze_for=5)
            changed = lay_out(table, fitted) or changed
        return changed

    def _warm_search(self) -> None:
        if self.desk.store is not None:
            self.desk.store.search_people("a", limit=1)
            # The caseload and its index are now tens of thousands of long-lived objects:
            # move them out of the cyclic collector's way, or a full collection lands on a
            # keystroke now and then (100+ ms pauses measured while typing a name).
            gc.collect()
            gc.freeze()

    def _tick(self) -> None:
        if self.is_current and self.desk.store is not None:
            self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        now = self.now()
        day = desk_queries.today(store, now)
        hub = day.hub.name if day.hub else store.hub_code
        who = day.user.display_name if day.user else "-"
        date_text = when(now).split(",")[0]
        # A closed day takes no new records: say so here, not first at a form's ctrl+s.
        closure = day_store.day_closure(store, store.hub_code, self.today())
        closed = f" · day closed {time_only(closure.closed_at)}" if closure else ""
        self.query_one("#desk-title", Static).update(f"{hub} · {date_text} · on duty: {who}{closed}")
        self.query_one("#sync-status", SyncStatus).refresh_status()
        self._show_handover()
        purposes = {p.code: p.name for p in store.reference(include_retired=True).contact_purposes}
        categories = {c.code: c.name for c in store.reference(include_retired=True).payment_categories}

        def name(pid: str):
            person = day.people.get(pid)
            return plain(person.display_name if person else "(unknown)")

        table = self.query_one("#in-building", DataTable)
        keep = table.cursor_row
        table.clear()
        for visit in day.in_building:
            person = day.people.get(visit.person_id)
            add_row(
                table,
                {
                    "name": name(visit.person_id),
                    "in": time_only(visit.started_at),
                    "for": duration(visit.started_at, now),
                    "alerts": alert_cell(person) if person else "",
                },
                key=visit.contact_id,
            )
        if day.in_building:
            table.move_cursor(row=min(keep, len(day.in_building) - 1))
        self.query_one("#in-title", Label).update(f"In the building now ({len(day.in_building)})")

        table = self.query_one("#contacts", DataTable)
        table.clear()
        # A contact another desk of this hub recorded says which desk.
        other_desks = working_set.recorded_at_desk(store, [c.id for c in day.contacts])
        for contact in day.contacts:
            flags = [f"at {other_desks[contact.id]}"] if contact.id in other_desks else []
            if contact.in_building:
                flags.append("in")
            if contact.safeguarding_concern:
                flags.append("SAFEGUARDING")
            if contact.tell_allocated_pa:
                flags.append("tell PA")
            add_row(
                table,
                {
                    "time": time_only(contact.started_at),
                    "name": name(contact.person_id),
                    "type": contact.contact_type.label,
                    "purposes": plain(", ".join(purposes.get(p, p) for p in contact.purposes)),
                    "flags": " ".join(flags),
                },
                key=contact.contact_id,
            )
        self.query_one("#contacts-title", Label).update(f"Today's contacts ({len(day.contacts)})")

        table = self.query_one("#payments", DataTable)
        table.clear()
        for line in day.payments:
            p = line.payment
            add_row(
                table,
                {
                    "time": time_only(p.recorded_at),
                    "receipt": p.receipt_no,
                    "name": name(p.person_id),
                    "category": plain(categories.get(p.category, p.category)),
                    "amount": money_cell(p.amount_pence),
                    "status": STATE_LABEL.get(line.state, line.state),
                },
                key=p.id,
            )
        self.query_one("#payments-title", Label).update(f"Today's payments ({len(day.payments)})")

        table = self.query_one("#sessions", DataTable)
        table.clear()
        types = {t.code: t.name for t in store.reference(include_retired=True).session_types}
        for session in day.sessions:
            # Each kind said on its own line (children are not people known to the service):
            # one line of "4 known, 1 walk-in, 5 children" would push State off the table.
            came = head_count(store.attendance(session.id)).parts() or ["nobody yet"]
            add_row(
                table,
                {
                    "starts": time_only(session.starts_at),
                    "session": plain(types.get(session.session_type, session.session_type)),
                    "people": "\n".join(came),
                    "state": "closed" if session.closed_at else "open",
                },
                key=session.id,
                height=len(came),
            )
        self.query_one("#sessions-title", Label).update(f"Today's sessions ({len(day.sessions)})")

    def _show_handover(self) -> None:
        """What the last duty at this hub left for the next: shown after unlock until hidden."""
        box = self.query_one("#handover", Static)
        notes = [] if self.handover_hidden else day_store.handover_for(self.store, self.store.hub_code, self.today())
        if notes:
            names = desk_queries.user_names(self.store)
            lines = [
                f"Handover from {names.get(n.written_by, n.written_by)} ({n.day.day} {n.day:%b}): {n.text}"
                for n in notes
            ]
            box.update("\n".join(lines) + "\n(h hides this)")
        box.display = bool(notes)

    # --- actions --------------------------------------------------------------------------

    def action_sync(self) -> None:
        self.desk.start_sync(full=True)

    def action_sync_screen(self) -> None:
        from .sync import SyncScreen

        self.app.push_screen(SyncScreen())

    def action_hide_handover(self) -> None:
        self.handover_hidden = True
        self.query_one("#handover", Static).display = False

    def action_search(self) -> None:
        from .search import SearchScreen

        self.app.push_screen(SearchScreen(mode="open"))

    def action_visit(self) -> None:
        from .search import SearchScreen

        if not self.day_is_closed():
            self.app.push_screen(SearchScreen(mode="visit"))

    def action_contact(self) -> None:
        from .search import SearchScreen

        if not self.day_is_closed():
            self.app.push_screen(SearchScreen(mode="contact"))

    def action_payment(self) -> None:
        from .search import SearchScreen

        if not self.day_is_closed():
            self.app.push_screen(SearchScreen(mode="payment"))

    def action_sessions(self) -> None:
        from .sessions import SessionsScreen

        self.app.push_screen(SessionsScreen())

    def action_actions(self) -> None:
        from .actions import ActionsScreen

        self.app.push_screen(ActionsScreen())

    action_actions_narrow = action_actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "actions" and self.app.size.width < 100)

    def action_end_of_day(self) -> None:
        from .end_of_day import EndOfDayScreen

        self.app.push_screen(EndOfDayScreen())

    def action_settings(self) -> None:
        from .settings import SettingsScreen

        self.app.push_screen(SettingsScreen())

    async def action_quit(self) -> None:
        await self.desk.action_quit()

    def action_sign_out(self) -> None:
        table = self.query_one("#in-building", DataTable)
        if table.row_count == 0:
            self.say("Nobody is signed in.")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            from .modals import confirm_sign_out

            confirm_sign_out(self, key, after=self.refresh_data)

    @on(DataTable.RowSelected, "#payments")
    def _open_person(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if not key:
            return
        from .person import PersonScreen

        self.app.push_screen(PersonScreen(self.store.get_payment(key).person_id))

    @on(DataTable.RowSelected, "#in-building")
    @on(DataTable.RowSelected, "#contacts")
    def _open_contact(self, event: DataTable.RowSelected) -> None:
        """Enter on a visit or a contact opens it in full, to read, see its history and amend
        (ctrl+o there goes on to the young person's page)."""
        if event.row_key.value:
            from .contact_detail import ContactDetailScreen

            self.app.push_screen(ContactDetailScreen(event.row_key.value))

    @on(DataTable.RowSelected, "#sessions")
    def _open_session(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            from .sessions import RegisterScreen

            self.app.push_screen(RegisterScreen(event.row_key.value))
