"""Money as people type it and read it: integer pence in, '£12.50' out; never floats."""

from __future__ import annotations

import re

MAX_PENCE = 10_000_00  # £10,000: no single duty payment comes near; a typo guard.
MONEY_HELP = "Amount must be in pounds and pence, like 12.50"

_MONEY = re.compile(r"^£?\s*(?P<pounds>\d{1,3}(?:,\d{3})+|\d+)?(?:\.(?P<pence>\d{1,2}))?$")


class MoneyError(ValueError):
    """A money value a person typed that is not pounds and pence."""


def parse_pounds(text: str) -> int:
    """'12.50', '£12.5', '1,200', '30' -> pence. Raises MoneyError in plain words."""
    if not isinstance(text, str):
        raise MoneyError(MONEY_HELP)
    cleaned = text.strip()
    match = _MONEY.match(cleaned)
    if not cleaned or not match or (match["pounds"] is None and match["pence"] is None):
        if cleaned.lstrip("£ ").startswith("-"):
            raise MoneyError("Amount must be more than £0.00")
        raise MoneyError(MONEY_HELP)
    pounds_text = (match["pounds"] or "0").replace(",", "").lstrip("0") or "0"
    if len(pounds_text) > len(str(MAX_PENCE // 100)):
        # Checked before int(): Python refuses to convert over 4,300 digits.
        raise MoneyError(f"Amount must be no more than {format_pence(MAX_PENCE)}")
    pounds = int(pounds_text)
    pence_text = match["pence"] or "0"
    pence = int(pence_text.ljust(2, "0"))
    total = pounds * 100 + pence
    if total <= 0:
        raise MoneyError("Amount must be more than £0.00")
    if total > MAX_PENCE:
        raise MoneyError(f"Amount must be no more than {format_pence(MAX_PENCE)}")
    return total


def format_pence(pence: int) -> str:
    """1234 -> '£12.34'; -500 -> '-£5.00'; thousands separated."""
    sign = "-" if pence < 0 else ""
    pounds, rem = divmod(abs(int(pence)), 100)
    return f"{sign}£{pounds:,}.{rem:02d}"
