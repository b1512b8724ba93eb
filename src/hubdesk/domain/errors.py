"""Turning pydantic validation errors into one plain message per form field."""

from __future__ import annotations

from pydantic import ValidationError

_PLAIN = {
    "missing": "This is required",
    "bool_parsing": "Must be yes or no",
    "bool_type": "Must be yes or no",
    "int_parsing": "Must be a whole number",
    "int_type": "Must be a whole number",
    "date_from_datetime_parsing": "Must be a date, like 23 Nov 2026",
    "date_parsing": "Must be a date, like 23 Nov 2026",
    "date_type": "Must be a date, like 23 Nov 2026",
    "datetime_parsing": "Must be a date and time, like 23 Nov 2026 14:05",
    "datetime_type": "Must be a date and time, like 23 Nov 2026 14:05",
    "timezone_aware": "Must be a date and time with its time zone",
    "enum": "Pick one of the choices offered",
    "extra_forbidden": "Not a field this record has",
    "string_too_long": "Too long",
    "string_type": "Must be text",
    "string_pattern_mismatch": "Not in the expected form",
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """{field: message}; '' is the key for whole-record rules. First message per field."""
    result: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        loc = item.get("loc") or ()
        field = str(loc[0]) if loc else ""
        plain = _PLAIN.get(item["type"], "Not a valid value")
        message = item["msg"] if item["type"] == "hubdesk" else plain
        result.setdefault(field, message)
    return result
