"""Reading a figure as a careful person would: the one parsing function for every value cell.

Accepted: numeric cells; text with full-width digits (３００), thousands separators (1,000 and
1，000), a trailing unit (300件, 8亿元), the multipliers 万 and 亿 (11万 = 110000), and money in
another scale (85000万元 = 8.5 亿元, flagged as converted). A unit is a multiplier prefix plus a
base ("亿元" = 1e8 × "元"); a value converts when its base matches the indicator's unit (or one of
its aliases). Chinese numerals ("三百") and prose ("约300") are not numbers.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MULTIPLIERS = {"万": 1e4, "亿": 1e8}
# Cells people use for "nothing to report": read as empty, not as a bad number.
# Words of measure a figure may carry; a tail that is none of these (nor the indicator's own unit)
# is prose ("300左右"), not a unit.
MEASURE_WORDS = frozenset({
    "件", "个", "家", "项", "人次", "人", "次", "名", "元", "户", "所", "座", "台", "套", "场", "期", "笔", "宗",
    "起", "批", "家次", "个次", "件次", "万人", "件/万人", "%",
})
EMPTY_MARKS = frozenset({"", "-", "--", "—", "——", "–", "/", "无", "暂无", "空", "n/a", "na", "null", "none"})

_NUMBER = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?(.*)$")


class Problem:
    """Why a value could not be taken (plain strings: they travel to worker processes)."""

    NOT_NUMBER = "not_number"
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Parsed:
    value: float | None  # in the indicator's unit; None when empty or unreadable
    problem: str | None = None  # Problem.*, or None
    written: str = ""  # the unit as written (cell suffix or unit column), '' when none
    converted: bool = False  # True when a scale conversion was applied (V307)

    @property
    def empty(self) -> bool:
        return self.value is None and self.problem is None


EMPTY = Parsed(None)


def split_unit(text: str) -> tuple[float, str]:
    """'亿元' -> (1e8, '元'); '万件' -> (1e4, '件'); '件/万人' -> (1, '件/万人'); '' -> (1, '')."""
    mult = 1.0
    text = text.strip()
    while text and text[0] in MULTIPLIERS and (len(text) == 1 or text[1] not in "/"):
        mult *= MULTIPLIERS[text[0]]
        text = text[1:]
    return mult, text


@lru_cache(maxsize=4096)
def _unit_table(unit: str, aliases: tuple[str, ...]) -> tuple[float, dict[str, float]]:
    """The indicator unit's multiplier, and base -> multiplier for every accepted base."""
    mult, base = split_unit(unit)
    bases = {base: mult}
    for alias in aliases:
        amult, abase = split_unit(alias)
        bases.setdefault(abase, amult)
    return mult, bases


def clean_text(raw: str) -> str:
    """Width-fold and drop spaces; full-width comma and period become ASCII."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))


def parse_value(raw: object, unit: str, aliases: tuple[str, ...] = (), column_unit: str = "") -> Parsed:
    """Read `raw` (a cell value) as a figure in `unit`; see the module doc for what is accepted.

    `aliases` are other units accepted as the same quantity; `column_unit` is the return's 计量单位
    cell for the row, applied when the value itself carries no unit.
    """
    if raw is None:
        return EMPTY
    if isinstance(raw, bool):
        return Parsed(None, Problem.NOT_NUMBER)
    if isinstance(raw, (int, float)):
        if raw != raw or raw in (float("inf"), float("-inf")):  # NaN / inf
            return Parsed(None, Problem.NOT_NUMBER)
        if not column_unit:
            return Parsed(float(raw))
        scale = _apply_unit(1.0, "", unit, aliases, column_unit)  # cached per unit triple
        if scale.value is None:
            return scale
        return _figure(float(raw) * scale.value, scale.written, scale.converted)
    if isinstance(raw, (_dt.date, _dt.time, _dt.timedelta)):
        return Parsed(None, Problem.NOT_NUMBER)
    return _parse_text(str(raw), unit, aliases, column_unit)


@lru_cache(maxsize=65536)
def _parse_text(raw: str, unit: str, aliases: tuple[str, ...], column_unit: str) -> Parsed:
    text = clean_text(raw)
    if text.lower() in EMPTY_MARKS:
        return EMPTY
    match = _NUMBER.match(text)
    if not match or (match.group(2) is None and match.group(3) is None):
        return Parsed(None, Problem.NOT_NUMBER)
    sign, whole, frac, tail = match.groups()
    number = float((whole or "0").replace(",", "") + (frac or ""))
    if sign == "-":
        number = -number
    tail = tail.strip("()（）")
    if tail and not re.fullmatch(r"[万亿]*[^\d.,+-]*", tail):
        return Parsed(None, Problem.NOT_NUMBER)
    return _apply_unit(number, tail, unit, aliases, column_unit)


@lru_cache(maxsize=4096)
def _apply_unit(number: float, tail: str, unit: str, aliases: tuple[str, ...], column_unit: str) -> Parsed:
    target_mult, bases = _unit_table(unit, aliases)
    mult, base = split_unit(tail)
    written = tail
    if not base and column_unit:
        # "8.5" in a row whose 计量单位 says 万元; "11万" with 计量单位 件
        cmult, base = split_unit(clean_text(column_unit))
        mult *= cmult
        written = (tail + base) if tail else clean_text(column_unit)
    if not base:
        # No unit written: a bare multiplier ("11万", "8亿") scales the number in the indicator's base.
        value = number * mult / (target_mult if mult != 1 else 1)
        converted = mult != 1 and target_mult != 1 and mult != target_mult
        return _figure(value, written, converted)
    if base not in bases:
        return Parsed(None, Problem.UNIT if base in MEASURE_WORDS else Problem.NOT_NUMBER, written)
    value = number * mult / bases[base]
    converted = target_mult != 1 and mult != bases[base]
    return _figure(value, written, converted)


def _figure(value: float, written: str, converted: bool) -> Parsed:
    """A figure read; one that overflows in its scale ("1e305万件") is not a number."""
    if not math.isfinite(value):
        return Parsed(None, Problem.NOT_NUMBER, written)
    return Parsed(_tidy(value), None, written, converted)


def _tidy(value: float) -> float:
    """Remove float noise from scale conversions (85000 * 1e4 / 1e8 = 8.500000000000002)."""
    return round(value, 9)


def parse_year(raw: object) -> int | None:
    """2023, 2023.0, '2023', '2023年', '2023年度', '２０２３' -> 2023; else None."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (_dt.date,)):
        return raw.year
    if isinstance(raw, (int, float)):
        return int(raw) if float(raw).is_integer() else None
    text = clean_text(str(raw))
    match = re.fullmatch(r"(\d{4})(?:\.0)?(?:年度?|年)?", text)
    return int(match.group(1)) if match else None
