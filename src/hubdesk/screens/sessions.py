"""Drop-in sessions: today's list, opening one, and its attendance register."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Input, Label, Select, Static

from hubdesk.domain.enums import AttendanceKind
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Attendance, DropInSession, Person, head_count, when
from hubdesk.messages import Saved
from hubdesk.store.errors import StoreError
from hubdesk.widgets.fields import Field
from hubdesk.widgets.people import age_text, plain, status_text, time_only
from hubdesk.widgets.times import hhmm, parse_when

from .base import DeskBase


def children_text(n: int) -> str:
    return "1 child" if n == 1 else f"{n} children"


def session_types(store) -> dict[str, str]:
    return {t.code: t.name for t in store.reference(include_retired=True).session_types}


class SessionsScreen(DeskBase[None]):
    CSS_PATH = "sessions.tcss"
    AUTO_FOCUS = "#session-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="sessions.back", tooltip="Back to the desk"),
        Binding("n", "new", "Open a session", id="sessions.new", tooltip="Open a new session"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Today's drop-in sessions", classes="title")
        yield Label("Enter opens a session's register; n opens a new session.", classes="muted")
        yield DataTable(id="session-list", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#session-list", DataTable).add_columns("Starts", "Session", "Partners", "Register", "State")
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        start, end = store.day_bounds(self.today())
        types = session_types(store)
        table = self.query_one("#session-list", DataTable)
        table.clear()
        for s in store.sessions_between(store.hub_code, start, end):
            table.add_row(
                time_only(s.starts_at),
                plain(types.get(s.session_type, s.session_type)),
                plain(", ".join(s.partners) or "-"),
                str(head_count(store.attendance(s.id))),
                "closed" if s.closed_at else "open",
                key=s.id,
            )

    @on(DataTable.RowSelected, "#session-list")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(RegisterScreen(event.row_key.value))

    def action_new(self) -> None:
        if self.day_is_closed():
            return

        def opened(session_id: str | None) -> None:
            if session_id:
                self.app.push_screen(RegisterScreen(session_id))

        self.app.push_screen(SessionFormScreen(), callback=opened)

    def action_back(self) -> None:
        self.dismiss(None)


class SessionFormScreen(DeskBase[str | None]):
    """Open a session: type, start time, partners present, a note."""

    CSS_PATH = "sessions.tcss"
    AUTO_FOCUS = "#session_type"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Open it", id="session.save", tooltip="Open this session"),
        Binding("escape", "back", "Cancel", id="session.back", tooltip="Back without opening"),
    ]

    def compose(self) -> ComposeResult:
        types = session_types(self.store)
        active = [(t.name, t.code) for t in self.store.reference().session_types]
        yield Static("Open a drop-in session", classes="title")
        with VerticalScroll(id="session-form"):
            yield Field(
                "Session",
                Select(
                    active,
                    id="session_type",
                    prompt="Pick the session",
                    value=active[0][1] if len(active) == 1 else Select.NULL,
                ),
                name="session_type",
            )
            if not types:
                yield Label("No session types on this desk yet: sync with the central record.", classes="form-error")
            yield Field("Starts", Input(hhmm(self.now()), id="starts"), name="starts", hint="14:05")
            yield Field("Ends (optional)", Input(id="ends"), name="ends", hint="16:00")
            yield Field(
                "Partners present",
                Input(id="partners", placeholder="DWP, careers"),
                name="partners",
                hint="commas between",
            )
            yield Field("Note", Input(id="note"), name="note")
            yield Label("", id="form-error", classes="form-error", markup=False)
        yield Footer(compact=True)

    @on(Input.Submitted)
    def _next(self) -> None:
        self.focus_next()

    def action_save(self) -> None:
        store = self.store
        errors: dict[str, str] = {}
        code = self.query_one("#session_type", Select).value
        if not isinstance(code, str):
            errors["session_type"] = "Pick the session"
        starts = ends = None
        try:
            starts = parse_when(self.query_one("#starts", Input).value, self.today())
        except ValueError as exc:
            errors["starts"] = str(exc)
        ends_text = self.query_one("#ends", Input).value.strip()
        if ends_text:
            try:
                ends = parse_when(ends_text, self.today())
            except ValueError as exc:
                errors["ends"] = str(exc)
        partners = tuple(p.strip() for p in self.query_one("#partners", Input).value.split(",") if p.strip())
        session = None
        if not errors and starts is not None and isinstance(code, str):
            try:
                session = DropInSession(
                    hub_code=store.hub_code,
                    session_type=code,
                    starts_at=starts.astimezone(UTC),
                    ends_at=ends.astimezone(UTC) if ends else None,
                    staff=(store.user.login,) if store.user else (),
                    partners=partners,
                    opened_by=store.user.login if store.user else "recovery",
                    note=self.query_one("#note", Input).value,
                )
            except ValidationError as exc:
                for key, msg in field_errors(exc).items():
                    errors.setdefault({"ends_at": "ends", "starts_at": "starts"}.get(key, key) or "ends", msg)
        for field in self.query(Field):
            field.set_error(errors.get(field.field_name))
        if session is None:
            first = next((f for f in self.query(Field) if f.field_name in errors), None)
            if first is not None:
                first.widget.focus()
            return
        try:
            store.open_session(session)
        except StoreError as exc:
            self.query_one("#form-error", Label).update(str(exc))
            return
        self.post_message(Saved("session", session.id))
        self.dismiss(session.id)

    def action_back(self) -> None:
        self.dismiss(None)


class RegisterScreen(DeskBase[None]):
    """A session's attendance register: people found by search, walk-ins and children.

    A line saved by mistake is corrected (e), never edited: a children count is put right,
    or someone added by mistake is taken off, each as a new version the history keeps."""

    CSS_PATH = "sessions.tcss"
    AUTO_FOCUS = "#register"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="register.back", tooltip="Back"),
        Binding("a", "add", "Add", id="register.add", tooltip="Add a known person, found by search"),
        Binding("w", "walk_in", "Walk-in", id="register.walk_in", tooltip="Add someone not yet known to the service"),
        Binding("k", "children", "Children", id="register.children", tooltip="Count children brought along"),
        Binding(
            "e",
            "correct",
            "Correct",
            id="register.correct",
            tooltip="Correct the highlighted line: a children count, or someone added by mistake (kept in the history)",
        ),
        Binding("x", "close", "Close", id="register.close", tooltip="Close this session"),
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id
        self.lines: dict[str, Attendance] = {}
        """The register as shown, by line id: what the correct key acts on."""

    def compose(self) -> ComposeResult:
        yield Static("", id="register-title", classes="title", markup=False)
        yield Static("", id="register-summary", markup=False)
        yield DataTable(id="register", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#register", DataTable).add_columns("Who", "Age", "Status", "Added")
        self.refresh_data()

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        session = store.get_session(self.session_id)
        types = session_types(store)
        state = f"closed {when(session.closed_at)}" if session.closed_at else "open"
        self.query_one("#register-title", Static).update(
            f"{types.get(session.session_type, session.session_type)} · {when(session.starts_at)} · {state}"
        )
        rows = store.attendance(self.session_id)
        # When each line was first added (a corrected line keeps its place and that time).
        added: dict[str, datetime] = {}
        for line in store.attendance_history(self.session_id):
            added[line.id] = added.get(line.amends, line.recorded_at) if line.amends else line.recorded_at
        self.lines = {a.id: a for a in rows}
        people = {p.id: p for p in store.people([a.person_id for a in rows if a.person_id])}
        partners = ", ".join(session.partners) or "none"
        self.query_one("#register-summary", Static).update(f"{head_count(rows)} · partners: {partners}")
        table = self.query_one("#register", DataTable)
        keep = table.cursor_row
        table.clear()
        day = self.today()
        for a in rows:
            when_added = time_only(added.get(a.id, a.recorded_at))
            if a.amends:
                when_added += f", corrected {time_only(a.recorded_at)}"
            if a.kind is AttendanceKind.CHILDREN:
                table.add_row(children_text(a.children), "", "", when_added, key=a.id)
                continue
            person = people.get(a.person_id or "")
            if person is None:
                continue
            table.add_row(
                plain(person.display_name),
                age_text(person, day),
                status_text(person),
                when_added,
                key=a.id,
            )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))

    def _add(self, kind: AttendanceKind, person: Person | None = None, children: int = 0) -> None:
        store = self.store
        try:
            attendance = store.add_attendance(
                Attendance(
                    session_id=self.session_id,
                    kind=kind,
                    person_id=person.id if person else None,
                    children=children,
                    recorded_by=store.user.login if store.user else "recovery",
                    recorded_at=self.now().astimezone(UTC),
                )
            )
        except (StoreError, ValidationError) as exc:
            message = "; ".join(field_errors(exc).values()) if isinstance(exc, ValidationError) else str(exc)
            self.say(message, severity="error")
            return
        self.post_message(Saved("attendance", attendance.id))
        self.refresh_data()

    def action_add(self) -> None:
        from .search import SearchScreen

        if self.day_is_closed():
            return

        def picked(person_id: str | None) -> None:
            if person_id:
                person = self.store.get_person(person_id)
                kind = AttendanceKind.WALK_IN if person.walk_in else AttendanceKind.PERSON
                self._add(kind, person)

        self.app.push_screen(SearchScreen(mode="pick"), callback=picked)

    def action_walk_in(self) -> None:
        from .modals import WalkInModal

        if self.day_is_closed():
            return

        def added(person: Person | None) -> None:
            if person is not None:
                self._add(AttendanceKind.WALK_IN, person)

        self.app.push_screen(WalkInModal(), callback=added)

    def action_children(self) -> None:
        from .modals import NumberModal

        if self.day_is_closed():
            return

        def counted(n: int | None) -> None:
            if n:
                self._add(AttendanceKind.CHILDREN, children=n)

        self.app.push_screen(NumberModal("How many children came along?"), callback=counted)

    def action_correct(self) -> None:
        from .modals import ConfirmModal, NumberModal

        table = self.query_one("#register", DataTable)
        if not table.row_count:
            self.say("Nothing on the register to correct.")
            return
        line = self.lines.get(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or "")
        if line is None:
            return
        if line.kind is AttendanceKind.CHILDREN:

            def counted(n: int | None) -> None:
                if n is None:
                    return
                if n == line.children:
                    self.say(f"Still {n}: nothing corrected.")
                    return
                self._amend(line, children=n, reason=f"children {line.children} corrected to {n}")

            self.app.push_screen(
                NumberModal(f"Correct {children_text(line.children)} to (0 takes the line off)"),
                callback=counted,
            )
            return
        person = self.store.get_person(line.person_id or "")

        def answer(ok: bool | None) -> None:
            if ok:
                self._amend(line, remove=True, reason="added by mistake")

        self.app.push_screen(
            ConfirmModal(
                f"Take {person.display_name} off this register, as added by mistake? The history keeps the line.",
                yes="Take off",
            ),
            answer,
        )

    def _amend(self, line: Attendance, *, children: int | None = None, remove: bool = False, reason: str) -> None:
        try:
            amended = self.store.amend_attendance(line.id, children=children, remove=remove, reason=reason)
        except (StoreError, ValidationError) as exc:
            message = "; ".join(field_errors(exc).values()) if isinstance(exc, ValidationError) else str(exc)
            self.say(message, severity="error")
            self.refresh_data()
            return
        self.post_message(Saved("attendance", amended.id))
        self.refresh_data()
        self.say("Taken off the register." if amended.removed else f"Corrected to {amended.children}.")

    def action_close(self) -> None:
        from .modals import ConfirmModal

        def answer(ok: bool | None) -> None:
            if not ok:
                return
            try:
                self.store.close_session(self.session_id)
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.post_message(Saved("session", self.session_id))
            self.refresh_data()

        self.app.push_screen(ConfirmModal("Close this session now?", yes="Close"), answer)

    def action_back(self) -> None:
        self.dismiss(None)
