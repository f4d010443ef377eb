"""The value parser over a table of inputs, as a careful reader would read them."""

from __future__ import annotations

import datetime

import pytest

from lqip.values import Problem, parse_value, parse_year

CASES = [
    # raw, indicator unit, aliases, column unit -> value, problem, converted
    (300, "件", (), "", 300.0, None, False),
    (300.0, "件", (), "", 300.0, None, False),
    ("300", "件", (), "", 300.0, None, False),
    ("３００", "件", (), "", 300.0, None, False),
    ("1,000", "件", (), "", 1000.0, None, False),
    ("1，000", "件", (), "", 1000.0, None, False),
    ("1,234,567", "件", (), "", 1234567.0, None, False),
    (" 300 件 ", "件", (), "", 300.0, None, False),
    ("300件", "件", (), "", 300.0, None, False),
    ("300（件）", "件", (), "", 300.0, None, False),
    ("11万", "件", (), "", 110000.0, None, False),
    ("10.5万件", "件", (), "", 105000.0, None, False),
    ("8亿元", "亿元", (), "", 8.0, None, False),
    ("8亿", "亿元", (), "", 8.0, None, False),
    ("8.6", "亿元", (), "", 8.6, None, False),
    ("85000万元", "亿元", (), "", 8.5, None, True),
    ("85000万", "亿元", (), "", 8.5, None, True),
    ("850000000元", "亿元", (), "", 8.5, None, True),
    (85000, "亿元", (), "万元", 8.5, None, True),
    ("7.2件", "件/万人", ("件",), "", 7.2, None, False),
    ("7.2件/万人", "件/万人", ("件",), "", 7.2, None, False),
    ("45项", "个", ("项",), "", 45.0, None, False),
    ("500人次", "人次", (), "", 500.0, None, False),
    ("-5", "件", (), "", -5.0, None, False),
    ("三百", "件", (), "", None, Problem.NOT_NUMBER, False),
    ("约300", "件", (), "", None, Problem.NOT_NUMBER, False),
    ("300左右", "件", (), "", None, Problem.NOT_NUMBER, False),
    ("1,5", "件", (), "", None, Problem.NOT_NUMBER, False),
    ("1.2.3", "件", (), "", None, Problem.NOT_NUMBER, False),
    (True, "件", (), "", None, Problem.NOT_NUMBER, False),
    (float("nan"), "件", (), "", None, Problem.NOT_NUMBER, False),
    (datetime.datetime(2023, 1, 5), "件", (), "", None, Problem.NOT_NUMBER, False),
    ("300个", "件", (), "", None, Problem.UNIT, False),
    ("8万元", "件", (), "", None, Problem.UNIT, False),
    (300, "件", (), "个", None, Problem.UNIT, False),
    (None, "件", (), "", None, None, False),
    ("", "件", (), "", None, None, False),
    ("—", "件", (), "", None, None, False),
    ("/", "件", (), "", None, None, False),
    ("无", "件", (), "", None, None, False),
]


@pytest.mark.parametrize(("raw", "unit", "aliases", "column", "value", "problem", "converted"), CASES)
def test_parse_value(raw, unit, aliases, column, value, problem, converted):
    parsed = parse_value(raw, unit, aliases, column)
    assert (parsed.value, parsed.problem, parsed.converted) == (value, problem, converted)


@pytest.mark.parametrize(("raw", "year"), [
    (2023, 2023), (2023.0, 2023), ("2023", 2023), ("2023年", 2023), ("2023年度", 2023), ("２０２３", 2023),
    (datetime.date(2023, 12, 31), 2023), ("二〇二三", None), ("23", None), (2023.5, None), (None, None),
])
def test_parse_year(raw, year):
    assert parse_year(raw) == year
