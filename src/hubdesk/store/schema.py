"""Schema and migrations (sqlite-utils Migrations): append new ones, never reorder.

Records are stored as their pydantic JSON in `body`, with the columns queries need
beside it. Event tables (contacts, payments, decisions, reversals, attendance) refuse
UPDATE and DELETE by trigger: an amendment is a new row that `amends` the old one.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("hubdesk")

IMMUTABLE = ("contacts", "payments", "payment_decisions", "reversals", "attendance", "audit")


@migrations()
def m001_initial(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);

        CREATE TABLE users (
            login TEXT PRIMARY KEY, role TEXT NOT NULL, hub_code TEXT,
            active INTEGER NOT NULL, body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE TABLE reference (
            kind TEXT NOT NULL, code TEXT NOT NULL, active INTEGER NOT NULL,
            body TEXT NOT NULL, PRIMARY KEY (kind, code)
        );

        CREATE TABLE people (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, case_id TEXT, hub_code TEXT NOT NULL,
            walk_in INTEGER NOT NULL, needs_matching INTEGER NOT NULL, allocated_pa TEXT,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX people_case_id ON people(case_id);
        CREATE TABLE people_versions (
            id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
            audit_seq INTEGER NOT NULL, PRIMARY KEY (id, version)
        );

        CREATE TABLE contacts (
            id TEXT PRIMARY KEY, contact_id TEXT NOT NULL, version INTEGER NOT NULL,
            amends TEXT UNIQUE REFERENCES contacts(id),
            person_id TEXT NOT NULL REFERENCES people(id), hub_code TEXT NOT NULL,
            contact_type TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
            recorded_at TEXT NOT NULL, recorded_by TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL,
            UNIQUE (contact_id, version)
        );
        CREATE INDEX contacts_person ON contacts(person_id, started_at);
        CREATE INDEX contacts_hub_day ON contacts(hub_code, started_at);

        CREATE TABLE payments (
            id TEXT PRIMARY KEY, receipt_no TEXT NOT NULL UNIQUE,
            person_id TEXT NOT NULL REFERENCES people(id), hub_code TEXT NOT NULL,
            category TEXT NOT NULL, method TEXT NOT NULL, amount_pence INTEGER NOT NULL,
            status TEXT NOT NULL, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX payments_person ON payments(person_id, recorded_at);
        CREATE INDEX payments_hub_day ON payments(hub_code, recorded_at);
        CREATE TABLE payment_decisions (
            id TEXT PRIMARY KEY, payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
            decision TEXT NOT NULL, decided_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE TABLE reversals (
            id TEXT PRIMARY KEY, payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
            hub_code TEXT NOT NULL, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );

        CREATE TABLE sessions (
            id TEXT PRIMARY KEY, version INTEGER NOT NULL, hub_code TEXT NOT NULL,
            session_type TEXT NOT NULL, starts_at TEXT NOT NULL, closed_at TEXT,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX sessions_hub_day ON sessions(hub_code, starts_at);
        CREATE TABLE attendance (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
            person_id TEXT REFERENCES people(id), kind TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX attendance_session ON attendance(session_id);

        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT,
            detail TEXT NOT NULL, body_hash TEXT NOT NULL, mac TEXT NOT NULL
        );
        CREATE INDEX audit_record ON audit(record_id);

        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL, record_id TEXT NOT NULL, body TEXT NOT NULL,
            created_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'waiting',
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT
        );
        CREATE INDEX outbox_state ON outbox(state, seq);
        """
    )
    for table in IMMUTABLE:
        db.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never edited: record an amendment'); END"
        )
        db.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END"
        )


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return their names."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


def schema_version(db: Database) -> int:
    return len(migrations.applied(db))


@migrations()
def m002_sync_state(db: Database) -> None:
    """Sync bookkeeping: device identity and cursors, and conflicts kept for a person."""
    db.executescript(
        """
        CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE conflicts (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL,
            local_body TEXT NOT NULL, remote_body TEXT NOT NULL, detected_at TEXT NOT NULL,
            settled_at TEXT, settled_by TEXT, resolution TEXT
        );
        CREATE INDEX conflicts_open ON conflicts(settled_at);
        """
    )


LATEST = [m.name for m in migrations._migrations][-1]


DAY_EVENTS = (
    "cash_float_events",
    "float_counts",
    "voucher_stock",
    "handover_notes",
    "payment_carry_overs",
    "day_closures",
)


