"""Beside the key slots: wrong passphrases per login, and unlocks not yet in the audit chain.

The growing wait after wrong passphrases must outlive the process (restarting the desk,
or running the command line twelve times, used to start it from nothing), so the count
of wrong tries per login is kept in a small file beside the slot file. The file also
holds read-only unlocks (`backup` or `export` on a full disk, when the audit chain cannot
be written) until the next writable unlock puts them in the chain.

The file is written in place, never grown: two blocks of 4 KiB, made when the store is
made, written alternately, each with a sequence number and a checksum. Rewriting
allocated blocks needs no free space, so a full disk can still record a read-only unlock;
a kill mid-write tears one block and the other still reads.

This is a brake on someone guessing at the keyboard. It is no defence against someone
who copies the files away (they run Argon2id themselves; its cost is that defence).
Logins are staff logins, not personal data of the people the service supports.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hubdesk.store.errors import StoreError

NAME = "hubdesk.unlocks"
BLOCK = 4096
MAX_OWED = 20


def delay_after(failures: int) -> float:
    """Seconds to wait after `failures` wrong tries in a row: 0, 0, 1, 2, 4, ... 30."""
    if failures < 2:
        return 0.0
    return float(min(2 ** (failures - 2), 30))


class TooManyTries(StoreError):
    """Wrong passphrases for this login came too fast: wait before the next try."""

    def __init__(self, login: str, wait: float) -> None:
        self.login = login
        self.wait = wait
        super().__init__(f"Too many wrong passphrases for {login}: wait {math.ceil(wait)} s before the next try")


@dataclass
class Unlocks:
    """The file's content: wrong tries per login (count, time of the last), and owed audit entries."""

    failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    owed: list[dict[str, str]] = field(default_factory=list)
    owed_dropped: int = 0


def path_for(data_dir: Path) -> Path:
    return Path(data_dir) / NAME


def _encode(state: Unlocks, seq: int) -> bytes:
    data = {
        "failures": {k: list(v) for k, v in state.failures.items()},
        "owed": state.owed,
        "owed_dropped": state.owed_dropped,
    }
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    block = json.dumps({"seq": seq, "sha256": hashlib.sha256(body.encode()).hexdigest(), "data": body}).encode()
    if len(block) > BLOCK:
        raise ValueError("too big")
    return block.ljust(BLOCK, b" ")


def _decode(raw: bytes) -> tuple[int, Unlocks] | None:
    try:
        outer = json.loads(raw.decode("utf-8"))
        body = outer["data"]
        if hashlib.sha256(body.encode()).hexdigest() != outer["sha256"]:
            return None
        data = json.loads(body)
        failures = {str(k): (int(v[0]), float(v[1])) for k, v in data["failures"].items()}
        owed = [{str(k): str(v) for k, v in entry.items()} for entry in data["owed"]]
        return int(outer["seq"]), Unlocks(failures, owed, int(data.get("owed_dropped", 0)))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, UnicodeDecodeError):
        return None


class UnlockLog:
    """Read and write the unlocks file of one data folder."""

    def __init__(self, data_dir: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path = path_for(data_dir)
        self.now = now

    def _read(self) -> tuple[int, int, Unlocks]:
        """(block to write next, its sequence number, the newest readable state)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return 0, 1, Unlocks()
        blocks = [_decode(raw[i * BLOCK : (i + 1) * BLOCK]) for i in range(2)]
        good = [(b[0], i, b[1]) for i, b in enumerate(blocks) if b is not None]
        if not good:
            return 0, 1, Unlocks()
        seq, index, state = max(good, key=lambda g: g[0])
        return 1 - index, seq + 1, state

    def read(self) -> Unlocks:
        return self._read()[2]

    def ensure(self) -> None:
        """Make the file (both blocks allocated) if it is not there yet."""
        if self.path.exists() and self.path.stat().st_size >= 2 * BLOCK:
            return
        state = self.read()
        tmp = self.path.with_name(NAME + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(_encode(state, 1) + _encode(state, 0))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def _write(self, change: Callable[[Unlocks], None]) -> bool:
        """Apply `change` and write it in place; False if it could not be written."""
        index, seq, state = self._read()
        change(state)
        try:
            block = _encode(state, seq)
        except ValueError:
            state.owed_dropped += len(state.owed)
            state.owed = []
            block = _encode(state, seq)
        if not self.path.exists():
            self.ensure()
        try:
            fd = os.open(self.path, os.O_WRONLY)
        except OSError:
            return False
        try:
            os.pwrite(fd, block, index * BLOCK)
            os.fsync(fd)
        except OSError:
            return False
        finally:
            os.close(fd)
        return True

    # --- wrong passphrases ------------------------------------------------------------------

    def wait(self, login: str) -> float:
        """Seconds this login must still wait before its next try (0: try now)."""
        count, last = self.read().failures.get(login, (0, 0.0))
        delay = delay_after(count)
        if not delay:
            return 0.0
        # A clock set back makes the last failure look in the future: wait the whole delay.
        return max(0.0, min(delay, last + delay - self.now()))

    def check(self, login: str) -> None:
        wait = self.wait(login)
        if wait > 0:
            raise TooManyTries(login, wait)

    def failed(self, login: str) -> int:
        """Count one more wrong try for this login; returns the count."""
        count = self.read().failures.get(login, (0, 0.0))[0] + 1

        def change(state: Unlocks) -> None:
            state.failures[login] = (count, self.now())

        self._write(change)
        return count

    def failures(self, login: str) -> int:
        return self.read().failures.get(login, (0, 0.0))[0]

    def succeeded(self, login: str) -> None:
        if login in self.read().failures:
            self._write(lambda state: state.failures.pop(login, None))

    # --- read-only unlocks owed to the audit chain ------------------------------------------

    def owe(self, entry: dict[str, str]) -> bool:
        def change(state: Unlocks) -> None:
            state.owed.append(entry)
            if len(state.owed) > MAX_OWED:
                state.owed_dropped += len(state.owed) - MAX_OWED
                del state.owed[:-MAX_OWED]

        return self._write(change)

    def owed(self) -> tuple[list[dict[str, str]], int]:
        state = self.read()
        return list(state.owed), state.owed_dropped

    def settle(self) -> None:
        """The owed entries are in the chain now."""

        def change(state: Unlocks) -> None:
            state.owed = []
            state.owed_dropped = 0

        self._write(change)
