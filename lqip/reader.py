"""From a workbook to a tidy `Return`: find the sheets, the header row, the columns, the rows.

Tolerant about form, strict about meaning: sheets are found by name or by header, the header row
is the first of the first 10 rows that holds the required columns, headers match by alias after
width/space/bracket folding, and every value keeps its sheet and A1 cell. Resolution against the
plan (indicator, unit, year, value) happens here once, so checks only read fields.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import compress
from operator import itemgetter
from pathlib import Path

from lqip.batch import release_later
from lqip.findings import finding
from lqip.model import Cell, Period, Return, TaskRow, parse_period, parse_status
from lqip.text import cell_text, fold, name_key
from lqip.values import clean_text, parse_value, parse_year
from lqip.workbook import Limits, Unreadable, column_letter, open_book

HEADER_SCAN_ROWS = 10

SHEET_NAMES = {
    "info": ["填报信息", "基本信息", "info"],
    "indicators": ["指标完成情况", "指标", "目标任务", "indicators"],
    "tasks": ["任务进展", "重点任务", "重点工作", "tasks"],
}

INDICATOR_COLUMNS = {
    "code": ["指标编号", "编号", "code", "指标代码"],
    "name": ["指标名称", "主要指标", "indicator", "指标", "指标项", "考核指标", "指标内容"],
    "year": ["年度", "year", "年份", "报告年度"],
    "value": ["完成值", "实际值", "完成情况", "actual", "value", "实际完成值", "完成数", "实际完成", "完成量",
              "完成数值", "本年完成", "实绩"],
    "unit": ["计量单位", "单位", "unit"],
    "target": ["目标值", "target", "年度目标", "目标", "年度目标值", "目标任务", "计划目标"],
    "reporter": ["填报单位", "reportingunit", "reporter", "报送单位", "责任单位"],
    "note": ["备注", "数据来源", "note", "来源", "说明", "数据来源/备注"],
}
TASK_COLUMNS = {
    "task": ["任务编号", "序号", "task", "编号", "taskid"],
    "status": ["进展状态", "状态", "status", "完成状态"],
    "progress": ["完成情况", "进展情况", "progress", "工作进展", "进展"],
    "reporter": ["填报单位", "reportingunit", "reporter"],
}
INFO_KEYS = {
    "unit": ["填报单位", "unit", "报送单位", "单位名称", "单位"],
    "year": ["报告年度", "year", "年度", "填报年度"],
    "period": ["报告期", "period", "报告期间", "填报期间"],
    "contact": ["填报人", "contact", "联系人"],
    "phone": ["联系电话", "phone", "电话"],
    "date": ["填报日期", "date", "报送日期"],
}

# Rows under the table that are notes, signatures or totals, not data.
_FOOTER = re.compile(r"^(注|备注|说明|填表|制表|审核|负责人|联系人|单位负责人|合计|总计|小计)")
_INLINE_KEY = re.compile(r"(填报单位|报送单位|报告年度|报告期|填报日期|填报人|联系电话)\s*[:：]")


def _alias_map(columns: dict[str, list[str]]) -> dict[str, str]:
    return {fold(alias): field for field, aliases in columns.items() for alias in aliases}


_IND_ALIASES = _alias_map(INDICATOR_COLUMNS)
_TASK_ALIASES = _alias_map(TASK_COLUMNS)
_INFO_ALIASES = _alias_map(INFO_KEYS)
_SHEET_ROLES = {fold(n): role for role, names in SHEET_NAMES.items() for n in names}
# Field priority when two headers claim one field (任务编号 beats 序号).
_PRIORITY = {fold(a): i for cols in (INDICATOR_COLUMNS, TASK_COLUMNS) for aliases in cols.values() for i, a in enumerate(aliases)}


@lru_cache(maxsize=4096)
def header_key(value: object) -> str:
    """A header cell's match key: folded, unit bracket and '*'/'(必填)' markers and a year prefix dropped."""
    key = name_key(cell_text(value)).replace("(必填)", "").replace("必填", "")
    key = re.sub(r"^\d{4}年?度?", "", key)
    return key.rstrip(":：")


