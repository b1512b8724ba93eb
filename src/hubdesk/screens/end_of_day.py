"""End of day: a checklist of what is still open, each item a step the list jumps to.

Sign everyone out (time asked, now by default); settle payments awaiting approval (approve or
decline with a duty manager's passphrase, or carry over with a reason); count the cash float
(by notes and coins or a total; a difference needs a reason); read the day's summary and the
last 8 weeks; write the handover note for the next duty; close the day, then sync as the last
step. Everything is saved through hubdesk.store.day and the Store; nothing here writes SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import ValidationError
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    ContentSwitcher,
    DataTable,
    Footer,
    Input,
    Label,
    Markdown,
    OptionList,
    Select,
    Sparkline,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from hubdesk.domain.day import (
    DENOMINATIONS,
    FloatEventKind,
    VoucherStockKind,
    denomination_label,
    describe_difference,
)
from hubdesk.domain.errors import field_errors
from hubdesk.domain.money import MoneyError, format_pence, parse_pounds
from hubdesk.messages import Saved
from hubdesk.store import day as day_store
from hubdesk.store import desk as desk_queries
from hubdesk.store import working_set
from hubdesk.store.errors import StoreError
from hubdesk.widgets.money import MoneyInput
from hubdesk.widgets.people import duration, money_cell, plain, time_only
from hubdesk.widgets.status import SyncStatus, SyncView
from hubdesk.widgets.times import day_text, hhmm, parse_when, time_help

from .base import DeskBase, ModalBase

# (step id, what the checklist calls it)
STEPS: tuple[tuple[str, str], ...] = (
    ("still-in", "Sign everyone out"),
    ("payments", "Payments awaiting approval"),
    ("float", "Cash float and vouchers"),
    ("summary", "The day's summary"),
    ("trends", "Last 8 weeks"),
    ("handover", "Handover note"),
    ("close", "Close the day and sync"),
)
# Where focus goes when a step is opened from the checklist.
STEP_FOCUS = {
    "still-in": "#still-in",
    "payments": "#awaiting",
    "float": "#float-amount",
    "summary": "#step-summary",
    "trends": "#trend-table",
    "handover": "#handover-text",
    "close": "#close-help",
}
DONE, OPEN, INFO = "✓", "•", "·"


def _validation_text(error: ValidationError) -> str:
    return "; ".join(field_errors(error).values())


class SignOutModal(ModalBase[datetime | None]):
    """When they left: now unless typed otherwise (never later than now)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="signout.cancel", tooltip="Do not sign out"),
    ]

    def __init__(self, question: str, earliest: datetime | None = None) -> None:
        super().__init__()
        self.question = question
        self.earliest = earliest

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(self.question, markup=False, classes="title")
            yield Label(f"Signed out at (enter saves; 14:05, or {day_text(self.today())} 14:05)")
            yield Input(hhmm(self.now()), id="sign-out-at")
            yield Label("", id="sign-out-error", classes="modal-error", markup=False)

    @on(Input.Submitted, "#sign-out-at")
    def _submit(self, event: Input.Submitted) -> None:
        error = self.query_one("#sign-out-error", Label)
        try:
            at = parse_when(event.value, self.today())
        except ValueError as exc:
            error.update(str(exc) or time_help(self.today()))
            return
        if at > self.now() + timedelta(minutes=1):
            error.update("That time has not come yet: sign out at now or earlier")
            return
        if self.earliest is not None and at < self.earliest:
            if hhmm(at) == hhmm(self.earliest) and self.earliest - at < timedelta(minutes=1):
                # Signed in and out within one minute: the time shown (and typed) has no
                # seconds, so the minute they signed in means the moment they did.
                at = self.earliest
            else:
                error.update(f"That is before they signed in ({hhmm(self.earliest)})")
                return
        self.dismiss(at)

    def action_cancel(self) -> None:
        self.dismiss(None)


