"""Sync details: the status, records the central record refused (with its reasons), and conflicts to settle."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Label, Static

from hubdesk.domain.fields import differing, flatten
from hubdesk.domain.models import when
from hubdesk.store import desk as desk_queries
from hubdesk.store import sync_state, working_set
from hubdesk.store.errors import StoreError
from hubdesk.widgets.people import plain
from hubdesk.widgets.status import SyncStatus, SyncView

from .base import DeskBase

KIND_LABEL = {
    "person": "Person",
    "contact": "Contact",
    "payment": "Payment",
    "payment_decision": "Payment decision",
    "reversal": "Reversal",
    "session": "Session",
    "attendance": "Attendance",
    "cash_float": "Cash float",
    "float_count": "Float count",
    "voucher_stock": "Voucher stock",
    "handover_note": "Handover note",
    "payment_carry_over": "Carried-over payment",
    "day_closure": "Day closed",
}


def _when_text(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return when(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def _record_label(kind: str, body: dict[str, Any]) -> str:
    """A short name for a record in a conflict: a person's name, else its kind."""
    if kind == "person":
        name = " ".join(str(body.get(k) or "") for k in ("first_name", "last_name")).strip()
        return name or "(a person)"
    return KIND_LABEL.get(kind, kind)


def conflict_text(conflict: dict[str, Any]) -> str:
    """Both sides of a conflict, field by field where they differ: plain lines."""
    try:
        local = json.loads(conflict["local_body"] or "{}")
        remote = json.loads(conflict["remote_body"] or "{}")
    except ValueError:
        local, remote = {}, {}
    lines = [
        f"{KIND_LABEL.get(conflict['kind'], conflict['kind'])}: {_record_label(conflict['kind'], local)}",
        f"Found {_when_text(conflict['detected_at'])}. This desk edited an older version than the central record "
        "holds. Both are kept; make the change you want to keep as a normal edit, then mark it settled (s).",
        "",
    ]
    mine, theirs = flatten(local), flatten(remote)
    changed = differing(local, remote)
    if not remote:
        lines.append("The central record did not send its side.")
    for key in changed:
        lines.append(f"{key.replace('_', ' ').replace('.', ' ')}:")
        lines.append(f"  this desk:          {json.dumps(mine.get(key), ensure_ascii=False)}")
        lines.append(f"  the central record: {json.dumps(theirs.get(key), ensure_ascii=False)}")
    if remote and not changed:
        lines.append("The two sides hold the same details.")
    return "\n".join(lines)


