"""Small helpers shared by the Store and its per-record repositories (no imports of ours)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _json(model: BaseModel) -> str:
    return model.model_dump_json()


def validation_message(error: ValidationError) -> str:
    from hubdesk.domain.errors import field_errors

    return "; ".join(f"{k}: {v}" if k else v for k, v in field_errors(error).items())


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))