@migrations()
def m003_end_of_day(db: Database) -> None:
    """Closing a hub day: float events and counts, voucher stock, handover notes, carried-over
    payments and closures. All are events, refused UPDATE and DELETE like m001's."""
    db.executescript(
        """
        CREATE TABLE cash_float_events (
            id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL,
            amount_pence INTEGER NOT NULL, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX cash_float_events_hub_day ON cash_float_events(hub_code, day);
        CREATE UNIQUE INDEX cash_float_events_one_opening ON cash_float_events(hub_code, day)
            WHERE kind = 'opening';

        CREATE TABLE float_counts (
            id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, day TEXT NOT NULL,
            recounts TEXT UNIQUE REFERENCES float_counts(id),
            total_pence INTEGER NOT NULL, expected_pence INTEGER NOT NULL, counted_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX float_counts_hub_day ON float_counts(hub_code, day);

        CREATE TABLE voucher_stock (
            id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, day TEXT NOT NULL, kind TEXT NOT NULL,
            prefix TEXT NOT NULL, first_no INTEGER NOT NULL, last_no INTEGER NOT NULL,
            recorded_at TEXT NOT NULL, body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX voucher_stock_hub_day ON voucher_stock(hub_code, day);

        CREATE TABLE handover_notes (
            id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, day TEXT NOT NULL, written_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX handover_notes_hub ON handover_notes(hub_code, day, written_at);

        CREATE TABLE payment_carry_overs (
            id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments(id),
            hub_code TEXT NOT NULL, day TEXT NOT NULL, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL, UNIQUE (payment_id, day)
        );
        CREATE INDEX payment_carry_overs_hub_day ON payment_carry_overs(hub_code, day);

        CREATE TABLE day_closures (
            id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, day TEXT NOT NULL, closed_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL, UNIQUE (hub_code, day)
        );
        """
    )
    for table in DAY_EVENTS:
        db.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never edited: record a correction'); END"
        )
        db.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END"
        )


@migrations()
def m004_outbox_by_record(db: Database) -> None:
    """Each record's sync state (waiting / sending / synced / needs attention) is read by
    record id: index it, so the desk never scans the whole outbox."""
    db.execute("CREATE INDEX IF NOT EXISTS outbox_record ON outbox(record_id, seq)")


@migrations()
def m005_person_contact_summary(db: Database) -> None:
    """Each person's latest contact and latest time in touch, kept with every contact save,
    so the keeping-in-touch list costs one row a person, not a walk through years of contacts."""
    from hubdesk.store.store import SUMMARY_SELECT

    db.executescript(
        """
        CREATE TABLE person_contact_summary (
            person_id TEXT PRIMARY KEY, last_at TEXT, last_type TEXT, last_touch_at TEXT
        );
        CREATE INDEX contacts_started ON contacts(started_at);
        """
    )
    db.execute(
        f"INSERT INTO person_contact_summary(person_id, last_at, last_type, last_touch_at) "
        f"SELECT p.id, {SUMMARY_SELECT} FROM people p"
    )


LATEST = [m.name for m in migrations._migrations][-1]


@migrations()
def m006_attendance_amends(db: Database) -> None:
    """A register line is corrected by a new version that amends it (a children count, or
    someone added by mistake taken off), as contacts are: each version amended at most once."""
    db.executescript(
        """
        ALTER TABLE attendance ADD COLUMN amends TEXT REFERENCES attendance(id);
        CREATE UNIQUE INDEX attendance_amends ON attendance(amends);
        """
    )


@migrations()
def m007_working_set(db: Database) -> None:
    """What the desk pulls beyond the caseload (issue 9): which other desk recorded each of
    the hub's events, each young person's recent activity at every hub, and pulled items
    set aside because this desk could not read them (the feed never wedges)."""
    db.executescript(
        """
        CREATE TABLE record_desks (record_id TEXT PRIMARY KEY, desk TEXT NOT NULL);
        CREATE TABLE person_activity (person_id TEXT PRIMARY KEY, body TEXT NOT NULL);
        CREATE TABLE pulled_aside (
            seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL,
            reason TEXT NOT NULL, set_aside_at TEXT NOT NULL
        );
        """
    )


LATEST = [m.name for m in migrations._migrations][-1]


