"""The device's sync client: enrol, then push the outbox in order and pull changes since the cursor.

Always push before pulling. Every request is signed with the device key kept inside the
encrypted store. Resending is always safe (the service applies each outbox id at most
once), so a dropped connection is retried with back-off, and a killed process simply
syncs again: answers already stored are not asked for twice, and a pulled page is
saved with its cursor in one transaction.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from hubdesk.store import retention, sync_state
from hubdesk.store.store import Store
from hubdesk.sync import audit_head
from hubdesk.sync.protocol import (
    FIRST_PULL_PAGE_SIZE,
    MAX_BATCH,
    PAGE_SIZE,
    PREFIX,
    AuditPage,
    AuditPushResponse,
    Change,
    ChangesPage,
    EnrolRequest,
    EnrolResponse,
    ItemStatus,
    Ping,
    PushItem,
    PushRequest,
    PushResponse,
    RawChangesPage,
    b64,
    sign_headers,
    unb64,
)

Progress = Callable[[str, int, int | None], None]


class SyncError(Exception):
    """A sync that could not finish; str() says what to do. Partial progress is kept."""

    exit_code = 3


class NotEnrolled(SyncError):
    exit_code = 4


class Refused(SyncError):
    """The service refused the request (4xx): retrying the same will not help."""

    exit_code = 2

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"The central record service refused the request ({status}): {detail}")
        self.status = status
        self.detail = detail


class Unreachable(SyncError):
    exit_code = 3


class BadAddress(SyncError):
    """The service's address is not one to use: retrying the same will not help."""

    exit_code = 2


@dataclass
class SyncReport:
    pushed: int = 0
    accepted: int = 0
    already_had: int = 0
    conflicts: int = 0
    quarantined: int = 0
    pulled: int = 0
    events: int = 0
    set_aside: int = 0
    people: int = 0
    cursor: int = 0
    batches: int = 0
    pages: int = 0
    reset: bool = False
    round_trips: int = 0
    audit_sent: int = 0
    audit_acked: int = 0
    removed: int = 0  # synced events past the retention window, removed after this sync
    audit_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return bool(self.conflicts or self.quarantined or self.set_aside or self.audit_problems)

    @property
    def exit_code(self) -> int:
        return 1 if self.needs_attention else 0

    def line(self) -> str:
        return (
            f"Sent {self.pushed} ({self.accepted} new, {self.already_had} already there, "
            f"{self.conflicts} conflicts, {self.quarantined} quarantined); "
            f"received {self.pulled} changes ({self.people} people updated)"
            + (f"; {self.set_aside} set aside unread (see the sync screen)." if self.set_aside else ".")
        )


_DEFAULT_TLS: ssl.SSLContext | None = None


def _tls(verify: bool | str) -> ssl.SSLContext | bool:
    """TLS settings for the service; the default context is made once (loading the CA
    bundle costs ~30 ms, paid per client otherwise)."""
    global _DEFAULT_TLS
    if verify is True:
        if _DEFAULT_TLS is None:
            _DEFAULT_TLS = httpx.create_ssl_context()
        return _DEFAULT_TLS
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _key(store: Store) -> Ed25519PrivateKey | None:
    """The device's signing key. It is kept as hex text in the encrypted store's meta table
    (the driver hands it back as a str): read once per sync client, not once per request,
    and the text dropped at once."""
    raw = sync_state.get(store, sync_state.K_KEY)
    if not raw:
        return None
    secret = bytearray.fromhex(raw)
    del raw
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes(secret))
    finally:
        secret[:] = b"\0" * len(secret)


RESTORED_NOT_ENROLLED = (
    "This store was restored from a backup, so it is a new device for the central record: "
    "ask the central admin for an enrolment code and run `hubdesk enrol` (nothing here is lost; "
    "what waits is sent after enrolment)"
)


def _transport_error(exc: Exception) -> str:
    return f"could not reach the central record service ({type(exc).__name__})"


