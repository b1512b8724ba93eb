"""Person search: type to filter (names, preferred name, date of birth, case id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Label, Static

from hubdesk.domain.models import Person, when
from hubdesk.store import desk as desk_queries
from hubdesk.widgets.people import age_text, alert_cell, band_text, plain, status_text

from .base import DeskBase

TITLES = {
    "open": "Find a person",
    "visit": "Sign in a visit: find the person",
    "contact": "Record a contact: find the person",
    "payment": "Record a payment: find the person",
    "pick": "Add to the register: find the person",
}


COLUMNS = (
    ("Name", 26),
    ("Age", 3),
    ("Band", 5),
    ("Status", 27),
    ("Allocated PA", 16),
    ("Last contact", 18),
    ("Alerts", 6),
)
RESULTS = 20  # more than a screen shows at 120x40; the search narrows as people type


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

    def compose(self) -> ComposeResult:
        yield Static(TITLES.get(self.mode, "Find a person"), classes="title", id="search-title")
        yield Input(placeholder="name, preferred name, date of birth or case id", id="query")
        yield Label(
            "Type to search. Enter opens the top match; down arrow to choose.", id="search-help", classes="muted"
        )
        yield DataTable(id="results", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        # Fixed widths: a keystroke redraws the rows without measuring every cell again.
        for label, width in COLUMNS:
            table.add_column(label, width=width)

    def _user_names(self) -> dict[str, str]:
        """Staff names for the PA column, read once per visit to this screen, not per key."""
        if self._names is None:
            self._names = desk_queries.user_names(self.store)
        return self._names

    @on(Input.Changed, "#query")
    def _search(self, event: Input.Changed) -> None:
        store = self.store
        hits = store.search_people(event.value, limit=RESULTS)
        people = store.people([h.person_id for h in hits])
        self.hits = people
        names = self._user_names()
        last = store.last_contacts([p.id for p in people])
        day = self.today()
        table = self.query_one("#results", DataTable)
        table.clear()
        for person in people:
            shown = person.display_name
            if person.preferred_name and person.preferred_name != person.first_name:
                shown += f" ({person.first_name})"
            pa = names.get(person.allocated_pa, person.allocated_pa) if person.allocated_pa else "none"
            last_at = last.get(person.id)
            table.add_row(
                plain(shown),
                age_text(person, day),
                band_text(person, day),
                status_text(person),
                plain(pa),
                when(datetime.fromisoformat(last_at)) if last_at else "-",
                alert_cell(person),
                key=person.id,
            )
        help_label = self.query_one("#search-help", Label)
        if event.value.strip() and not people:
            help_label.update("No one found. ctrl+n adds a new walk-in.")
        else:
            help_label.update(
                f"{len(people)} found. Enter opens the top match; down arrow to choose."
                if people
                else "Type to search. Enter opens the top match; down arrow to choose."
            )

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
