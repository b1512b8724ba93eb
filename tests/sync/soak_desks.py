"""Simulated hub desks for the soak (tests/sync/test_soak.py): one process per desk.

    python tests/sync/soak_desks.py CONFIG.json

The launcher imports the protocol once and forks one process per desk (so 50 desks do not
each pay Python's start-up on a 2-core machine). Each desk speaks the real protocol over
HTTP, as `hubdesk sync` does: it enrols with its one-time code (its own Ed25519 key), pulls
its working set, then until the deadline records a few contacts and a payment for its
hub's young people, pushes them, sometimes sends the same batch again (a lost answer),
and pulls what the hub's other desks recorded. It keeps no SQLCipher store: the soak is
about the service. Each desk writes what it sent and every answer's status to
OUT_DIR/desk-N.json.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hubdesk.domain.ids import uuid7
from hubdesk.domain.models import Contact, EmergencyPayment
from hubdesk.sync.protocol import PREFIX, b64, sign_headers

CONTACTS_PER_ROUND = 5


class Desk:
    def __init__(self, url: str, hub: str, user: str, no: int, code: str, seed: int, out: Path) -> None:
        self.out = out
        self.http = httpx.Client(base_url=url, timeout=30.0)
        self.hub, self.user, self.no, self.code = hub, user, no, code
        self.key = Ed25519PrivateKey.generate()
        self.device_id = uuid7()
        self.rng = random.Random(seed)
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []
        self.sent: dict[str, list[str]] = {"contact": [], "payment": []}
        self.resent_ok = 0
        self.resent_bad = 0
        self.pulled_other = 0
        self.pulled_foreign = 0
        self.seq = 0
        self.receipt = 0
        self.cursor = 0
        self.people: list[str] = []
        self.mine: set[str] = set()

    def request(self, method: str, path: str, payload: Any = None, params: dict | None = None) -> httpx.Response | None:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        request = self.http.build_request(
            method,
            path,
            content=body or None,
            params=params,
            headers={"content-type": "application/json"} if body else None,
        )
        request.headers.update(
            sign_headers(
                self.key,
                method=method,
                path=request.url.raw_path.decode("latin-1"),
                device=self.device_id,
                user=self.user,
                body=body,
                at=int(time.time()),
                nonce=secrets.token_urlsafe(18),
            )
        )
        try:
            response = self.http.send(request)
        except httpx.TransportError as exc:
            self.errors.append(f"{method} {path}: {type(exc).__name__}")
            return None
        self.statuses[response.status_code] += 1
        if response.status_code >= 400:
            self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def enrol(self) -> bool:
        public = b64(self.key.public_key().public_bytes_raw())
        body = {
            "code": self.code,
            "device_id": self.device_id,
            "hub_code": self.hub,
            "public_key": public,
            "label": f"{self.hub} soak desk {self.no}",
        }
        return self.request("POST", f"{PREFIX}/enrol", body) is not None

    def pull(self) -> None:
        while True:
            response = self.request("GET", f"{PREFIX}/changes", params={"since": self.cursor, "limit": 500})
            if response is None:
                return
            page = response.json()
            for change in page["changes"]:
                body = change["body"]
                if change["kind"] == "person" and body.get("hub_code") == self.hub and body.get("case_id"):
                    self.people.append(change["record_id"])
                elif change["kind"] in ("contact", "payment"):
                    if body.get("hub_code") != self.hub:
                        self.pulled_foreign += 1
                    elif change["record_id"] not in self.mine:
                        self.pulled_other += 1
            self.cursor = page["cursor"]
            if not page["more"]:
                return

    def batch(self) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        items = []
        for _ in range(CONTACTS_PER_ROUND):
            contact = Contact(
                person_id=self.rng.choice(self.people),
                hub_code=self.hub,
                contact_type=self.rng.choice(("drop_in", "phone")),
                recorded_by=self.user,
                started_at=now,
                recorded_at=now,
                seen=True,
                purposes=("money",),
                summary="Synthetic soak visit",
            )
            items.append(("contact", contact))
        self.receipt += 1
        payment = EmergencyPayment(
            receipt_no=f"{self.hub}-{self.no}-{self.receipt:06d}",
            person_id=self.rng.choice(self.people),
            hub_code=self.hub,
            category="gas",
            amount_pence=1500,
            method="cash",
            reason="Synthetic soak top-up",
            recorded_by=self.user,
            recorded_at=now,
            status="approved",
            authorised_by=self.user,
            authorised_at=now,
        )
        items.append(("payment", payment))
        out = []
        for kind, record in items:
            self.seq += 1
            out.append(
                {
                    "id": uuid7(),
                    "seq": self.seq,
                    "kind": kind,
                    "record_id": record.id,
                    "body": record.model_dump(mode="json"),
                    "created_at": now.isoformat(),
                }
            )
        return out

    def push(self, items: list[dict[str, Any]], again: bool = False) -> None:
        response = self.request("POST", f"{PREFIX}/push", {"hub_code": self.hub, "items": items})
        if response is None:
            return
        kinds = {i["id"]: (i["kind"], i["record_id"]) for i in items}
        for result in response.json()["results"]:
            status = result["status"]
            if again:
                if status == "already_had":
                    self.resent_ok += 1
                else:
                    self.resent_bad += 1
                    self.errors.append(f"resent item answered {status}: {result.get('reason')}")
                continue
            if status in ("accepted", "already_had"):
                kind, record_id = kinds[result["id"]]
                self.sent[kind].append(record_id)
                self.mine.add(record_id)
            else:
                self.errors.append(f"item {status}: {result.get('reason')}")

    def run(self, until: float) -> None:
        if not self.enrol():
            return
        self.pull()
        if not self.people:
            self.errors.append("no young people of this hub pulled")
            return
        (self.out / f"ready-{self.no}").touch()  # enrolled and its working set pulled
        while time.time() < until:
            items = self.batch()
            self.push(items)
            if self.rng.random() < 0.2:
                self.push(items, again=True)
            self.pull()
            time.sleep(self.rng.uniform(0.5, 1.5))

    def report(self) -> dict[str, Any]:
        return {
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "errors": self.errors[:50],
            "sent": self.sent,
            "resent_ok": self.resent_ok,
            "resent_bad": self.resent_bad,
            "pulled_other": self.pulled_other,
            "pulled_foreign": self.pulled_foreign,
            "hub": self.hub,
        }


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    out = Path(config["out_dir"])
    children = []
    for n, desk in enumerate(config["desks"]):
        pid = os.fork()
        if pid == 0:  # the desk's own process
            code = 0
            try:
                d = Desk(config["url"], desk["hub"], desk["user"], desk["no"], desk["code"], seed=n, out=out)
                d.run(config["until"])
                (out / f"desk-{n}.json").write_text(json.dumps(d.report()))
            except BaseException as exc:
                (out / f"desk-{n}.json").write_text(json.dumps({"crashed": type(exc).__name__}))
                code = 1
            os._exit(code)
        children.append(pid)
    failed = 0
    for pid in children:
        _, status = os.waitpid(pid, 0)
        failed += status != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
