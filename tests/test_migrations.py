"""Schema and migrations: a store made at the first schema version opens and is migrated
to the latest, keeping its data; and sqlite-utils' error paths work over sqlcipher3.

The "old" store is built from a frozen copy of the first schema's DDL (m001_initial as
it was in the first commit, 0087af1) and rows and bodies as that version wrote them,
not from today's m001 or today's Store: a change to m001, or a migration or model that
cannot read what the first version wrote, fails here."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils.db
from sqlite_utils import Migrations

from hubdesk.domain.models import Contact, EmergencyPayment, Hub, Person, User
from hubdesk.store import schema, sqlcipher
from hubdesk.store.audit import GENESIS, AuditEntry, audit_key, body_hash
from hubdesk.store.keys import KdfParams, new_database_key
from hubdesk.store.store import Store, db_path
from store_helpers import PASSPHRASE, a_contact, chain_problems, counts

M001 = "m001_initial"
M002 = "m002_sync_state"
M001_TABLES = {
    "meta", "counters", "users", "reference", "people", "people_versions", "contacts",
    "payments", "payment_decisions", "reversals", "sessions", "attendance", "audit", "outbox",
    "_sqlite_migrations", "sqlite_sequence",
}  # fmt: skip

# m001_initial's DDL as the first commit had it (git show 0087af1:src/hubdesk/store/schema.py).
# Never edit this to follow today's schema: it is what stores made then hold.
FIRST_SCHEMA_DDL = """
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
FIRST_SCHEMA_IMMUTABLE = ("contacts", "payments", "payment_decisions", "reversals", "attendance", "audit")

# Bodies as the first version wrote them (its models had no circumstances, no preferred
# contact method): today's models must still read them.
NADIA_V1 = (
    '{"login":"nadia","display_name":"Nadia Test-Manager","role":"duty_manager","hub_code":"DEW",'
    '"payment_limit_pence":20000,"active":true}'
)
SAM_V1 = (
    '{"login":"sam","display_name":"Sam Test-Duty","role":"pa","hub_code":"DEW","payment_limit_pence":2500,'
    '"active":true}'
)
HUB_V1 = '{"code":"DEW","name":"Dewsbury hub"}'
GAS_V1 = '{"code":"gas","name":"Gas top-up","limit_pence":4000,"active":true}'
PERSON_ID = "01930000-0000-7000-8000-000000000001"
PERSON_V1 = (
    '{"id":"01930000-0000-7000-8000-000000000001","case_id":null,"first_name":"Oldschema",'
    '"last_name":"Personne","preferred_name":null,"date_of_birth":"2006-02-28","approx_age":null,'
    '"legal_status":null,"allocated_pa":null,"hub_code":"DEW","uasc":false,"young_parent":false,'
    '"staying_put":false,"custody":false,"alerts":[],"contact":{"phone":"","email":"","address":""},'
    '"expected_contact_days":null,"walk_in":false,"needs_matching":false,"version":1}'
)
CONTACT_V1 = (
    '{"id":"01930000-0000-7000-8000-000000000002","contact_id":"01930000-0000-7000-8000-000000000003",'
    '"version":1,"amends":null,"person_id":"01930000-0000-7000-8000-000000000001","hub_code":"DEW",'
    '"contact_type":"phone","made_by":"duty_pa","made_by_name":null,"recorded_by":"sam",'
    '"started_at":"2026-11-25T10:05:00Z","ended_at":null,"recorded_at":"2026-11-25T10:05:00Z","seen":false,'
    '"purposes":["money"],"summary":"Recorded before sync existed","voice":"","actions":[],'
    '"tell_allocated_pa":false,"safeguarding_concern":false,"safeguarding":null,"amend_reason":""}'
)
PAYMENT_V1 = (
    '{"id":"01930000-0000-7000-8000-000000000004","receipt_no":"DEW-1-000001",'
    '"person_id":"01930000-0000-7000-8000-000000000001","hub_code":"DEW","category":"gas","amount_pence":1500,'
    '"method":"cash","voucher_serial":null,"reason":"Gas","voice":"","recorded_by":"sam",'
    '"recorded_at":"2026-11-25T10:05:00Z","status":"approved","authorised_by":"sam",'
    '"authorised_at":"2026-11-25T10:05:00Z","receipt":"signed","corrects":null}'
)
AT = "2026-11-25T10:05:00.000000Z"


