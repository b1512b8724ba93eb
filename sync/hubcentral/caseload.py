"""Reading the caseload CSV the case management system exports (`hubdesk-central caseload load`).

Each column the file may have is one entry in COLUMNS: its name, whether it is required,
how its text becomes a value, and where the value goes in the Person (a top-level field,
or a key of a nested object such as `contact`). A new column is one new entry.
"""

from __future__ import annotations

import csv
import hashlib
import io
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hubcentral.storage import CaseloadError
from hubdesk.domain.circumstances import CIRCUMSTANCE_COLUMNS, CircumstanceError, caseload_fields
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Person

if TYPE_CHECKING:
    from hubcentral.storage import CentralStore
    from hubcentral.storage.reference import CaseloadResult


class RowProblem(Exception):
    """One cell that cannot be read: its column and what is wrong (never the cell's text)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- how a cell's text becomes a value -------------------------------------------------------
# Each takes (column, stripped text) and returns the value, or None for "no value".


def text_cell(column: str, text: str) -> str | None:
    return text or None


def flag_cell(column: str, text: str) -> bool:
    value = text.lower()
    if value in ("", "no", "n", "false", "0"):
        return False
    if value in ("yes", "y", "true", "1"):
        return True
    raise RowProblem(column, "Must be yes or no")


def whole_number_cell(column: str, text: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise RowProblem(column, "Must be a whole number")
    return int(text)


def alerts_cell(column: str, text: str) -> list[dict[str, str]]:
    alerts = []
    for part in filter(None, (p.strip() for p in text.split("|"))):
        kind, sep, what = part.partition(":")
        if not sep or not what.strip():
            raise RowProblem(column, "Each alert is 'kind: text', separated by '|'")
        alerts.append({"kind": kind.strip(), "text": what.strip()})
    return alerts


CIRCUMSTANCES = "circumstances"


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[str, str], Any] = text_cell
    required: bool = False
    # None: a top-level Person field. Otherwise the nested object the value goes into
    # (e.g. "contact"); a blank cell leaves the key out, and an object with no keys is left out.
    into: str | None = None
    # A blank optional top-level cell sets the field to None (so a load clears it); a
    # required one is left out, so the Person's own check names it as missing.


COLUMNS: tuple[Column, ...] = (
    Column("case_id", required=True),
    Column("first_name", required=True),
    Column("last_name"),
    Column("preferred_name"),
    Column("date_of_birth", required=True),
    Column("hub_code", required=True),
    Column("legal_status"),
    Column("allocated_pa"),
    Column("uasc", flag_cell),
    Column("young_parent", flag_cell),
    Column("staying_put", flag_cell),
    Column("custody", flag_cell),
    Column("expected_contact_days", whole_number_cell),
    Column("alerts", alerts_cell),
    Column("phone", into="contact"),
    Column("email", into="contact"),
    Column("address", into="contact"),
    # A young person's circumstances (issue 11): read together by caseload_fields, since a
    # NEET reason means something only beside "NEET", a next review beside the last one.
    *(Column(name, into=CIRCUMSTANCES) for name in CIRCUMSTANCE_COLUMNS),
)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
CASELOAD_COLUMNS: tuple[str, ...] = tuple(BY_NAME)
REQUIRED: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)


def caseload_row(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row as Person fields (without id and version)."""
    data: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for name, raw in row.items():
        column = BY_NAME[name]
        if column.into == CIRCUMSTANCES:
            continue
        value = column.parse(name, (raw or "").strip())
        if column.into is not None:
            if value is not None:
                nested.setdefault(column.into, {})[name] = value
        elif value is not None or not column.required:
            data[name] = value
    data.update(nested)
    cells = {name: raw for name, raw in row.items() if BY_NAME[name].into == CIRCUMSTANCES}
    if cells:
        try:
            fields = caseload_fields(cells)
        except CircumstanceError as exc:
            column, _, message = str(exc).partition(": ")
            raise RowProblem(column, message) from None
        for key, value in fields.items():
            if isinstance(value, dict):
                data[key] = {**data.get(key, {}), **value}
            else:
                data[key] = value
    return data


