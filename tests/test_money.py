import pytest

from loyaltycli.base.errors import InvalidInput
from loyaltycli.base.money import MAX_AMOUNT, format_amount, parse_amount, parse_decimal

pytestmark = pytest.mark.dialect_free("money parsing and formatting: pure functions, no database")


@pytest.mark.parametrize("text,cents", [
    ("12.34", 1234), ("12", 1200), ("12.5", 1250), ("€8.00", 800), ("$8.00", 800), ("1,234.56", 123456),
    (" 3.10 ", 310), ("0.01", 1), (".5", 50), ("8 EUR", 800),
])
def test_parse_amount_accepts_decimal_strings(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text,message", [
    ("12.345", "has more than 2 decimals"), ("-5", "must not be negative"), ("1e309", "is not a decimal amount"),
    ("nan", "is not a decimal amount"), ("inf", "is not a decimal amount"), ("", "is not a decimal amount"),
    ("12,34", "is not a decimal amount"), ("1'; DROP TABLE customer;--", "is not a decimal amount"),
    ("99999999999999999999", "is too large"), ("--5", "is not a decimal amount"), ("١٢", "is not a decimal amount"),
])
def test_parse_amount_refuses(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_amount(text)


def test_negative_only_when_allowed():
    assert parse_amount("-$3.00", allow_negative=True) == -300
    with pytest.raises(InvalidInput, match="more than zero"):
        parse_amount("0.00", allow_zero=False)


def test_largest_amount_round_trips():
    assert parse_amount(format_amount(MAX_AMOUNT)) == MAX_AMOUNT


@pytest.mark.parametrize("cents,text", [(0, "0.00"), (5, "0.05"), (1250, "12.50"), (-1250, "-12.50")])
def test_format_amount(cents, text):
    assert format_amount(cents) == text


def test_parse_decimal_refuses_non_finite():
    with pytest.raises(InvalidInput, match="not a finite number"):
        parse_decimal("Infinity")
    with pytest.raises(InvalidInput, match="at most 100"):
        parse_decimal("101", maximum=parse_decimal("100"))
