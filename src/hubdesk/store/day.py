"""Closing a hub day in the store: float events and counts, voucher stock, handover notes,
carried-over payments, the day's checklist and its closure. Functions take an unlocked Store.

Each save is one transaction with its audit entry and outbox row (Store._save). Audit
details carry hub codes, days and amounts only, never anything about a young person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from hubdesk.domain.day import (
    CashFloatEvent,
    DayClosure,
    DenominationCount,
    FloatCount,
    FloatEventKind,
    HandoverNote,
    PaymentCarryOver,
    VoucherStockEvent,
    VoucherStockKind,
    parse_serial,
    why_awaiting,
)
from hubdesk.domain.enums import PaymentMethod, PaymentStatus
from hubdesk.domain.models import Contact, DropInSession, EmergencyPayment, Reversal
from hubdesk.store.errors import NotAllowed, NotFound, UnknownUser
from hubdesk.store.store import Store, _iso

LONDON = ZoneInfo("Europe/London")

# Outbox kinds for the records of this module (the central record must accept them).
OUTBOX_KINDS = {
    CashFloatEvent: "cash_float",
    FloatCount: "float_count",
    VoucherStockEvent: "voucher_stock",
    HandoverNote: "handover_note",
    PaymentCarryOver: "payment_carry_over",
    DayClosure: "day_closure",
}


def local_day(moment: datetime) -> date:
    """The hub day (England's calendar) a moment falls in."""
    return moment.astimezone(LONDON).date()


def _hub(store: Store, hub_code: str | None) -> str:
    code = (hub_code or store.hub_code).strip().upper()
    known = {h.code for h in store.reference(include_retired=True).hubs} | {store.hub_code}
    if code not in known:
        raise NotFound(f"No hub with the code {code} on this desk")
    return code


def _own_hub(store: Store, hub_code: str | None) -> str:
    """Day records are saved at the desk's own hub (the central record refuses another hub's)."""
    code = _hub(store, hub_code)
    if code != store.hub_code:
        raise NotAllowed(f"This desk is at {store.hub_code}: record {code}'s day on a desk there")
    return code


def _login(store: Store) -> str:
    if store.user is None:
        raise NotAllowed("Unlock as a user to record the end of the day")
    return store.user.login


def _insert(
    store: Store, now: datetime, table: str, columns: dict[str, object], record: BaseModel, detail: str
) -> None:
    body = record.model_dump_json()
    kind = OUTBOX_KINDS[type(record)]
    seq = store._audit(now, "create", kind, record.id, detail, body)  # type: ignore[attr-defined]
    names = [*columns, "body", "audit_seq"]
    store.db.execute(
        f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [*columns.values(), body, seq],
    )
    store._outbox(now, kind, record.id, body)  # type: ignore[attr-defined]


# --- payments of a day ----------------------------------------------------------------


@dataclass(frozen=True)
class DayPayment:
    """A payment recorded that day, with its state after later decisions and reversals."""

    payment: EmergencyPayment
    state: str  # approved / awaiting_approval / declined / reversed
    reversal: Reversal | None = None

    @property
    def paid_out(self) -> bool:
        """Money went to the young person and stays gone: approved and not reversed."""
        return self.state == PaymentStatus.APPROVED.value


def day_payments(store: Store, hub_code: str, day: date) -> list[DayPayment]:
    """Every payment recorded at the hub on the day, in one query, with its current state."""
    start, end = store.day_bounds(day)
    rows = store._rows(
        "SELECT p.body, d.decision, r.body FROM payments p "
        "LEFT JOIN payment_decisions d ON d.payment_id = p.id "
        "LEFT JOIN reversals r ON r.payment_id = p.id "
        "WHERE p.hub_code = ? AND p.recorded_at >= ? AND p.recorded_at < ? ORDER BY p.recorded_at, p.receipt_no",
        [hub_code, _iso(start), _iso(end)],
    )
    result = []
    for body, decision, reversal_body in rows:
        payment = EmergencyPayment.model_validate_json(body)
        reversal = Reversal.model_validate_json(reversal_body) if reversal_body else None
        state = "reversed" if reversal else (decision or payment.status.value)
        result.append(DayPayment(payment, state, reversal))
    return result


def reversals_recorded(store: Store, hub_code: str, day: date) -> list[tuple[Reversal, EmergencyPayment]]:
    """Reversals recorded at the hub on the day, with the payment each puts right (any day's)."""
    start, end = store.day_bounds(day)
    rows = store._rows(
        "SELECT r.body, p.body FROM reversals r JOIN payments p ON p.id = r.payment_id "
        "WHERE r.hub_code = ? AND r.recorded_at >= ? AND r.recorded_at < ? ORDER BY r.recorded_at",
        [hub_code, _iso(start), _iso(end)],
    )
    return [(Reversal.model_validate_json(r), EmergencyPayment.model_validate_json(p)) for r, p in rows]


# --- the cash float -------------------------------------------------------------------


def _closed_check(store: Store, hub_code: str, day: date) -> None:
    if day_closure(store, hub_code, day) is not None:
        raise NotAllowed(f"The day {day:%d %b %Y} is already closed at {hub_code}; nothing more can be added to it")


def record_float_event(
    store: Store,
    kind: FloatEventKind | str,
    amount_pence: int,
    *,
    day: date | None = None,
    hub_code: str | None = None,
    note: str = "",
) -> CashFloatEvent:
    """Opening balance, a top-up, or cash taken out of the float (banked)."""
    login = _login(store)
    hub = _own_hub(store, hub_code)
    day = day or local_day(store.clock())
    _closed_check(store, hub, day)
    if str(kind) == FloatEventKind.OPENING.value and store._rows(
        "SELECT 1 FROM cash_float_events WHERE hub_code = ? AND day = ? AND kind = 'opening'", [hub, day.isoformat()]
    ):
        raise NotAllowed(
            "The opening balance for this day is already recorded; record a top-up or explain the "
            "difference at the count"
        )
    with store._save() as now:
        event = CashFloatEvent(
            hub_code=hub, day=day, kind=kind, amount_pence=amount_pence, note=note, recorded_by=login, recorded_at=now
        )
        _insert(
            store,
            now,
            "cash_float_events",
            {
                "id": event.id,
                "hub_code": hub,
                "day": day.isoformat(),
                "kind": event.kind.value,
                "amount_pence": event.amount_pence,
                "recorded_at": _iso(event.recorded_at),
            },
            event,
            f"{event.kind.value} {hub} {day.isoformat()} {event.amount_pence}p",
        )
    return event


def float_events(store: Store, hub_code: str, day: date) -> list[CashFloatEvent]:
    return store._models(
        CashFloatEvent,
        "SELECT body FROM cash_float_events WHERE hub_code = ? AND day = ? ORDER BY recorded_at, rowid",
        [hub_code, day.isoformat()],
    )


_CURRENT_COUNT = (
    "SELECT body FROM float_counts f WHERE hub_code = ? AND {where} "
    "AND NOT EXISTS (SELECT 1 FROM float_counts n WHERE n.recounts = f.id) "
)


def current_count(store: Store, hub_code: str, day: date) -> FloatCount | None:
    """The day's count (the latest recount, if the float was counted again)."""
    found = store._models(
        FloatCount,
        _CURRENT_COUNT.format(where="day = ?") + "ORDER BY counted_at DESC LIMIT 1",
        [hub_code, day.isoformat()],
    )
    return found[0] if found else None


def _previous_count(store: Store, hub_code: str, day: date) -> FloatCount | None:
    found = store._models(
        FloatCount,
        _CURRENT_COUNT.format(where="day < ?") + "ORDER BY day DESC, counted_at DESC LIMIT 1",
        [hub_code, day.isoformat()],
    )
    return found[0] if found else None


@dataclass(frozen=True)
class FloatReconciliation:
    """Opening + top-ups - banked - cash paid out = expected; compared with what was counted."""

    hub_code: str
    day: date
    opening_pence: int | None
    opening_source: str  # "recorded", "carried from <date>" or "not recorded"
    top_ups_pence: int
    banked_pence: int
    cash_out_pence: int
    cash_payments: int
    reversed_cash_pence: int
    count: FloatCount | None
    events: tuple[CashFloatEvent, ...] = ()

    @property
    def expected_pence(self) -> int:
        return (self.opening_pence or 0) + self.top_ups_pence - self.banked_pence - self.cash_out_pence

    @property
    def counted_pence(self) -> int | None:
        return self.count.total_pence if self.count else None

    @property
    def difference_pence(self) -> int | None:
        """Counted less expected, worked out now (negative: short)."""
        return None if self.count is None else self.count.total_pence - self.expected_pence

    @property
    def reason(self) -> str:
        return self.count.reason if self.count else ""

    @property
    def changed_since_count(self) -> bool:
        """A payment decided or reversed after the count moved what was expected."""
        return self.count is not None and self.count.expected_pence != self.expected_pence

    @property
    def in_use(self) -> bool:
        return bool(self.events or self.cash_payments or self.count or self.opening_pence is not None)

    @property
    def explained(self) -> bool:
        """Counted, and any difference (as it stands now) has a reason."""
        return self.count is not None and (self.difference_pence == 0 or bool(self.count.reason))


def reconcile_float(store: Store, hub_code: str, day: date) -> FloatReconciliation:
    """The hub's float for the day: opening (recorded, else carried from the last count),
    top-ups and banked cash, and cash payments out (approved, not reversed, method cash)."""
    events = float_events(store, hub_code, day)
    opening = next((e for e in events if e.kind is FloatEventKind.OPENING), None)
    if opening is not None:
        opening_pence: int | None = opening.amount_pence
        source = "recorded"
    else:
        previous = _previous_count(store, hub_code, day)
        opening_pence = previous.total_pence if previous else None
        source = f"carried from the count on {previous.day:%d %b %Y}" if previous else "not recorded"
    cash = [p for p in day_payments(store, hub_code, day) if p.payment.method is PaymentMethod.CASH]
    return FloatReconciliation(
        hub_code=hub_code,
        day=day,
        opening_pence=opening_pence,
        opening_source=source,
        top_ups_pence=sum(e.amount_pence for e in events if e.kind is FloatEventKind.TOP_UP),
        banked_pence=sum(e.amount_pence for e in events if e.kind is FloatEventKind.BANKED),
        cash_out_pence=sum(p.payment.amount_pence for p in cash if p.paid_out),
        cash_payments=sum(1 for p in cash if p.paid_out),
        reversed_cash_pence=sum(p.payment.amount_pence for p in cash if p.state == "reversed"),
        count=current_count(store, hub_code, day),
        events=tuple(events),
    )


def count_float(
    store: Store,
    *,
    day: date | None = None,
    hub_code: str | None = None,
    denominations: dict[int, int] | Iterable[DenominationCount] | None = None,
    total_pence: int | None = None,
    reason: str = "",
) -> FloatCount:
    """Record the float counted by denomination or as a total. A difference from what is
    expected needs a reason; counting again replaces the earlier count (both are kept)."""
    login = _login(store)
    hub = _own_hub(store, hub_code)
    day = day or local_day(store.clock())
    _closed_check(store, hub, day)
    if denominations is None and total_pence is None:
        raise NotAllowed("Give the count by notes and coins, or as a total")
    reconciliation = reconcile_float(store, hub, day)
    previous = reconciliation.count
    fields: dict[str, object] = {
        "hub_code": hub,
        "day": day,
        "expected_pence": reconciliation.expected_pence,
        "reason": reason,
        "counted_by": login,
        "recounts": previous.id if previous else None,
    }
    if denominations is not None:
        items = (
            tuple(DenominationCount(pence=p, count=n) for p, n in denominations.items() if n)
            if isinstance(denominations, dict)
            else tuple(denominations)
        )
        fields["denominations"] = items
        fields["total_pence"] = total_pence if total_pence is not None else sum(d.total_pence for d in items)
    else:
        fields["total_pence"] = total_pence
    with store._save() as now:
        count = FloatCount(counted_at=now, **fields)  # type: ignore[arg-type]
        _insert(
            store,
            now,
            "float_counts",
            {
                "id": count.id,
                "hub_code": hub,
                "day": day.isoformat(),
                "recounts": count.recounts,
                "total_pence": count.total_pence,
                "expected_pence": count.expected_pence,
                "counted_at": _iso(count.counted_at),
            },
            count,
            f"{hub} {day.isoformat()} counted {count.total_pence}p expected {count.expected_pence}p",
        )
    return count


# --- voucher stock --------------------------------------------------------------------


def record_voucher_stock(
    store: Store,
    kind: VoucherStockKind | str,
    first_serial: str,
    last_serial: str,
    *,
    day: date | None = None,
    hub_code: str | None = None,
    note: str = "",
) -> VoucherStockEvent:
    """A range of vouchers received, sent back, or counted in stock (V100200 to V100249)."""
    login = _login(store)
    hub = _own_hub(store, hub_code)
    day = day or local_day(store.clock())
    first, last = parse_serial(first_serial), parse_serial(last_serial)
    if first is None or last is None:
        raise NotAllowed("A voucher serial is letters then a number, like V100234")
    if first[0] != last[0]:
        raise NotAllowed("The first and last serial numbers have different letters")
    _closed_check(store, hub, day)
    with store._save() as now:
        event = VoucherStockEvent(
            hub_code=hub,
            day=day,
            kind=kind,
            prefix=first[0],
            first_no=first[1],
            last_no=last[1],
            note=note,
            recorded_by=login,
            recorded_at=now,
        )
        _insert(
            store,
            now,
            "voucher_stock",
            {
                "id": event.id,
                "hub_code": hub,
                "day": day.isoformat(),
                "kind": event.kind.value,
                "prefix": event.prefix,
                "first_no": event.first_no,
                "last_no": event.last_no,
                "recorded_at": _iso(event.recorded_at),
            },
            event,
            f"{event.kind.value} {hub} {day.isoformat()} {event.size} vouchers",
        )
    return event


def voucher_events(
    store: Store, hub_code: str, day: date | None = None, *, before: date | None = None
) -> list[VoucherStockEvent]:
    if day is not None:
        where, params = "day = ?", [hub_code, day.isoformat()]
    else:
        where, params = "day < ?", [hub_code, (before or date.max).isoformat()]
    return store._models(
        VoucherStockEvent,
        f"SELECT body FROM voucher_stock WHERE hub_code = ? AND {where} ORDER BY day, recorded_at",
        params,
    )


def _serials(events: Iterable[VoucherStockEvent]) -> set[tuple[str, int]]:
    return {(e.prefix, n) for e in events for n in range(e.first_no, e.last_no + 1)}


def ranges(serials: Iterable[tuple[str, int]]) -> list[str]:
    """{('V', 1), ('V', 2), ('V', 5)} -> ['V1-V2', 'V5']."""
    out: list[str] = []
    run: list[tuple[str, int]] = []
    for serial in sorted(serials):
        if run and serial[0] == run[-1][0] and serial[1] == run[-1][1] + 1:
            run.append(serial)
            continue
        if run:
            out.append(_range_text(run))
        run = [serial]
    if run:
        out.append(_range_text(run))
    return out


def _range_text(run: list[tuple[str, int]]) -> str:
    first, last = run[0], run[-1]
    return f"{first[0]}{first[1]}" if first == last else f"{first[0]}{first[1]}-{last[0]}{last[1]}"


@dataclass(frozen=True)
class VoucherReconciliation:
    """Vouchers in stock at the start of the day, plus received, less sent back and issued, against the count."""

    hub_code: str
    day: date
    start_stock: int
    received: int
    returned: int
    issued: int
    counted: int | None
    missing: list[str] = field(default_factory=list)  # expected in stock, not counted
    unexpected: list[str] = field(default_factory=list)  # counted, not expected
    unknown_issued: list[str] = field(default_factory=list)  # issued serials not in any stock range
    # Every voucher paid out that day, whether or not its serial is in recorded stock: a hub
    # that does not record its stock still hands vouchers out, and the day must show them.
    issued_total: int = 0

    @property
    def expected(self) -> int:
        """In stock now by the record: start plus received, less sent back and issued from it."""
        return self.start_stock + self.received - self.returned - self.issued

    @property
    def in_use(self) -> bool:
        return bool(
            self.start_stock
            or self.received
            or self.returned
            or self.issued
            or self.issued_total
            or self.counted is not None
        )


def _issued_serials(store: Store, hub_code: str, start: datetime | None, end: datetime) -> list[str]:
    """Serials, as typed, of vouchers paid out (approved, not reversed) at the hub in [start, end)."""
    rows = store._rows(
        "SELECT p.body FROM payments p LEFT JOIN payment_decisions d ON d.payment_id = p.id "
        "WHERE p.hub_code = ? AND p.method = 'voucher' AND p.recorded_at >= ? AND p.recorded_at < ? "
        "AND coalesce(d.decision, p.status) = 'approved' "
        "AND NOT EXISTS (SELECT 1 FROM reversals r WHERE r.payment_id = p.id) ORDER BY p.recorded_at",
        [hub_code, _iso(start) if start else "", _iso(end)],
    )
    return [(EmergencyPayment.model_validate_json(body).voucher_serial or "").strip() for (body,) in rows]


def _issued(store: Store, hub_code: str, start: datetime | None, end: datetime) -> set[tuple[str, int]]:
    """The serials of _issued_serials that read as letters then a number (V100234)."""
    serials = (parse_serial(s) for s in _issued_serials(store, hub_code, start, end))
    return {s for s in serials if s is not None}


def reconcile_vouchers(store: Store, hub_code: str, day: date) -> VoucherReconciliation:
    """Stock at the start of the day (the last count, moved on by what was received, sent back
    and issued since), plus today's movements, against today's count if there is one."""
    day_start, day_end = store.day_bounds(day)
    last = store._rows(
        "SELECT max(day) FROM voucher_stock WHERE hub_code = ? AND kind = 'counted' AND day < ?",
        [hub_code, day.isoformat()],
    )[0][0]
    if last is not None:
        stock = _serials(
            e for e in voucher_events(store, hub_code, date.fromisoformat(last)) if e.kind is VoucherStockKind.COUNTED
        )
        since: datetime | None = store.day_bounds(date.fromisoformat(last))[1]
        between = [e for e in voucher_events(store, hub_code, before=day) if e.day.isoformat() > last]
    else:
        stock, since = set(), None
        between = voucher_events(store, hub_code, before=day)
    stock |= _serials(e for e in between if e.kind is VoucherStockKind.RECEIVED)
    stock -= _serials(e for e in between if e.kind is VoucherStockKind.RETURNED)
    stock -= _issued(store, hub_code, since, day_start)
    today = voucher_events(store, hub_code, day)
    received = _serials(e for e in today if e.kind is VoucherStockKind.RECEIVED)
    returned = _serials(e for e in today if e.kind is VoucherStockKind.RETURNED)
    typed = _issued_serials(store, hub_code, day_start, day_end)
    issued = {s for s in map(parse_serial, typed) if s is not None}
    unreadable = [s for s in typed if parse_serial(s) is None]
    held = stock | received
    expected = (held - returned) - issued
    counted_events = [e for e in today if e.kind is VoucherStockKind.COUNTED]
    counted = _serials(counted_events) if counted_events else None
    return VoucherReconciliation(
        hub_code=hub_code,
        day=day,
        start_stock=len(stock),
        received=len(received - stock),
        returned=len(returned & held),
        issued=len(issued & held),
        counted=None if counted is None else len(counted),
        missing=ranges(expected - counted) if counted is not None else [],
        unexpected=ranges(counted - expected) if counted is not None else [],
        unknown_issued=ranges(issued - held) + unreadable,
        issued_total=len(issued) + len(unreadable),
    )


# --- handover notes -------------------------------------------------------------------


def write_handover(store: Store, text: str, *, day: date | None = None, hub_code: str | None = None) -> HandoverNote:
    """A note from this duty to the next at the hub."""
    login = _login(store)
    hub = _own_hub(store, hub_code)
    day = day or local_day(store.clock())
    _closed_check(store, hub, day)
    with store._save() as now:
        note = HandoverNote(hub_code=hub, day=day, text=text, written_by=login, written_at=now)
        _insert(
            store,
            now,
            "handover_notes",
            {"id": note.id, "hub_code": hub, "day": day.isoformat(), "written_at": _iso(note.written_at)},
            note,
            f"{hub} {day.isoformat()}",
        )
    return note


def handover_notes(store: Store, hub_code: str, day: date) -> list[HandoverNote]:
    return store._models(
        HandoverNote,
        "SELECT body FROM handover_notes WHERE hub_code = ? AND day = ? ORDER BY written_at",
        [hub_code, day.isoformat()],
    )


def handover_for(store: Store, hub_code: str, day: date) -> list[HandoverNote]:
    """What the last duty before `day` left for the next: the notes of the latest earlier day."""
    rows = store._rows(
        "SELECT max(day) FROM handover_notes WHERE hub_code = ? AND day < ?", [hub_code, day.isoformat()]
    )
    if not rows or rows[0][0] is None:
        return []
    return handover_notes(store, hub_code, date.fromisoformat(rows[0][0]))


# --- payments carried over ------------------------------------------------------------


def carry_over(store: Store, payment_id: str, reason: str, *, day: date | None = None) -> PaymentCarryOver:
    """Leave a payment awaiting approval for the next duty, saying why."""
    login = _login(store)
    payment = store.get_payment(payment_id)
    if store.payment_state(payment_id) != PaymentStatus.AWAITING_APPROVAL.value:
        raise NotAllowed("Only a payment awaiting approval can be carried over")
    day = day or local_day(store.clock())
    _closed_check(store, payment.hub_code, day)
    if store._rows("SELECT 1 FROM payment_carry_overs WHERE payment_id = ? AND day = ?", [payment_id, day.isoformat()]):
        raise NotAllowed(f"Payment {payment.receipt_no} is already carried over from this day")
    with store._save() as now:
        record = PaymentCarryOver(
            hub_code=payment.hub_code, day=day, payment_id=payment_id, reason=reason, recorded_by=login, recorded_at=now
        )
        _insert(
            store,
            now,
            "payment_carry_overs",
            {
                "id": record.id,
                "payment_id": payment_id,
                "hub_code": record.hub_code,
                "day": day.isoformat(),
                "recorded_at": _iso(record.recorded_at),
            },
            record,
            f"{payment.receipt_no} {day.isoformat()}",
        )
    return record


def awaiting_reasons(store: Store, payment: EmergencyPayment) -> tuple[str, ...]:
    """Why a payment awaiting approval needs a duty manager: over the limit of the PA who
    recorded it, over its category's limit (as they stand now), in plain words."""
    try:
        recorder = store.get_user(payment.recorded_by)
    except UnknownUser:
        recorder = None
    try:
        category = store.payment_category(payment.category)
    except NotFound:
        category = None
    return why_awaiting(payment.amount_pence, recorder, category)


def carried_over(store: Store, hub_code: str, day: date) -> list[PaymentCarryOver]:
    return store._models(
        PaymentCarryOver,
        "SELECT body FROM payment_carry_overs WHERE hub_code = ? AND day = ? ORDER BY recorded_at",
        [hub_code, day.isoformat()],
    )


# --- the day's checklist and closure ----------------------------------------------------


@dataclass(frozen=True)
class DayChecklist:
    """What is still open before the day can be closed at a hub."""

    hub_code: str
    day: date
    still_in: list[Contact]
    awaiting: list[EmergencyPayment]  # awaiting approval and not carried over
    carried: list[PaymentCarryOver]
    cash_float: FloatReconciliation
    handover_written: bool
    outbox_waiting: int
    closure: DayClosure | None
    # Drop-in sessions of the day not yet closed: closing the day closes them, when asked to.
    open_sessions: list[DropInSession] = field(default_factory=list)

    @property
    def blockers(self) -> list[str]:
        """What must be settled by hand before the day can close, in plain words; no names."""
        out = []
        if self.still_in:
            n = len(self.still_in)
            out.append(f"{n} {'person is' if n == 1 else 'people are'} still signed in")
        if self.awaiting:
            n = len(self.awaiting)
            out.append(f"{n} payment{'' if n == 1 else 's'} awaiting approval: approve, decline or carry over")
        if self.cash_float.in_use and self.cash_float.count is None:
            out.append("the cash float is not counted")
        elif self.cash_float.in_use and not self.cash_float.explained:
            out.append("the float count differs from what is expected and needs a reason (count again)")
        return out

    @property
    def still_open(self) -> list[str]:
        """Everything left open: the blockers, then sessions that close with the day."""
        out = self.blockers
        if self.open_sessions:
            n = len(self.open_sessions)
            out.append(f"{n} drop-in session{' is' if n == 1 else 's are'} still open")
        return out

    @property
    def ready(self) -> bool:
        """The day can be closed as it is, with nothing left open."""
        return not self.still_open and self.closure is None


def day_checklist(store: Store, hub_code: str, day: date) -> DayChecklist:
    hub = _hub(store, hub_code)
    start, end = store.day_bounds(day)
    carried = carried_over(store, hub, day)
    carried_ids = {c.payment_id for c in carried}
    return DayChecklist(
        hub_code=hub,
        day=day,
        still_in=[c for c in store.in_building(hub) if c.started_at < end],
        awaiting=[p for p in store.awaiting_approval(hub) if p.recorded_at < end and p.id not in carried_ids],
        carried=carried,
        cash_float=reconcile_float(store, hub, day),
        handover_written=bool(handover_notes(store, hub, day)),
        outbox_waiting=store.outbox_waiting(),
        closure=day_closure(store, hub, day),
        open_sessions=[s for s in store.sessions_between(hub, start, end) if s.closed_at is None],
    )


def day_closure(store: Store, hub_code: str, day: date) -> DayClosure | None:
    found = store._models(
        DayClosure, "SELECT body FROM day_closures WHERE hub_code = ? AND day = ?", [hub_code, day.isoformat()]
    )
    return found[0] if found else None


def close_day(
    store: Store, *, day: date | None = None, hub_code: str | None = None, note: str = "", close_sessions: bool = False
) -> DayClosure:
    """Close the day at the hub once nothing is left open. Drop-in sessions still open are
    closed with it only when `close_sessions` says the user agreed (at now, or at the end of
    their own day if that has passed), in the same transaction. Sync comes after, as the last step."""
    login = _login(store)
    hub = _own_hub(store, hub_code)
    day = day or local_day(store.clock())
    checklist = day_checklist(store, hub, day)
    if checklist.closure is not None:
        raise NotAllowed(f"The day {day:%d %b %Y} is already closed at {hub}")
    if checklist.blockers:
        raise NotAllowed("The day cannot be closed yet: " + "; ".join(checklist.blockers))
    if checklist.open_sessions and not close_sessions:
        raise NotAllowed("The day cannot be closed yet: " + "; ".join(checklist.still_open))
    start, end = store.day_bounds(day)
    contacts = store._rows(
        "SELECT count(*) FROM contacts c WHERE hub_code = ? AND started_at >= ? AND started_at < ? "
        "AND NOT EXISTS (SELECT 1 FROM contacts n WHERE n.amends = c.id)",
        [hub, _iso(start), _iso(end)],
    )[0][0]
    net = sum(p.payment.amount_pence for p in day_payments(store, hub, day) if p.paid_out)
    with store._save() as now:
        for session in checklist.open_sessions:
            # Never before it started, never into the next day.
            store.close_session(session.id, max(session.starts_at, min(now, end - timedelta(seconds=1))))
        closure = DayClosure(
            hub_code=hub,
            day=day,
            closed_by=login,
            closed_at=now,
            float_count_id=checklist.cash_float.count.id if checklist.cash_float.count else None,
            contacts=contacts,
            payments_net_pence=net,
            note=note,
        )
        _insert(
            store,
            now,
            "day_closures",
            {"id": closure.id, "hub_code": hub, "day": day.isoformat(), "closed_at": _iso(closure.closed_at)},
            closure,
            f"{hub} {day.isoformat()}",
        )
    return closure
