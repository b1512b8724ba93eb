"""Limits that keep the service standing: wrong enrolment codes per address, and a refusal log
that says what was refused without flooding the disk.

Both are in memory, per process: a restart forgets them, which is the safe direction for
a legitimate desk and costs a guesser no more than a restart's worth of tries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Tries:
    recent: deque[float] = field(default_factory=deque)  # wrong tries within the window
    strikes: int = 0  # times this address has been made to wait since it last behaved
    blocked_until: float = 0.0
    last: float = 0.0


class EnrolmentGuard:
    """At most `free` wrong enrolment codes a `window` per client address; then the address
    waits, and each further wrong try doubles the wait (up to `max_delay`). An address is
    forgotten after `forget_after` seconds without a wrong try, or when it enrols."""

    def __init__(
        self,
        *,
        free: int = 10,
        window: float = 60.0,
        max_delay: float = 3600.0,
        forget_after: float = 3600.0,
        max_addresses: int = 10_000,
    ) -> None:
        self.free = free
        self.window = window
        self.max_delay = max_delay
        self.forget_after = forget_after
        self.max_addresses = max_addresses
        self._lock = threading.Lock()
        self._tries: dict[str, _Tries] = {}

    def wait(self, address: str, now: float) -> float:
        """Seconds this address must wait before its next try (0: it may try now)."""
        with self._lock:
            tries = self._tries.get(address)
            if tries is None:
                return 0.0
            if now - tries.last > self.forget_after and now >= tries.blocked_until:
                del self._tries[address]
                return 0.0
            return max(0.0, tries.blocked_until - now)

    def failed(self, address: str, now: float) -> float:
        """Count a wrong try; returns how long the address must now wait (0: not yet)."""
        with self._lock:
            tries = self._tries.get(address)
            if tries is None or now - tries.last > self.forget_after:
                self._forget_some(now)
                tries = self._tries[address] = _Tries()
            tries.last = now
            tries.recent.append(now)
            while tries.recent and tries.recent[0] <= now - self.window:
                tries.recent.popleft()
            if tries.strikes:
                # Already made to wait once: every further wrong try doubles the wait.
                tries.strikes += 1
                tries.blocked_until = now + min(self.max_delay, self.window * 2 ** (tries.strikes - 1))
            elif len(tries.recent) >= self.free:
                # The window's tries are used up: wait until the first of them is a window old.
                tries.strikes = 1
                tries.blocked_until = max(now + 1.0, tries.recent[0] + self.window)
            return max(0.0, tries.blocked_until - now)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._tries.pop(address, None)

    def _forget_some(self, now: float) -> None:
        """Bound the memory a flood of addresses can take: drop the quiet ones, oldest first."""
        if len(self._tries) < self.max_addresses:
            return
        quiet = sorted(
            (t.last, a) for a, t in self._tries.items() if now >= t.blocked_until or now - t.last > self.forget_after
        )
        for _, address in quiet[: max(1, len(self._tries) - self.max_addresses + self.max_addresses // 10)]:
            del self._tries[address]


class RefusalLog:
    """One line per refused request, at most `burst` lines a `period`: past that the refusals
    are only counted, and the next line after the period says how many were not logged. An
    attack then costs a few lines a minute, not 183 MB."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 20,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.burst = burst
        self.period = period
        self.clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._lines = 0
        self._quiet: dict[str, int] = {}

    def refused(self, message: str, *args: object, what: str = "refused requests") -> None:
        """Log one refusal (no personal data in `message` or `args`), unless over the limit."""
        if self.allow(what):
            self.logger.warning(message, *args)

    def allow(self, what: str) -> bool:
        """May one more line about `what` be written now? If not, it is counted for the summary."""
        with self._lock:
            self._roll()
            if self._lines < self.burst:
                self._lines += 1
                return True
            self._quiet[what] = self._quiet.get(what, 0) + 1
            return False

    def count(self, what: str) -> None:
        """Count an event that never gets a line of its own (an idle connection closed)."""
        with self._lock:
            self._roll()
            self._quiet[what] = self._quiet.get(what, 0) + 1

    def _roll(self) -> None:
        now = self.clock()
        if now - self._start < self.period:
            return
        if self._quiet:
            summary = ", ".join(f"{n} {what}" for what, n in sorted(self._quiet.items()))
            self.logger.warning("in the last %d s, not logged one by one: %s", int(now - self._start), summary)
        self._start, self._lines, self._quiet = now, 0, {}

    def flush(self) -> None:
        """Write the summary now (at shutdown), whatever the period."""
        with self._lock:
            self._start -= self.period
            self._roll()