class SyncClient:
    """One device's conversation with the service. Belongs to the store's thread."""

    def __init__(
        self,
        store: Store,
        *,
        server: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
        verify: bool | str = True,
        batch_size: int = MAX_BATCH,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.store = store
        self.batch_size = min(batch_size, MAX_BATCH)
        self.page_size = min(page_size, PAGE_SIZE)
        self.server = (server or sync_state.get(store, sync_state.K_SERVER) or "").rstrip("/")
        if not self.server:
            raise NotEnrolled("This desk is not enrolled with a central record service: run `hubdesk enrol`")
        self.clock = clock
        self.retries = retries
        self.backoff = backoff
        self.progress = progress or (lambda phase, done, total: None)
        self.http = httpx.Client(
            base_url=self.server,
            transport=transport,
            timeout=timeout,
            verify=_tls(verify) if self.server.startswith("https:") else False,
        )
        self.round_trips = 0
        self.audit_problem: str | None = None
        self.service_time: datetime | None = None  # the service's clock, from the last page pulled
        self._signing_key: Ed25519PrivateKey | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests -----------------------------------------------------------------------

    def _user(self) -> str:
        if self.store.user is None:
            raise SyncError("Unlock as a user to sync: every request names the person acting")
        return self.store.user.login

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        params: dict[str, Any] | None = None,
        *,
        key: Ed25519PrivateKey | None = None,
    ) -> httpx.Response:
        """A signed request, retried with back-off when the connection fails or the service is busy."""
        if key is None:
            self._signing_key = self._signing_key or _key(self.store)
            key = self._signing_key
        if key is None:
            if sync_state.restored_from(self.store):
                raise NotEnrolled(RESTORED_NOT_ENROLLED)
            raise NotEnrolled("This desk has no device key: run `hubdesk enrol`")
        user = self._user()
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        attempt = 0
        while True:
            attempt += 1
            request = self.http.build_request(
                method,
                path,
                content=body or None,
                params=params,
                headers={"content-type": "application/json"} if body else None,
            )
            request.headers.update(
                sign_headers(
                    key,
                    method=method,
                    path=request.url.raw_path.decode("latin-1"),
                    device=sync_state.device_id(self.store),
                    user=user,
                    body=body,
                    at=int(self.clock()),
                    nonce=secrets.token_urlsafe(18),
                )
            )
            try:
                self.round_trips += 1
                response = self.http.send(request)
            except httpx.TransportError as exc:
                if attempt > self.retries:
                    why = _transport_error(exc)
                    raise Unreachable(why[:1].upper() + why[1:] + "; what was sent is kept") from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code == 429 and _retry_after(response) > self.backoff * 2**self.retries:
                # Told to wait longer than retrying would: say so now (e.g. too many wrong codes).
                raise Refused(response.status_code, _detail(response))
            if response.status_code >= 500 or response.status_code == 429:
                if attempt > self.retries:
                    raise Unreachable(f"The central record service is failing ({response.status_code})")
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            if response.status_code >= 400:
                raise Refused(response.status_code, _detail(response))
            return response

    def _head(self) -> dict[str, str]:
        """This desk's audit head, and its own MAC of the last entry the service holds, as
        the signed query parameters the service keeps and checks."""
        params = {audit_head.PARAM: self.store.meta("audit_head")}
        acked = sync_state.audit_acked(self.store)
        if acked:
            rows = self.store._rows("SELECT mac FROM audit WHERE seq = ?", [acked])
            # An anchor entry gone here shows as all-f: the service says it does not match.
            params[audit_head.ANCHOR] = f"{acked}:{rows[0][0] if rows else 'f' * 64}"
        return params

    def ping(self) -> Ping:
        """A signed ping carrying this desk's audit head; a head that contradicts the central
        copy is kept here as `audit_problem` (and audited)."""
        response = self.request("GET", f"{PREFIX}/ping", params=self._head())
        answer = audit_head.HeadAnswer.model_validate_json(response.content)
        self.audit_problem = answer.audit_problem
        if answer.audit_problem:
            sync_state.record_audit_ack(self.store, sync_state.audit_acked(self.store), answer.audit_problem)
        data = json.loads(response.content)
        return Ping.model_validate({k: v for k, v in data.items() if k in Ping.model_fields})

    # --- push then pull -------------------------------------------------------------------

    def push(self, report: SyncReport | None = None) -> SyncReport:
        report = report or SyncReport()
        batch_size = self.batch_size
        hub = self.store.hub_code
        sync_state.reset_sending(self.store)
        total = self.store.outbox_waiting()
        done = 0
        after = 0
        self.progress("push", 0, total)
        while True:
            timed = sync_state.pending_with_times(self.store, batch_size, after)
            if not timed:
                break
            items = [item for item, _ in timed]
            sync_state.mark_sending(self.store, [i.id for i in items])
            payload = PushRequest(
                hub_code=hub,
                items=[
                    PushItem(
                        id=i.id, seq=i.seq, kind=i.kind, record_id=i.record_id, body=json.loads(i.body), created_at=at
                    )
                    for i, at in timed
                ],
            ).model_dump(mode="json")
            try:
                response = self.request("POST", f"{PREFIX}/push", payload)
            except Refused as exc:
                if exc.status == 413 and batch_size > 1:
                    batch_size = max(1, batch_size // 2)
                    continue
                raise
            answer = PushResponse.model_validate_json(response.content)
            tally = sync_state.record_results(self.store, items, answer.results)
            report.accepted += tally.accepted
            report.already_had += tally.already_had
            report.conflicts += tally.conflicts
            report.quarantined += tally.quarantined
            report.pushed += len(items)
            report.batches += 1
            done += len(items)
            after = items[-1].seq
            self.progress("push", done, max(total, done))
        return report

    def push_audit(self, report: SyncReport | None = None) -> SyncReport:
        """Send the audit entries the service does not hold yet, in seq order, after the outbox.

        What the service acknowledges is kept in one transaction. If it says it holds fewer
        than this desk thought (a restored central database), the missing ones are sent
        again from where it stands. An entry it refuses because its copy differs (this
        desk's history changed after it was synced) stops the audit push, is audited here
        and is reported: the admin's `hubdesk-central audit verify` shows it too."""
        report = report or SyncReport()
        after = sync_state.audit_acked(self.store)
        restarted = False
        while True:
            items = sync_state.audit_after(self.store, after, self.batch_size)
            if not items:
                break
            try:
                response = self.request("POST", f"{PREFIX}/audit", {"items": items})
            except Refused as exc:
                if exc.status == 413 and self.batch_size > 1:
                    self.batch_size = max(1, self.batch_size // 2)
                    continue
                raise
            answer = AuditPushResponse.model_validate_json(response.content)
            report.audit_sent += len(items)
            acked = after
            refused = None
            for result in answer.results:
                if result.status in (ItemStatus.ACCEPTED, ItemStatus.ALREADY_HAD) and result.seq == acked + 1:
                    acked = result.seq
                elif result.status == ItemStatus.REJECTED:
                    refused = result
                    break
            if refused is not None and answer.held < items[0]["seq"] - 1 and not restarted:
                # The service holds fewer entries than this desk was told: send from there.
                restarted = True
                after = answer.held
                sync_state.record_audit_ack(self.store, after)
                report.notes.append(
                    f"The service held this desk's audit history only up to entry {after}; sent the rest again"
                )
                continue
            if refused is not None:
                problem = refused.reason or f"audit entry {refused.seq} refused"
                sync_state.record_audit_ack(self.store, acked, f"audit push refused at entry {refused.seq}")
                report.audit_problems.append(problem)
                report.audit_acked = acked
                return report
            sync_state.record_audit_ack(self.store, acked)
            if acked == after:
                break  # nothing acknowledged: never loop
            after = acked
        report.audit_acked = after
        return report

    def compare_audit(self) -> tuple[int, list[str]]:
        """Compare this desk's audit entries with the central copy: an entry edited or deleted
        here after it was synced shows. Returns (entries compared, problems)."""
        since, compared = 0, 0
        problems: list[str] = []
        while True:
            response = self.request("GET", f"{PREFIX}/audit", params={"since": since, "limit": self.page_size})
            page = AuditPage.model_validate_json(response.content)
            if not page.items:
                break
            first, last = page.items[0].seq, page.items[-1].seq
            local = sync_state.audit_between(self.store, first, last)
            prev: str | None = None
            for item in page.items:
                mine = local.get(item.seq)
                compared += 1
                central = item.model_dump(exclude={"prev_mac"})
                if mine is None:
                    problems.append(f"audit entry {item.seq} is held centrally but missing here (deleted)")
                elif mine != central:
                    problems.append(
                        f"audit entry {item.seq} here differs from the central copy (changed after it was synced)"
                    )
                elif prev is not None and item.prev_mac != prev:
                    problems.append(f"audit entry {item.seq} does not follow entry {item.seq - 1} centrally")
                prev = item.mac
            since = last
            if not page.more:
                break
        sync_state.record_audit_check(self.store, compared, len(problems))
        return compared, problems

    def pull(self, report: SyncReport | None = None) -> SyncReport:
        report = report or SyncReport()
        page_size = self.page_size
        since = sync_state.cursor(self.store)
        # A new desk's first pull comes newest first, from a place kept with each page.
        first_pull = sync_state.get(self.store, sync_state.K_FIRST_PULL) or ("start" if since == 0 else "")
        self.progress("pull", 0, None)
        head: dict[str, str] = self._head()  # with the first page: the service checks it
        while True:
            params: dict[str, Any] = {"since": since, "limit": page_size}
            if first_pull and since == 0:
                params["first_pull"] = first_pull
                if page_size >= PAGE_SIZE:  # a page size chosen smaller (tests) is kept
                    params["limit"] = FIRST_PULL_PAGE_SIZE
            response = self.request("GET", f"{PREFIX}/changes", params=params | head)
            if head:
                head = {}
                problem = audit_head.HeadAnswer.model_validate_json(response.content).audit_problem
                if problem:
                    report.audit_problems.append(problem)
                    sync_state.record_audit_ack(self.store, sync_state.audit_acked(self.store), problem)
            try:
                page, unreadable = read_page(response.content)
            except ValidationError:
                raise SyncError("The service sent changes this desk cannot read; nothing was applied") from None
            known = sync_state.get(self.store, sync_state.K_DATABASE)
            moved = since or first_pull not in ("", "start")  # a place in the old database
            if page.database_id and known and page.database_id != known and moved:
                # A restored or replaced central database: our cursor means nothing there.
                # Start again from 0 (applying changes never deletes anything here).
                since, first_pull = 0, "start"
                report.reset = True
                report.notes.append("The service's database was replaced or restored; fetched everything again")
                continue
            if page.reset:
                report.reset = True
                report.notes.append("The service did not know this desk's place; fetched everything again")
            tally = sync_state.apply_changes(
                self.store, page.changes, page.cursor, page.database_id, unreadable, first_pull=page.first_pull
            )
            if page.server_time is not None:
                self.service_time = page.server_time
            report.pulled += len(page.changes) + len(unreadable)
            report.set_aside += tally.set_aside
            report.events += tally.events
            report.people += tally.people
            report.pages += 1
            since, first_pull = page.cursor, page.first_pull
            self.progress("pull", report.pulled, None)
            if not page.more:
                break
        report.cursor = since
        return report

    def sync(self) -> SyncReport:
        """Push everything waiting, then pull everything new. Safe to run again after any failure."""
        report = SyncReport()
        self.push(report)
        self.push_audit(report)
        self.pull(report)
        sync_state.record_sync_done(
            self.store,
            str(int(self.clock())),
            f"completed: sent {report.pushed}, received {report.pulled}, audit held to {report.audit_acked}",
        )
        if self.service_time is not None:
            # Synced events older than the window leave the desk, measured by the service's clock.
            kept = retention.after_sync(self.store, self.service_time)
            report.removed = kept.total
            if kept.total or kept.skipped:
                report.notes.append(kept.line())
        report.round_trips = self.round_trips
        return report


class Reachability:
    """The desk's cheap online check: a signed ping at most once a minute, with a short
    timeout and no retries, so a screen worker never waits long. Thread: the store's."""

    def __init__(
        self, min_interval: float = 60.0, timeout: float = 3.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.min_interval = min_interval
        self.timeout = timeout
        self.clock = clock
        self.online: bool | None = None
        self.reason = ""
        self._last: float | None = None

    def due(self) -> bool:
        return self._last is None or self.clock() - self._last >= self.min_interval

    def check(self, store: Store, transport: httpx.BaseTransport | None = None, force: bool = False) -> bool | None:
        """Ping if due (or forced); returns online True/False, or None if not enrolled."""
        if not (force or self.due()):
            return self.online
        self._last = self.clock()
        if not sync_state.enrolled(store):
            self.online, self.reason = None, "not enrolled"
            return None
        try:
            with SyncClient(store, transport=transport, timeout=self.timeout, retries=0) as client:
                client.ping()
            self.online, self.reason = True, client.audit_problem or ""
        except SyncError as exc:
            self.online, self.reason = False, str(exc)
        return self.online


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("retry-after", "0"))
    except ValueError:
        return 0.0


class _WholePage(RawChangesPage):
    changes: list[Change]  # type: ignore[assignment]


def read_page(content: bytes) -> tuple[ChangesPage, list[tuple[int, str, str, str]]]:
    """A pulled page, each change checked on its own: the readable ones, and (seq, kind,
    record id, reason) for each one this desk cannot read, to set aside."""
    try:
        # Every change readable (the usual case): one parse straight from the JSON, the
        # same checks on each change as below, without a Python call a change.
        whole = _WholePage.model_validate_json(content)
    except ValidationError:
        pass
    else:
        return ChangesPage(
            changes=whole.changes,
            cursor=whole.cursor,
            more=whole.more,
            reset=whole.reset,
            database_id=whole.database_id,
            server_time=whole.server_time,
            first_pull=whole.first_pull,
        ), []
    raw = RawChangesPage.model_validate_json(content)
    changes: list[Change] = []
    unreadable: list[tuple[int, str, str, str]] = []
    for n, item in enumerate(raw.changes):
        try:
            changes.append(Change.model_validate(item))
        except ValidationError as exc:
            data = item if isinstance(item, dict) else {}
            seq = data.get("seq") if isinstance(data.get("seq"), int) else -(n + 1)
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "change" for e in exc.errors()[:5])
            unreadable.append(
                (seq, str(data.get("kind", "?"))[:40], str(data.get("record_id", "?"))[:64], f"not readable: {fields}")
            )
    page = ChangesPage(
        changes=changes,
        cursor=raw.cursor,
        more=raw.more,
        reset=raw.reset,
        database_id=raw.database_id,
        server_time=raw.server_time,
        first_pull=raw.first_pull,
    )
    return page, unreadable


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else response.reason_phrase


# The key an enrolment is trying, kept apart from the working key until the service has
# said yes: a wrong code or a mistyped address must never cost the desk the key it syncs with.
K_PENDING_KEY = "pending_device_key"
K_PENDING_SERVER = "pending_server_url"
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")


def service_url(text: str) -> str:
    """The service's address, checked and spelt one way: https, or plain http only to a
    loopback address (this machine). Raises SyncError saying what is wrong."""
    raw = (text or "").strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise BadAddress("The service's address is not a valid URL: give e.g. https://records.example.gov.uk") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in ("https", "http") or not host:
        raise BadAddress("Give the service's address with https://, e.g. https://records.example.gov.uk")
    if not _HOST_PORT.fullmatch(parts.netloc.rpartition("@")[2]):
        raise BadAddress("The service's address is not a valid URL: give e.g. https://records.example.gov.uk")
    if parts.username is not None or parts.password is not None:
        raise BadAddress("The service's address must not hold a user name or password")
    if parts.query or parts.fragment:
        raise BadAddress("The service's address must not have a ?query or #fragment")
    if scheme == "http" and not is_loopback(host):
        raise BadAddress("Use an https:// address (plain http only for a service on this machine: 127.0.0.1, ::1)")
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    netloc = shown if port in (None, default) else f"{shown}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def is_loopback(host: str) -> bool:
    """localhost, or an address in 127.0.0.0/8 or ::1: never a name that merely starts so."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def enrol(
    store: Store,
    server: str,
    code: str,
    *,
    label: str = "",
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    verify: bool | str = True,
) -> EnrolResponse:
    """Make a device key (kept only inside the encrypted store) and register it with a code.

    The desk's working key and enrolment change only when the service accepts: a wrong
    code, an address spelt another way or a service out of reach leave the desk syncing as
    before. The key tried is saved before it is sent, so a lost answer can be retried with
    the same code. A desk already enrolled (or revoked) enrols again with a new code.
    """
    server = service_url(server)
    pending = sync_state.get(store, K_PENDING_KEY)
    if pending and sync_state.get(store, K_PENDING_SERVER) == server:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(pending))
    else:
        key = Ed25519PrivateKey.generate()
        sync_state.put(store, **{K_PENDING_KEY: key.private_bytes_raw().hex(), K_PENDING_SERVER: server})
    public = b64(key.public_key().public_bytes_raw())
    body = EnrolRequest(
        code=code.strip(),
        device_id=sync_state.device_id(store),
        hub_code=store.hub_code,
        public_key=public,
        label=label or f"{store.hub_code} desk {store.device_no}",
    )
    client = SyncClient(store, server=server, transport=transport, clock=clock, verify=verify)
    try:
        response = client.request("POST", f"{PREFIX}/enrol", body.model_dump(mode="json"), key=key)
    finally:
        client.close()
    try:
        answer = EnrolResponse.model_validate_json(response.content)
    except ValidationError:
        raise SyncError(
            "The service's answer to the enrolment is not one this desk can read; nothing changed"
        ) from None
    values = {
        sync_state.K_KEY: key.private_bytes_raw().hex(),
        sync_state.K_SERVER: server,
        sync_state.K_ENROLLED: answer.enrolled_at.isoformat(),
        sync_state.K_BUNDLE_KEY: answer.bundle_key,
        K_PENDING_KEY: "",
        K_PENDING_SERVER: "",
        sync_state.K_RESTORED: "",
    }
    if sync_state.get(store, sync_state.K_SERVER) != server:
        # A new service: its change feed, and the audit history it holds, start from the beginning.
        values |= {sync_state.K_CURSOR: "0", sync_state.K_DATABASE: "", sync_state.K_AUDIT_ACKED: "0"}
    sync_state.put(store, **values)
    return answer


def write_bundle(store: Store, path: Path) -> int:
    """Write everything waiting as a sealed, signed bundle; returns how many items.

    The items stay waiting on the desk: the next online sync (or the service's answer to
    the bundle) settles them, and resending is always safe.
    """
    from hubdesk.sync.bundle import BundleContent, seal

    key = _key(store)
    service_key = sync_state.get(store, sync_state.K_BUNDLE_KEY)
    if key is None or not service_key or not sync_state.enrolled(store):
        raise NotEnrolled("This desk is not enrolled with a central record service: run `hubdesk enrol`")
    if store.user is None:
        raise SyncError("Unlock as a user to write a bundle: it names the person acting")
    items: list[PushItem] = []
    after = 0
    while batch := sync_state.pending_with_times(store, MAX_BATCH, after):
        items += [
            PushItem(id=i.id, seq=i.seq, kind=i.kind, record_id=i.record_id, body=json.loads(i.body), created_at=at)
            for i, at in batch
        ]
        after = batch[-1][0].seq
    data = seal(
        BundleContent(hub_code=store.hub_code, items=items),
        device_id=sync_state.device_id(store),
        user=store.user.login,
        device_key=key,
        service_key=unb64(service_key),
    )
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    with store._save() as now:
        store._audit(now, "sync", "bundle", None, f"{len(items)} items written to a bundle")
    return len(items)
