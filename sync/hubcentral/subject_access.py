"""Subject access: everything the central record holds about one young person, as a readable
HTML document and as JSON (`hubdesk-central export --person CASE_ID --format html|json`).

A young person has the right to see what is written about them (UK GDPR, article 15). The
document holds, from the central record:
- their record as it is now (details, contact details, alerts, circumstances) and every
  earlier version of it, with what changed each time (circumstances' history included);
- everything recorded about them at a desk: contacts (with every amendment), payments (with
  approvals, declines and reversals), session attendance, actions and their follow-up, and
  any other kind of record that names them, including what was recorded under a walk-in
  later matched to them;
- conflicts over their record (both sides) and how each was settled;
- who viewed their record, on which desk at which hub and when, and who recorded or changed
  each record: from the desks' audit chains, which every desk sends with each sync (a view
  made on a desk reaches the central record at that desk's next sync).

What is not here: handover notes (free text about a day, not linked to a person), and what
a desk holds that it has not synced yet.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hubcentral.storage import CentralError, CentralStore, iso
from hubcentral.storage.engine import Tx
from hubdesk.domain.money import format_pence

LONDON = ZoneInfo("Europe/London")
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Kinds shown in their own section; anything else naming the person is shown under "Other records".
SECTIONS = ("contact", "payment", "payment_decision", "reversal", "attendance", "action", "action_update")
NOT_EVENTS = {"person", "walk_in_match", "session"}
MAX_LEVELS = 4  # a record naming a record naming the person (a decision on a payment, an action's update)


class SubjectNotFound(CentralError):
    pass


@dataclass
class Held:
    kind: str
    record_id: str
    body: dict[str, Any]
    device_id: str
    received_at: str


def _records_naming(tx: Tx, ids: set[str], skip: set[tuple[str, str]]) -> list[Held]:
    """Records whose body names any of these ids in one of its own fields (not merely
    containing the text): a scan a chunk of ids at a time, checked record by record."""
    found: list[Held] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 50):
        chunk = ordered[start : start + 50]
        where = " OR ".join("body LIKE ?" for _ in chunk)
        for kind, record_id, text, device_id, received_at in tx.all(
            f"SELECT kind, record_id, body, device_id, received_at FROM records WHERE {where}",
            [f"%{i}%" for i in chunk],
        ):
            if (kind, record_id) in skip or kind in NOT_EVENTS:
                continue
            body = json.loads(text)
            named = {v for k, v in body.items() if k != "id" and isinstance(v, str)}
            if named & set(chunk):
                skip.add((kind, record_id))
                found.append(Held(kind, record_id, body, device_id, received_at))
    return found


def gather(store: CentralStore, case_id: str, now: datetime) -> dict[str, Any]:
    """Everything held about the young person with this case id, as JSON-ready data."""
    case_id = case_id.strip()
    with store.engine.transaction(write=False) as tx:
        row = tx.one("SELECT id, body, updated_at FROM people WHERE case_id = ?", [case_id])
        if row is None:
            raise SubjectNotFound(f"No young person with case id {case_id} is held: nothing exported")
        person_id, text, updated_at = row
        person = json.loads(text)
        reference = store._reference(tx)
        versions = _versions(tx, person_id)

        # Walk-ins matched to them: what was recorded under the walk-in is theirs too.
        walk_ins = []
        for (match_text,) in tx.all(
            "SELECT body FROM records WHERE kind = 'walk_in_match' AND body LIKE ?", [f"%{person_id}%"]
        ):
            match = json.loads(match_text)
            if match.get("person_id") != person_id:
                continue
            held = tx.one("SELECT body FROM people WHERE id = ?", [match["walk_in_id"]])
            walk_ins.append(
                {
                    "match": match,
                    "walk_in": json.loads(held[0]) if held else None,
                    "versions": _versions(tx, match["walk_in_id"]),
                }
            )
        subjects = {person_id, *(w["match"]["walk_in_id"] for w in walk_ins)}

        found: list[Held] = []
        skip: set[tuple[str, str]] = set()
        frontier = set(subjects)
        for _ in range(MAX_LEVELS):
            level = _records_naming(tx, frontier, skip)
            if not level:
                break
            found += level
            frontier = {h.record_id for h in level}
        sessions = {}
        session_ids = sorted({h.body["session_id"] for h in found if h.kind == "attendance"})
        for start in range(0, len(session_ids), 500):
            chunk = session_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for sid, body in tx.all(
                f"SELECT record_id, body FROM records WHERE kind = 'session' AND record_id IN ({marks})", chunk
            ):
                sessions[sid] = json.loads(body)

        all_ids = sorted(subjects | {h.record_id for h in found})
        conflicts = []
        settled: dict[str, tuple] = {}
        try:
            with tx.savepoint():
                settled = {
                    r[0]: r[1:]
                    for r in tx.all(
                        "SELECT conflict_id, keep, fields, version, settled_by, settled_at FROM conflict_settlements"
                    )
                }
        except Exception:  # noqa: S110 - no settlement made yet on this database: the table is absent
            pass
        audit = []
        devices = {r[0]: (r[1], r[2]) for r in tx.all("SELECT device_id, hub_code, label FROM devices")}
        for start in range(0, len(all_ids), 500):
            chunk = all_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for cid, kind, record_id, device_id, local, remote, detected_at, settled_at in tx.all(
                "SELECT id, kind, record_id, device_id, local_body, remote_body, detected_at, settled_at "
                f"FROM conflicts WHERE record_id IN ({marks})",
                chunk,
            ):
                how = settled.get(cid)
                conflicts.append(
                    {
                        "id": cid,
                        "kind": kind,
                        "record_id": record_id,
                        "detected_at": detected_at,
                        "device_id": device_id,
                        "device_side": json.loads(local),
                        "central_side": json.loads(remote),
                        "settled_at": settled_at,
                        "settlement": None
                        if how is None
                        else {"keep": how[0], "fields": json.loads(how[1]), "version": how[2], "settled_by": how[3]},
                    }
                )
            for device_id, seq, at, actor, action, kind, record_id, detail, received_at in tx.all(
                "SELECT device_id, seq, at, actor, action, kind, record_id, detail, received_at FROM audit "
                f"WHERE record_id IN ({marks})",
                chunk,
            ):
                hub, label = devices.get(device_id, (None, ""))
                audit.append(
                    {
                        "at": at,
                        "who": actor,
                        "action": action,
                        "kind": kind,
                        "record_id": record_id,
                        "device_id": device_id,
                        "desk": label or f"desk {device_id[:8]}",
                        "hub_code": hub,
                        "detail": detail,
                        "entry": seq,
                        "received_at": received_at,
                    }
                )

    by_kind: dict[str, list[dict[str, Any]]] = {}
    for h in sorted(found, key=lambda h: (_when(h.body) or h.received_at, h.record_id)):
        by_kind.setdefault(h.kind, []).append(h.body)
    audit.sort(key=lambda e: (e["at"], e["device_id"], e["entry"]))
    views = [e for e in audit if e["action"] == "view" and e["kind"] == "person"]
    circumstances_history = []
    last = None
    for v in versions:
        now_c = v["body"].get("circumstances")
        if now_c is not None and now_c != last:
            circumstances_history.append({"version": v["version"], "at": v["at"], "circumstances": now_c})
        last = now_c
    return {
        "subject_access": {
            "case_id": case_id,
            "person_id": person_id,
            "produced_at": iso(now),
            "produced_by": "hubdesk-central export --person",
            "source": "the central record (what desks have synced); a desk may hold a few unsynced records",
            "reference_example": bool(reference.example) if reference else None,
        },
        "person": person,
        "person_updated_at": updated_at,
        "circumstances": person.get("circumstances"),
        "circumstances_history": circumstances_history,
        "person_versions": versions,
        "walk_ins_matched": walk_ins,
        "records": by_kind,
        # The sessions themselves are not about them: their type, hub and time only.
        "sessions_attended": [
            {k: s.get(k) for k in ("id", "hub_code", "session_type", "starts_at", "ends_at")} for s in sessions.values()
        ],
        "conflicts": conflicts,
        "views": views,
        "audit": audit,
        "names": _names(reference),
    }


def _versions(tx: Tx, person_id: str) -> list[dict[str, Any]]:
    """Every version of a person the feed has carried, oldest first, each with what changed."""
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    previous: dict[str, Any] = {}
    for body_text, at in tx.all(
        "SELECT body, at FROM changes WHERE kind = 'person' AND record_id = ? ORDER BY seq", [person_id]
    ):
        body = json.loads(body_text)
        version = int(body.get("version", 0))
        if version in seen:
            continue
        seen.add(version)
        changed = sorted(k for k in set(body) | set(previous) if k != "version" and body.get(k) != previous.get(k))
        out.append({"version": version, "at": at, "changed": changed if previous else [], "body": body})
        previous = body
    return out


def _names(reference: Any) -> dict[str, dict[str, str]]:
    if reference is None:
        return {"users": {}, "hubs": {}, "categories": {}, "purposes": {}, "session_types": {}}
    return {
        "users": {u.login: u.display_name for u in reference.users},
        "hubs": {h.code: h.name for h in reference.hubs},
        "categories": {c.code: c.name for c in reference.payment_categories},
        "purposes": {p.code: p.name for p in reference.contact_purposes},
        "session_types": {s.code: s.name for s in reference.session_types},
    }


def _when(body: dict[str, Any]) -> str | None:
    for key in ("started_at", "recorded_at", "decided_at", "starts_at", "written_at", "at"):
        value = body.get(key)
        if isinstance(value, str):
            try:
                return iso(datetime.fromisoformat(value))
            except ValueError:
                return None
    return None


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


# --- the readable document -------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; background: #fff; color: #1a1a1a;
       margin: 2rem auto; max-width: 60rem; padding: 0 1.5rem; line-height: 1.45; }
h1 { color: #1d4e89; border-bottom: 4px solid #1d4e89; padding-bottom: .4rem; }
h2 { color: #fff; background: #1d4e89; padding: .3rem .6rem; margin-top: 2rem; font-size: 1.15rem; }
h3 { color: #1d4e89; margin-bottom: .3rem; }
p.lead { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #c5cfdb; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #e8eef6; }
td.money { text-align: right; white-space: nowrap; }
.none { color: #555; font-style: italic; }
.voice { background: #fff7dd; }
.alert { color: #8a1c1c; font-weight: 600; }
dl { display: grid; grid-template-columns: 16rem 1fr; gap: .2rem .8rem; margin: .3rem 0 1rem; }
dt { font-weight: 600; color: #333; }
footer { margin-top: 2.5rem; font-size: .85rem; color: #444; border-top: 1px solid #c5cfdb; padding-top: .5rem; }
@media print { h2 { break-after: avoid; } table { break-inside: auto; } }
"""