# --- reading a whole file -------------------------------------------------------------------
# A caseload file comes from another system and may be damaged or hostile: it is read as a
# stream (memory does not grow with its rows), checked once through before anything is
# written, then read again into one transaction, so a bad row anywhere loads nothing.

DEFAULT_MAX_MB = 50
MAX_PROBLEMS = 100  # reported, each with its line; the rest are counted
_SEEN_BITS = 1 << 26  # the case-id filter: 8 MB, whatever the file's length
_SEEN_PROBES = 4
_MAX_SUSPECTS = 10_000


class _TooBig(Exception):
    pass


class _Counted(io.RawIOBase):
    """A file's bytes, counted and hashed as they are read; more than `limit` is refused
    (a file that grows while it is read, or a device or pipe with no end)."""

    def __init__(self, raw: io.BufferedReader, limit: int) -> None:
        self._raw = raw
        self.limit = limit
        self.count = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self.count += n
            if self.count > self.limit:
                raise _TooBig
            self.digest.update(memoryview(buffer)[:n])
        return n or 0


def _limit_text(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB"


@contextmanager
def _open_counted(path: Path, limit: int) -> Iterator[_Counted]:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise CaseloadError([f"{path.name} is not a regular file"])
        if info.st_size > limit:
            raise CaseloadError(
                [f"{path.name} is {info.st_size / 1_000_000:.1f} MB, over the {_limit_text(limit)} allowed (--max-mb)"]
            )
        raw = path.open("rb")
    except OSError as exc:
        raise CaseloadError([f"Cannot read {path.name}: {type(exc).__name__}"]) from None
    with raw:
        yield _Counted(raw, limit)


@dataclass
class _Problems:
    shown: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, text: str) -> None:
        if len(self.shown) < MAX_PROBLEMS:
            self.shown.append(text)
        else:
            self.more += 1

    def __bool__(self) -> bool:
        return bool(self.shown)

    def error(self) -> CaseloadError:
        extra = [f"... and {self.more} more problems"] if self.more else []
        return CaseloadError(self.shown + extra)


