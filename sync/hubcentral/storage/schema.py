"""The central record's tables (one DDL for both engines; {serial} is the engine's spelling)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, hub_code TEXT NOT NULL, public_key TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL, enrolled_at TEXT NOT NULL, revoked_at TEXT, last_seen_at TEXT
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
    code_hash TEXT PRIMARY KEY, hub_code TEXT NOT NULL, created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL, used_at TEXT, device_id TEXT, public_key TEXT
);
CREATE TABLE IF NOT EXISTS nonces (
    device_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX IF NOT EXISTS nonces_seen ON nonces(seen_at);
CREATE TABLE IF NOT EXISTS received (
    outbox_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, device_seq BIGINT NOT NULL,
    kind TEXT NOT NULL, record_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    status TEXT NOT NULL, code INTEGER NOT NULL, reason TEXT, acting_user TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, record_id TEXT NOT NULL, version BIGINT NOT NULL, hub_code TEXT,
    device_id TEXT NOT NULL, outbox_id TEXT NOT NULL, content_hash TEXT NOT NULL,
    body TEXT NOT NULL, received_at TEXT NOT NULL, PRIMARY KEY (kind, record_id)
);
CREATE INDEX IF NOT EXISTS records_received ON records(kind, received_at);
CREATE TABLE IF NOT EXISTS people (
    id TEXT PRIMARY KEY, version BIGINT NOT NULL, case_id TEXT UNIQUE, hub_code TEXT NOT NULL,
    content_hash TEXT NOT NULL, body TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    seq {serial}, kind TEXT NOT NULL, record_id TEXT NOT NULL, body TEXT NOT NULL,
    at TEXT NOT NULL, hub_code TEXT, desk TEXT, device_id TEXT
);
CREATE INDEX IF NOT EXISTS changes_record ON changes(record_id);
CREATE TABLE IF NOT EXISTS conflicts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, record_id TEXT NOT NULL, device_id TEXT NOT NULL,
    outbox_id TEXT NOT NULL, local_body TEXT NOT NULL, remote_body TEXT NOT NULL,
    detected_at TEXT NOT NULL, settled_at TEXT
);
CREATE TABLE IF NOT EXISTS reference (key TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS service_keys (name TEXT PRIMARY KEY, private_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    device_id TEXT NOT NULL, seq BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, kind TEXT NOT NULL, record_id TEXT, detail TEXT NOT NULL,
    body_hash TEXT NOT NULL, mac TEXT NOT NULL, prev_mac TEXT NOT NULL, acting_user TEXT NOT NULL,
    received_at TEXT NOT NULL, PRIMARY KEY (device_id, seq)
);
CREATE TABLE IF NOT EXISTS audit_refusals (
    device_id TEXT NOT NULL, seq BIGINT NOT NULL, offered_mac TEXT NOT NULL, offered_hash TEXT NOT NULL,
    reason TEXT NOT NULL, acting_user TEXT NOT NULL, refused_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS person_activity (
    person_id TEXT PRIMARY KEY, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS desk_edits (
    person_id TEXT PRIMARY KEY, version BIGINT NOT NULL, device_id TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS caseload_loads (
    case_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, content_hash TEXT NOT NULL, loaded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_refusals_device ON audit_refusals(device_id, seq);
CREATE TABLE IF NOT EXISTS receipts (
    receipt_no TEXT PRIMARY KEY, payment_id TEXT NOT NULL, device_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_heads (
    device_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, mac TEXT NOT NULL, acting_user TEXT NOT NULL,
    reported_at TEXT NOT NULL
);
"""

# Columns added after a database was first made: (table, column, type).
ADDED_COLUMNS = (("changes", "hub_code", "TEXT"), ("changes", "desk", "TEXT"), ("changes", "device_id", "TEXT"))

# The service report's narrow tables (issue 11, item 5): see report_index.
from hubcentral.storage.report_index import DDL as _REPORT_DDL  # noqa: E402

SCHEMA += _REPORT_DDL
