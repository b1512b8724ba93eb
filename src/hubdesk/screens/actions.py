"""Actions: what contacts asked someone to do, for me or for my caseload, overdue first; done
with a note, or passed on to another user (both synced to the desks of both hubs)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Input, Label, Select, Static

from hubdesk.domain.actions import ActionKind
from hubdesk.store import actions as followed_up
from hubdesk.store import desk as desk_queries
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import plain

from .base import DeskBase, ModalBase

VIEWS = {"mine": "For me", "caseload": "For my caseload"}


def due_text(due: date | None, today: date) -> str:
    if due is None:
        return "-"
    if due < today:
        days = (today - due).days
        return f"{due.day} {due:%b} ({days} day{'s' if days != 1 else ''} overdue)"
    return "today" if due == today else f"{due.day} {due:%b}"


class PassOnModal(ModalBase[tuple[str, str] | None]):
    """Who to pass an action on to (any active user, at either hub), and a note."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pass_on.cancel", tooltip="Cancel"),
    ]

    def __init__(self, users: list[tuple[str, str]]) -> None:
        super().__init__()
        self.users = users

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static("Pass the action on", classes="title")
            yield Label("To")
            yield Select(self.users, id="pass-to", prompt="pick a user")
            yield Label("Note (optional): enter passes it on")
            yield Input(id="pass-note")
            yield Label("", id="pass-error", classes="modal-error", markup=False)

    @on(Input.Submitted, "#pass-note")
    def _submit(self, event: Input.Submitted) -> None:
        to = self.query_one("#pass-to", Select).value
        if to is Select.NULL or not isinstance(to, str):
            self.query_one("#pass-error", Label).update("Pick who it goes to")
            return
        self.dismiss((to, event.value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ActionsScreen(DeskBase[None]):
    CSS_PATH = "actions.tcss"
    AUTO_FOCUS = "#actions"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="actions.back", tooltip="Back to the desk"),
        Binding("m", "toggle", "Me/caseload", id="actions.toggle", tooltip="Actions for me, or for my caseload"),
        Binding("d", "done", "Done", id="actions.done", tooltip="Mark the highlighted action done, with a note"),
        Binding("t", "pass_on", "Pass on", id="actions.pass_on", tooltip="Pass the highlighted action to someone else"),
        Binding("o", "open_person", "Person", id="actions.person", tooltip="Open the young person's page"),
    ]

    def __init__(self, view: str = "mine") -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield Static("", id="actions-title", classes="title", markup=False)
        yield DataTable(id="actions", cursor_type="row", zebra_stripes=True)
        yield Label("", id="actions-empty", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#actions", DataTable).add_columns("Due", "Young person", "Action", "Owner", "From")
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        login = store.user.login if store.user else ""
        today = self.today()
        if self.view == "mine":
            rows = followed_up.for_user(store, login, today)
        else:
            rows = followed_up.for_caseload(store, login, today)
        overdue = sum(r.overdue for r in rows)
        self.query_one("#actions-title", Static).update(
            f"Actions {VIEWS[self.view].lower()}: {len(rows)} open, {overdue} overdue  (m: "
            f"{VIEWS['caseload' if self.view == 'mine' else 'mine'].lower()})"
        )
        names = desk_queries.user_names(store)
        people = {p.id: p for p in store.people(sorted({r.item.person_id for r in rows}))}
        table = self.query_one("#actions", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            item = r.item
            person = people.get(item.person_id)
            text = ("Tell the PA: " if item.kind is ActionKind.TELL_PA else "") + item.text
            owner = names.get(r.owner, r.owner) if r.owner else "nobody"
            if item.owner_text and item.owner_text not in (r.owner, names.get(r.owner or ""), "allocated PA"):
                owner += f" (written: {item.owner_text})"
            due = due_text(item.due, today)
            table.add_row(
                ("OVERDUE " if r.overdue else "") + due,
                plain(person.display_name if person else "(not on this desk)"),
                plain(text),
                plain(owner),
                plain(f"{names.get(item.recorded_by, item.recorded_by)} at {item.hub_code}, {item.recorded_at:%-d %b}"),
                key=item.id,
            )
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        empty = self.query_one("#actions-empty", Label)
        empty.update("" if rows else "Nothing to follow up here.")
        empty.display = not rows

    def _highlighted(self) -> str | None:
        table = self.query_one("#actions", DataTable)
        if table.row_count == 0:
            self.say("No action highlighted.")
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_back(self) -> None:
        self.dismiss(None)

    def action_toggle(self) -> None:
        self.view = "caseload" if self.view == "mine" else "mine"
        self.refresh_data()

    def action_done(self) -> None:
        action_id = self._highlighted()
        if action_id is None:
            return
        from .modals import ReasonModal

        def done(note: str | None) -> None:
            if not note:
                return
            try:
                followed_up.mark_done(self.store, action_id, note)
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.say("Action done.")
            self.refresh_data()

        self.app.push_screen(ReasonModal("Mark the action done", "What was done?"), callback=done)

    def action_pass_on(self) -> None:
        action_id = self._highlighted()
        if action_id is None:
            return
        store = self.store
        current = followed_up.state(store, action_id).owner
        users = [(f"{u.display_name} ({u.hub_code or 'all hubs'})", u.login) for u in store.users() if u.active]
        users = [u for u in users if u[1] != current]

        def passed(answer: tuple[str, str] | None) -> None:
            if not answer:
                return
            try:
                followed_up.pass_on(self.store, action_id, answer[0], answer[1])
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            names = desk_queries.user_names(self.store)
            self.say(f"Passed on to {names.get(answer[0], answer[0])}.")
            self.refresh_data()

        self.app.push_screen(PassOnModal(users), callback=passed)

    def action_open_person(self) -> None:
        action_id = self._highlighted()
        if action_id is None:
            return
        from .person import PersonScreen

        self.app.push_screen(PersonScreen(followed_up.get(self.store, action_id).person_id))
