"""Spreadsheet-safe CSV cells: the one helper every CSV the project writes goes through.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before looking for one) is run as a formula when the file is opened
in Excel or LibreOffice: a name typed as `=HYPERLINK(...)` would become a live link.
Such a cell is written with a leading apostrophe, which spreadsheets show as text (the
OWASP advice). A plain number such as `-12.50` is left alone: it cannot run anything,
and a money column stays a number. Pure functions, no I/O: the desk, its reports and
the central record service all import it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet will read it as text; anything but a string is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def csv_text(
    rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, *, lineterminator: str = "\r\n"
) -> str:
    """Rows as CSV text, every cell made safe (the header too: it may name a kind a desk sent)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    if header is not None:
        writer.writerow(safe_row(header))
    writer.writerows(safe_row(row) for row in rows)
    return out.getvalue()


def records_csv(records: Sequence[Mapping[str, Any]], *, lineterminator: str = "\r\n") -> str:
    """Records (dicts) as CSV: one column per key in first-seen order; nested values as JSON text."""
    columns: list[str] = []
    for record in records:
        columns += [k for k in record if k not in columns]
    rows = (
        [
            json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
            for v in (record.get(c, "") for c in columns)
        ]
        for record in records
    )
    return csv_text(rows, columns, lineterminator=lineterminator)


__all__ = ["FORMULA_STARTS", "csv_text", "records_csv", "safe_cell", "safe_row"]