@migrations()
def m008_actions(db: Database) -> None:
    """Actions that get followed up (issue 11): each action a contact creates, and its updates
    (done, passed on) as events. The action row keeps its current owner and whether it is done,
    recomputed from its updates, so "for me, overdue first" is one indexed query."""
    db.executescript(
        """
        CREATE TABLE actions (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, contact_id TEXT NOT NULL, person_id TEXT NOT NULL,
            hub_code TEXT NOT NULL, person_hub TEXT NOT NULL, owner TEXT, due TEXT,
            done INTEGER NOT NULL DEFAULT 0, done_at TEXT, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX actions_owner ON actions(owner, done, due);
        CREATE INDEX actions_person ON actions(person_id, done);
        CREATE INDEX actions_contact ON actions(contact_id);
        CREATE TABLE action_updates (
            id TEXT PRIMARY KEY, action_id TEXT NOT NULL REFERENCES actions(id),
            recorded_at TEXT NOT NULL, body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX action_updates_action ON action_updates(action_id);
        CREATE TRIGGER action_updates_no_update BEFORE UPDATE ON action_updates
        BEGIN SELECT RAISE(ABORT, 'action_updates are never edited: record another'); END;
        CREATE TRIGGER action_updates_no_delete BEFORE DELETE ON action_updates
        BEGIN SELECT RAISE(ABORT, 'action_updates are never deleted'); END;
        """
    )


LATEST = [m.name for m in migrations._migrations][-1]


PURGEABLE = (
    "contacts",
    "payments",
    "payment_decisions",
    "reversals",
    "attendance",
    "handover_notes",
    "payment_carry_overs",
    "action_updates",
)
"""Event tables whose synced rows leave the device after the retention window (issue 12)."""


@migrations()
def m009_retention(db: Database) -> None:
    """Retention on the device (issue 12): synced events older than the window are removed,
    and that purge is the only delete the event tables allow. The purge names each row it
    removes in `purge_grants` inside its own transaction (and empties it before commit); a
    delete of any row not named there is still refused by the trigger."""
    db.executescript(
        "CREATE TABLE purge_grants (tbl TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY (tbl, record_id))"
    )
    for table in PURGEABLE:
        db.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        db.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"WHEN NOT EXISTS (SELECT 1 FROM purge_grants WHERE tbl = '{table}' AND record_id = OLD.id) "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END"
        )


LATEST = [m.name for m in migrations._migrations][-1]


@migrations()
def m010_person_circumstances(db: Database) -> None:
    """A young person's circumstances (issue 11) travel inside the person record's body, so
    they are versioned and synced with it. These virtual columns read the facts the figures
    and the desk's lists ask about out of the body (nothing is stored twice), and the plan's
    due date is indexed for "overdue first"."""
    for column, path in (
        ("accommodation_kind", "$.circumstances.accommodation.kind"),
        ("accommodation_suitable", "$.circumstances.accommodation.suitable"),
        ("eet_status", "$.circumstances.eet.status"),
        ("plan_next_due", "$.circumstances.pathway_plan.next_due"),
    ):
        db.execute(f"ALTER TABLE people ADD COLUMN {column} GENERATED ALWAYS AS (json_extract(body, '{path}')) VIRTUAL")
    db.execute("CREATE INDEX people_plan_next_due ON people(plan_next_due)")


LATEST = [m.name for m in migrations._migrations][-1]


@migrations()
def m011_local_offer_given(db: Database) -> None:
    """The local offer given to a young person (issue 11, item 3): an event, never edited, with
    the payment it was given by where it was money."""
    db.executescript(
        """
        CREATE TABLE offer_given (
            id TEXT PRIMARY KEY, person_id TEXT NOT NULL, hub_code TEXT NOT NULL, person_hub TEXT NOT NULL,
            entitlement TEXT NOT NULL, payment_id TEXT, recorded_at TEXT NOT NULL,
            body TEXT NOT NULL, audit_seq INTEGER NOT NULL
        );
        CREATE INDEX offer_given_person ON offer_given(person_id, entitlement, recorded_at);
        CREATE TRIGGER offer_given_no_update BEFORE UPDATE ON offer_given
        BEGIN SELECT RAISE(ABORT, 'offer_given are never edited: record another'); END;
        CREATE TRIGGER offer_given_no_delete BEFORE DELETE ON offer_given
        BEGIN SELECT RAISE(ABORT, 'offer_given are never deleted'); END;
        """
    )


LATEST = [m.name for m in migrations._migrations][-1]
