"""Dates and numbers of real till exports (loyaltycli/tillcsv/dates.py and numbers.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from loyaltycli.base.errors import InvalidInput
from loyaltycli.tillcsv import dates
from loyaltycli.base import numbers

pytestmark = pytest.mark.dialect_free("tillcsv reads values from text: no ORM, no database")


@pytest.mark.parametrize("text, orders", [
    ("01/12/2010 08:26", {"DMY", "MDY"}),
    ("13/12/2010 08:26", {"DMY"}),
    ("12/13/2010 8:26", {"MDY"}),
    ("2010-12-01 08:26:00", {"YMD"}),
    ("01.12.2010", {"DMY", "MDY"}),
    ("31.12.10", {"DMY"}),
    ("32/12/2010", set()),
    ("not a date", None),
])
def test_orders_a_value_allows(text, orders):
    assert dates.orders_of(text) == orders


def test_a_field_over_12_shows_the_order_of_the_whole_file():
    finder = dates.OrderFinder()
    for line, value in enumerate(["01/12/2010 08:26", "05/12/2010 09:00", "13/12/2010 10:00"], start=2):
        finder.add(value, line)
    assert finder.order() == "DMY"


def test_a_file_readable_two_ways_is_refused_naming_the_option():
    finder = dates.OrderFinder()
    finder.add("01/12/2010 08:26", 2)
    finder.add("02/12/2010 08:26", 3)
    with pytest.raises(InvalidInput, match=r"line 2: '01/12/2010 08:26'.*give --date-order DMY or --date-order MDY"):
        finder.order("till.csv")


def test_a_file_showing_both_orders_is_refused():
    finder = dates.OrderFinder()
    finder.add("13/12/2010 08:26", 2)
    finder.add("12/13/2010 08:26", 3)
    with pytest.raises(InvalidInput, match="dates in two orders: line 2 .* line 3"):
        finder.order()


def test_year_first_values_need_no_order():
    finder = dates.OrderFinder()
    finder.add("2010-12-01 08:26:00", 2)
    assert finder.order() is None


@pytest.mark.parametrize("text, order, time_text, expected", [
    ("01/12/2010 08:26", "DMY", None, datetime(2010, 12, 1, 8, 26)),
    ("01/12/2010 08:26", "MDY", None, datetime(2010, 1, 12, 8, 26)),
    ("01.12.2010", "DMY", "08:26:05", datetime(2010, 12, 1, 8, 26, 5)),
    ("1/12/10 8:26 PM", "MDY", None, datetime(2010, 1, 12, 20, 26)),
    ("12/1/10 12:05 AM", "MDY", None, datetime(2010, 12, 1, 0, 5)),
    ("2010-12-01T08:26:00", None, None, datetime(2010, 12, 1, 8, 26)),
    ("2026-03-29", "DMY", "02:30", datetime(2026, 3, 29, 2, 30)),
])
def test_parse_reads_one_way(text, order, time_text, expected):
    assert dates.parse(text, order, time_text) == expected


@pytest.mark.parametrize("text, order, message", [
    ("01/12/2010", None, "give --date-order"),
    ("13/12/2010", "MDY", "not a real day read as MDY"),
    ("01/12/2010", "YMD", "not year-first"),
    ("01/12/2010 25:00", "DMY", "not a time"),
    ("01/12/2010 08:00", "DMY", "has a time and the time column too"),
])
def test_parse_refuses(text, order, message):
    with pytest.raises(InvalidInput, match=message):
        dates.parse(text, order, "09:00" if "column" in message else None)


@pytest.mark.parametrize("text, comma, expected", [
    ("1.234,56", True, Decimal("1234.56")),
    ("1 234,56", True, Decimal("1234.56")),
    ("8,00 €", True, Decimal("8.00")),
    ("-€ 3,50", True, Decimal("-3.50")),
    ("$8.00", False, Decimal("8.00")),
    ("GBP 2.55", False, Decimal("2.55")),
    ("1,234.56", False, Decimal("1234.56")),
    ("(4.00)", False, Decimal("-4.00")),
    ("12", True, Decimal("12")),
])
def test_amounts(text, comma, expected):
    assert numbers.to_decimal(text, decimal_comma=comma) == expected


def test_a_decimal_comma_is_never_read_as_thousands():
    with pytest.raises(InvalidInput, match="give --decimal-comma"):
        numbers.to_decimal("0,750", decimals=3)
    with pytest.raises(InvalidInput, match="is not a number"):
        numbers.to_decimal("")


def test_sub_cent_prices_and_weighed_quantities():
    quantity = numbers.parse_quantity("0,750", decimal_comma=True)
    assert numbers.milli(quantity) == 750
    assert numbers.line_amount(quantity, numbers.to_decimal("3.99", decimals=6)) == 299  # 2.9925 -> 2.99
    assert numbers.line_amount(Decimal(3), numbers.to_decimal("0.001", decimals=6)) == 0
    assert numbers.line_amount(Decimal(1000), numbers.to_decimal("0.001", decimals=6)) == 100
    assert numbers.line_amount(Decimal(1), Decimal("0.125")) == 12  # half-even
    assert numbers.line_amount(Decimal(1), Decimal("0.135")) == 14
    with pytest.raises(InvalidInput, match="more than 3 decimals"):
        numbers.parse_quantity("0.7505")
    assert numbers.quantity_text(750) == "0.75" and numbers.quantity_text(2000) == "2"