def _e(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return '<span class="none">not recorded</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_e(v) for v in value)
    if isinstance(value, dict):
        return _dl(value)
    return html.escape(str(value))


LABELS = {
    "allocated_pa": "Allocated PA",
    "hub_code": "Hub",
    "uasc": "Unaccompanied asylum seeker (UASC)",
    "eet": "Education, training or employment",
    "approx_age": "Approximate age",
    "expected_contact_days": "Expected contact (every so many days)",
    "case_id": "Case id",
    "walk_in": "Recorded as a walk-in",
}


def _label(key: str) -> str:
    return html.escape(LABELS.get(key) or key.replace("_", " ").capitalize())


def _time(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return _e(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _e(value)
    if moment.tzinfo is None:
        return html.escape(moment.strftime("%-d %b %Y"))
    return html.escape(moment.astimezone(LONDON).strftime("%a %-d %b %Y %H:%M"))


def _dl(data: dict[str, Any]) -> str:
    rows = "".join(f"<dt>{_label(k)}</dt><dd>{_e(v)}</dd>" for k, v in data.items() if k not in ("id",))
    return f"<dl>{rows}</dl>"


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="none">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_html(data: dict[str, Any]) -> str:
    person = data["person"]
    names = data["names"]
    users, hubs = names["users"], names["hubs"]

    def who(login: Any) -> str:
        if not login:
            return _e(None)
        name = users.get(login)
        return html.escape(f"{name} ({login})" if name else str(login))

    def hub(code: Any) -> str:
        return html.escape(hubs.get(code, code or "")) or _e(None)

    full = " ".join(p for p in (person.get("first_name"), person.get("last_name")) if p)
    meta = data["subject_access"]
    out: list[str] = []
    out.append(
        f"<h1>Everything held about {html.escape(full)}</h1>"
        f'<p class="lead">Case {html.escape(meta["case_id"])}. This is everything the Care Leavers Service\'s '
        f"central record holds about you, produced on {_time(meta['produced_at'])}: your record and its "
        "history, every contact, payment and session recorded with you, actions taken, and who looked at "
        "your record, when and where. If anything here is wrong, tell your PA or the service: you can ask "
        "for it to be corrected.</p>"
    )
    if meta.get("reference_example"):
        out.append('<p class="alert">Made from an EXAMPLE service (demo data): not a real record.</p>')

    # Details
    details = {k: v for k, v in person.items() if k not in ("contact", "circumstances", "alerts", "version", "id")}
    details["hub_code"] = hubs.get(person.get("hub_code"), person.get("hub_code"))
    if person.get("allocated_pa"):
        details["allocated_pa"] = users.get(person["allocated_pa"], person["allocated_pa"])
    out.append("<h2>Your details</h2>" + _dl(details))
    out.append("<h3>How to reach you</h3>" + _dl(person.get("contact") or {}))
    alerts = person.get("alerts") or []
    out.append(
        "<h3>Alerts on your record</h3>"
        + _table(
            ["Kind", "What it says"],
            [[_e(str(a.get("kind", "")).replace("_", " ")), _e(a.get("text"))] for a in alerts],
            "No alerts.",
        )
    )

    # Circumstances and their history
    out.append("<h2>Your circumstances</h2>")
    circumstances = data.get("circumstances")
    out.append(_dl(circumstances) if circumstances else '<p class="none">No circumstances recorded.</p>')
    history = data.get("circumstances_history") or []
    if len(history) > 1:
        out.append(
            "<h3>How they changed</h3>"
            + _table(
                ["Version", "From", "Circumstances then"],
                [[_e(h["version"]), _time(h["at"]), _e(h["circumstances"])] for h in history],
                "",
            )
        )

    # Versions of the record
    versions = data.get("person_versions") or []
    out.append(
        "<h2>Changes to your record</h2>"
        + _table(
            ["Version", "When", "What changed"],
            [
                [_e(v["version"]), _time(v["at"]), _e([c.replace("_", " ") for c in v["changed"]] or "first recorded")]
                for v in versions
            ],
            "No earlier versions.",
        )
    )
    for n, v in enumerate(versions):
        # The first version in full; each later one by what it changed, to its new value.
        shown = v["body"] if n == 0 else {k: v["body"].get(k) for k in v["changed"]}
        what = "as first recorded" if n == 0 else "what it changed, to"
        out.append(f"<h3>Version {_e(v['version'])}, {_time(v['at'])}: {what}</h3>" + _dl(shown))

    records = data["records"]
    purposes = names["purposes"]
    # Contacts
    contacts = records.get("contact", [])
    out.append(
        "<h2>Contacts with you</h2>"
        + _table(
            ["When", "Type", "Where", "Recorded by", "Seen", "About", "What happened", "In your words", "Version"],
            [
                [
                    _time(c.get("started_at")),
                    _e(str(c.get("contact_type", "")).replace("_", " ")),
                    hub(c.get("hub_code")),
                    who(c.get("recorded_by")) + f"<br>{_time(c.get('recorded_at'))}",
                    _e(c.get("seen")),
                    _e([purposes.get(p, p) for p in c.get("purposes", [])]),
                    _e(c.get("summary"))
                    + (f"<br><b>Actions:</b> {_e([a.get('text') for a in c['actions']])}" if c.get("actions") else "")
                    + (
                        f"<br><b>Safeguarding:</b> {_e(c.get('safeguarding'))}" if c.get("safeguarding_concern") else ""
                    ),
                    f'<span class="voice">{_e(c.get("voice"))}</span>',
                    _e(c.get("version")) + (f"<br>amended: {_e(c.get('amend_reason'))}" if c.get("amends") else ""),
                ]
                for c in contacts
            ],
            "No contacts recorded.",
        )
    )

    # Payments, with what became of each
    categories = names["categories"]
    decisions = {d.get("payment_id"): d for d in records.get("payment_decision", [])}
    reversals = {r.get("payment_id"): r for r in records.get("reversal", [])}
    rows = []
    for p in records.get("payment", []):
        then = []
        d = decisions.get(p.get("id"))
        if d:
            then.append(f"{_e(d.get('decision'))} by {who(d.get('decided_by'))} on {_time(d.get('decided_at'))}")
        r = reversals.get(p.get("id"))
        if r:
            then.append(
                f"reversed by {who(r.get('recorded_by'))} on {_time(r.get('recorded_at'))}: {_e(r.get('reason'))}"
            )
        rows.append(
            [
                _time(p.get("recorded_at")),
                html.escape(categories.get(p.get("category"), p.get("category") or "")),
                f'<span class="money">{html.escape(format_pence(int(p.get("amount_pence") or 0)))}</span>',
                _e(p.get("method")),
                hub(p.get("hub_code")),
                who(p.get("recorded_by")),
                _e(p.get("reason")),
                f'<span class="voice">{_e(p.get("voice"))}</span>',
                _e(p.get("status")) + ("<br>" + "<br>".join(then) if then else ""),
                _e(p.get("receipt_no")),
            ]
        )
    out.append(
        "<h2>Payments to you</h2>"
        + _table(
            ["When", "For", "Amount", "How", "Where", "Recorded by", "Why", "In your words", "Outcome", "Receipt"],
            rows,
            "No payments recorded.",
        )
    )

    # Attendance
    sessions = {s["id"]: s for s in data.get("sessions_attended", [])}
    types = names["session_types"]
    out.append(
        "<h2>Sessions you came to</h2>"
        + _table(
            ["Session", "When", "Where", "Recorded by", "Children with you", "Note"],
            [
                [
                    html.escape(types.get(sessions.get(a.get("session_id"), {}).get("session_type"), "") or "session"),
                    _time(sessions.get(a.get("session_id"), {}).get("starts_at")),
                    hub(sessions.get(a.get("session_id"), {}).get("hub_code")),
                    who(a.get("recorded_by")),
                    _e(a.get("children")),
                    ("taken off the register: " + _e(a.get("amend_reason"))) if a.get("removed") else _e(None),
                ]
                for a in records.get("attendance", [])
            ],
            "No sessions recorded.",
        )
    )

    # Actions
    updates: dict[str, list[dict[str, Any]]] = {}
    for u in records.get("action_update", []):
        updates.setdefault(u.get("action_id"), []).append(u)
    out.append(
        "<h2>Actions taken for you</h2>"
        + _table(
            ["Recorded", "Action", "Who", "By when", "What happened"],
            [
                [
                    _time(a.get("recorded_at")),
                    _e(a.get("text")),
                    who(a.get("owner")) if a.get("owner") else _e(a.get("owner_text")),
                    _time(a.get("due")),
                    "<br>".join(
                        f"{_e(u.get('kind'))} {_time(u.get('recorded_at'))}: {_e(u.get('note'))}"
                        for u in updates.get(a.get("id"), [])
                    )
                    or _e(None),
                ]
                for a in records.get("action", [])
            ],
            "No actions recorded.",
        )
    )

    other = {k: v for k, v in records.items() if k not in SECTIONS}
    if other:
        out.append("<h2>Other records about you</h2>")
        for kind, items in sorted(other.items()):
            out.append(f"<h3>{_label(kind)}</h3>" + "".join(_dl(i) for i in items))

    walk_ins = data.get("walk_ins_matched") or []
    if walk_ins:
        out.append(
            "<h2>Visits recorded before we knew who you were</h2>"
            "<p>A desk recorded you as a walk-in; the service later matched that record to yours. "
            "What was recorded under it is included above.</p>"
            + _table(
                ["Walk-in record", "Matched on", "By", "Note"],
                [
                    [
                        _e(w["match"].get("walk_in_id")),
                        _time(w["match"].get("matched_at")),
                        _e(w["match"].get("matched_by")),
                        _e(w["match"].get("note")),
                    ]
                    for w in walk_ins
                ],
                "",
            )
        )
        for w in walk_ins:
            if w.get("walk_in"):
                shown = {k: v for k, v in w["walk_in"].items() if k not in ("id", "circumstances")}
                out.append(
                    f"<h3>What the desk noted about the walk-in {_e(w['match'].get('walk_in_id'))}</h3>" + _dl(shown)
                )

    conflicts = data.get("conflicts") or []
    if conflicts:
        out.append(
            "<h2>Disagreements between records</h2><p>Two desks (or a desk and the case management system) "
            "changed your record at once; both versions were kept for a person to settle.</p>"
            + _table(
                ["Found", "Record", "Settled", "How"],
                [
                    [
                        _time(c["detected_at"]),
                        _e(c["kind"]),
                        _time(c["settled_at"]),
                        _e(
                            f"kept {c['settlement']['keep']} by {c['settlement']['settled_by']}"
                            if c.get("settlement")
                            else "not settled yet"
                        ),
                    ]
                    for c in conflicts
                ],
                "",
            )
        )

    views = data.get("views") or []
    out.append(
        "<h2>Who looked at your record</h2>"
        "<p>Every time someone opens your record on a hub laptop, the laptop notes who, when and where; "
        "it sends that to the central record when it next syncs.</p>"
        + _table(
            ["When", "Who", "Desk", "Hub"],
            [[_time(v["at"]), who(v["who"]), _e(v["desk"]), hub(v["hub_code"])] for v in views],
            "No one has opened your record on a desk that has synced since.",
        )
    )
    history_rows = [
        [
            _time(e["at"]),
            who(e["who"]),
            _e(e["action"]),
            _e(e["kind"].replace("_", " ")),
            _e(e["desk"]),
            hub(e["hub_code"]),
        ]
        for e in data.get("audit", [])
        if not (e["action"] == "view" and e["kind"] == "person")
    ]
    out.append(
        "<h2>Who recorded or changed what</h2>"
        + _table(["When", "Who", "Did", "What", "Desk", "Hub"], history_rows, "Nothing recorded at a desk yet.")
    )
    out.append(
        "<footer>Produced by hubdesk-central for a subject access request. The central record holds what the hub "
        "laptops have synced; a laptop may hold a few records from today not yet sent. Handover notes (about a "
        "day at a hub, not about one person) are not included.</footer>"
    )
    title = f"Subject access: case {meta['case_id']}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<style>{CSS}</style></head><body>{''.join(out)}</body></html>\n"
    )


def render(store: CentralStore, case_id: str, fmt: str, now: datetime) -> str:
    data = gather(store, case_id, now)
    return to_html(data) if fmt == "html" else to_json(data)


def cmd_export(args: argparse.Namespace) -> int:
    """`export --person CASE_ID`: to stdout, or a new 0600 file (an existing one only with --force)."""
    from hubcentral.cli import _open
    from hubdesk.reports.output import OutputRefused, check_target, write_private

    if args.format not in ("html", "json"):
        print("hubdesk-central: nothing exported: --person gives --format html or json", file=sys.stderr)
        return 2
    if args.what not in ("all", None) or args.since:
        print(
            "hubdesk-central: nothing exported: --person exports everything: leave out --what and --since",
            file=sys.stderr,
        )
        return 2
    try:
        if args.out:
            check_target(Path(args.out), force=args.force)
        text = render(_open(args), args.person, args.format, datetime.now(UTC))
        if args.out:
            target = write_private(Path(args.out), text, force=args.force)
            print(f"Wrote everything held about case {args.person.strip()} to {target}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except (SubjectNotFound, OutputRefused) as exc:
        print(f"hubdesk-central: nothing exported: {exc}", file=sys.stderr)
        return 2
    return 0