# A year column of a wide sheet (Annex 2's own layout): "2023", "2023年", "2023年完成值", "2023年目标".
_YEAR_COLUMN = re.compile(r"^(\d{4})年?度?(.*)$")
_YEAR_VALUE_WORDS = frozenset({"", "完成", "完成值", "实际", "实际值", "完成情况", "实际完成", "实绩", "完成数", "actual", "value"})
_YEAR_TARGET_WORDS = frozenset({"目标", "目标值", "计划", "target"})


@lru_cache(maxsize=4096)
def _year_column(value: object) -> str | None:
    """'value@2023' / 'target@2023' for a year column header, else None."""
    match = _YEAR_COLUMN.match(name_key(cell_text(value)).rstrip(":"))
    if not match:
        return None
    rest = match.group(2).strip("()")
    if rest in _YEAR_VALUE_WORDS:
        return f"value@{match.group(1)}"
    if rest in _YEAR_TARGET_WORDS:
        return f"target@{match.group(1)}"
    return None


def _match_header(row: list, aliases: dict[str, str]) -> dict[str, int]:
    """Field -> column of the header cells in `row` (returns repeat one template's few header rows:
    a short row is matched once per process)."""
    if len(row) <= 64:
        return dict(_match_cached(tuple(row), aliases is _IND_ALIASES))
    return _match_row(row, aliases)


@lru_cache(maxsize=256)
def _match_cached(row: tuple, indicators: bool) -> dict[str, int]:
    return _match_row(row, _IND_ALIASES if indicators else _TASK_ALIASES)


def _match_row(row, aliases: dict[str, str]) -> dict[str, int]:
    found: dict[str, tuple[int, int]] = {}
    wide = aliases is _IND_ALIASES
    for col, value in enumerate(row):
        if value in ("", None):
            continue
        if wide and isinstance(value, (str, int, float)):
            year_field = _year_column(value)
            if year_field and year_field not in found:
                found[year_field] = (col, 0)
                continue
        key = header_key(value)
        field = aliases.get(key)
        if field is None:
            continue
        rank = _PRIORITY.get(key, 99)
        if field not in found or rank < found[field][1]:
            found[field] = (col, rank)
    return {f: c for f, (c, _) in found.items()}


def _find_header(rows: list[list], aliases: dict[str, str], required: list[tuple[str, ...]]):
    """(row index, field -> column) of the first header row holding every required group, or None.

    `required` is a list of alternatives: ("value",) must be there, ("code", "name") one of them.
    """
    best = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns = _match_header(row, aliases)
        if "value" not in columns and any(f.startswith("value@") for f in columns):
            columns = {**columns, "value": None}  # a wide sheet: one value column per year
        if all(any(f in columns for f in group) for group in required):
            return index, columns, None
        if columns and (best is None or len(columns) > len(best[1])):
            best = (index, columns, row)
    return None if best is None else (None, best[1], best[2])


def _has_header(rows: list[list], aliases: dict[str, str], required) -> bool:
    header = _find_header(rows, aliases, required)
    return bool(header and header[0] is not None)


IND_REQUIRED = [("value",), ("code", "name")]
TASK_REQUIRED = [("task",), ("status",)]


def read_return(path: str | Path, plan, limits: Limits | None = None) -> Return:
    """Read one workbook into a tidy Return (never raises for a bad file: findings say why)."""
    ret = Return(path=str(path))
    try:
        book = open_book(path, limits)
    except Unreadable as exc:
        ret.findings.append(finding(exc.code, file=path, reason=exc.reason))
        return ret
    ret.sheets = book.sheet_names
    try:
        _read_sheets(ret, book, plan)
    except Unreadable as exc:
        ret.findings.append(finding(exc.code, file=path, reason=exc.reason))
        return ret
    finally:
        book.close()
    ret.readable = True
    resolve(ret, plan, book)
    return ret