def first_version_schema(conn) -> None:
    """The first schema, and sqlite-utils' record that m001 ran, as a first-version store has them."""
    conn.executescript(FIRST_SCHEMA_DDL)
    for table in FIRST_SCHEMA_IMMUTABLE:
        conn.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never edited: record an amendment'); END"
        )
        conn.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} are never deleted'); END"
        )
    conn.execute(
        "CREATE TABLE [_sqlite_migrations] ([id] INTEGER PRIMARY KEY, [migration_set] TEXT, [name] TEXT, "
        "[applied_at] TEXT)"
    )
    conn.execute(
        "CREATE UNIQUE INDEX [idx__sqlite_migrations_migration_set_name] ON [_sqlite_migrations] "
        "([migration_set], [name])"
    )
    conn.execute(
        "INSERT INTO _sqlite_migrations(migration_set, name, applied_at) "
        "VALUES ('hubdesk', 'm001_initial', '2026-11-25 16:30:00.000000+00:00')"
    )


def test_migrations_are_appended_never_reordered() -> None:
    names = [m.name for m in schema.migrations._migrations]
    assert names[:2] == [M001, M002]
    assert names == sorted(names), "migrations must be named in the order they run"
    assert names[-1] == schema.LATEST


def _fresh_db(path: Path):
    key = new_database_key()
    conn = sqlcipher.connect(path, key, create=True)
    return key, conn, sqlcipher.database(conn)


def test_today_m001_makes_the_first_schema(tmp_path: Path) -> None:
    """m001 must never change: today's makes the same tables, columns, indexes and triggers
    as the frozen first DDL."""

    def shape(conn) -> set[tuple]:
        return {
            (kind, name, " ".join(sql.split()))
            for kind, name, sql in conn.execute(
                "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE '%migrations%'"
            ).fetchall()
        }

    _, frozen, _ = _fresh_db(tmp_path / "frozen.db")
    first_version_schema(frozen)
    _, today, db = _fresh_db(tmp_path / "today.db")
    schema.migrations.apply(db, stop_before=M002)
    assert shape(today) == shape(frozen)
    frozen.close()
    today.close()


def test_a_first_version_database_migrates_to_the_latest(tmp_path: Path) -> None:
    key, conn, db = _fresh_db(tmp_path / "old.db")
    first_version_schema(conn)
    assert set(db.table_names()) == M001_TABLES
    assert schema.schema_version(db) == 1
    assert not db["sync_state"].exists()
    db["meta"].insert({"key": "store_id", "value": "kept"})

    applied = schema.migrate(db)
    assert applied == [m.name for m in schema.migrations._migrations][1:]
    assert schema.schema_version(db) == len(schema.migrations._migrations)
    assert db["sync_state"].exists() and db["conflicts"].exists()
    assert db.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone() == ("kept",)
    assert schema.migrate(db) == []  # a second run does nothing
    conn.close()
    # Still SQLCipher through and through: the stdlib cannot read it.
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / "old.db").execute("SELECT * FROM sqlite_master").fetchall()
    # And it reopens with its key at the latest version.
    conn = sqlcipher.connect(tmp_path / "old.db", key)
    assert schema.schema_version(sqlcipher.database(conn)) == len(schema.migrations._migrations)
    conn.close()


