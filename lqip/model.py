"""The tidy form of a return: what the reader produces and every check, score and summary reads.

The indicator rows are an IndicatorTable: plain Python lists, one per field. A consolidated workbook
holds 100,000 rows, so the reader and the checks work a column at a time (built-in operations over
whole lists, Python code once per distinct value); a summary reads a thousand returns of tens of
rows, where a DataFrame per file would cost more than the reading (measured; see README,
Performance). Every figure keeps its provenance (sheet, A1 cell) so each finding can point at it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from itertools import compress
from operator import is_, is_not, itemgetter

from lqip.findings import Finding
from lqip.text import fold
from lqip.units import Resolved
from lqip.values import Parsed


class Period(StrEnum):
    Q1 = "Q1"
    H1 = "H1"
    Q3 = "Q3"
    FY = "FY"

    @property
    def share(self) -> float:
        """The share of the year a return of this period covers."""
        return {"Q1": 0.25, "H1": 0.5, "Q3": 0.75, "FY": 1.0}[self.value]

    @property
    def order(self) -> int:
        return {"Q1": 1, "H1": 2, "Q3": 3, "FY": 4}[self.value]

    @property
    def zh(self) -> str:
        return {"Q1": "一季度", "H1": "上半年", "Q3": "前三季度", "FY": "全年"}[self.value]


_PERIODS = {
    **dict.fromkeys(["全年", "年度", "全年度", "fy", "year", "annual", "全年累计", "1-12月", "1~12月"], Period.FY),
    **dict.fromkeys(["一季度", "第一季度", "q1", "1-3月", "1~3月"], Period.Q1),
    **dict.fromkeys(["上半年", "二季度", "第二季度", "h1", "q2", "1-6月", "1~6月", "半年"], Period.H1),
    **dict.fromkeys(["前三季度", "三季度", "第三季度", "q3", "1-9月", "1~9月"], Period.Q3),
}
_LEADING_YEAR = re.compile(r"^\d{4}年?度?")
_BRACKETS = re.compile(r"[(（][^()（）]*[)）]")


def parse_period(raw: object) -> Period | None:
    """报告期 text -> Period ('2023年上半年', '上半年（1-6月）' too); empty means the full year; None
    when it cannot be read."""
    text = fold(str(raw or "")).replace("～", "~").replace("—", "-").replace("至", "-")
    if not text:
        return Period.FY
    for candidate in (text, _LEADING_YEAR.sub("", text), _BRACKETS.sub("", _LEADING_YEAR.sub("", text))):
        if not candidate:
            return Period.FY  # "2023年度"
        if candidate in _PERIODS:
            return _PERIODS[candidate]
    return None


class TaskStatus(StrEnum):
    DONE = "done"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"
    BEHIND = "behind"

    @property
    def zh(self) -> str:
        return {"done": "已完成", "in_progress": "推进中", "not_started": "未启动", "behind": "滞后"}[self.value]


_STATUSES = {
    **dict.fromkeys(["已完成", "完成", "done", "completed", "已办结"], TaskStatus.DONE),
    **dict.fromkeys(["推进中", "进行中", "正在推进", "inprogress", "in_progress", "ongoing"], TaskStatus.IN_PROGRESS),
    **dict.fromkeys(["未启动", "未开始", "notstarted", "not_started"], TaskStatus.NOT_STARTED),
    **dict.fromkeys(["滞后", "behind", "delayed", "进度滞后"], TaskStatus.BEHIND),
}


def parse_status(raw: object) -> TaskStatus | None:
    """进展状态 -> TaskStatus; a remark in brackets is ignored ('推进中（完成70%）')."""
    text = fold(str(raw or "")).replace("-", "").rstrip("。.")
    found = _STATUSES.get(text)
    if found is None:
        found = _STATUSES.get(_BRACKETS.sub("", text))
    return found


@dataclass(slots=True)
class Cell:
    """A value read from a workbook with where it came from ('' sheet/cell when absent)."""

    value: object = None
    sheet: str = ""
    cell: str = ""

    @property
    def text(self) -> str:
        from lqip.text import cell_text

        return cell_text(self.value)


@dataclass(slots=True)
class IndicatorRow:
    """One indicator row of a return, as a record (a copy of one row of the IndicatorTable)."""

    sheet: str
    row: int  # 1-based worksheet row
    cols: dict  # field -> column letter, shared by every row of the sheet
    code: str = ""
    name: str = ""
    year_raw: object = None
    value_raw: object = None
    unit_raw: str = ""
    target_raw: object = None
    reporter_raw: str = ""
    note: str = ""
    # resolved against the plan
    code_id: str | None = None  # indicator the code names (None: no code or unknown)
    name_id: str | None = None  # indicator the name names
    indicator: str | None = None
    unit: Resolved | None = None
    year: int | None = None
    parsed: Parsed | None = None
    value: float | None = None  # parsed.value
    formula_without_value: bool = False
    unit_name: str = ""  # unit.name, '' when the row has no unit

    def cell(self, field_name: str) -> str:
        col = self.cols.get(field_name)
        return f"{col}{self.row}" if col else ""


_DEFAULTS = {"formula_without_value": False, "unit_name": ""}
IS_NONE = partial(is_, None)  # predicates for IndicatorTable.where, applied in C
NOT_NONE = partial(is_not, None)


class IndicatorTable:
    """The indicator rows of a return as columns: one list per field, all of the same length.

    A consolidated workbook holds 100,000 rows of a few distinct codes, units and years: the reader
    fills the columns in bulk, resolution works once per distinct value, and the checks run column
    operations instead of building an object per row. `rows()` gives IndicatorRow records when a
    caller wants them (summaries of small returns, tests)."""

    RAW = ("sheet", "row", "cols", "code", "name", "year_raw", "value_raw", "unit_raw", "target_raw",
           "reporter_raw", "note")
    RESOLVED = ("code_id", "name_id", "indicator", "unit", "year", "parsed", "value", "formula_without_value",
                "unit_name")
    COLUMNS = RAW + RESOLVED
    __slots__ = (*COLUMNS, "outcomes")

    def __init__(self) -> None:
        for name in self.COLUMNS:
            setattr(self, name, [])
        self.outcomes: list | None = None  # the distinct objects of `parsed` (set by the reader)

    def __len__(self) -> int:
        return len(self.row)

    def __getstate__(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state: dict) -> None:
        self.outcomes = None
        for name in self.__slots__:
            setattr(self, name, state[name])

    def extend(self, **columns) -> None:
        """Append rows given as equally long columns of the RAW fields (resolution comes later)."""
        n = len(columns["row"])
        self.outcomes = None
        for name in self.RAW:
            getattr(self, name).extend(columns[name])
        for name in self.RESOLVED:
            getattr(self, name).extend([_DEFAULTS.get(name)] * n)

    def reorder(self, start: int, order: list[int]) -> None:
        """Put rows start.. in `order` (indices into the table)."""
        for name in self.COLUMNS:
            column = getattr(self, name)
            column[start:] = [column[i] for i in order]

    def where(self, column: list, test) -> list[int]:
        """Indices of the rows whose value in `column` passes `test` (a one-argument predicate)."""
        return list(compress(range(len(column)), map(test, column)))

    @staticmethod
    def keys(indices: list[int], *columns: list) -> list[tuple]:
        """(value in each of `columns`) for each of `indices`."""
        if len(indices) < 2:
            return [tuple(column[i] for column in columns) for i in indices]
        pick = itemgetter(*indices)  # (picks the values in C, a tuple a column)
        return list(zip(*map(pick, columns), strict=True))

    def first_rows(self, indices: list[int], *columns: list) -> dict[tuple, int]:
        """(value in each of `columns`) -> the first of `indices` holding it, in the order of first rows."""
        keys = self.keys(indices, *columns)
        first = dict(zip(reversed(keys), reversed(indices), strict=True))  # earlier rows overwrite later ones
        if len(first) == len(keys):
            return dict(zip(keys, indices, strict=True))
        return {key: first[key] for key in dict.fromkeys(keys)}

    @staticmethod
    def distinct(column: list) -> list:
        """The distinct objects of `column` by identity (no hashing of the objects themselves)."""
        return list(dict(zip(map(id, column), column, strict=True)).values())

    def where_among(self, column: list, objects) -> list[int]:
        """Indices of the rows whose value in `column` is one of `objects` (by identity)."""
        wanted = set(map(id, objects))
        return list(compress(range(len(column)), map(wanted.__contains__, map(id, column)))) if wanted else []

    def cell(self, i: int, field_name: str) -> str:
        """The A1 address of row i's `field_name` cell, '' when the sheet has no such column."""
        col = self.cols[i].get(field_name)
        return f"{col}{self.row[i]}" if col else ""

    def rows(self) -> list[IndicatorRow]:
        columns = (getattr(self, name) for name in self.COLUMNS)
        return [IndicatorRow(*values) for values in zip(*columns, strict=True)]

    def parse_outcomes(self) -> list:
        """The distinct objects of the `parsed` column (by identity): a few hundred however many rows."""
        if self.outcomes is None:
            self.outcomes = self.distinct(self.parsed)
        return self.outcomes

    def where_parsed(self, test) -> list[int]:
        """Indices of the rows whose parse outcome (a Parsed, or None) passes `test`, which is asked
        once per distinct outcome."""
        return self.where_among(self.parsed, [p for p in self.parse_outcomes() if test(p)])