def _read_sheets(ret: Return, book, plan) -> None:
    roles: dict[str, str] = {}
    for name in book.sheet_names:
        role = _SHEET_ROLES.get(fold(name))
        if role and role not in roles:
            roles[role] = name
    loaded: dict[str, list[list]] = {}

    def rows_of(name: str) -> list[list]:
        if name not in loaded:
            loaded[name] = book.sheet(name).rows
        return loaded[name]

    # Sheets not named for their role are recognised by their header row; a workbook may hold
    # several indicator sheets (one per year, say): every one is read.
    extra_indicator_sheets: list[str] = []
    for name in [n for n in book.sheet_names if n not in roles.values()]:
        rows = rows_of(name)
        if _has_header(rows, _IND_ALIASES, IND_REQUIRED):
            if "indicators" in roles:
                extra_indicator_sheets.append(name)
            else:
                roles["indicators"] = name
        elif "tasks" not in roles and _has_header(rows, _TASK_ALIASES, TASK_REQUIRED):
            roles["tasks"] = name

    if "info" in roles:
        _read_info(ret, roles["info"], rows_of(roles["info"]))
    if "indicators" in roles:
        ret.indicator_sheet = roles["indicators"]
        for name in [roles["indicators"], *extra_indicator_sheets]:
            _read_indicators(ret, name, rows_of(name))
    if "tasks" in roles:
        ret.task_sheet = roles["tasks"]
        _read_tasks(ret, roles["tasks"], rows_of(roles["tasks"]))
    if not ret.indicator_sheet and not ret.task_sheet:
        ret.findings.append(finding("S101", file=ret.path, sheets=book.sheet_names))
    if "unit" not in ret.info or "year" not in ret.info:
        # Single-sheet returns often carry "填报单位：××  报告年度：2023" in a title row.
        for name in (ret.indicator_sheet, ret.task_sheet):
            if name:
                _inline_info(ret, name, rows_of(name))
    release_later(loaded)  # the sheets' cells: a worker frees them later, after sending its result


def _read_info(ret: Return, sheet: str, rows: list[list]) -> None:
    """Key/value rows: a key cell (填报单位, 报告年度…) and its value in the next non-empty cell."""
    for r, row in enumerate(rows[:200]):
        for c, value in enumerate(row):
            if not isinstance(value, str):
                continue
            field, rest = _info_key(value)
            if field is None or field in ret.info:
                continue
            if rest:
                ret.info[field] = Cell(rest, sheet, f"{column_letter(c)}{r + 1}")
                continue
            for c2 in range(c + 1, len(row)):
                if row[c2] not in ("", None):
                    ret.info[field] = Cell(row[c2], sheet, f"{column_letter(c2)}{r + 1}")
                    break
            else:
                ret.info[field] = Cell(None, sheet, f"{column_letter(c + 1)}{r + 1}")


@lru_cache(maxsize=4096)
def _info_key(text: str) -> tuple[str | None, str]:
    """(the info field a key cell names, or None; the value written after its colon, if any)."""
    if not text.strip():
        return None, ""
    key, _, rest = clean_text(text).partition(":")
    return _INFO_ALIASES.get(header_key(key)), rest


def _inline_info(ret: Return, sheet: str, rows: list[list]) -> None:
    """'填报单位：乐清市人民法院    报告年度：2023年' in a title row above the header."""
    for r, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        for c, value in enumerate(row):
            if not isinstance(value, str) or not _INLINE_KEY.search(value):
                continue
            text = unicodedata.normalize("NFKC", value)
            marks = list(_INLINE_KEY.finditer(text))
            for i, mark in enumerate(marks):
                end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
                field = _INFO_ALIASES.get(fold(mark.group(1)))
                found = text[mark.end():end].strip(" \t\u3000,，;；")
                if field and found and field not in ret.info:
                    ret.info[field] = Cell(found, sheet, f"{column_letter(c)}{r + 1}")


def _header_or_s102(ret: Return, sheet: str, rows: list[list], aliases, required, columns_zh) -> tuple | None:
    header = _find_header(rows, aliases, required)
    if header and header[0] is not None:
        return header
    seen_row = header[2] if header else (rows[0] if rows else [])
    seen = [cell_text(v) for v in seen_row if v not in ("", None)][:12]
    found = header[1] if header else {}
    for group in required:
        if not any(f in found for f in group):
            ret.findings.append(
                finding("S102", file=ret.path, sheet=sheet, column=columns_zh[group[0]], seen=seen or ["—"])
            )
            break
    return None