def test_the_first_schema_still_refuses_edits_to_history(tmp_path: Path) -> None:
    _, conn, db = _fresh_db(tmp_path / "old.db")
    first_version_schema(conn)
    schema.migrate(db)
    db.execute("INSERT INTO audit VALUES (1, 'at', 'sam', 'create', 'person', 'p', '', '', 'mac')")
    with pytest.raises(sqlcipher.IntegrityError, match="never"):
        db.execute("UPDATE audit SET actor = 'eve'")
    with pytest.raises(sqlcipher.IntegrityError, match="never"):
        db.execute("DELETE FROM audit")
    conn.close()


@pytest.fixture
def m001_store(tmp_path: Path):
    """A store as the first version left it: its slots from today's code (key slots are not
    what this test is about), and its database made from the frozen first DDL with rows,
    bodies and an audit chain as the first version's Store wrote them."""
    data_dir = tmp_path / "m001-store"
    made, recovery = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User.model_validate_json(NADIA_V1),
        passphrase=PASSPHRASE,
        kdf=KdfParams(iterations=1),
    )
    made.add_user(User.model_validate_json(SAM_V1), PASSPHRASE)
    assert made._key is not None
    key, store_id = bytes(made._key), made.slots.store_id
    made.lock()
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path(data_dir)) + suffix).unlink(missing_ok=True)

    conn = sqlcipher.connect(db_path(data_dir), key, create=True)
    first_version_schema(conn)
    mac_key = audit_key(key)
    head = [0, GENESIS]

    def audit(actor: str, action: str, kind: str, record_id: str | None, detail: str, body: str) -> int:
        entry = AuditEntry(head[0] + 1, AT, actor, action, kind, record_id, detail, body_hash(body) if body else "")
        mac = entry.sign(mac_key, head[1])
        conn.execute(
            "INSERT INTO audit(seq, at, actor, action, kind, record_id, detail, body_hash, mac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [entry.seq, AT, actor, action, kind, record_id, detail, entry.body_hash, mac],
        )
        head[:] = [entry.seq, mac]
        return entry.seq

    def outbox(n: int, kind: str, record_id: str, body: str) -> None:
        conn.execute(
            "INSERT INTO outbox(id, kind, record_id, body, created_at) VALUES (?, ?, ?, ?, ?)",
            [f"01930000-0000-7000-8000-00000000010{n}", kind, record_id, body, AT],
        )

    conn.execute("BEGIN")
    for k, v in {
        "store_id": store_id,
        "hub_code": "DEW",
        "device_no": "1",
        "device_id": "01930000-0000-7000-8000-000000000099",
    }.items():
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", [k, v])
    conn.execute("INSERT INTO reference(kind, code, active, body) VALUES ('hub', 'DEW', 1, ?)", [HUB_V1])
    seq = audit("recovery", "create", "user", "nadia", "duty_manager", NADIA_V1)
    conn.execute("INSERT INTO users VALUES ('nadia', 'duty_manager', 'DEW', 1, ?, ?)", [NADIA_V1, seq])
    seq = audit("nadia", "create", "user", "sam", "pa", SAM_V1)
    conn.execute("INSERT INTO users VALUES ('sam', 'pa', 'DEW', 1, ?, ?)", [SAM_V1, seq])
    conn.execute("INSERT INTO reference(kind, code, active, body) VALUES ('payment_category', 'gas', 1, ?)", [GAS_V1])
    audit("nadia", "set", "reference", None, "", "")
    seq = audit("sam", "create", "person", PERSON_ID, "", PERSON_V1)
    conn.execute("INSERT INTO people VALUES (?, 1, NULL, 'DEW', 0, 0, NULL, ?, ?)", [PERSON_ID, PERSON_V1, seq])
    conn.execute("INSERT INTO people_versions VALUES (?, 1, ?, ?)", [PERSON_ID, PERSON_V1, seq])
    outbox(1, "person", PERSON_ID, PERSON_V1)
    contact = json.loads(CONTACT_V1)
    seq = audit("sam", "create", "contact", contact["id"], "version 1", CONTACT_V1)
    conn.execute(
        "INSERT INTO contacts(id, contact_id, version, amends, person_id, hub_code, contact_type, started_at, "
        "ended_at, recorded_at, recorded_by, body, audit_seq) VALUES (?, ?, 1, NULL, ?, 'DEW', 'phone', ?, NULL, ?, "
        "'sam', ?, ?)",
        [contact["id"], contact["contact_id"], PERSON_ID, AT, AT, CONTACT_V1, seq],
    )
    outbox(2, "contact", contact["id"], CONTACT_V1)
    payment = json.loads(PAYMENT_V1)
    conn.execute("INSERT INTO counters(name, value) VALUES ('receipt', 1)")
    seq = audit("sam", "create", "payment", payment["id"], "DEW-1-000001", PAYMENT_V1)
    conn.execute(
        "INSERT INTO payments(id, receipt_no, person_id, hub_code, category, method, amount_pence, status, "
        "recorded_at, body, audit_seq) VALUES (?, 'DEW-1-000001', ?, 'DEW', 'gas', 'cash', 1500, 'approved', ?, ?, ?)",
        [payment["id"], PERSON_ID, AT, PAYMENT_V1, seq],
    )
    outbox(3, "payment", payment["id"], PAYMENT_V1)
    conn.execute("INSERT INTO meta(key, value) VALUES ('audit_head', ?)", [f"{head[0]}:{head[1]}"])
    conn.execute("COMMIT")
    db = sqlcipher.database(conn)
    assert schema.schema_version(db) == 1 and not db["sync_state"].exists()
    conn.close()
    before = {
        "counts": {"people": 1, "contacts": 1, "payments": 1, "users": 2, "outbox": 3},
        "person": Person.model_validate_json(PERSON_V1),
        "contact": Contact.model_validate_json(CONTACT_V1),
        "payment": EmergencyPayment.model_validate_json(PAYMENT_V1),
        "outbox_ids": [f"01930000-0000-7000-8000-00000000010{n}" for n in (1, 2, 3)],
        "audit": head[0],
    }
    return data_dir, before, recovery


