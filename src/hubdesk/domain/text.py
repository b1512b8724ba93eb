"""Validated text types: names, short text, notes and codes, with messages in plain words."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose text is shown to a person as it is."""
    return PydanticCustomError("hubdesk", message.replace("{", "(").replace("}", ")"))


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _has_control(text: str, allow_newlines: bool) -> bool:
    for ch in text:
        if allow_newlines and ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in ("\u200d",):
            return True
        if ch in _BIDI_CONTROLS:
            # Right-to-left names are welcome; invisible direction overrides are not: they
            # can make a name display as someone else's.
            return True
    return False


def _clean(text: object) -> object:
    if isinstance(text, str):
        return unicodedata.normalize("NFC", text).strip()
    return text


def _text(max_len: int, what: str, *, allow_newlines: bool, required: bool = True):
    def check(value: str) -> str:
        if required and not value:
            raise invalid(f"{what} must not be empty")
        if len(value) > max_len:
            raise invalid(f"{what} is too long (at most {max_len:,} characters)")
        if _has_control(value, allow_newlines):
            raise invalid(f"{what} contains characters that cannot be shown")
        return value

    return check


Name = Annotated[str, BeforeValidator(_clean), AfterValidator(_text(80, "Name", allow_newlines=False))]
ShortText = Annotated[str, BeforeValidator(_clean), AfterValidator(_text(200, "This", allow_newlines=False))]
Note = Annotated[str, BeforeValidator(_clean), AfterValidator(_text(10_000, "This", allow_newlines=True))]
OptionalNote = Annotated[
    str,
    BeforeValidator(_clean),
    AfterValidator(_text(10_000, "This", allow_newlines=True, required=False)),
]

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_HUB_CODE = re.compile(r"^[A-Z0-9][A-Z0-9]{0,7}$")
_LOGIN = re.compile(r"^[a-z][a-z0-9._-]{0,31}$")
_CASE_ID = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def _code(value: str) -> str:
    if not _CODE.match(value):
        raise invalid("Code must be lower-case letters, digits, '-' or '_' (at most 40)")
    return value


def _hub_code(value: str) -> str:
    value = value.upper()
    if not _HUB_CODE.match(value):
        raise invalid("Hub code must be 1 to 8 letters or digits, like DEW")
    return value


def _login(value: str) -> str:
    value = value.lower()
    if not _LOGIN.match(value):
        raise invalid("User name must start with a letter and use letters, digits, '.', '-' or '_'")
    return value


def _case_id(value: str) -> str:
    if not _CASE_ID.match(value):
        raise invalid("Case id must be letters, digits or '-' (at most 20)")
    return value


Code = Annotated[str, BeforeValidator(_clean), AfterValidator(_code)]
HubCode = Annotated[str, BeforeValidator(_clean), AfterValidator(_hub_code)]
Login = Annotated[str, BeforeValidator(_clean), AfterValidator(_login)]
CaseId = Annotated[str, BeforeValidator(_clean), AfterValidator(_case_id)]
