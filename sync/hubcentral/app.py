"""The central record service's HTTP API (v1): enrolment, signed push and pull, OpenAPI.

Signatures are checked by an ASGI middleware before FastAPI parses anything, so an
unsigned or oversized request is refused without its body being read as JSON, and a
malformed body from a genuine device is answered 422 naming the field, never 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from hubcentral.limits import EnrolmentGuard, RefusalLog
from hubcentral.storage import CentralStore, Device, EnrolmentRefused
from hubcentral.storage.feed import FIRST_PULL
from hubdesk.sync.audit_head import AUDIT_HEAD_PATTERN, AuditedChangesPage, AuditedPing, parse_head
from hubdesk.sync.protocol import (
    FIRST_PULL_PAGE_SIZE,
    H_DEVICE,
    H_NONCE,
    H_SIGNATURE,
    H_TIME,
    H_USER,
    MAX_BODY_BYTES,
    MAX_SKEW_SECONDS,
    PAGE_SIZE,
    PREFIX,
    SIGNED_HEADERS,
    AuditPage,
    AuditPushRequest,
    AuditPushResponse,
    CentralReference,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    PushRequest,
    PushResponse,
    canonical,
    unb64,
    verify,
)

log = logging.getLogger("hubcentral")
ENROL_PATH = f"{PREFIX}/enrol"
UNSIGNED = {f"{PREFIX}/health"}
_LOGIN = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_INT = 2**63 - 1  # the databases' BIGINT: a larger number is refused (422), never a 500
_LONG_NUMBER = re.compile(rb"\d{19,}")  # 2**63 has 19 digits: anything shorter is in range
BODY_TIMEOUT_SECONDS = 60.0


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Auth:
    device_id: str
    user: str
    device: Device | None
    nonce: str = ""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Service:
    """The checks every signed request passes, over one CentralStore."""

    def __init__(
        self,
        store: CentralStore,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_body: int = MAX_BODY_BYTES,
        body_timeout: float = BODY_TIMEOUT_SECONDS,
        enrol_guard: EnrolmentGuard | None = None,
        refusals: RefusalLog | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.enrol_guard = enrol_guard or EnrolmentGuard()
        self.refusals = refusals or RefusalLog(log)

    def authenticate(self, method: str, target: str, headers: dict[str, str], body: bytes, enrol: bool) -> Auth | None:
        missing = [h for h in SIGNED_HEADERS if not headers.get(h)]
        public_key: bytes | None = None
        device: Device | None = None
        if enrol:
            # Enrolment is signed with the key it registers: proof the device holds it.
            try:
                data = json.loads(body)
                key_text, body_device = data["public_key"], data["device_id"]
                assert isinstance(key_text, str) and isinstance(body_device, str)
                public_key = unb64(key_text)
                assert len(public_key) == 32
            except Exception:
                return None  # FastAPI answers 422 for the body; the endpoint refuses without auth
            if missing:
                raise AuthError(401, f"The request is not signed: missing {', '.join(missing)}")
            if headers[H_DEVICE] != body_device:
                raise AuthError(401, "The signing device is not the device being enrolled")
        else:
            if missing:
                raise AuthError(401, f"The request is not signed: missing {', '.join(missing)}")
            device = self.store.device(headers[H_DEVICE])
            if device is None:
                raise AuthError(401, "Unknown device: enrol it with a code from the central admin first")
            if device.revoked_at is not None:
                raise AuthError(403, "This device has been revoked; ask the central admin to enrol it again")
            public_key = unb64(device.public_key)
        now = self.clock()
        try:
            at = int(headers[H_TIME]) if len(headers[H_TIME]) <= 12 else None
        except ValueError:
            at = None
        if at is None:
            raise AuthError(401, f"{H_TIME} must be whole seconds since 1970 (UTC)")
        skew = abs(now.timestamp() - at)
        if skew > MAX_SKEW_SECONDS:
            raise AuthError(
                401,
                f"The request's time is {int(skew)} seconds from the service's clock "
                "(more than 5 minutes): stale, or the device's clock is wrong",
            )
        nonce = headers[H_NONCE]
        if not _NONCE.match(nonce):
            raise AuthError(401, f"{H_NONCE} must be 16 to 64 letters, digits, - or _")
        user = headers[H_USER]
        text = canonical(method, target, str(at), nonce, headers[H_DEVICE], user, body)
        if not verify(public_key, headers[H_SIGNATURE], text):
            raise AuthError(401, "The signature does not match the request (wrong key, or the request was altered)")
        # An enrolment's nonce is kept only once its code is known (see `enrol`): a wrong
        # guess writes nothing.
        if not enrol and not self.store.use_nonce(headers[H_DEVICE], nonce, now):
            raise AuthError(401, "Replayed request: this nonce has already been used")
        if not _LOGIN.match(user):
            raise AuthError(403, f"{H_USER} must name a user login")
        if device is not None:
            why = self.store.user_refusal(user, device.hub_code)
            if why:
                raise AuthError(403, why)
        return Auth(device_id=headers[H_DEVICE], user=user, device=device, nonce=nonce)


async def _send_json(
    send: Callable[..., Any], status: int, payload: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _too_large(send: Callable[..., Any], limit: int) -> None:
    await _send_json(send, 413, {"detail": f"The request body is larger than {limit} bytes; send smaller batches"})


def client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _number_out_of_range(body: bytes) -> bool:
    """Does the JSON body hold an integer beyond the databases' 64 bits? (Cheap unless a
    run of 19 digits appears; then the body is parsed to tell a number from text.)"""
    if not _LONG_NUMBER.search(body):
        return False
    found = False

    def check(text: str) -> int:
        nonlocal found
        value = int(text)
        found = found or not -MAX_INT - 1 <= value <= MAX_INT
        return value

    try:
        json.loads(body, parse_int=check)
    except (ValueError, RecursionError):
        return False  # not JSON: FastAPI answers 422 naming it
    return found


class SignedRequests:
    """ASGI middleware: size limit, then signature, time, nonce, device and user."""

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX + "/") or path in UNSIGNED:
            await self.app(scope, receive, send)
            return
        service = self.service
        method = scope["method"]
        if path == ENROL_PATH:
            wait = service.enrol_guard.wait(client_address(scope), service.clock().timestamp())
            if wait > 0:
                service.refusals.refused("refused %s %s: 429 (wrong enrolment codes)", method, path)
                await _send_json(
                    send,
                    429,
                    {
                        "detail": "Too many wrong enrolment codes from this address: "
                        f"try again in {int(wait) + 1} seconds, with a code from the central admin"
                    },
                    [(b"retry-after", str(int(wait) + 1).encode())],
                )
                return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = service.max_body
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            service.refusals.refused("refused %s %s: 413", method, path)
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(service.body_timeout):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        service.refusals.refused("refused %s %s: 413", method, path)
                        await _too_large(send, limit)
                        return
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            service.refusals.refused("refused %s %s: 408 (body too slow)", method, path)
            await _send_json(
                send, 408, {"detail": f"The request body took more than {int(service.body_timeout)} s to arrive"}
            )
            return
        body = b"".join(chunks)
        raw_path = scope.get("raw_path") or path.encode()
        target = raw_path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        try:
            auth = await run_in_threadpool(
                self.service.authenticate, scope["method"], target, headers, body, path == ENROL_PATH
            )
        except AuthError as exc:
            service.refusals.refused("refused %s %s: %s", method, path, exc.status)
            await _send_json(send, exc.status, {"detail": exc.message})
            return
        if _number_out_of_range(body):
            service.refusals.refused("refused %s %s: 422 (number out of range)", method, path)
            await _send_json(
                send,
                422,
                {
                    "detail": f"Invalid request: a number is out of range (at most {MAX_INT})",
                    "errors": [{"field": "body", "message": f"Integers must be between {-MAX_INT - 1} and {MAX_INT}"}],
                },
            )
            return
        scope = dict(scope)
        scope["hubdesk.auth"] = auth
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _auth(request: Request) -> Auth:
    auth = request.scope.get("hubdesk.auth")
    if auth is None:
        raise HTTPException(401, "The request is not signed")
    return auth


def signed(
    request: Request,
    x_hubdesk_device: Annotated[str, Header(description="The enrolled device's id")],
    x_hubdesk_user: Annotated[str, Header(description="The login of the user acting on the device")],
    x_hubdesk_time: Annotated[str, Header(description="Seconds since 1970 UTC; within 5 minutes")],
    x_hubdesk_nonce: Annotated[str, Header(description="16-64 characters, never reused")],
    x_hubdesk_signature: Annotated[
        str, Header(description="base64url Ed25519 signature of the canonical request text")
    ],
) -> Auth:
    """Documents the signed headers; the middleware has already checked them."""
    return _auth(request)


Signed = Annotated[Auth, Depends(signed)]

HeadParam = Annotated[
    str | None,
    Query(
        pattern=AUDIT_HEAD_PATTERN,
        description="The desk's audit head, SEQ:MAC (its last entry); kept, and checked against the copy held",
    ),
]
AnchorParam = Annotated[
    str | None,
    Query(
        pattern=AUDIT_HEAD_PATTERN,
        description="The desk's MAC of the last entry the service holds, SEQ:MAC; checked against the copy held",
    ),
]

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Unsigned, badly signed, stale, replayed or unknown device"},
    403: {"model": ErrorBody, "description": "Revoked device, unknown user or foreign hub"},
    413: {"model": ErrorBody, "description": "Body too large"},
    422: {"model": ErrorBody, "description": "Malformed JSON or a wrong field: the field is named"},
}


def make_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="hubdesk central record service",
        version="1",
        description=(
            "Hub devices enrol with a one-time code, then sign every request with their Ed25519 key "
            "over `hubdesk-v1\\nMETHOD\\nPATH?QUERY\\nTIME\\nNONCE\\nDEVICE\\nUSER\\nSHA256(body)`."
        ),
    )
    app.add_middleware(SignedRequests, service=service)  # type: ignore[arg-type]
    store = service.store

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Never echo the input: a payload may hold personal data.
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            field = ".".join(loc) or "body"
            message = "Not valid JSON" if err.get("type") == "json_invalid" else str(err.get("msg", "invalid"))
            errors.append({"field": field, "message": message})
        names = ", ".join(e["field"] for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": f"Invalid request: {names}", "errors": errors})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if service.refusals.allow("unexpected failures"):
            log.error("unexpected %s on %s", type(exc).__name__, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "The service failed; nothing was half-applied"})

    @app.get(f"{PREFIX}/health", tags=["service"])
    def health() -> dict[str, str]:
        """Unsigned: is the service up, and which API does it speak."""
        return {"status": "ok", "api": PREFIX.strip("/")}

    @app.post(
        f"{PREFIX}/enrol",
        status_code=201,
        response_model=EnrolResponse,
        tags=["devices"],
        responses={
            **REFUSALS,
            409: {"model": ErrorBody, "description": "Code already used"},
            429: {"model": ErrorBody, "description": "Too many wrong codes from this address: wait (Retry-After)"},
        },
    )
    def enrol(request: Request, body: EnrolRequest, auth: Signed) -> EnrolResponse:
        """Register the device's public key with a one-time code made by `hubdesk-central enrol`.
        A revoked or replaced desk enrols again with a new code (its key is replaced). At most
        10 wrong codes a minute from one address; then 429, and the wait doubles each time."""
        now = service.clock()
        address = client_address(request.scope)
        try:
            if not store.enrolment_code_known(body.code):
                # Refused before anything is written: a guess costs one read.
                raise EnrolmentRefused("That enrolment code is not known; ask the central admin for a new one")
            if not store.use_nonce(auth.device_id, auth.nonce, now):
                raise HTTPException(401, "Replayed request: this nonce has already been used")
            device = store.enrol(body.code, body.device_id, body.hub_code, body.public_key, body.label, now)
        except EnrolmentRefused as exc:
            wait = service.enrol_guard.failed(address, now.timestamp())
            status = 409 if "already" in str(exc) else 403
            service.refusals.refused("refused POST %s: %s (enrolment code)", ENROL_PATH, status)
            detail = str(exc)
            if wait > 0:
                detail += f". Too many wrong codes from this address: wait {int(wait) + 1} seconds before trying again"
            raise HTTPException(status, detail) from None
        service.enrol_guard.succeeded(address)
        return EnrolResponse(
            device_id=device.device_id,
            hub_code=device.hub_code,
            enrolled_at=datetime.fromisoformat(device.enrolled_at),
            bundle_key=store.bundle_public_key(),
        )

    def note_head(auth: Auth, audit_head: str | None, audit_anchor: str | None) -> tuple[int, str | None]:
        if audit_head is None:
            return 0, None
        assert auth.device is not None
        head, anchor = parse_head(audit_head), parse_head(audit_anchor) if audit_anchor else None
        if head[0] > MAX_INT or (anchor and anchor[0] > MAX_INT):
            raise HTTPException(422, "audit_head: the sequence number is out of range")
        return store.note_head(auth.device, auth.user, head, anchor, service.clock())

    @app.get(f"{PREFIX}/ping", response_model=AuditedPing, tags=["sync"], responses=REFUSALS)
    def ping(auth: Signed, audit_head: HeadParam = None, audit_anchor: AnchorParam = None) -> AuditedPing:
        """A cheap signed check: is the service reachable and does it know this device. With
        the desk's audit head, says how much of its chain is held and whether the head fits."""
        assert auth.device is not None
        held, problem = note_head(auth, audit_head, audit_anchor)
        return AuditedPing(
            device_id=auth.device_id,
            hub_code=auth.device.hub_code,
            user=auth.user,
            cursor=store.head(),
            server_time=service.clock(),
            audit_held=held,
            audit_problem=problem,
        )

    @app.post(f"{PREFIX}/push", response_model=PushResponse, tags=["sync"], responses=REFUSALS)
    def push(body: PushRequest, auth: Signed) -> PushResponse:
        """Apply outbox items at most once each; answer per item."""
        assert auth.device is not None
        if body.hub_code != auth.device.hub_code:
            raise HTTPException(
                403, f"This device is enrolled at hub {auth.device.hub_code}, not {body.hub_code}: nothing stored"
            )
        results, head = store.push(auth.device, auth.user, body.items, service.clock())
        return PushResponse(results=results, cursor=head)

    @app.post(f"{PREFIX}/audit", response_model=AuditPushResponse, tags=["sync"], responses=REFUSALS)
    def push_audit(body: AuditPushRequest, auth: Signed) -> AuditPushResponse:
        """The device's audit entries, in seq order: each held at most once; one that differs
        from the copy held, or leaves a gap, or does not continue the chain, is refused (409)."""
        assert auth.device is not None
        results, held = store.push_audit(auth.device, auth.user, body.items, service.clock())
        return AuditPushResponse(results=results, held=held)

    @app.get(f"{PREFIX}/audit", response_model=AuditPage, tags=["sync"], responses=REFUSALS)
    def audit(
        auth: Signed,
        since: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=PAGE_SIZE)] = PAGE_SIZE,
    ) -> AuditPage:
        """The central copy of this device's audit entries after `since`, for the device to compare."""
        return store.audit_page(auth.device_id, since, limit)

    @app.get(f"{PREFIX}/changes", response_model=AuditedChangesPage, tags=["sync"], responses=REFUSALS)
    def changes(
        auth: Signed,
        since: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[
            int, Query(ge=1, le=FIRST_PULL_PAGE_SIZE, description=f"At most {PAGE_SIZE} but in a first pull")
        ] = PAGE_SIZE,
        audit_head: HeadParam = None,
        audit_anchor: AnchorParam = None,
        first_pull: Annotated[str | None, Query(max_length=80, pattern=FIRST_PULL.pattern)] = None,
    ) -> AuditedChangesPage:
        """This desk's working set after `since`, oldest first, a page at a time: every young
        person (another hub's without contact details, notes or voice), reference data, recent
        activity summaries, and this hub's events from every desk within the retention window.
        A desk's first pull (since=0, first_pull=start, then each page's first_pull) gives the
        people first and then the hub's events newest first."""
        assert auth.device is not None
        now = service.clock()
        _, problem = note_head(auth, audit_head, audit_anchor)
        if not (first_pull and since == 0):
            limit = min(limit, PAGE_SIZE)
        page = store.changes(since, limit, auth.device.hub_code, now, auth.device_id, first_pull)
        return AuditedChangesPage.model_construct(**{**dict(page), "server_time": now, "audit_problem": problem})

    @app.get(f"{PREFIX}/reference", response_model=CentralReference, tags=["sync"], responses=REFUSALS)
    def reference(auth: Signed) -> CentralReference:
        """The current reference data (hubs, users and roles, codes, payment limits)."""
        return store.reference() or CentralReference()

    return app


def build(db: str, **kwargs: Any) -> tuple[FastAPI, Service]:
    service = Service(CentralStore.open(db), **kwargs)
    return make_app(service), service
