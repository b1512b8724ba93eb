"""Schema and migrations: a store made at the first schema version opens and is migrated
to the latest, keeping its data; and sqlite-utils' error paths work over sqlcipher3."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils.db
from sqlite_utils import Migrations

from hubdesk.domain.models import Hub, PaymentCategory, Person, ReferenceData, User
from hubdesk.store import schema, sqlcipher
from hubdesk.store import store as store_module
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


def test_migrations_are_appended_never_reordered() -> None:
    names = [m.name for m in schema.migrations._migrations]
    assert names[:2] == [M001, M002]
    assert names == sorted(names), "migrations must be named in the order they run"
    assert names[-1] == schema.LATEST


def _fresh_db(path: Path):
    key = new_database_key()
    conn = sqlcipher.connect(path, key, create=True)
    return key, conn, sqlcipher.database(conn)


def test_a_first_version_database_migrates_to_the_latest(tmp_path: Path) -> None:
    key, conn, db = _fresh_db(tmp_path / "old.db")
    schema.migrations.apply(db, stop_before=M002)
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
    schema.migrations.apply(db, stop_before=M002)
    db.execute("INSERT INTO audit VALUES (1, 'at', 'sam', 'create', 'person', 'p', '', '', 'mac')")
    with pytest.raises(sqlcipher.IntegrityError, match="never"):
        db.execute("UPDATE audit SET actor = 'eve'")
    with pytest.raises(sqlcipher.IntegrityError, match="never"):
        db.execute("DELETE FROM audit")
    conn.close()


@pytest.fixture
def m001_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store made and used by a hubdesk whose schema stopped at m001: the real Store
    code, with migrate() stopping before m002."""
    data_dir = tmp_path / "m001-store"

    def migrate_to_m001(db):
        schema.migrations.apply(db, stop_before=M002)
        return []

    monkeypatch.setattr(store_module, "migrate", migrate_to_m001)
    # The m001-era store kept no per-person contact summary (m005 adds and backfills it).
    monkeypatch.setattr(Store, "refresh_contact_summary", lambda self, person_ids: None)
    # Nor did it know of closed days (m003 adds day_closures).
    monkeypatch.setattr(Store, "refuse_closed_day", lambda self, hub_code, moment: None)
    s, recovery = Store.create(
        data_dir,
        hub=Hub(code="DEW", name="Dewsbury hub"),
        first_user=User(
            login="nadia", display_name="Nadia", role="duty_manager", payment_limit_pence=20000, hub_code="DEW"
        ),
        passphrase=PASSPHRASE,
        kdf=KdfParams(iterations=1),
    )
    s.add_user(User(login="sam", display_name="Sam", role="pa", payment_limit_pence=2500, hub_code="DEW"), PASSPHRASE)
    s.set_reference(
        ReferenceData(payment_categories=(PaymentCategory(code="gas", name="Gas top-up", limit_pence=4000),))
    )
    s.lock()
    s = Store.unlock(data_dir, "sam", PASSPHRASE)
    person = s.add_person(
        Person(first_name="Oldschema", last_name="Personne", hub_code="DEW", date_of_birth=date(2006, 2, 28))
    )
    contact = s.record_contact(a_contact(s, person, "Recorded before sync existed"))
    payment = s.record_payment(person_id=person.id, category="gas", amount_pence=1500, method="cash", reason="Gas")
    assert s.schema_version == 1
    before = {
        "counts": counts(s),
        "person": person,
        "contact": contact,
        "payment": payment,
        "outbox": s.outbox(),
        "audit": s.count("audit"),
    }
    assert s._key is not None
    key = bytes(s._key)
    s.lock()
    monkeypatch.undo()
    # Prove what is on disk is the first version.
    conn = sqlcipher.connect(db_path(data_dir), key)
    db = sqlcipher.database(conn)
    assert schema.schema_version(db) == 1 and not db["sync_state"].exists()
    conn.close()
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
        assert s.outbox() == before["outbox"]
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
