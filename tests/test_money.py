"""Money as people type it: integer pence in, '£12.50' out, never floats."""

from __future__ import annotations

import pytest

from hubdesk.domain.money import MAX_PENCE, MONEY_HELP, MoneyError, format_pence, parse_pounds


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("12.50", 1250),
        ("12.5", 1250),
        ("£12.5", 1250),
        ("£ 3", 300),
        ("30", 3000),
        ("0.01", 1),
        (".5", 50),
        (".05", 5),
        ("1,200", 120000),
        ("£1,000.00", 100000),
        ("  7.99  ", 799),
        ("10000", MAX_PENCE),
        ("10,000.00", MAX_PENCE),
        ("007.10", 710),
    ],
)
def test_parse_pounds_accepts_what_people_type(typed: str, pence: int) -> None:
    assert parse_pounds(typed) == pence
    assert isinstance(parse_pounds(typed), int)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "£",
        ".",
        "12.",
        "12.505",
        "1,20",
        "1,2000",
        "12,50",
        "12.5p",
        "twelve",
        "1e3",
        "0x10",
        "1_000",
        "12 50",
        "$5",
        "5£",
        "nan",
        "inf",
        "²",
    ],
)
def test_parse_pounds_refuses_other_shapes_with_the_help_text(typed: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_pounds(typed)
    assert str(err.value) == MONEY_HELP


@pytest.mark.parametrize("typed", ["0", "0.00", "£0", ".0", "-5", "-0.01", "- 3", "£-5", "£ -5"])
def test_parse_pounds_refuses_nothing_and_negatives(typed: str) -> None:
    with pytest.raises(MoneyError, match=r"more than £0\.00"):
        parse_pounds(typed)


@pytest.mark.parametrize(
    "typed", ["10000.01", "10,001", "1,000,000", "99999999999", "9" * 5000, "1" + "0" * 4400 + ".00"]
)
def test_parse_pounds_refuses_too_much_in_plain_words(typed: str) -> None:
    # "9" * 5000 once escaped as a bare ValueError from int() (Python's 4,300-digit limit).
    with pytest.raises(MoneyError) as err:
        parse_pounds(typed)
    assert str(err.value) == "Amount must be no more than £10,000.00"


def test_leading_zeros_do_not_count_as_too_much() -> None:
    assert parse_pounds("0" * 5000 + "1.50") == 150


@pytest.mark.parametrize("value", [None, 12, 12.5, b"12.50", ["12"]])
def test_parse_pounds_refuses_non_text(value: object) -> None:
    with pytest.raises(MoneyError):
        parse_pounds(value)  # type: ignore[arg-type]


def test_money_error_is_a_value_error() -> None:
    # Form code may catch ValueError; MoneyError must stay inside that net.
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (0, "£0.00"),
        (1, "£0.01"),
        (10, "£0.10"),
        (1250, "£12.50"),
        (100000, "£1,000.00"),
        (MAX_PENCE, "£10,000.00"),
        (123456789, "£1,234,567.89"),
        (-500, "-£5.00"),
        (-1, "-£0.01"),
    ],
)
def test_format_pence(pence: int, shown: str) -> None:
    assert format_pence(pence) == shown


def test_format_then_parse_round_trips_every_boundary() -> None:
    for pence in (1, 9, 10, 99, 100, 101, 999, 1000, 99999, 100000, MAX_PENCE - 1, MAX_PENCE):
        assert parse_pounds(format_pence(pence)) == pence