def test_unlock_migrates_a_first_version_store_and_keeps_its_data(m001_store) -> None:
    data_dir, before, _ = m001_store
    with Store.unlock(data_dir, "sam", PASSPHRASE) as s:
        assert s.schema_version == len(schema.migrations._migrations)
        assert s.db["sync_state"].exists() and s.db["conflicts"].exists()
        assert counts(s) == before["counts"]
        assert s.get_person(before["person"].id) == before["person"]
        assert s.current_contact(before["contact"].contact_id) == before["contact"]
        assert s.get_payment(before["payment"].id) == before["payment"]
        assert [item.id for item in s.outbox()] == before["outbox_ids"]
        assert s.count("audit") == before["audit"] + 1  # this unlock
        assert chain_problems(s) == []
        # m005 backfilled the contact summary from the contacts already there.
        summary = s._rows("SELECT person_id, last_at FROM person_contact_summary")
        assert summary == [(before["person"].id, s._rows("SELECT started_at FROM contacts")[0][0])]
        # And it goes on working at the new version.
        s.record_contact(a_contact(s, before["person"], "After the migration"))
        assert chain_problems(s) == []
        names = [m.name for m in schema.migrations.applied(s.db)]
        assert names == [m.name for m in schema.migrations._migrations]
    from hubdesk.store.doctor import doctor

    report = doctor(data_dir, login="sam", passphrase=PASSPHRASE)
    assert report.ok, report.text()


def test_the_recovery_key_also_migrates_an_old_store(m001_store) -> None:
    data_dir, before, recovery = m001_store
    with Store.recover(data_dir, recovery) as s:
        assert s.schema_version == len(schema.migrations._migrations)
        assert counts(s) == before["counts"]


