"""Person search: type to filter (names, preferred name, date of birth, case id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Label, Static

from hubdesk.domain.models import Person, when
from hubdesk.store import desk as desk_queries
from hubdesk.widgets.columns import Column
from hubdesk.widgets.columns import fit_columns as fit_table
from hubdesk.widgets.fast_table import FastTable
from hubdesk.widgets.people import age_text, alert_cell, band_text, plain, status_text

from .base import DeskBase

TITLES = {
    "open": "Find a person",
    "visit": "Sign in a visit: find the person",
    "contact": "Record a contact: find the person",
    "payment": "Record a payment: find the person",
    "pick": "Add to the register: find the person",
}


# Date of birth, case id and hub tell two people of the same name apart.
COLUMNS = (
    Column("name", "Name", 20, 0, least=16, most=30),
    Column("age", "Age", 3, 6),
    Column("band", "Band", 5, 8),
    Column("status", "Status", 16, 1, least=15, most=27),
    Column("pa", "PA", 11, 7),
    Column("last", "Contacted", 11, 9),
    Column("alerts", "Alerts", 6, 2),
    Column("born", "Born", 11, 3),
    Column("case", "Case id", 10, 4),
    Column("hub", "Hub", 3, 5),
)
ESSENTIAL = 3  # the first three kept (name, status, alerts) stay even if they overflow
SQUEEZE_FOR = 5  # only these (down to the hub) may narrow the name and status to fit
RESERVED = 2 + 2  # the screen's padding, and a vertical scrollbar when the rows overflow
RESULTS = 20  # more than a screen shows at 120x40; the search narrows as people type
HELP = "Enter opens the top match; down arrow to choose."


def fit_columns(width: int) -> tuple[tuple[Column, int], ...]:
    """The results' columns in `width` cells: name, status and alerts stay; to keep date of
    birth, case id and hub the name and status narrow a little; lesser columns are dropped."""
    return fit_table(COLUMNS, width, essential=ESSENTIAL, squeeze_for=SQUEEZE_FOR)


def found_text(shown: int, total: int) -> str:
    """How many people match what was typed, and how many of them are listed."""
    if total > shown:
        return f"First {shown} of {total} (type more). {HELP}"
    if shown > total:
        similar = f"{shown - total} with a similar name"
        return f"{total} found, {similar}. {HELP}" if total else f"None found as typed; {similar}. {HELP}"
    return f"{total} found. {HELP}"


class SearchScreen(DeskBase[str | None]):
    """mode 'open' opens the person; 'visit'/'contact'/'payment' go straight to that form;
    'pick' returns the person id to whoever pushed this screen."""

    CSS_PATH = "search.tcss"
    AUTO_FOCUS = "#query"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="search.back", tooltip="Back without choosing"),
        Binding("down", "to_results", "Results", id="search.results", show=False, tooltip="Move into the results"),
        Binding(
            "ctrl+n",
            "walk_in",
            "New walk-in",
            id="search.walk_in",
            tooltip="Add someone not in the caseload, marked for matching",
        ),
    ]

    def __init__(self, mode: str = "open") -> None:
        super().__init__()
        self.mode = mode
        self.hits: list[Person] = []
        self._names: dict[str, str] | None = None
        self.shown_columns: tuple[tuple[Column, int], ...] = ()
        """The results' columns for the current width (fit_columns)."""

    def compose(self) -> ComposeResult:
        yield Static(TITLES.get(self.mode, "Find a person"), classes="title", id="search-title")
        yield Input(placeholder="name, preferred name, date of birth or case id", id="query")
        yield Label(f"Type to search. {HELP}", id="search-help", classes="muted", markup=False)
        yield FastTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        if self._fit(event.size.width):
            self._show()

    def _fit(self, screen_width: int) -> bool:
        """Lay out the results' columns for this width; True if they changed."""
        columns = fit_columns(screen_width - RESERVED)
        if columns == self.shown_columns:
            return False
        self.shown_columns = columns
        table = self.query_one("#results", DataTable)
        table.clear(columns=True)
        # Fixed widths: a keystroke redraws the rows without measuring every cell again.
        for column, width in columns:
            table.add_column(column.label, width=width, key=column.key)
        return True

    def _user_names(self) -> dict[str, str]:
        """Staff names for the PA column, read once per visit to this screen, not per key."""
        if self._names is None:
            self._names = desk_queries.user_names(self.store)
        return self._names

    @on(Input.Changed, "#query")
    def _search(self, event: Input.Changed) -> None:
        if self.desk.store is None:
            return  # locked with typing still queued (ctrl+l on a busy laptop): refresh_data after unlock
        self._find(event.value)

    def refresh_data(self) -> None:
        """After an unlock: the results for what is in the box now."""
        if self.desk.store is not None:
            self._find(self.query_one("#query", Input).value)

    def _find(self, text: str) -> None:
        found = self.store.find_people(text, limit=RESULTS)
        self.hits = self.store.people([h.person_id for h in found.hits])
        self._show()
        help_label = self.query_one("#search-help", Label)
        if text.strip() and not self.hits:
            message = "No one found. ctrl+n adds a new walk-in."
        elif self.hits:
            message = found_text(len(self.hits), found.total)
        else:
            message = f"Type to search. {HELP}"
        help_label.update(message, layout=False)  # one line, its width the screen's (search.tcss)

    def _show(self) -> None:
        """The hits in the results table, in the columns that fit."""
        people = self.hits
        names = self._user_names()
        last = self.store.last_contacts([p.id for p in people])
        day = self.today()
        table = self.query_one("#results", DataTable)
        table.clear()
        for person in people:
            shown = person.display_name
            if person.preferred_name and person.preferred_name != person.first_name:
                shown += f" ({person.first_name})"
            pa = names.get(person.allocated_pa, person.allocated_pa) if person.allocated_pa else "none"
            last_at = last.get(person.id)
            born = person.date_of_birth
            cells = {
                "name": plain(shown),
                "age": age_text(person, day),
                "band": band_text(person, day),
                "status": status_text(person),
                "pa": plain(pa),
                "last": when(datetime.fromisoformat(last_at)).split(",")[0] if last_at else "-",
                "alerts": alert_cell(person),
                "born": f"{born.day} {born:%b %Y}" if born else "-",
                "case": plain(person.case_id or "-"),
                "hub": plain(person.hub_code),
            }
            table.add_row(*(cells[column.key] for column, _ in self.shown_columns), key=person.id)

    @on(Input.Submitted, "#query")
    def _top(self) -> None:
        if self.hits:
            table = self.query_one("#results", DataTable)
            row = table.cursor_row if table.row_count else 0
            self.choose(self.hits[row].id if row < len(self.hits) else self.hits[0].id)

    @on(DataTable.RowSelected, "#results")
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.choose(event.row_key.value)

    def action_to_results(self) -> None:
        table = self.query_one("#results", DataTable)
        if table.row_count:
            table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_walk_in(self) -> None:
        from .modals import WalkInModal

        first = self.query_one("#query", Input).value.strip().split(" ")[0].title()

        def added(person: Person | None) -> None:
            if person is not None:
                self.say(f"{person.display_name} added as a walk-in, to be matched centrally")
                self.choose(person.id)

        self.app.push_screen(WalkInModal(first), callback=added)

    def choose(self, person_id: str) -> None:
        if self.mode == "pick":
            self.dismiss(person_id)
            return
        from .person import PersonScreen

        target: DeskBase
        if self.mode == "visit":
            from .contact import ContactFormScreen

            visit = desk_queries.visit_in_building(self.store, person_id)
            if visit is not None:
                # Already signed in: the person screen offers the sign-out.
                self.say("Already in the building: press v to sign them out.")
                target = PersonScreen(person_id)
            else:
                target = ContactFormScreen(person_id, visit=True)
        elif self.mode == "contact":
            from .contact import ContactFormScreen

            target = ContactFormScreen(person_id, visit=False)
        elif self.mode == "payment":
            from .payment import PaymentFormScreen

            target = PaymentFormScreen(person_id)
        else:
            target = PersonScreen(person_id)
        self.app.switch_screen(target)