class SyncScreen(DeskBase[None]):
    """Where a person sees what has not reached the central record and why."""

    DEFAULT_CSS = """
    SyncScreen { padding: 0 1; }
    SyncScreen DataTable { height: 1fr; }
    SyncScreen #sync-message { height: auto; }
    SyncScreen .section-title { text-style: bold; color: $primary; height: 1; margin-top: 1; }
    """
    AUTO_FOCUS = "#quarantined"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="sync.back", tooltip="Back"),
        Binding("y", "sync", "Sync now", id="sync.now", tooltip="Send what is waiting, then fetch changes"),
        Binding(
            "r",
            "resend",
            "Send again",
            id="sync.resend",
            tooltip="Put the highlighted refused record back in the queue (once its cause is put right centrally)",
        ),
        Binding(
            "s",
            "settle",
            "Settle",
            id="sync.settle",
            tooltip="Mark the highlighted conflict settled, saying what was kept",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Sync with the central record", classes="title")
        yield SyncStatus(id="sync-status")
        yield Static("", id="sync-message", markup=False)
        yield Label("Refused by the central record (enter shows why; kept, never deleted)", classes="section-title")
        yield DataTable(id="quarantined", cursor_type="row")
        yield Label("Conflicts to settle (enter shows both sides)", classes="section-title")
        yield DataTable(id="conflicts", cursor_type="row")
        yield Label(
            "Set aside from the central record: this desk could not read them; the rest was applied",
            classes="section-title",
            id="set-aside-title",
        )
        yield DataTable(id="set-aside", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#quarantined", DataTable).add_columns("Record", "Queued", "Tries", "Why it was refused")
        self.query_one("#conflicts", DataTable).add_columns("Record", "Kind", "Found")
        self.query_one("#set-aside", DataTable).add_columns("Number", "Kind", "Why", "Set aside")
        self.watch(self.app, "sync_view", self._view_changed, init=False)
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    def _view_changed(self, view: SyncView) -> None:
        self._show_message(view)

    def _show_message(self, view: SyncView) -> None:
        try:
            server = sync_state.get(self.store, sync_state.K_SERVER)
        except StoreError:
            return
        lines = [f"Central record: {server}" if server and view.enrolled else ""]
        if view.message:
            lines.append(view.message)
        self.query_one("#sync-message", Static).update("\n".join(line for line in lines if line))

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        self.query_one("#sync-status", SyncStatus).refresh_status()
        self._show_message(self.desk.sync_view)
        table = self.query_one("#quarantined", DataTable)
        table.clear()
        for outbox_id, kind, _record_id, queued, attempts, reason in desk_queries.quarantined_items(store):
            table.add_row(
                KIND_LABEL.get(kind, kind), _when_text(queued), str(attempts), plain(reason or ""), key=outbox_id
            )
        table = self.query_one("#conflicts", DataTable)
        table.clear()
        for conflict in sync_state.conflicts(store):
            try:
                local = json.loads(conflict["local_body"] or "{}")
            except ValueError:
                local = {}
            table.add_row(
                plain(_record_label(conflict["kind"], local)),
                KIND_LABEL.get(conflict["kind"], conflict["kind"]),
                _when_text(conflict["detected_at"]),
                key=conflict["id"],
            )
        aside = working_set.set_aside_items(store)
        table = self.query_one("#set-aside", DataTable)
        table.clear()
        for seq, kind, _record_id, reason, at in aside:
            table.add_row(str(seq), KIND_LABEL.get(kind, plain(kind)), plain(reason), _when_text(at), key=str(seq))
        # Shown only when there is something: most days there is nothing to set aside.
        table.display = self.query_one("#set-aside-title", Label).display = bool(aside)

    def _key(self, table_id: str) -> str | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_sync(self) -> None:
        self.desk.start_sync(full=True)

    def action_resend(self) -> None:
        outbox_id = self._key("#quarantined")
        if outbox_id is None:
            self.say("No refused record to send again.")
            return
        sync_state.requeue(self.store, outbox_id)
        self.say("Back in the queue: it goes with the next sync.")
        self.refresh_data()

    @on(DataTable.RowSelected, "#quarantined")
    def _show_refused(self, event: DataTable.RowSelected) -> None:
        from .modals import TextModal

        for outbox_id, kind, record_id, queued, attempts, reason in desk_queries.quarantined_items(self.store):
            if outbox_id == event.row_key.value:
                body = (
                    f"{KIND_LABEL.get(kind, kind)} {record_id}\n"
                    f"Queued {_when_text(queued)}; tried {attempts} time(s).\n\n"
                    f"The central record said: {reason or '(no reason given)'}\n\n"
                    "It stays on this desk. Once the cause is put right centrally, r sends it again."
                )
                self.app.push_screen(TextModal("Refused by the central record", body))
                return

    @on(DataTable.RowSelected, "#conflicts")
    def _show_conflict(self, event: DataTable.RowSelected) -> None:
        from .modals import TextModal

        found = [c for c in sync_state.conflicts(self.store) if c["id"] == event.row_key.value]
        if found:
            self.app.push_screen(TextModal("A conflict to settle", conflict_text(found[0])))

    def action_settle(self) -> None:
        from .modals import ReasonModal

        conflict_id = self._key("#conflicts")
        if conflict_id is None:
            self.say("No conflict to settle.")
            return

        def settled(resolution: str | None) -> None:
            if not resolution:
                return
            try:
                sync_state.settle(self.store, conflict_id, resolution)
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.say("Conflict settled.")
            self.refresh_data()

        self.app.push_screen(
            ReasonModal("Settle this conflict", "What was kept (and re-entered as an edit, if needed)?"), settled
        )

    def action_back(self) -> None:
        self.dismiss(None)