def test_a_failing_migration_leaves_the_store_at_its_old_version(tmp_path: Path) -> None:
    """sqlite-utils wraps each migration in a transaction; over sqlcipher3 the rollback
    must still happen, and the migration stays pending."""
    _, conn, db = _fresh_db(tmp_path / "x.db")
    broken = Migrations("hubdesk-test")

    @broken()
    def m001(db):
        db.execute("CREATE TABLE a (x)")

    @broken()
    def m002(db):
        db.execute("CREATE TABLE b (x)")
        db.execute("INSERT INTO a VALUES (1)")
        raise RuntimeError("the migration failed half-way")

    with pytest.raises(RuntimeError):
        broken.apply(db)
    assert db["a"].exists() and not db["b"].exists()
    assert db.execute("SELECT count(*) FROM a").fetchone() == (0,)
    assert [m.name for m in broken.applied(db)] == ["m001"]
    assert [m.name for m in broken.pending(db)] == ["m002"]
    conn.close()


# --- sqlite-utils over sqlcipher3 ---------------------------------------------------------


@pytest.fixture
def cipher_db(tmp_path: Path):
    _, conn, db = _fresh_db(tmp_path / "u.db")
    yield db
    conn.close()


def test_sqlite_utils_error_paths_work_over_sqlcipher3(cipher_db) -> None:
    db = cipher_db
    assert db.table_names() == []
    assert db["missing"].exists() is False
    # drop(ignore=True) catches OperationalError: sqlcipher3's, once pointed at it.
    db["missing"].drop(ignore=True)
    # cached_counts() with no _counts table catches OperationalError and returns {}.
    assert db.cached_counts() == {}
    db["t"].insert({"id": 1, "name": "one"}, pk="id")
    assert db.table_names() == ["t"]
    # insert(alter=True) catches 'no column named' and adds the column.
    db["t"].insert({"id": 2, "name": "two", "extra": "added"}, alter=True)
    assert {c.name for c in db["t"].columns} == {"id", "name", "extra"}
    # update(alter=True) does the same.
    db["t"].update(1, {"later": 5}, alter=True)
    assert db["t"].get(1)["later"] == 5
    assert db.supports_strict in (True, False)
    # A real error still comes out, as sqlcipher3's own class.
    with pytest.raises(sqlcipher.OperationalError):
        db["missing"].drop()
    with pytest.raises(sqlcipher.OperationalError):
        db.execute("SELECT * FROM nowhere")


def test_without_the_pointer_sqlite_utils_would_miss_sqlcipher3_errors(
    cipher_db, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why hubdesk.store.sqlcipher points sqlite-utils at sqlcipher3: with the standard
    library's classes, drop(ignore=True) lets sqlcipher3's OperationalError escape."""
    assert sqlite_utils.db.sqlite3 is sqlcipher.dbapi2
    assert sqlite_utils.db.OperationalError is sqlcipher.OperationalError
    assert not issubclass(sqlcipher.OperationalError, sqlite3.OperationalError)
    monkeypatch.setattr(sqlite_utils.db, "sqlite3", sqlite3)
    monkeypatch.setattr(sqlite_utils.db, "OperationalError", sqlite3.OperationalError)
    with pytest.raises(sqlcipher.OperationalError):
        cipher_db["missing"].drop(ignore=True)
    with pytest.raises(sqlcipher.OperationalError):
        cipher_db.cached_counts()


def test_sqlite_utils_atomic_rolls_back_over_sqlcipher3(cipher_db) -> None:
    db = cipher_db
    db["t"].insert({"id": 1}, pk="id")
    with pytest.raises(sqlcipher.IntegrityError):
        with db.atomic():
            db.execute("INSERT INTO t (id) VALUES (2)")
            db.execute("INSERT INTO t (id) VALUES (1)")
    assert [r["id"] for r in db["t"].rows] == [1]
    # Nested atomic blocks (savepoints) roll back only their own part.
    with db.atomic():
        db.execute("INSERT INTO t (id) VALUES (3)")
        with pytest.raises(sqlcipher.IntegrityError):
            with db.atomic():
                db.execute("INSERT INTO t (id) VALUES (4)")
                db.execute("INSERT INTO t (id) VALUES (1)")
    assert sorted(r["id"] for r in db["t"].rows) == [1, 3]
