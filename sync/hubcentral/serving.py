"""Serving the central record under uvicorn so that it holds up against idle and slow clients.

uvicorn (0.54) times out an idle keep-alive connection, but not a connection that never
sends a request, nor one that sends its request head a byte at a time; and its
`limit_concurrency` answers 503 while the idle connections stay, logging a line for each.
About 20,000 such connections stopped the service and wrote 183 MB of log in 80 s. So
each connection here has `header_timeout` seconds to send a whole request head, open
connections are capped below the process's open-file limit, and when the cap is reached
the connection that has waited longest without sending a request makes way for the new
one (a connection mid-request is never dropped; if every one is busy, the new one is
answered 503). What is dropped or refused is counted in the refusal log, never a line each.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hubcentral.limits import RefusalLog

log = logging.getLogger("hubcentral")
_FILES_KEPT = 64  # file descriptors left for the database, logs and the listening socket


@dataclass(frozen=True)
class Limits:
    keep_alive: int = 5
    """Seconds an idle keep-alive connection is kept after its last answer."""
    header_timeout: float = 10.0
    """Seconds a connection has to send a whole request head, from when it starts waiting for one."""
    max_connections: int = 1000
    """Open connections at most (lowered to fit the process's open-file limit)."""
    max_header_bytes: int = 16 * 1024
    """A request head larger than this is refused (400)."""

    def connection_cap(self) -> int:
        if sys.platform == "win32":
            return self.max_connections
        # Below the open-file limit: an accept() failing with EMFILE is logged by asyncio each time.
        return max(1, min(self.max_connections, open_file_limit() - _FILES_KEPT))


def open_file_limit() -> int:
    """The soft limit on open files, raised to the hard limit where allowed."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return max(soft, _FILES_KEPT + 16)


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 2\r\n"
    b"connection: close\r\ncontent-length: 68\r\n\r\n"
    b'{"detail": "The service is at its connection limit; try again soon"}'
)


class _Shared:
    """Per server: the connections waiting for a request head, oldest first, and the count open."""

    def __init__(self) -> None:
        self.waiting: OrderedDict[GuardedH11Protocol, None] = OrderedDict()
        self.open = 0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and a connection cap."""

    limits: Limits = Limits()
    cap: int = 1000
    refusals: RefusalLog | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shared = getattr(self.server_state, "hubcentral_shared", None)
        if shared is None:
            shared = _Shared()
            self.server_state.hubcentral_shared = shared  # type: ignore[attr-defined]
        self._shared: _Shared = shared
        self._head_timer: asyncio.TimerHandle | None = None
        self._counted = False

    # --- connection lifetime ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        shared = self._shared
        if shared.open >= self.cap:
            oldest = next(iter(shared.waiting), None)
            if oldest is None:
                self._note("connections refused at the limit")
                transport.write(_BUSY)
                transport.close()
                return
            self._note("idle connections closed to make room")
            oldest._drop()
        shared.open += 1
        self._counted = True
        self._start_waiting()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        self._uncount()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._stop_waiting()  # the request head is in: the app has it now

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._start_waiting()

    # --- waiting for a request head ------------------------------------------------------

    def _start_waiting(self) -> None:
        self._stop_waiting()
        self._shared.waiting[self] = None
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _stop_waiting(self) -> None:
        self._shared.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE:
            self._note("connections closed for sending no request in time")
            self._drop()

    def _drop(self) -> None:
        self._stop_waiting()
        self._uncount()
        if not self.transport.is_closing():
            self.transport.close()

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self._shared.open -= 1

    def _note(self, what: str) -> None:
        if self.refusals is not None:
            self.refusals.count(what)


def protocol_for(limits: Limits, refusals: RefusalLog | None) -> type[GuardedH11Protocol]:
    """A protocol class carrying these limits (uvicorn makes one instance per connection)."""
    return type(
        "HubcentralH11Protocol",
        (GuardedH11Protocol,),
        {"limits": limits, "cap": limits.connection_cap(), "refusals": refusals},
    )


_UVICORN_PER_REQUEST = {
    "Invalid HTTP request received.": "malformed requests",
    "Unsupported upgrade request.": "upgrade requests",
    "Exceeded concurrency limit.": "requests over the concurrency limit",
}


class _PerRequestLines(logging.Filter):
    """uvicorn's own per-request warnings (a malformed request, an unsupported upgrade) go
    through the refusal log's limit: a flood of them is counted, not written out."""

    def __init__(self) -> None:
        super().__init__()
        self.refusals: RefusalLog | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        what = _UVICORN_PER_REQUEST.get(str(record.msg))
        if what is None or self.refusals is None:
            return True
        return self.refusals.allow(what)


_PER_REQUEST = _PerRequestLines()


def uvicorn_config(app: Any, limits: Limits, refusals: RefusalLog | None = None, **kwargs: Any) -> uvicorn.Config:
    """The uvicorn settings the service runs with: `hubdesk-central serve` and the tests alike."""
    kwargs.setdefault("access_log", False)
    if refusals is not None:
        _PER_REQUEST.refusals = refusals
        uvicorn_log = logging.getLogger("uvicorn.error")
        if _PER_REQUEST not in uvicorn_log.filters:
            uvicorn_log.addFilter(_PER_REQUEST)
    return uvicorn.Config(
        app,
        http=protocol_for(limits, refusals),
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.max_header_bytes,
        # The cap above is the connection limit; uvicorn's own would log a line per request.
        limit_concurrency=None,
        ws="none",
        **kwargs,
    )


class Server(uvicorn.Server):
    """uvicorn's server, writing the refusal log's last summary as it shuts down (uvicorn
    re-raises SIGTERM after its shutdown, so nothing after `run()` is reached)."""

    def __init__(self, config: uvicorn.Config, refusals: RefusalLog | None = None) -> None:
        super().__init__(config)
        self.refusals = refusals

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        await super().shutdown(sockets)
        if self.refusals is not None:
            self.refusals.flush()


__all__ = ["GuardedH11Protocol", "Limits", "Server", "protocol_for", "uvicorn_config"]