_IND_LABELS = {"value": "完成值", "code": "指标编号/指标名称"}
_TASK_LABELS = {"task": "任务编号", "status": "进展状态"}


def _is_footer(first_text: str) -> bool:
    return bool(_FOOTER.match(first_text))


def _read_indicators(ret: Return, sheet: str, rows: list[list]) -> None:
    header = _header_or_s102(ret, sheet, rows, _IND_ALIASES, IND_REQUIRED, _IND_LABELS)
    if header is None:
        return
    top, columns, _ = header
    if columns.get("value") is None:
        _read_wide(ret, sheet, rows, top, columns)
        return
    _read_long(ret, sheet, rows, top, columns)


def _read_wide(ret: Return, sheet: str, rows: list[list], top: int, columns: dict) -> None:
    """One row per indicator, one value column per year: read as one row per indicator and year."""
    base = {f: c for f, c in columns.items() if "@" not in f and c is not None}
    table = ret.table
    start = len(table)
    for field, col in sorted(columns.items(), key=lambda item: item[1] if item[1] is not None else -1):
        if not field.startswith("value@"):
            continue
        year = int(field.split("@")[1])
        per_year = {**base, "value": col}
        target = columns.get(f"target@{year}")
        if target is not None:
            per_year["target"] = target
        _read_long(ret, sheet, rows, top, per_year, year=year)
    table.reorder(start, sorted(range(start, len(table)), key=table.row.__getitem__))  # by row, then year


def _take(column: list, keep: list[int] | None) -> list:
    """The column's values at the `keep` indices (all of them when `keep` is None)."""
    if keep is None:
        return column
    return [column[i] for i in keep] if len(keep) < 2 else list(itemgetter(*keep)(column))


def _read_long(ret: Return, sheet: str, rows: list[list], top: int, columns: dict, year: int | None = None) -> None:
    """One row per indicator and year (the contract's layout); `year` fixes the year of a wide column.

    Column by column: each distinct cell value is converted to text once (a big sheet repeats few),
    and the rows kept are picked from the columns in bulk."""
    cols = {f: column_letter(c) for f, c in columns.items()}
    if year is not None:
        cols.pop("year", None)
    data = rows[top + 1:]
    n = len(data)
    if not n:
        return
    width = len(rows[top])  # calamine's rows are rectangular

    def raw(field: str) -> list | None:
        c = columns.get(field)
        return list(map(itemgetter(c), data)) if c is not None and c < width else None

    def texts(field: str) -> list:
        """The column as display text, each distinct value converted once."""
        values = raw(field)
        if values is None:
            return [""] * n
        distinct = {v: cell_text(v) for v in set(values)}
        if all(text is v for v, text in distinct.items()):
            return values  # text already as displayed (the common case)
        return list(map(distinct.__getitem__, values))

    codes, names = texts("code"), texts("name")
    values = raw("value") or [None] * n
    # rows with a code or a name: not a blank or spacer row
    keep: list[int] | None = list(compress(range(n), map(any, zip(codes, names, strict=True))))
    ends = [i for i in keep if values[i] is None or values[i] == ""]
    footers = {i for i in ends if _is_footer(names[i] or codes[i])}  # notes, signatures, totals
    if footers:
        keep = [i for i in keep if i not in footers]
    if len(keep) == n:
        keep = None
    values = _take(values, keep)
    if "" in values:
        values = [None if v == "" else v for v in values]
    m = len(values)
    year_column = raw("year") if year is None else None
    ret.table.extend(
        sheet=[sheet] * m,
        row=[top + 2 + i for i in (keep if keep is not None else range(n))],
        cols=[cols] * m,
        code=_take(codes, keep),
        name=_take(names, keep),
        year_raw=_take(year_column, keep) if year_column is not None else [year] * m,
        value_raw=values,
        unit_raw=_take(texts("unit"), keep),
        target_raw=_take(raw("target") or [None] * n, keep),
        reporter_raw=_take(texts("reporter"), keep),
        note=_take(texts("note"), keep),
    )


