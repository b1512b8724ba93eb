"""Reading the caseload CSV the case management system exports (`hubdesk-central caseload load`).

Each column the file may have is one entry in COLUMNS: its name, whether it is required,
how its text becomes a value, and where the value goes in the Person (a top-level field,
or a key of a nested object such as `contact`). A new column is one new entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hubcentral.storage import CaseloadError
from hubdesk.domain.errors import field_errors
from hubdesk.domain.models import Person


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
        value = column.parse(name, (raw or "").strip())
        if column.into is not None:
            if value is not None:
                nested.setdefault(column.into, {})[name] = value
        elif value is not None or not column.required:
            data[name] = value
    data.update(nested)
    return data


def read_caseload(path: Path) -> list[dict[str, Any]]:
    """Read and check the whole file; raise CaseloadError naming every bad line and field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseloadError([f"Cannot read {path.name}: {type(exc).__name__}"]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in BY_NAME]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        problems = [f"line 1: unknown column {c!r}" for c in unknown]
        problems += [f"line 1: missing column {c!r}" for c in missing]
        raise CaseloadError(problems)
    problems: list[str] = []
    people: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            problems.append(f"line {line}: more values than columns")
            continue
        try:
            data = caseload_row(row)
            Person.model_validate({**data, "version": 1})
        except RowProblem as bad:
            problems.append(f"line {line}, {bad.field}: {bad.message}")
            continue
        except ValidationError as exc:
            for field, message in field_errors(exc).items():
                problems.append(f"line {line}, {field or 'row'}: {message}")
            continue
        case_id = data["case_id"]
        if case_id in seen:
            problems.append(f"line {line}, case_id: the same case id is on line {seen[case_id]}")
            continue
        seen[case_id] = line
        people.append(data)
    if problems:
        raise CaseloadError(problems)
    return people


__all__ = ["COLUMNS", "REQUIRED", "CaseloadError", "Column", "RowProblem", "caseload_row", "read_caseload"]