class EndOfDayScreen(DeskBase[None]):
    """The checklist on the left; each step's own keys are named on the step (and in the
    palette), so the footer keeps to what works everywhere and fits 80 columns."""

    CSS_PATH = "end_of_day.tcss"
    AUTO_FOCUS = "#checklist"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="eod.back", tooltip="Back to the checklist, or from it to the desk"),
        Binding(
            "o",
            "sign_out",
            "Sign out",
            id="eod.sign_out",
            tooltip="Sign out the highlighted person (time asked)",
            show=False,
        ),
        Binding(
            "O",
            "sign_out_all",
            "Sign out all",
            id="eod.sign_out_all",
            tooltip="Sign out everyone still in, at one time (asked)",
            show=False,
        ),
        Binding(
            "a",
            "approve",
            "Approve",
            id="eod.approve",
            tooltip="A duty manager approves the highlighted payment awaiting approval",
            show=False,
        ),
        Binding(
            "d",
            "decline",
            "Decline",
            id="eod.decline",
            tooltip="A duty manager declines the highlighted payment awaiting approval, with a reason",
            show=False,
        ),
        Binding(
            "c",
            "carry_over",
            "Carry over",
            id="eod.carry_over",
            tooltip="Leave the highlighted payment awaiting approval for the next duty, with a reason",
            show=False,
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save",
            id="eod.save",
            tooltip="Save the float count, or the handover note (on their steps)",
        ),
        Binding(
            "ctrl+d",
            "close_day",
            "Close day",
            id="eod.close_day",
            tooltip="Close the day at this hub once nothing is left open, then sync",
            priority=True,  # a text box would take ctrl+d as delete-right
        ),
        Binding("y", "sync", "Sync", id="eod.sync", tooltip="Sync with the central record now"),
        Binding(
            "Y",
            "sync_screen",
            "Sync details",
            id="eod.sync_screen",
            tooltip="Records refused by the central record, with its reasons, and conflicts to settle",
            show=False,
        ),
        *[
            Binding(
                str(n),
                f"step('{step}')",
                label,
                id=f"eod.step.{step}",
                tooltip=f"Go to: {label}",
                show=False,
            )
            for n, (step, label) in enumerate(STEPS, start=1)
        ],
    ]

    def compose(self) -> ComposeResult:
        yield Static("End of day", classes="title", id="eod-title", markup=False)
        with Horizontal(id="eod-body"):
            yield OptionList(*[Option(label, id=step) for step, label in STEPS], id="checklist")
            with ContentSwitcher(id="eod-steps", initial="step-still-in"):
                with Vertical(id="step-still-in", classes="eod-step"):
                    yield Label("Still signed in", classes="section-title")
                    yield Label("o signs out the highlighted person, O everyone; the time is asked.", classes="muted")
                    yield DataTable(id="still-in", cursor_type="row")
                with Vertical(id="step-payments", classes="eod-step"):
                    yield Label("Payments awaiting approval", classes="section-title")
                    yield Label(
                        "a approve or d decline (duty manager's passphrase); c carry over with a reason.",
                        classes="muted",
                    )
                    yield DataTable(id="awaiting", cursor_type="row")
                with VerticalScroll(id="step-float", classes="eod-step"):
                    yield Label("Cash float", classes="section-title")
                    yield Static("", id="float-figures", markup=False)
                    yield Label("Money into or out of the float (not payments): enter records it", classes="muted")
                    with Horizontal(classes="eod-row"):
                        yield Select(
                            [(k.label, k.value) for k in FloatEventKind],
                            value=FloatEventKind.OPENING.value,
                            allow_blank=False,
                            id="float-kind",
                            compact=True,
                        )
                        yield MoneyInput(id="float-amount", compact=True)
                    yield Label("Counted: notes and coins, or a total", classes="muted")
                    with Grid(id="denominations"):
                        for pence in DENOMINATIONS:
                            yield Label(denomination_label(pence), classes="denomination")
                            yield Input(
                                id=f"d-{pence}", restrict=r"[0-9]*", max_length=5, compact=True, placeholder="0"
                            )
                    with Horizontal(classes="eod-row"):
                        yield Label("or total ", classes="denomination")
                        yield MoneyInput(id="count-total", compact=True)
                    with Horizontal(classes="eod-row"):
                        yield Label("Reason ", classes="denomination")
                        yield Input(id="count-reason", compact=True, placeholder="needed for any difference")
                    yield Static("", id="count-check", markup=False)
                    yield Label("ctrl+s saves the count (counting again keeps the earlier one)", classes="muted")
                    yield Label("Voucher stock", classes="section-title", id="voucher-title")
                    yield Static("", id="voucher-figures", markup=False)
                    yield Label("A range received, sent back or counted in stock: enter records it", classes="muted")
                    with Horizontal(classes="eod-row"):
                        yield Select(
                            [(k.label, k.value) for k in VoucherStockKind],
                            value=VoucherStockKind.COUNTED.value,
                            allow_blank=False,
                            id="voucher-kind",
                            compact=True,
                        )
                        yield Input(id="voucher-first", compact=True, placeholder="first, e.g. V100200")
                        yield Input(id="voucher-last", compact=True, placeholder="last, e.g. V100249")
                with VerticalScroll(id="step-summary", classes="eod-step"):
                    yield Markdown("", id="summary")
                with VerticalScroll(id="step-trends", classes="eod-step"):
                    yield Label("The last 8 weeks at this hub", classes="section-title")
                    for series in ("contacts", "visits", "payments"):
                        yield Static("", id=f"trend-{series}-label", markup=False, classes="trend-label")
                        yield Sparkline([], id=f"trend-{series}", classes="trend")
                    yield DataTable(id="trend-table", cursor_type="row")
                with Vertical(id="step-handover", classes="eod-step"):
                    yield Label("Handover note for the next duty", classes="section-title")
                    yield Static("", id="handover-previous", markup=False)
                    yield Static("", id="handover-written", markup=False)
                    yield TextArea(id="handover-text", soft_wrap=True, show_line_numbers=False)
                    yield Label("ctrl+s saves it; it shows on the desk after the next unlock here.", classes="muted")
                with Vertical(id="step-close", classes="eod-step"):
                    yield Label("Close the day", classes="section-title")
                    yield Static("", id="close-blockers", markup=False)
                    yield SyncStatus(id="sync-status")
                    yield Static("", id="close-message", markup=False)
                    yield Static(
                        "ctrl+d closes the day, then syncs with the central record; y syncs again; Y shows details.",
                        id="close-help",
                        classes="muted",
                    )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#still-in", DataTable).add_columns("Name", "Signed in", "For", "Desk")
        self.query_one("#awaiting", DataTable).add_columns(
            "Receipt", "Name", "Amount", "Recorded", "Carried over", "Desk"
        )
        self.query_one("#trend-table", DataTable).add_columns("Week", "Contacts", "Visits", "Payments", "Paid out")
        self.query_one("#close-help", Static).can_focus = True
        self.watch(self.app, "sync_view", self._sync_changed, init=False)
        self.refresh_data()

    def on_screen_resume(self) -> None:
        if self.desk.store is not None:
            self.refresh_data()

    # --- reading the day ------------------------------------------------------------------

    def refresh_data(self) -> None:
        try:
            store = self.store
        except StoreError:
            return
        day = self.today()
        hub = desk_queries.hub(store)
        self.query_one("#eod-title", Static).update(
            f"End of day · {hub.name if hub else store.hub_code} · {day.day} {day:%b %Y}"
        )
        checklist = day_store.day_checklist(store, store.hub_code, day)
        self.checklist = checklist
        today = desk_queries.today(store, self.now())
        people = today.people
        names = desk_queries.user_names(store)

        carried = {c.payment_id: c for c in checklist.carried}
        awaiting = list(checklist.awaiting) + [p for p in store.awaiting_approval() if p.id in carried]
        # The hub's other desks' records came in a sync: say which desk has them to settle.
        desks = working_set.recorded_at_desk(store, [v.id for v in checklist.still_in] + [p.id for p in awaiting])

        table = self.query_one("#still-in", DataTable)
        keep = table.cursor_row
        table.clear()
        for v in checklist.still_in:
            person = people.get(v.person_id) or store.get_person(v.person_id)
            table.add_row(
                plain(person.display_name),
                time_only(v.started_at),
                duration(v.started_at, self.now()),
                plain(desks.get(v.id, "this desk")),
                key=v.contact_id,
            )
        if checklist.still_in:
            table.move_cursor(row=min(keep, len(checklist.still_in) - 1))

        table = self.query_one("#awaiting", DataTable)
        keep = table.cursor_row
        table.clear()
        for p in awaiting:
            person = people.get(p.person_id) or store.get_person(p.person_id)
            note = carried[p.id].reason if p.id in carried else ""
            table.add_row(
                p.receipt_no,
                plain(person.display_name),
                money_cell(p.amount_pence),
                time_only(p.recorded_at),
                plain(note),
                plain(desks.get(p.id, "this desk")),
                key=p.id,
            )
        if awaiting:
            table.move_cursor(row=min(keep, len(awaiting) - 1))

        self._show_float(checklist.cash_float)
        self._show_vouchers()
        self._show_handover(names)
        self._show_close()
        self._show_checklist()
        if self._step_now == "summary":
            self._show_summary()
        if self._step_now == "trends":
            self._show_trends()

    def _marks(self) -> dict[str, tuple[str, str]]:
        c = self.checklist
        marks: dict[str, tuple[str, str]] = {}
        n = len(c.still_in)
        marks["still-in"] = (OPEN, f"{n} still in") if n else (DONE, "nobody in")
        n = len(c.awaiting)
        carried = f", {len(c.carried)} carried over" if c.carried else ""
        marks["payments"] = (OPEN, f"{n} to settle{carried}") if n else (DONE, f"none waiting{carried}")
        f = c.cash_float
        float_marks: list[tuple[str, str]] = []
        if f.in_use and f.count is None:
            float_marks.append((OPEN, "not counted"))
        elif f.in_use and not f.explained:
            float_marks.append((OPEN, "difference needs a reason"))
        elif f.in_use:
            float_marks.append((DONE, describe_difference(f.difference_pence or 0)))
        if self.vouchers.in_use:
            float_marks.append(self._voucher_mark())
        marks["float"] = (
            # One line each: the checklist is narrow and a wrapped line loses its indent.
            (OPEN if any(m == OPEN for m, _ in float_marks) else DONE, "\n   ".join(t for _, t in float_marks))
            if float_marks
            else (DONE, "not used today")
        )
        marks["summary"] = (INFO, "read it")
        marks["trends"] = (INFO, "how the hub is doing")
        marks["handover"] = (DONE, "written") if c.handover_written else (OPEN, "not written yet")
        if c.closure is not None:
            marks["close"] = (DONE, f"closed {hhmm(c.closure.closed_at)}")
        else:
            left = len(c.still_open)
            marks["close"] = (OPEN, f"{left} thing{'s' if left != 1 else ''} open" if left else "ready")
        return marks

    def _voucher_mark(self) -> tuple[str, str]:
        v = self.vouchers
        if v.counted is None:
            n = v.issued_total
            return OPEN, f"{n} voucher{'' if n == 1 else 's'} not counted" if n else "vouchers not counted"
        if v.missing or v.unexpected:
            return OPEN, "voucher count differs"
        return DONE, "vouchers counted"

    def _show_checklist(self) -> None:
        options = self.query_one("#checklist", OptionList)
        for step, label in STEPS:
            mark, state = self._marks()[step]
            prompt = Text.assemble(
                (f"{mark} ", "bold green" if mark == DONE else ("bold yellow" if mark == OPEN else "")),
                label,
                ("\n   " + state, "dim"),
            )
            options.replace_option_prompt(step, prompt)

    def _show_float(self, f: day_store.FloatReconciliation) -> None:
        def money(pence: int | None) -> str:
            return "not recorded" if pence is None else format_pence(pence)

        lines = [
            f"Opening balance   {money(f.opening_pence)}"
            + (f" ({f.opening_source})" if f.opening_pence is not None else ""),
            f"Top-ups           {format_pence(f.top_ups_pence)}",
            f"Taken out         {format_pence(f.banked_pence)}",
            f"Cash paid out     {format_pence(f.cash_out_pence)} ({f.cash_payments} payment"
            f"{'' if f.cash_payments == 1 else 's'})",
            f"Expected          {format_pence(f.expected_pence)}",
        ]
        if f.count is not None:
            lines.append(
                f"Counted           {format_pence(f.count.total_pence)} at {hhmm(f.count.counted_at)}: "
                f"{describe_difference(f.difference_pence or 0)}"
            )
            if f.reason:
                lines.append(f"Reason            {f.reason}")
            if f.changed_since_count:
                lines.append("A payment changed since the count: count again.")
        else:
            lines.append("Counted           not yet")
        self.query_one("#float-figures", Static).update("\n".join(lines))
        self.expected_pence = f.expected_pence
        self._check_count()

    def _show_vouchers(self) -> None:
        v = day_store.reconcile_vouchers(self.store, self.store.hub_code, self.today())
        self.vouchers = v
        lines = [
            f"In stock at the start {v.start_stock} · received {v.received} · sent back {v.returned} · "
            f"issued {v.issued_total} · expected {v.expected} · counted {'not yet' if v.counted is None else v.counted}"
        ]
        if v.missing:
            lines.append("Missing (expected, not counted): " + ", ".join(v.missing))
        if v.unexpected:
            lines.append("Counted but not expected: " + ", ".join(v.unexpected))
        if v.unknown_issued:
            lines.append("Issued from no recorded stock: " + ", ".join(v.unknown_issued))
        self.query_one("#voucher-figures", Static).update("\n".join(lines))

    @on(Input.Submitted, "#voucher-first")
    def _voucher_next(self) -> None:
        self.query_one("#voucher-last", Input).focus()

    @on(Input.Submitted, "#voucher-last")
    def _record_vouchers(self) -> None:
        first = self.query_one("#voucher-first", Input)
        last = self.query_one("#voucher-last", Input)
        kind = self.query_one("#voucher-kind", Select).value
        try:
            event = day_store.record_voucher_stock(
                self.store, str(kind), first.value, last.value or first.value, day=self.today()
            )
        except ValidationError as exc:
            self.say(_validation_text(exc), severity="error")
            return
        except StoreError as exc:
            self.say(str(exc), severity="error")
            return
        first.value = last.value = ""
        first.focus()
        self.say(f"{event.kind.label}: {event.size} voucher{'s' if event.size != 1 else ''}")
        self.post_message(Saved("voucher_stock", event.id))
        self.refresh_data()

    def _counted(self) -> tuple[dict[int, int] | None, int | None, str]:
        """(denominations, total, problem) from what is typed in the count boxes."""
        counts = {}
        for pence in DENOMINATIONS:
            text = self.query_one(f"#d-{pence}", Input).value.strip()
            if text:
                counts[pence] = int(text)
        total_text = self.query_one("#count-total", MoneyInput).value.strip()
        total: int | None = None
        if total_text:
            try:
                total = parse_pounds(total_text)
            except MoneyError as exc:
                if total_text.strip("£ ") in ("0", "0.00", "0.0"):
                    total = 0
                else:
                    return None, None, str(exc)
        if counts and total is not None and sum(p * n for p, n in counts.items()) != total:
            return (
                counts,
                total,
                (
                    f"The notes and coins add up to {format_pence(sum(p * n for p, n in counts.items()))}, "
                    f"not {format_pence(total)}"
                ),
            )
        return (counts or None), total, ""

    def _check_count(self) -> None:
        counts, total, problem = self._counted()
        check = self.query_one("#count-check", Static)
        check.set_class(bool(problem), "form-error")
        if problem:
            check.update(problem)
            return
        counted = sum(p * n for p, n in counts.items()) if counts else total
        if counted is None:
            check.update("")
            return
        difference = counted - getattr(self, "expected_pence", 0)
        text = f"Counted {format_pence(counted)} · expected {format_pence(self.expected_pence)} · "
        text += describe_difference(difference)
        if difference and not self.query_one("#count-reason", Input).value.strip():
            text += ": give a reason"
            check.set_class(True, "form-error")
        check.update(text)

    @on(Input.Changed)
    def _count_changed(self, event: Input.Changed) -> None:
        if event.input.id and (event.input.id.startswith("d-") or event.input.id in ("count-total", "count-reason")):
            self._check_count()

    def _show_handover(self, names: dict[str, str]) -> None:
        store, day = self.store, self.today()
        previous = day_store.handover_for(store, store.hub_code, day)
        self.query_one("#handover-previous", Static).update(
            "\n".join(
                f"From {names.get(n.written_by, n.written_by)} ({n.day.day} {n.day:%b}): {n.text}" for n in previous
            )
            or "No note was left for today."
        )
        written = day_store.handover_notes(store, store.hub_code, day)
        self.query_one("#handover-written", Static).update(
            "\n".join(f"Written today by {names.get(n.written_by, n.written_by)}: {n.text}" for n in written)
        )

    def _show_close(self) -> None:
        c = self.checklist
        if c.closure is not None:
            text = f"The day is closed ({hhmm(c.closure.closed_at)}). Its records are now read-only here."
        elif c.still_open:
            lines = c.blockers
            if c.open_sessions:
                n = len(c.open_sessions)
                lines.append(
                    f"{n} drop-in session{' is' if n == 1 else 's are'} still open ({self._sessions_text()}): "
                    f"ctrl+d asks to close {'it' if n == 1 else 'them'} with the day"
                )
            text = "Still open:\n" + "\n".join(f"• {line}" for line in lines)
        else:
            text = "Nothing is left open: the day can be closed."
        if c.closure is None:
            v = self.vouchers
            if v.in_use and v.counted is None:
                issued = f"{v.issued_total} voucher{'' if v.issued_total == 1 else 's'} issued today, "
                text += f"\nVouchers: {issued if v.issued_total else ''}not counted (step 3)."
            if not c.handover_written:
                text += "\nNo handover note yet (step 6)."
        self.query_one("#close-blockers", Static).update(text)
        self.query_one("#sync-status", SyncStatus).refresh_status()

    def _sessions_text(self) -> str:
        """'Stay and play from 10:30, Cooking from 12:00': the day's sessions still open."""
        types = {t.code: t.name for t in self.store.reference(include_retired=True).session_types}
        return ", ".join(
            f"{types.get(s.session_type, s.session_type)} from {hhmm(s.starts_at)}"
            for s in self.checklist.open_sessions
        )

    def _sync_changed(self, view: SyncView) -> None:
        self.query_one("#close-message", Static).update(view.message if not view.running else "")

    def _show_summary(self) -> None:
        from hubdesk.reports.daily import daily_summary, render_md

        store = self.store
        summary = daily_summary(store, store.hub_code, self.today(), now=self.now())
        self.query_one("#summary", Markdown).update(render_md(summary))

    def _show_trends(self) -> None:
        from hubdesk.reports.trends import sparkline, weekly_trends

        store = self.store
        weeks = weekly_trends(store, store.hub_code, self.today(), weeks=8)
        series = {
            "contacts": ("Contacts", [w.contacts for w in weeks], str),
            "visits": ("Drop-in visits", [w.visits for w in weeks], str),
            "payments": ("Paid out", [w.payments_pence for w in weeks], format_pence),
        }
        for key, (label, values, fmt) in series.items():
            self.query_one(f"#trend-{key}-label", Static).update(
                f"{label}: {fmt(values[-1])} this week, {fmt(values[-2])} last week   {sparkline(values)}"
            )
            self.query_one(f"#trend-{key}", Sparkline).data = [float(v) for v in values]
        table = self.query_one("#trend-table", DataTable)
        table.clear()
        for w in weeks:
            table.add_row(w.label, str(w.contacts), str(w.visits), str(w.payments), money_cell(w.payments_pence))

    # --- moving around ----------------------------------------------------------------------

    def show_step(self, step: str, *, focus: bool = False) -> None:
        self.query_one("#eod-steps", ContentSwitcher).current = f"step-{step}"
        options = self.query_one("#checklist", OptionList)
        index = [s for s, _ in STEPS].index(step)
        if options.highlighted != index:
            options.highlighted = index
        if step == "summary":
            self._show_summary()
        elif step == "trends":
            self._show_trends()
        if focus:
            self.query_one(STEP_FOCUS[step]).focus()

    @property
    def _step_now(self) -> str:
        return (self.query_one("#eod-steps", ContentSwitcher).current or "step-still-in").removeprefix("step-")

    @on(OptionList.OptionHighlighted, "#checklist")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self._step_now:
            self.show_step(event.option.id)

    @on(OptionList.OptionSelected, "#checklist")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.show_step(event.option.id, focus=True)

    def action_step(self, step: str) -> None:
        self.show_step(step, focus=True)

    def action_back(self) -> None:
        checklist = self.query_one("#checklist", OptionList)
        if self.focused is not None and self.focused is not checklist:
            checklist.focus()
            return
        self.dismiss(None)

    def _row_key(self, table_id: str) -> str | None:
        table = self.query_one(table_id, DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    # --- sign-outs ----------------------------------------------------------------------------

    def action_sign_out(self) -> None:
        self.show_step("still-in")
        contact_id = self._row_key("#still-in")
        if contact_id is None:
            self.say("Nobody is signed in.")
            return
        visit = self.store.current_contact(contact_id)
        person = self.store.get_person(visit.person_id)

        def done(at: datetime | None) -> None:
            if at is None:
                return
            try:
                out = self.store.sign_out(contact_id, at)
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.say(f"{person.display_name} signed out at {hhmm(at)}")
            self.post_message(Saved("sign_out", out.id))
            self.refresh_data()

        self.app.push_screen(
            SignOutModal(f"Sign out {person.display_name}? (in since {hhmm(visit.started_at)})", visit.started_at),
            callback=done,
        )

    def action_sign_out_all(self) -> None:
        self.show_step("still-in")
        still_in = list(self.checklist.still_in)
        if not still_in:
            self.say("Nobody is signed in.")
            return
        earliest = max(v.started_at for v in still_in)

        def done(at: datetime | None) -> None:
            if at is None:
                return
            signed = 0
            for visit in still_in:
                try:
                    out = self.store.sign_out(visit.contact_id, at)
                except StoreError as exc:
                    self.say(str(exc), severity="error")
                    continue
                signed += 1
                self.post_message(Saved("sign_out", out.id))
            self.say(f"{signed} signed out at {hhmm(at)}")
            self.refresh_data()

        n = len(still_in)
        self.app.push_screen(
            SignOutModal(f"Sign out all {n} still in?" if n > 1 else "Sign out the one person still in?", earliest),
            callback=done,
        )

    # --- payments awaiting approval --------------------------------------------------------

    def _awaiting_payment(self) -> str | None:
        self.show_step("payments")
        payment_id = self._row_key("#awaiting")
        if payment_id is None:
            self.say("No payment is awaiting approval.")
        return payment_id

    def _decide(self, payment, manager, approve: bool, reason: str = "") -> None:
        """Record a manager's decision on a payment awaiting approval, and say so."""
        try:
            decision = self.store.decide_payment(payment.id, approve, manager, reason)
        except StoreError as exc:
            self.say(str(exc), severity="error")
            return
        self.say(f"{payment.receipt_no} {'approved' if approve else 'declined'} by {manager.display_name}")
        self.post_message(Saved("payment_decision", decision.id))
        self.refresh_data()

    def _payment_lines(self, payment) -> tuple[str, ...]:
        """What a manager reads before deciding: who, what for, why, and why it needs them."""
        store = self.store
        person = store.get_person(payment.person_id)
        try:
            category = store.payment_category(payment.category).name
        except StoreError:
            category = payment.category
        recorder = desk_queries.user_names(store).get(payment.recorded_by, payment.recorded_by)
        why = day_store.awaiting_reasons(store, payment)
        method = payment.method.label.split(" (")[0].lower()
        if payment.voucher_serial:
            method += f" {payment.voucher_serial}"
        return (
            f"{person.display_name}: {category}, {format_pence(payment.amount_pence)} ({method}), "
            f"receipt {payment.receipt_no}, recorded by {recorder} at {hhmm(payment.recorded_at)}",
            f"Reason: {payment.reason}",
            "Needs approval: " + "; ".join(why),
        )

    def _ask_manager(self, payment, then, **modal_options) -> None:
        """The duty manager's passphrase for this payment; `then(manager)` once it checks out."""
        from .approval import ApprovalModal, ApprovalResult

        def verified(result: ApprovalResult | None) -> None:
            if result is not None and result.approver is not None:
                then(result.approver)

        self.app.push_screen(
            ApprovalModal(
                payment.amount_pence,
                self._payment_lines(payment),
                allow_awaiting=False,
                **modal_options,
            ),
            callback=verified,
        )

    def action_approve(self) -> None:
        payment_id = self._awaiting_payment()
        if not payment_id:
            return
        payment = self.store.get_payment(payment_id)
        self._ask_manager(payment, lambda manager: self._decide(payment, manager, True))

    def action_decline(self) -> None:
        from .modals import ReasonModal

        payment_id = self._awaiting_payment()
        if not payment_id:
            return
        payment = self.store.get_payment(payment_id)

        def verified(manager) -> None:
            def reasoned(reason: str | None) -> None:
                if reason:
                    self._decide(payment, manager, False, reason)

            self.app.push_screen(ReasonModal(f"Decline {payment.receipt_no}", "Why is it declined?"), reasoned)

        self._ask_manager(payment, verified, title="Duty manager: decline this payment", verb="Confirm it is me")

    def action_carry_over(self) -> None:
        from .modals import ReasonModal

        payment_id = self._awaiting_payment()
        if not payment_id:
            return
        payment = self.store.get_payment(payment_id)

        def reasoned(reason: str | None) -> None:
            if not reason:
                return
            try:
                record = day_store.carry_over(self.store, payment_id, reason, day=self.today())
            except ValidationError as exc:
                self.say(_validation_text(exc), severity="error")
                return
            except StoreError as exc:
                self.say(str(exc), severity="error")
                return
            self.say(f"{payment.receipt_no} carried over to the next duty")
            self.post_message(Saved("payment_carry_over", record.id))
            self.refresh_data()

        self.app.push_screen(
            ReasonModal(
                f"Carry over {payment.receipt_no} ({format_pence(payment.amount_pence)})",
                "Why is it left for the next duty?",
            ),
            reasoned,
        )

    # --- the cash float ----------------------------------------------------------------------

    @on(Input.Submitted, "#float-amount")
    def _record_float_event(self) -> None:
        amount = self.query_one("#float-amount", MoneyInput)
        kind = self.query_one("#float-kind", Select).value
        try:
            pence = amount.pence
        except MoneyError as exc:
            if kind == FloatEventKind.OPENING.value and amount.value.strip("£ ") in ("0", "0.00"):
                pence = 0
            else:
                self.say(str(exc), severity="error")
                return
        try:
            event = day_store.record_float_event(self.store, str(kind), pence, day=self.today())
        except ValidationError as exc:
            self.say(_validation_text(exc), severity="error")
            return
        except StoreError as exc:
            self.say(str(exc), severity="error")
            return
        amount.value = ""
        if kind == FloatEventKind.OPENING.value:
            self.query_one("#float-kind", Select).value = FloatEventKind.TOP_UP.value
        self.say(f"{event.kind.label}: {format_pence(event.amount_pence)} recorded")
        self.post_message(Saved("cash_float", event.id))
        self.refresh_data()

    def _save_count(self) -> None:
        counts, total, problem = self._counted()
        check = self.query_one("#count-check", Static)
        if problem:
            check.update(problem)
            return
        if counts is None and total is None:
            check.set_class(True, "form-error")
            check.update("Type the count: how many of each note and coin, or the total")
            return
        reason_box = self.query_one("#count-reason", Input)
        reason = reason_box.value.strip()
        try:
            count = day_store.count_float(
                self.store, day=self.today(), denominations=counts, total_pence=total, reason=reason
            )
        except ValidationError as exc:
            check.set_class(True, "form-error")
            check.update(_validation_text(exc))
            if not reason:
                # What is typed next is the reason: left in a count box, its digits would change
                # the count and its words would be lost.
                reason_box.focus()
            return
        except StoreError as exc:
            check.set_class(True, "form-error")
            check.update(str(exc))
            return
        for pence in DENOMINATIONS:
            self.query_one(f"#d-{pence}", Input).value = ""
        self.query_one("#count-total", MoneyInput).value = ""
        self.query_one("#count-reason", Input).value = ""
        self.say(f"Float counted: {format_pence(count.total_pence)}, {describe_difference(count.difference_pence)}")
        self.post_message(Saved("float_count", count.id))
        self.refresh_data()

    # --- handover, saving, closing ----------------------------------------------------------

    def _save_handover(self) -> None:
        area = self.query_one("#handover-text", TextArea)
        text = area.text.strip()
        if not text:
            self.say("Write the note first.")
            return
        try:
            note = day_store.write_handover(self.store, text, day=self.today())
        except ValidationError as exc:
            self.say(_validation_text(exc), severity="error")
            return
        except StoreError as exc:
            self.say(str(exc), severity="error")
            return
        area.text = ""
        self.say("Handover note saved for the next duty.")
        self.post_message(Saved("handover_note", note.id))
        self.refresh_data()

    def action_save(self) -> None:
        step = self._step_now
        if step == "float":
            self._save_count()
        elif step == "handover":
            self._save_handover()
        else:
            self.say("Nothing to save on this step.")

    def _refuse_close(self, message: str) -> None:
        self.query_one("#close-message", Static).update(message)
        self.say(message, severity="warning")

    def action_close_day(self) -> None:
        """Ask first (closing cannot be undone), naming any drop-in session that closes with it."""
        from .modals import ConfirmModal

        self.show_step("close")
        self.refresh_data()
        c = self.checklist
        day, hub = self.today(), desk_queries.hub(self.store)
        if c.closure is not None:
            self._refuse_close(f"The day {day:%d %b %Y} is already closed here.")
            return
        if c.blockers:
            self._refuse_close("The day cannot be closed yet: " + "; ".join(c.blockers))
            return
        sessions = [s.id for s in c.open_sessions]
        question = f"Close {day:%d %b %Y} at {hub.name if hub else self.store.hub_code}? "
        if sessions:
            n = len(sessions)
            question += (
                f"{self._sessions_text()} {'is' if n == 1 else 'are'} still open: "
                f"{'it closes' if n == 1 else 'they close'} at {hhmm(self.now())} with the day. "
            )
        question += "The day's records can then only be amended, not added to; then it syncs."

        def answer(yes: bool | None) -> None:
            if yes:
                self._close_day(sessions)

        self.app.push_screen(ConfirmModal(question, yes="Close the day"), answer)

    def _close_day(self, sessions: list[str]) -> None:
        try:
            closure = day_store.close_day(self.store, day=self.today(), close_sessions=bool(sessions))
        except StoreError as exc:
            self._refuse_close(str(exc))
            self.refresh_data()
            return
        for session_id in sessions:
            self.post_message(Saved("session", session_id))
        self.post_message(Saved("day_closure", closure.id))
        self.say("The day is closed. Syncing with the central record...")
        self.refresh_data()
        # Sync is the last step; its progress bar is on this step.
        self.desk.start_sync(full=True)

    def action_sync(self) -> None:
        self.show_step("close")
        self.desk.start_sync(full=True)

    def action_sync_screen(self) -> None:
        from .sync import SyncScreen

        self.app.push_screen(SyncScreen())