def _read_tasks(ret: Return, sheet: str, rows: list[list]) -> None:
    header = _header_or_s102(ret, sheet, rows, _TASK_ALIASES, TASK_REQUIRED, _TASK_LABELS)
    if header is None:
        return
    top, columns, _ = header
    cols = {f: column_letter(c) for f, c in columns.items()}
    task_c, status_c, prog_c, rep_c = columns.get("task"), columns.get("status"), columns.get("progress"), columns.get("reporter")
    for r in range(top + 1, len(rows)):
        row = rows[r]
        width = len(row)

        def at(c, row=row, width=width):
            return cell_text(row[c]) if c is not None and c < width else ""

        task = at(task_c)
        if not task or _is_footer(task):
            continue
        ret.tasks.append(TaskRow(sheet, r + 1, cols, task, at(status_c), at(prog_c), at(rep_c)))


# --- resolution against the plan --------------------------------------------------------------------


def indicator_index(plan) -> dict[str, str]:
    """Name key -> indicator id, for canonical names and aliases."""
    cached = getattr(plan, "_indicator_index", None)
    if cached is None:
        cached = {}
        for ind in plan.indicators:
            for spelling in [ind.name, *ind.aliases]:
                cached[name_key(spelling)] = ind.id
        plan._indicator_index = cached
    return cached


_CODE = re.compile(r"^([a-z]?)[-_.]?0*(\d{1,3})$")
_YEAR_PREFIX = re.compile(r"^\s*(\d{4})\s*年")
_NUMBERING = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]{1,3})[.、)）]")


def _by_code(index: dict[tuple[str, int], str], text: str) -> str | None:
    """The id in `index` (see _code_index) that `text` names: 'I01', 'i1', '1'."""
    match = _CODE.match(fold(text).replace(".0", ""))
    if not match:
        return None
    letter, number = match.groups()
    return index.get((letter, int(number))) or (index.get(("", int(number))) if not letter else None)


def _code_index(items: list) -> dict[tuple[str, int], str]:
    """(letter, number) -> id, and ('', number) -> id for a bare number, of items with .id like 'T05'."""
    index: dict[tuple[str, int], str] = {}
    for ident in (item.id for item in items):
        number = int(ident[1:])
        index.setdefault((ident[0].lower(), number), ident)
        index.setdefault(("", number), ident)
    return index


def _codes(plan, kind: str) -> dict[tuple[str, int], str]:
    """The plan's code index of its indicators or tasks, built once per plan."""
    name = f"_{kind}_codes"
    index = getattr(plan, name, None)
    if index is None:
        index = _code_index(getattr(plan, kind))
        setattr(plan, name, index)
    return index


def indicator_by_code(plan, code: str) -> str | None:
    """'I01', 'i1', '1', '01' -> 'I01' when the plan has it."""
    return _by_code(_codes(plan, "indicators"), code)


def task_by_code(plan, text: str) -> str | None:
    """'T05', 't5', '5' -> 'T05' when the plan has it."""
    return _by_code(_codes(plan, "tasks"), text)


def _identify_indicator(plan, index: dict, code: str, name: str) -> tuple:
    """(code_id, name_id, indicator) of a row's code and name cells.

    The code is the stable identifier; a name that is not recognised does not overrule it. When
    both are recognised they must agree (else V302 and no indicator)."""
    code_id = (indicator_by_code(plan, code) or index.get(name_key(code))) if code else None
    name_id = None
    if name:
        key = name_key(name)
        name_id = index.get(key) or index.get(_NUMBERING.sub("", key))
    if code_id and name_id and code_id != name_id:
        return code_id, name_id, None
    return code_id, name_id, code_id or name_id


