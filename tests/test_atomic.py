"""Saves are atomic and history is immutable.

- Contacts, payments, decisions, reversals, attendance and the audit table refuse
  UPDATE and DELETE (by trigger): an amendment is a new version, a mistake a reversal.
- A save is one transaction: the record, its audit entry and its outbox row. If any
  part fails (here: the outbox insert, or a full disk), none of it is kept, the audit
  chain head does not move and the next save carries on as if nothing happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pydantic import ValidationError

from hubdesk.domain.models import (
    Attendance,
    Contact,
    DropInSession,
    Hub,
    PaymentCategory,
    Person,
    ReferenceData,
    User,
)
from hubdesk.store import sqlcipher
from hubdesk.store.audit import body_hash
from hubdesk.store.errors import DiskFull, NotAllowed, StoreError
from hubdesk.store.keys import KdfParams
from hubdesk.store.store import Store
from store_helpers import a_contact, chain_problems, counts

TABLES = (
    "people",
    "people_versions",
    "contacts",
    "payments",
    "payment_decisions",
    "reversals",
    "sessions",
    "attendance",
    "audit",
    "outbox",
    "counters",
)


def everything(store: Store) -> dict[str, Any]:
    """Every row of every table that a save touches, and the chain head."""
    state: dict[str, Any] = {t: store._rows(f"SELECT * FROM {t} ORDER BY rowid") for t in TABLES}
    state["audit_head"] = store.meta("audit_head")
    return state


@pytest.fixture
def busy(store: Store, person: Person) -> dict[str, Any]:
    """A store with one of everything, to edit and delete."""
    contact = store.record_contact(a_contact(store, person))
    payment = store.record_payment(person_id=person.id, category="gas", amount_pence=1000, method="cash", reason="Gas")
    waiting = store.record_payment(
        person_id=person.id, category="gas", amount_pence=3000, method="cash", reason="Gas, over Sam's limit"
    )
    nadia = store.get_user("nadia")
    decision = store.decide_payment(waiting.id, True, nadia)
    reversal = store.reverse_payment(payment.id, "Given twice by mistake")
    session = store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=store.clock(), opened_by="sam")
    )
    attendance = store.add_attendance(
        Attendance(
            session_id=session.id, kind="person", person_id=person.id, recorded_by="sam", recorded_at=store.clock()
        )
    )
    return dict(
        contact=contact, payment=payment, decision=decision, reversal=reversal, session=session, attendance=attendance
    )


# --- immutability -------------------------------------------------------------------------

IMMUTABLE = ["contacts", "payments", "payment_decisions", "reversals", "attendance", "audit"]


@pytest.mark.parametrize("table", IMMUTABLE)
@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET body_hash = body_hash", "UPDATE {t} SET {col} = {col}", "DELETE FROM {t}"]
)
def test_history_is_never_edited_or_deleted(store: Store, busy: dict, table: str, statement: str) -> None:
    col = "mac" if table == "audit" else "body"
    if "body_hash" in statement and table != "audit":
        statement = "UPDATE {t} SET audit_seq = audit_seq + 1"
    sql = statement.format(t=table, col=col)
    before = everything(store)
    with pytest.raises(StoreError) as err:
        with store._save():
            store.db.execute(sql)
    assert "never edited or deleted" in str(err.value)
    assert everything(store) == before
    # And not through a raw connection either: the trigger is in the database itself.
    with pytest.raises(sqlcipher.IntegrityError, match=r"never (edited|deleted)"):
        store._conn.execute(sql)
    assert everything(store) == before
    assert chain_problems(store) == []


def test_an_amendment_is_a_new_version_and_the_old_one_stays(store: Store, person: Person) -> None:
    first = store.record_contact(a_contact(store, person, "Asked about rent"))
    second = store.amend_contact(first.contact_id, {"summary": "Asked about rent arrears"}, "added detail")
    assert second.version == 2 and second.amends == first.id and second.id != first.id
    assert store.current_contact(first.contact_id) == second
    bodies = store._rows("SELECT version, body FROM contacts WHERE contact_id = ? ORDER BY version", [first.contact_id])
    assert [v for v, _ in bodies] == [1, 2]
    assert 'Asked about rent"' in bodies[0][1]
    # A version can only be amended once: a second amendment of v1 is refused.
    stale = second.model_copy(update={"id": "another", "version": 2})
    with pytest.raises(StoreError, match="already saved"):
        store._insert_contact(stale, "amend")


def test_a_reversal_points_at_the_payment_and_both_stay(store: Store, person: Person) -> None:
    payment = store.record_payment(person_id=person.id, category="gas", amount_pence=1200, method="cash", reason="Gas")
    reversal = store.reverse_payment(payment.id, "Wrong person")
    assert store.get_payment(payment.id) == payment
    assert store.payment_state(payment.id) == "reversed"
    assert store.reversals() == [reversal]
    with pytest.raises(NotAllowed, match="already reversed"):
        store.reverse_payment(payment.id, "again")


# --- one transaction per save -------------------------------------------------------------


def _saves(store: Store, person: Person) -> dict[str, Callable[[], object]]:
    """Each kind of user-level save, ready to run (fresh objects each call)."""

    def payment(amount: int = 1000):
        return store.record_payment(
            person_id=person.id, category="gas", amount_pence=amount, method="cash", reason="Gas"
        )

    contact = store.record_contact(a_contact(store, person))
    visit = store.record_contact(
        Contact.model_validate(a_contact(store, person).model_dump() | {"contact_type": "drop_in", "seen": True})
    )
    to_reverse = payment()
    waiting = payment(3000)
    session = store.open_session(
        DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=store.clock(), opened_by="sam")
    )
    other = store.add_person(Person(first_name="Other", hub_code="DEW", date_of_birth=date(2005, 5, 5)))
    return {
        "add_person": lambda: store.add_person(
            Person(first_name="Kayden", hub_code="DEW", date_of_birth=date(2007, 2, 3))
        ),
        "update_person": lambda: store.update_person(
            person.model_copy(update={"preferred_name": "Zebby"}), person.version
        ),
        "record_contact": lambda: store.record_contact(a_contact(store, person)),
        "amend_contact": lambda: store.amend_contact(contact.contact_id, {"summary": "More"}, "x"),
        "sign_out": lambda: store.sign_out(visit.contact_id),
        "record_payment": payment,
        "decide_payment": lambda: store.decide_payment(waiting.id, False, store.get_user("nadia"), "Not today"),
        "reverse_payment": lambda: store.reverse_payment(to_reverse.id, "Mistake"),
        "open_session": lambda: store.open_session(
            DropInSession(hub_code="DEW", session_type="stay-and-play", starts_at=store.clock(), opened_by="sam")
        ),
        "add_attendance": lambda: store.add_attendance(
            Attendance(
                session_id=session.id, kind="person", person_id=other.id, recorded_by="sam", recorded_at=store.clock()
            )
        ),
        "close_session": lambda: store.close_session(session.id),
    }


SAVE_KINDS = [
    "add_person",
    "update_person",
    "record_contact",
    "amend_contact",
    "sign_out",
    "record_payment",
    "decide_payment",
    "reverse_payment",
    "open_session",
    "add_attendance",
    "close_session",
]


class Boom(Exception):
    pass


@pytest.mark.parametrize("kind", SAVE_KINDS)
def test_a_failed_outbox_insert_rolls_back_the_record_and_its_audit_entry(
    store: Store, person: Person, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    save = _saves(store, person)[kind]
    before = everything(store)
    receipt_before = store.next_receipt_no()

    def failing_outbox(self: Store, *args: object) -> None:
        raise Boom("the outbox insert failed")

    monkeypatch.setattr(Store, "_outbox", failing_outbox)
    with pytest.raises(Boom):
        save()
    assert everything(store) == before, f"{kind} left part of a save behind"
    assert store.next_receipt_no() == receipt_before  # the receipt number was not used up
    assert chain_problems(store) == []

    # Put right, the same save goes through whole: one record, one audit entry, one outbox row.
    monkeypatch.undo()
    save()
    after = everything(store)
    assert len(after["outbox"]) == len(before["outbox"]) + 1
    assert len(after["audit"]) in (len(before["audit"]) + 1, len(before["audit"]) + 2)
    assert chain_problems(store) == []


@pytest.mark.parametrize(
    "kind", ["add_person", "record_contact", "record_payment", "reverse_payment", "add_attendance"]
)
def test_a_database_error_mid_save_is_a_store_error_and_nothing_is_kept(
    store: Store, person: Person, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    save = _saves(store, person)[kind]
    before = everything(store)
    real_outbox = Store._outbox

    def outbox_then_io_error(self: Store, *args: Any) -> None:
        real_outbox(self, *args)  # the outbox row is written, then the disk fails
        raise sqlcipher.OperationalError("disk I/O error")

    monkeypatch.setattr(Store, "_outbox", outbox_then_io_error)
    with pytest.raises(StoreError) as err:
        save()
    assert str(err.value).startswith("Could not save")
    assert everything(store) == before
    assert chain_problems(store) == []


def test_a_full_disk_keeps_nothing_and_says_so(store: Store, person: Person) -> None:
    """SQLite's 'database or disk is full', made real by capping the page count."""
    pages = store._rows("PRAGMA page_count")[0][0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    saved = 0
    with pytest.raises(DiskFull) as err:
        for i in range(500):
            before = everything(store)
            store.add_person(
                Person(first_name="Kay" * 20, last_name=f"Filler {i}", hub_code="DEW", date_of_birth=date(2006, 1, 1))
            )
            saved += 1
    assert "disk is full" in str(err.value) and "Nothing was saved" in str(err.value)
    assert everything(store) == before
    assert store.count("people") == 1 + saved
    assert chain_problems(store) == []
    # Space again: saving carries on.
    store._conn.execute(f"PRAGMA max_page_count = {pages * 100}")
    store.record_contact(a_contact(store, person))
    assert chain_problems(store) == []


def test_each_save_writes_one_audit_entry_and_one_outbox_row_that_match_it(store: Store, person: Person) -> None:
    """The partner rows carry the record: the outbox the same body, the audit entry its hash."""
    saves = _saves(store, person)
    for kind in SAVE_KINDS:
        before = counts(store), store.count("audit")
        saves[kind]()
        after = counts(store), store.count("audit")
        assert after[0]["outbox"] == before[0]["outbox"] + 1, kind
        assert after[1] >= before[1] + 1, kind
    checked = 0
    for table, key in [
        ("people_versions", "id"),
        ("contacts", "id"),
        ("payments", "id"),
        ("payment_decisions", "id"),
        ("reversals", "id"),
        ("attendance", "id"),
    ]:
        for record_id, body, seq in store._rows(f"SELECT {key}, body, audit_seq FROM {table}"):
            (audit_hash,) = store._rows("SELECT body_hash FROM audit WHERE seq = ?", [seq])[0]
            assert audit_hash == body_hash(body), (table, record_id)
            outbox = store._rows("SELECT body FROM outbox WHERE body = ?", [body])
            assert len(outbox) == 1, (table, record_id)
            checked += 1
    assert checked >= 15
    assert chain_problems(store) == []


def test_the_clock_reading_is_one_per_save(store: Store, person: Person) -> None:
    ticks = iter(range(1000))
    base = store.clock()
    store.clock = lambda: base + timedelta(seconds=next(ticks))
    payment = store.record_payment(person_id=person.id, category="gas", amount_pence=1000, method="cash", reason="Gas")
    (at,) = store._rows("SELECT at FROM audit WHERE record_id = ? AND action = 'create'", [payment.id])[0]
    assert at == payment.recorded_at.isoformat(timespec="microseconds")


# --- random sequences of saves, good and bad --------------------------------------------


class StoreMachine(RuleBasedStateMachine):
    """Any sequence of saves, including ones the store must refuse (reverse twice, sign out
    twice, decide a decided payment, amend what does not exist, over-limit payments): each
    step saves whole or raises a StoreError/ValidationError having saved nothing, and the
    audit chain, partner rows and receipt numbers stay right throughout."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile
        from pathlib import Path

        self.tmp = tempfile.TemporaryDirectory()
        self.store, _ = Store.create(
            Path(self.tmp.name) / "store",
            hub=Hub(code="DEW", name="Dewsbury hub"),
            first_user=User(login="sam", display_name="Sam", role="pa", payment_limit_pence=2500, hub_code="DEW"),
            passphrase="correct horse battery",
            kdf=KdfParams(memory_kib=8 * 1024, iterations=1),
        )
        s = self.store
        with s._save() as now:  # a duty manager, without a second KDF-bound slot
            s._put_user(
                User(
                    login="nadia", display_name="Nadia", role="duty_manager", payment_limit_pence=5000, hub_code="DEW"
                ),
                "nadia",
                now,
                "create",
            )
        s.set_reference(ReferenceData(payment_categories=(PaymentCategory(code="gas", name="Gas", limit_pence=4000),)))
        self.people: list[str] = []
        self.contacts: list[str] = []
        self.payments: list[str] = []
        self.sessions: list[str] = []

    def teardown(self) -> None:
        self.store.lock()
        self.tmp.cleanup()

    def attempt(self, action) -> object | None:
        before = everything(self.store)
        try:
            return action()
        except (StoreError, ValidationError):
            assert everything(self.store) == before, "a refused save left something behind"
            return None

    @rule(first=st.sampled_from(["Kay", "Amir", "Zoë", "محمد", ""]), walk_in=st.booleans())
    def add_person(self, first: str, walk_in: bool) -> None:
        def go():
            return self.store.add_person(
                Person(
                    first_name=first,
                    hub_code="DEW",
                    walk_in=walk_in,
                    date_of_birth=None if walk_in else date(2006, 5, 5),
                    approx_age=19 if walk_in else None,
                )
            )

        p = self.attempt(go)
        if p is not None:
            self.people.append(p.id)

    @precondition(lambda self: self.people)
    @rule(data=st.data(), kind=st.sampled_from(["phone", "drop_in"]))
    def record_contact(self, data, kind: str) -> None:
        person = self.store.get_person(data.draw(st.sampled_from(self.people)))
        base = a_contact(self.store, person).model_dump() | {"contact_type": kind, "seen": True}
        c = self.attempt(lambda: self.store.record_contact(Contact.model_validate(base)))
        if c is not None:
            self.contacts.append(c.contact_id)

    @precondition(lambda self: self.contacts)
    @rule(data=st.data(), op=st.sampled_from(["amend", "sign_out", "bad_amend"]))
    def change_contact(self, data, op: str) -> None:
        cid = data.draw(st.sampled_from(self.contacts))
        if op == "amend":
            self.attempt(lambda: self.store.amend_contact(cid, {"summary": "More detail"}, "x"))
        elif op == "sign_out":
            self.attempt(lambda: self.store.sign_out(cid))
        else:
            self.attempt(lambda: self.store.amend_contact(cid, {"ended_at": "not a time"}, "x"))
            self.attempt(lambda: self.store.amend_contact("no-such-contact", {}, "x"))

    @precondition(lambda self: self.people)
    @rule(
        data=st.data(),
        amount=st.sampled_from([-5, 0, 500, 2500, 2501, 4000, 4001, 6000]),
        method=st.sampled_from(["cash", "voucher"]),
    )
    def record_payment(self, data, amount: int, method: str) -> None:
        pid = data.draw(st.sampled_from(self.people))
        serial = data.draw(st.sampled_from([None, "V-123"]))
        p = self.attempt(
            lambda: self.store.record_payment(
                person_id=pid, category="gas", amount_pence=amount, method=method, reason="Gas", voucher_serial=serial
            )
        )
        if p is not None:
            self.payments.append(p.id)

    @precondition(lambda self: self.payments)
    @rule(data=st.data(), op=st.sampled_from(["reverse", "approve", "decline"]))
    def follow_up_payment(self, data, op: str) -> None:
        pid = data.draw(st.sampled_from(self.payments))
        nadia = self.store.get_user("nadia")
        if op == "reverse":
            self.attempt(lambda: self.store.reverse_payment(pid, "Mistake"))
        else:
            self.attempt(lambda: self.store.decide_payment(pid, op == "approve", nadia, "ok"))

    @rule()
    def open_session(self) -> None:
        s = self.attempt(
            lambda: self.store.open_session(
                DropInSession(
                    hub_code="DEW", session_type="stay-and-play", starts_at=self.store.clock(), opened_by="sam"
                )
            )
        )
        if s is not None:
            self.sessions.append(s.id)

    @precondition(lambda self: self.sessions and self.people)
    @rule(data=st.data(), close=st.booleans())
    def session_work(self, data, close: bool) -> None:
        sid = data.draw(st.sampled_from(self.sessions))
        if close:
            self.attempt(lambda: self.store.close_session(sid))
        else:
            pid = data.draw(st.sampled_from(self.people))
            self.attempt(
                lambda: self.store.add_attendance(
                    Attendance(
                        session_id=sid, kind="person", person_id=pid, recorded_by="sam", recorded_at=self.store.clock()
                    )
                )
            )

    @invariant()
    def history_holds(self) -> None:
        s = self.store
        assert chain_problems(s) == []
        records = sum(
            s._rows(f"SELECT count(*) FROM {t}")[0][0]
            for t in ("people_versions", "contacts", "payments", "payment_decisions", "reversals", "attendance")
        )
        sessions = s._rows("SELECT coalesce(sum(version), 0) FROM sessions")[0][0]
        assert s.count("outbox") == records + sessions
        numbers = sorted(int(r[0].rsplit("-", 1)[1]) for r in s._rows("SELECT receipt_no FROM payments"))
        assert numbers == list(range(1, len(numbers) + 1))
        for pid in self.payments:
            assert s.payment_state(pid) in ("approved", "awaiting_approval", "declined", "reversed")


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