def _header(header: list[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(f"line 1: column {name!r} is named twice")
        seen.add(name)
    problems += [f"line 1: unknown column {c!r}" for c in dict.fromkeys(header) if c not in BY_NAME]
    problems += [f"line 1: missing column {c!r}" for c in REQUIRED if c not in seen]
    return problems


def _rows(
    counted: _Counted, path: Path, problems: _Problems, *, validate: bool = True
) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line, Person fields) for each row, or (line, None) for a row with a problem (added to
    `problems`). A problem that stops the reading (a cell over the csv module's limit, bytes
    that are not UTF-8, a file over the limit) ends the rows. `validate=False` skips the
    Person check (the second read of a checked file: the load validates each person)."""
    text = io.TextIOWrapper(io.BufferedReader(counted, 1 << 16), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            problems.add(f"{path.name} is empty: its first line names the columns")
            return
        header = [h.strip() for h in header]
        for problem in _header(header):
            problems.add(problem)
        if problems:
            return
        width = len(header)
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue
            if len(cells) > width:
                problems.add(f"line {line}: more values than columns")
                yield line, None
                continue
            row = dict(zip(header, cells + [""] * (width - len(cells)), strict=True))
            try:
                data = caseload_row(row)
                if validate:
                    Person.model_validate({**data, "version": 1})
            except RowProblem as bad:
                problems.add(f"line {line}, {bad.field}: {bad.message}")
                yield line, None
                continue
            except ValidationError as exc:
                for name, message in field_errors(exc).items():
                    problems.add(f"line {line}, {name or 'row'}: {message}")
                yield line, None
                continue
            yield line, data
    except csv.Error as exc:
        line = reader.line_num
        if "field larger than field limit" in str(exc):
            problems.add(
                f"line {line}: a cell is longer than the csv module's limit of {csv.field_size_limit():,} "
                "characters; reading stopped there"
            )
        else:
            problems.add(f"line {line}: not readable as CSV ({exc}); reading stopped there")
    except UnicodeDecodeError:
        problems.add(f"near line {reader.line_num + 1}: not UTF-8 text; reading stopped there")
    except _TooBig:
        problems.add(f"{path.name} grew over the {_limit_text(counted.limit)} allowed while it was read")


def _case_key(case_id: str) -> bytes:
    return hashlib.blake2b(case_id.encode(), digest_size=16).digest()


def _probes(key: bytes) -> list[int]:
    return [int.from_bytes(key[i * 4 : i * 4 + 4], "little") % _SEEN_BITS for i in range(_SEEN_PROBES)]


@dataclass(frozen=True)
class CheckedFile:
    path: Path
    rows: int
    size: int
    sha256: str
    limit: int


def check_caseload(path: Path, max_bytes: int = DEFAULT_MAX_MB * 1_000_000) -> CheckedFile:
    """Read the file once through and check every row; raise CaseloadError naming each bad
    line and field (at most MAX_PROBLEMS, the rest counted). Memory stays flat: a case id
    seen twice is found with a fixed-size filter, and only the filter's few suspects are
    held (and confirmed exactly on a second read)."""
    problems = _Problems()
    seen = bytearray(_SEEN_BITS // 8)
    suspects: set[bytes] = set()
    rows = 0
    with _open_counted(path, max_bytes) as counted:
        for _, data in _rows(counted, path, problems):
            if data is None:
                continue
            rows += 1
            key = _case_key(data["case_id"])
            hits = 0
            for bit in _probes(key):
                byte, mask = bit >> 3, 1 << (bit & 7)
                hits += bool(seen[byte] & mask)
                seen[byte] |= mask
            if hits == _SEEN_PROBES and len(suspects) < _MAX_SUSPECTS:
                suspects.add(key)
        size, digest = counted.count, counted.digest.hexdigest()
    if suspects and not problems.more:
        first: dict[str, int] = {}
        with _open_counted(path, max_bytes) as counted:
            for line, data in _rows(counted, path, _Problems()):
                if data is None or _case_key(data["case_id"]) not in suspects:
                    continue
                case_id = data["case_id"]
                if case_id in first:
                    problems.add(f"line {line}, case_id: the same case id is on line {first[case_id]}")
                else:
                    first[case_id] = line
    if problems:
        raise problems.error()
    if rows == 0:
        raise CaseloadError([f"{path.name} has a header but no rows: nothing to load"])
    return CheckedFile(path, rows, size, digest, max_bytes)


def stream_caseload(checked: CheckedFile) -> Iterator[dict[str, Any]]:
    """The rows of a checked file, read again. Raises CaseloadError (inside the load's
    transaction, so nothing is kept) if the file is not the one that was checked."""
    changed = CaseloadError([f"{checked.path.name} changed while it was being loaded: nothing loaded"])
    problems = _Problems()
    with _open_counted(checked.path, checked.limit) as counted:
        for _, data in _rows(counted, checked.path, problems, validate=False):
            if data is None:
                raise changed
            yield data
        if problems or counted.count != checked.size or counted.digest.hexdigest() != checked.sha256:
            raise changed


def read_caseload(path: Path, max_bytes: int = DEFAULT_MAX_MB * 1_000_000) -> list[dict[str, Any]]:
    """Every row of a small file, checked (tests and tools; the load streams)."""
    return list(stream_caseload(check_caseload(path, max_bytes)))


def load_caseload_file(
    store: CentralStore, path: Path, now: datetime, max_bytes: int = DEFAULT_MAX_MB * 1_000_000
) -> tuple[int, CaseloadResult]:
    """Check the whole file, then load it in one transaction: all of it or none of it."""
    checked = check_caseload(path, max_bytes)
    return checked.rows, store.load_caseload(stream_caseload(checked), now)


__all__ = [
    "COLUMNS",
    "DEFAULT_MAX_MB",
    "REQUIRED",
    "CaseloadError",
    "CheckedFile",
    "Column",
    "RowProblem",
    "caseload_row",
    "check_caseload",
    "load_caseload_file",
    "read_caseload",
    "stream_caseload",
]
