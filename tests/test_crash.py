"""Crash safety: a process killed with SIGKILL at any instant leaves each save whole or absent.

Each trial forks a child from this (already-imported) test process. The child unlocks
the store itself (never a connection shared across the fork), then saves every kind of
record as fast as it can: people, contacts and amendments, payments, a duty manager's
decisions, reversals, drop-in sessions (opened and closed), register lines and their
corrections, and the end-of-day records (float events and counts, voucher stock,
handover notes, payments carried over, closed days), writing each record's id to a pipe
only after its save has returned. The parent kills it at a random moment:
sometimes while it is still unlocking, usually in the middle of saving. One data dir
is used for every trial, so the store grows and each trial starts from the state the
last kill left.

After every trial the parent checks, on its own connection:
- every save the child reported is there, with its audit entry and its outbox row;
- no record lacks its audit entry or outbox row, and no audit entry or outbox row lacks
  its record (nothing half-written);
- receipt numbers run 1..N with no gap or repeat (the counter rolls back with its save);
- the audit chain verifies up to the head kept in meta;
and every 25 trials, and at the end, SQLite's integrity check and `doctor`.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from datetime import date
from pathlib import Path

import pytest

from hubdesk.domain.models import Hub, Person, User
from hubdesk.store.audit import body_hash
from hubdesk.store.errors import NotAllowed, StoreError, VersionConflict
from hubdesk.store.keys import KdfParams, KeySlotFile
from hubdesk.store.store import Store, slots_path
from store_helpers import PASSPHRASE, a_contact, chain_problems

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "fork"), reason="crash trials fork a child (POSIX)"),
]

TRIALS = int(os.environ.get("HUBDESK_CRASH_TRIALS", "200"))
SEED = int(os.environ.get("HUBDESK_CRASH_SEED", "20261125"))

# Record tables and the outbox kind each writes; the audit entry is at row.audit_seq.
PARTNERS = {
    "people_versions": "person",
    "contacts": "contact",
    "payments": "payment",
    "payment_decisions": "payment_decision",
    "reversals": "reversal",
    "attendance": "attendance",
    "cash_float_events": "cash_float",
    "float_counts": "float_count",
    "voucher_stock": "voucher_stock",
    "handover_notes": "handover_note",
    "payment_carry_overs": "payment_carry_over",
    "day_closures": "day_closure",
}
# What the child reports, and the table each report is looked for in.
REPORTED_TABLES = {
    "person": "people",
    "contact": "contacts",
    "payment": "payments",
    "decision": "payment_decisions",
    "reversal": "reversals",
    "session": "sessions",
    "attendance": "attendance",
    "float_event": "cash_float_events",
    "float_count": "float_counts",
    "voucher_stock": "voucher_stock",
    "handover": "handover_notes",
    "carry_over": "payment_carry_overs",
    "day_closure": "day_closures",
}


def make_store(data_dir: Path) -> tuple[bytes, list[str]]:
    from hubdesk.domain.models import PaymentCategory, ReferenceData, SessionType

    store, _ = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User(
            login="nadia",
            display_name="Nadia Test-Manager",
            role="duty_manager",
            payment_limit_pence=20000,
            hub_code="DEW",
        ),
        passphrase=PASSPHRASE,
        # 8 MiB, one pass: each trial's child unlocks, and these trials test crashes, not
        # the KDF (test_keys does). The store is otherwise made as `hubdesk init` makes it.
        kdf=KdfParams(memory_kib=8 * 1024, iterations=1),
    )
    store.add_user(
        User(login="sam", display_name="Sam Test-Duty", role="pa", payment_limit_pence=2500, hub_code="DEW"), PASSPHRASE
    )
    store.set_reference(
        ReferenceData(
            session_types=(SessionType(code="stay-and-play", name="Stay and play"),),
            payment_categories=(
                PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),
                PaymentCategory(code="food", name="Food voucher", limit_pence=6000),
            ),
        )
    )
    people = [
        store.add_person(
            Person(first_name=f"Seed{i}", last_name="Crashtest", hub_code="DEW", date_of_birth=date(2005, 1, 1 + i))
        ).id
        for i in range(5)
    ]
    assert store._key is not None
    key = bytes(store._key)
    store.lock()
    return key, people


OPS = {
    "person": 2,
    "contact": 3,
    "amend": 2,
    "payment": 3,
    "decision": 2,
    "reverse": 1,
    "session": 1,
    "attend": 2,
    "correct": 1,
    "close_session": 1,
    "float_event": 1,
    "float_count": 1,
    "voucher_stock": 1,
    "handover": 1,
    "carry_over": 1,
    "close_day": 1,
}


def child(data_dir: Path, write_fd: int, people: list[str], seed: int) -> None:
    """Runs in the forked child: save, save, save; report each only after it returned.
    A save the store refuses for a rule (a register line twice, a payment no longer
    awaiting) is not reported and the child goes on."""
    from datetime import timedelta

    from hubdesk.domain.models import Attendance, DropInSession
    from hubdesk.store import day as day_store

    rng = random.Random(seed)
    store = Store.unlock(data_dir, "sam", PASSPHRASE)

    def report(kind: str, record_id: str) -> None:
        os.write(write_fd, f"{kind} {record_id}\n".encode())

    report("ready", "-")
    people = list(people)
    contacts: list[str] = []
    payments: list[str] = []
    awaiting: list[str] = [pid for (pid,) in store._rows("SELECT id FROM payments WHERE status = 'awaiting_approval'")]
    sessions: list[str] = [sid for (sid,) in store._rows("SELECT id FROM sessions WHERE closed_at IS NULL")]
    lines: list[str] = []
    manager = store.verify_manager("nadia", PASSPHRASE, 3000)
    names, weights = list(OPS), list(OPS.values())
    while True:
        op = rng.choices(names, weights)[0]
        try:
            if op == "person":
                p = store.add_person(
                    Person(
                        first_name=rng.choice(["Kayden", "Amir", "Zoë", "محمد"]),
                        last_name="Crashtest",
                        hub_code="DEW",
                        date_of_birth=date(2004 + rng.randrange(6), 3, 1),
                    )
                )
                people.append(p.id)
                report("person", p.id)
            elif op == "contact":
                c = store.record_contact(
                    a_contact(store, store.get_person(rng.choice(people)), "x" * rng.randrange(1, 800))
                )
                contacts.append(c.contact_id)
                report("contact", c.id)
            elif op == "amend" and contacts:
                c = store.amend_contact(rng.choice(contacts), {"summary": "Amended " * 20}, "more")
                report("contact", c.id)
            elif op == "payment":
                amount = rng.choice([500, 1500, 2500, 3000])  # 3000 waits for a manager
                pay = store.record_payment(
                    person_id=rng.choice(people), category="gas", amount_pence=amount, method="cash", reason="Gas"
                )
                (awaiting if amount > 2500 else payments).append(pay.id)
                report("payment", pay.id)
            elif op == "decision" and awaiting:
                pid = awaiting.pop(rng.randrange(len(awaiting)))
                d = store.decide_payment(pid, rng.random() < 0.7, manager, "Synthetic decision")
                report("decision", d.id)
            elif op == "reverse" and payments:
                pid = payments.pop(rng.randrange(len(payments)))
                r = store.reverse_payment(pid, "Recorded twice")
                report("reversal", r.id)
            elif op == "session":
                session = store.open_session(
                    DropInSession(
                        hub_code="DEW", session_type="stay-and-play", starts_at=store.clock(), opened_by="sam"
                    )
                )
                sessions.append(session.id)
                report("session", session.id)
            elif op == "attend" and sessions:
                line = store.add_attendance(
                    Attendance(
                        session_id=rng.choice(sessions),
                        kind="person",
                        person_id=rng.choice(people),
                        recorded_by="sam",
                        recorded_at=store.clock(),
                    )
                )
                lines.append(line.id)
                report("attendance", line.id)
            elif op == "correct" and lines:
                line = store.amend_attendance(lines.pop(rng.randrange(len(lines))), remove=True, reason="By mistake")
                report("attendance", line.id)
            elif op == "close_session" and sessions:
                sid = sessions.pop(rng.randrange(len(sessions)))
                store.close_session(sid)
                report("session", sid)
            elif op == "float_event":
                e = day_store.record_float_event(store, rng.choice(["top_up", "banked"]), rng.randrange(100, 5000))
                report("float_event", e.id)
            elif op == "float_count":
                f = day_store.count_float(store, total_pence=rng.randrange(0, 20000), reason="Synthetic count")
                report("float_count", f.id)
            elif op == "voucher_stock":
                first = rng.randrange(100000, 900000)
                v = day_store.record_voucher_stock(store, "received", f"V{first}", f"V{first + 49}")
                report("voucher_stock", v.id)
            elif op == "handover":
                h = day_store.write_handover(store, "Synthetic handover " * rng.randrange(1, 20))
                report("handover", h.id)
            elif op == "carry_over" and awaiting:
                c = day_store.carry_over(store, rng.choice(awaiting), "Manager away")
                report("carry_over", c.id)
            elif op == "close_day":
                # A past day with nothing open: its count, then the closure.
                day = date(2021, 1, 1) + timedelta(days=rng.randrange(1400))
                f = day_store.count_float(store, day=day, total_pence=0)
                report("float_count", f.id)
                closure = day_store.close_day(store, day=day)
                report("day_closure", closure.id)
        except (NotAllowed, VersionConflict):
            continue


def run_trial(data_dir: Path, people: list[str], rng: random.Random) -> tuple[list[tuple[str, str]], str]:
    read_fd, write_fd = os.pipe()
    seed = rng.randrange(1 << 30)
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_fd)
            child(data_dir, write_fd, people, seed)
        except BaseException as exc:
            try:
                os.write(write_fd, f"error {type(exc).__name__}: {exc}\n".encode())
            finally:
                code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    buf = b""
    # Kill at a random moment: a quarter of the time counted from the fork (so the kill can
    # land while the child is still unlocking), otherwise from when it is ready to save.
    if rng.random() < 0.25:
        when = "from fork"
        time.sleep(rng.uniform(0.0, 0.25))
    else:
        when = "while saving"
        deadline = time.monotonic() + 10
        while b"ready" not in buf and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                buf += chunk
        time.sleep(rng.uniform(0.0, 0.15))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    while chunk := os.read(read_fd, 65536):
        buf += chunk
    os.close(read_fd)
    lines = buf.decode().splitlines()
    errors = [line for line in lines if line.startswith("error")]
    assert not errors, f"the child failed before it was killed: {errors}"
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
    reported = [tuple(line.split(" ", 1)) for line in lines if not line.startswith("ready")]
    return reported, when  # type: ignore[return-value]


def check_store(store: Store, reported: set[tuple[str, str]]) -> dict[str, int]:
    """Everything the docstring promises, on a freshly opened connection."""
    rows = store._rows
    # 1. Every record has its audit entry (hash of its body) and its outbox row (its body).
    outbox = {}
    for kind, record_id, body in rows("SELECT kind, record_id, body FROM outbox"):
        outbox.setdefault((kind, body), []).append(record_id)
    audit = {
        seq: (action, kind, record_id, bh)
        for seq, action, kind, record_id, bh in rows("SELECT seq, action, kind, record_id, body_hash FROM audit")
    }
    partnered_seqs = set()
    counts = {}
    for table, kind in PARTNERS.items():
        table_rows = rows(f"SELECT id, body, audit_seq FROM {table}")
        counts[table] = len(table_rows)
        for record_id, body, seq in table_rows:
            assert seq in audit, f"{table} {record_id} has no audit entry"
            assert audit[seq][3] == body_hash(body), f"{table} {record_id}: audit hash differs"
            assert len(outbox.get((kind, body), [])) == 1, f"{table} {record_id}: outbox row"
            partnered_seqs.add(seq)
    # A session is kept as its latest version: that one has its outbox row, and each
    # version (opened, closed) made one, each with its audit entry.
    session_rows = rows("SELECT id, body, audit_seq, version FROM sessions")
    for session_id, body, seq, _version in session_rows:
        assert seq in audit and audit[seq][3] == body_hash(body), f"session {session_id}: audit entry"
        assert len(outbox.get(("session", body), [])) == 1, f"session {session_id}: outbox row"
        partnered_seqs.add(seq)
    counts["sessions"] = len(session_rows)
    session_versions = sum(row[3] for row in session_rows)
    # 2. No audit entry for a save whose record is missing, and no stray outbox row.
    kinds = {*PARTNERS.values(), "session", "payment"}
    for seq, (action, kind, _record_id, bh) in audit.items():
        if bh and kind in kinds and action in ("create", "amend", "reverse", "approve", "decline", "close"):
            if kind == "session" and action == "create" and seq not in partnered_seqs:
                continue  # an older version of a session now closed: counted below
            assert seq in partnered_seqs, f"audit entry {seq} ({action} {kind}) has no record"
    table_rows = sum(n for table, n in counts.items() if table != "sessions")
    assert sum(len(v) for v in outbox.values()) == table_rows + session_versions
    assert sum(len(r) for (k, _), r in outbox.items() if k == "session") == session_versions
    # 3. What the child reported is all there.
    present = {kind: {r[0] for r in rows(f"SELECT id FROM {table}")} for kind, table in REPORTED_TABLES.items()}
    missing = [(k, i) for k, i in reported if i not in present[k]]
    assert not missing, f"reported saves lost: {missing[:5]}"
    # 4. Receipt numbers run 1..N: the counter rolled back with every unsaved payment.
    numbers = sorted(int(r[0].rsplit("-", 1)[1]) for r in rows("SELECT receipt_no FROM payments"))
    assert numbers == list(range(1, len(numbers) + 1))
    counter = rows("SELECT value FROM counters WHERE name = 'receipt'")
    assert (counter[0][0] if counter else 0) == len(numbers)
    # 5. The audit chain verifies up to its recorded head.
    assert chain_problems(store) == []
    return counts


def test_sigkill_at_random_moments_loses_no_reported_save_and_half_writes_nothing(
    tmp_path: Path,
) -> None:
    from hubdesk.store.doctor import doctor

    data_dir = tmp_path / "crash-store"
    key, people = make_store(data_dir)
    slots = KeySlotFile.load(slots_path(data_dir))
    rng = random.Random(SEED)
    all_reported: set[tuple[str, str]] = set()
    kill_modes: dict[str, int] = {}
    saves_per_trial = []
    started = time.perf_counter()

    for trial in range(1, TRIALS + 1):
        reported, mode = run_trial(data_dir, people, rng)
        kill_modes[mode] = kill_modes.get(mode, 0) + 1
        saves_per_trial.append(len(reported))
        all_reported.update(reported)
        # The parent's own connection, opened with the key it already has (no KDF), and
        # closed again before the next fork.
        store = Store(data_dir, bytearray(key), slots, "nadia")
        try:
            counts = check_store(store, all_reported)
            people = [pid for (pid,) in store._rows("SELECT id FROM people ORDER BY rowid")]
            if trial % 25 == 0 or trial == TRIALS:
                assert store._rows("PRAGMA integrity_check") == [("ok",)]
                assert store._rows("PRAGMA foreign_key_check") == []
        finally:
            store.lock()
        if trial % 25 == 0 or trial == TRIALS:
            report = doctor(data_dir, login="sam", passphrase=PASSPHRASE)
            assert report.ok, report.text()

    took = time.perf_counter() - started
    print(
        f"\ncrash trials: {TRIALS} SIGKILLs ({kill_modes}) in {took:.1f} s; "
        f"{len(all_reported)} saves reported and found; store now holds {counts}; "
        f"saves per trial min/median/max "
        f"{min(saves_per_trial)}/{sorted(saves_per_trial)[len(saves_per_trial) // 2]}/"
        f"{max(saves_per_trial)}"
    )
    assert kill_modes.get("while saving", 0) >= TRIALS // 2
    # Every kind of save happened and was found after the kills (not only a few kinds).
    kinds_reported = {kind for kind, _ in all_reported}
    assert kinds_reported == set(REPORTED_TABLES), f"never saved: {set(REPORTED_TABLES) - kinds_reported}"
    assert sum(1 for n in saves_per_trial if n > 0) >= TRIALS // 2, "kills came too early to test saves"
    assert len(all_reported) >= TRIALS


PASS_TRIALS = int(os.environ.get("HUBDESK_CRASH_PASSPHRASE_TRIALS", "40"))


def test_sigkill_during_passphrase_changes_never_loses_the_key(tmp_path: Path) -> None:
    """The slot file is replaced atomically: whenever a passphrase change is killed, the
    file reads, no slot is damaged, and sam's passphrase is the last one the child reported
    (or the one it was saving when killed); nadia's and the recovery slot still open."""
    data_dir = tmp_path / "passphrase-store"
    make_store(data_dir)
    rng = random.Random(SEED + 1)
    current = PASSPHRASE
    serial = 0
    outcomes = {"old": 0, "new": 0}
    for _trial in range(PASS_TRIALS):
        read_fd, write_fd = os.pipe()
        first = serial + 1
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(read_fd)
                s = Store.unlock(data_dir, "sam", current)
                n, old = first, current
                while True:
                    new = f"passphrase number {n}"
                    s.set_passphrase("sam", new, old)
                    os.write(write_fd, f"{n}\n".encode())
                    n, old = n + 1, new
            except BaseException as exc:
                os.write(write_fd, f"error {type(exc).__name__}: {exc}\n".encode())
                code = 3
            finally:
                os._exit(code)
        os.close(write_fd)
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        buf = b""
        while chunk := os.read(read_fd, 65536):
            buf += chunk
        os.close(read_fd)
        lines = buf.decode().split()
        assert not any(line.startswith("error") for line in lines), buf
        last = int(lines[-1]) if lines else serial
        slots = KeySlotFile.load(slots_path(data_dir))
        assert slots.damaged_slots() == []
        candidates = [
            (f"passphrase number {last}" if last else PASSPHRASE, "old"),
            (f"passphrase number {last + 1}", "new"),
        ]
        for candidate, kind in candidates:
            try:
                Store.unlock(data_dir, "sam", candidate).lock()
            except StoreError:
                continue
            current, serial = candidate, last + (kind == "new")
            outcomes[kind] += 1
            break
        else:
            pytest.fail(f"after a kill, sam's passphrase is neither change {last} nor {last + 1}")
        Store.unlock(data_dir, "nadia", PASSPHRASE).lock()
    print(
        f"\npassphrase-change kills: {PASS_TRIALS}, ended on the last reported: "
        f"{outcomes['old']}, on the one being saved: {outcomes['new']}; {serial} changes"
    )
    assert serial > 0
