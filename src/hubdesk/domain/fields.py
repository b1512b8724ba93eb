"""A record's nested details as dotted fields (contact.phone), to say which of them differ."""

from __future__ import annotations

from typing import Any


def flatten(body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'contact': {'phone': x}} -> {'contact.phone': x}; empty objects and lists stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differing(local: dict[str, Any], remote: dict[str, Any], ignore: tuple[str, ...] = ("version",)) -> list[str]:
    """The dotted fields whose values differ between two versions of a record (names only)."""
    mine, theirs = flatten(local), flatten(remote)
    return sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k) and k not in ignore)