@dataclass(slots=True)
class TaskRow:
    sheet: str
    row: int
    cols: dict
    task_raw: str = ""
    status_raw: str = ""
    progress: str = ""
    reporter_raw: str = ""
    task: str | None = None
    status: TaskStatus | None = None
    unit: Resolved | None = None

    def cell(self, field_name: str) -> str:
        col = self.cols.get(field_name)
        return f"{col}{self.row}" if col else ""


@dataclass(slots=True)
class Return:
    """One workbook, read: its info fields, tidy indicator and task rows, and reading findings."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)
    info: dict[str, Cell] = field(default_factory=dict)  # unit, year, period, contact, phone, date
    table: IndicatorTable = field(default_factory=IndicatorTable)  # the indicator rows, as columns
    table_units: list[Resolved] = field(default_factory=list)  # the table's distinct units, in row order
    tasks: list[TaskRow] = field(default_factory=list)
    indicator_sheet: str | None = None
    task_sheet: str | None = None
    unit: Resolved | None = None  # the return's own unit (info sheet), resolved
    year: int | None = None
    period: Period = Period.FY
    readable: bool = False  # False when a file-level finding (F0xx) stopped the reading

    @property
    def indicators(self) -> list[IndicatorRow]:
        """The indicator rows as records (built on each call: checks read `table`'s columns)."""
        return self.table.rows()

    @property
    def units(self) -> list[Resolved]:
        """Every reporting unit the return speaks for (its own, then per-row overrides)."""
        seen: dict[str, Resolved] = {}
        if self.unit:
            seen[self.unit.name] = self.unit
        for unit in (*self.table_units, *(row.unit for row in self.tasks)):
            if unit and unit.name not in seen:
                seen[unit.name] = unit
        return list(seen.values())