def resolve(ret: Return, plan, book=None) -> None:
    """Fill the resolved fields of every row: indicator, unit, year, parsed value, task, status."""
    info = ret.info
    if "unit" in info and info["unit"].text:
        ret.unit = plan.resolver.resolve(info["unit"].text)
    if "year" in info:
        ret.year = parse_year(info["year"].value)
        match = _YEAR_PREFIX.match(info["year"].text) if ret.year is None else None
        if match:  # "2023年上半年": the year, and the period when none is given
            ret.year = int(match.group(1))
            if "period" not in info or not info["period"].text:
                ret.period = parse_period(info["year"].text) or Period.FY
    if "period" in info and info["period"].text:
        period = parse_period(info["period"].value)
        if period is None:
            c = info["period"]
            ret.findings.append(finding("S105", file=ret.path, sheet=c.sheet, cell=c.cell, value=c.text))
        ret.period = period or Period.FY
    resolver = plan.resolver
    unit_cache: dict[str, object] = {}

    def unit_of(reporter: str):
        """A row's own 填报单位 overrides the return's."""
        if not reporter:
            return ret.unit
        if reporter not in unit_cache:
            unit_cache[reporter] = resolver.resolve(reporter)
        return unit_cache[reporter]

    _resolve_table(ret, plan, book, unit_of)
    for row in ret.tasks:
        row.task = task_by_code(plan, row.task_raw)
        row.status = parse_status(row.status_raw) if row.status_raw else None
        row.unit = unit_of(row.reporter_raw)


def _grouped(keys: list) -> tuple[list, list[int]]:
    """The distinct keys, first seen first, and for each key its place among them (each key hashed
    twice in all: a column is then mapped by list index, not by hashing its keys again)."""
    distinct = dict.fromkeys(keys)
    place = {key: i for i, key in enumerate(distinct)}
    return list(distinct), list(map(place.__getitem__, keys))


def _years(raw: list, default: int | None) -> list:
    """The year column: each distinct cell parsed once, a blank one the return's year."""
    distinct = set(raw)
    if any(value.__class__ is bool for value in distinct):  # True and 1 are equal: keep them apart by class
        keys = list(zip(map(type, raw), raw, strict=True))
        years = {key: default if key[1] is None or key[1] == "" else parse_year(key[1]) for key in set(keys)}
        return list(map(years.__getitem__, keys))
    years = {value: default if value is None or value == "" else parse_year(value) for value in distinct}
    return list(map(years.__getitem__, raw))


def _resolve_table(ret: Return, plan, book, unit_of) -> None:
    """Resolve the indicator columns: every distinct code/name pair, reporter, year and (value,
    indicator, 计量单位) triple once, then the columns by lookup."""
    table = ret.table
    if not len(table):
        return
    index = indicator_index(plan)
    pairs, group = _grouped(list(zip(table.code, table.name, strict=True)))
    ids = [_identify_indicator(plan, index, *pair) for pair in pairs]
    for position, name in enumerate(("code_id", "name_id", "indicator")):
        found = [resolved[position] for resolved in ids]
        setattr(table, name, list(map(found.__getitem__, group)))

    units = {reporter: unit_of(reporter) for reporter in dict.fromkeys(table.reporter_raw)}
    table.unit = list(map(units.__getitem__, table.reporter_raw))
    names = {reporter: unit.name if unit is not None else "" for reporter, unit in units.items()}
    table.unit_name = list(map(names.__getitem__, table.reporter_raw))
    distinct: dict[str, object] = {}
    for unit in units.values():
        if unit is not None:
            distinct.setdefault(unit.name, unit)
    ret.table_units = list(distinct.values())

    table.year = _years(table.year_raw, ret.year)

    by_id = plan.indicator_by_id
    # the class keeps True apart from 1 (equal, and hashed alike)
    keys, group = _grouped(list(zip(map(type, table.value_raw), table.value_raw, table.indicator, table.unit_raw,
                                    strict=True)))
    parsed = [None if ind_id is None else parse_value(raw, (ind := by_id[ind_id]).unit, tuple(ind.unit_aliases), unit_raw)
              for _, raw, ind_id, unit_raw in keys]
    table.parsed = list(map(parsed.__getitem__, group))
    table.outcomes = list({id(p): p for p in parsed}.values())
    value_of = [None if p is None else p.value for p in parsed]
    table.value = list(map(value_of.__getitem__, group))

    empty = [i for i, raw in enumerate(table.value_raw) if raw is None]
    if empty and book is not None:
        formulas: dict[str, set[str]] = {}
        for i in empty:
            sheet = table.sheet[i]
            if sheet not in formulas:
                formulas[sheet] = book.empty_formula_cells(sheet)
            if formulas[sheet] and table.cell(i, "value") in formulas[sheet]:
                table.formula_without_value[i] = True

