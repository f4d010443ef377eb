"""Templates (填报表模板) for the units: one workbook per unit and year, pre-filled from the plan.

A template holds four sheets in a fixed order — 填报信息 (who, which year and period), 指标完成情况
(one row per indicator the unit answers for, with the plan's target), 任务进展 (one row per task it
leads or co-owns) and 填报说明 (instructions). Only the cells a unit must fill are unlocked
(light yellow); the rest is protected without a password so headers and codes survive, and every
value cell carries a data validation that refuses text, negative numbers and fractions of counts.
The headers are the ones `lqip.reader` accepts, so a filled template checks clean.

Library only: no typer or rich here, and openpyxl is imported inside the functions that need it.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lqip.model import Period, TaskStatus
from lqip.outputs import OutputExists, atomic_save
from lqip.plan import Kind

INFO_SHEET, INDICATOR_SHEET, TASK_SHEET, NOTES_SHEET = SHEETS = ("填报信息", "指标完成情况", "任务进展", "填报说明")
INFO_FIELDS = ("填报单位", "报告年度", "报告期", "填报人", "联系电话", "填报日期")
INDICATOR_HEADERS = ("指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值", "责任类型", "备注")
TASK_HEADERS = ("任务编号", "重点工作", "主要内容", "责任类型", "进展状态", "完成情况")
LEAD, CO = "牵头", "配合"
STATUS_CHOICES = tuple(status.zh for status in TaskStatus)
PERIOD_CHOICES = tuple(period.zh for period in (Period.FY, Period.Q1, Period.H1, Period.Q3))
HEADER_ROW = 2  # row 1 is a title; the reader finds the header within the first 10 rows
FIRST_DATA_ROW = HEADER_ROW + 1

# The office's usual deadlines; pass `deadline=` to build_template to state another one.
DEADLINES = {
    Period.FY: "次年1月10日前",
    Period.Q1: "4月10日前",
    Period.H1: "7月10日前",
    Period.Q3: "10月10日前",
}
PERIOD_SPAN = {Period.FY: "1–12月", Period.Q1: "1–3月", Period.H1: "1–6月", Period.Q3: "1–9月"}

# Colours (ARGB without alpha): input cells light yellow, fixed cells light grey, headers darker.
INPUT_FILL = "FFF2CC"
FIXED_FILL = "F2F2F2"
HEADER_FILL = "D9D9D9"
MAX_WIDTH = {"主要内容": 60, "完成情况": 50, "指标名称": 34, "重点工作": 24, "备注": 30}
DEFAULT_MAX_WIDTH = 40
NOTES_WIDTH = 72
CENTRED = frozenset({"指标编号", "年度", "计量单位", "责任类型", "任务编号", "进展状态"})


@dataclass(frozen=True, slots=True)
class Scope:
    """Whom a template is for: the name written in 填报单位 and the plan units whose duties it carries."""

    name: str
    units: tuple[str, ...]


# --- what goes in a template -------------------------------------------------------------------------


def template_units(plan) -> list[str]:
    """Canonical names of the units that lead or co-own at least one task, in plan order."""
    out = []
    for unit in plan.units:
        duties = plan.responsibility[unit.name]
        if duties["lead_tasks"] or duties["co_tasks"]:
            out.append(unit.name)
    return out


def scope_of(plan, unit: str) -> Scope:
    """The scope of a canonical unit name; a single township (柳市镇) stands for its collectives.

    Raises ValueError for a name that is neither.
    """
    if unit in plan.unit_by_name:
        return Scope(unit, (unit,))
    resolved = plan.resolver.resolve(unit)
    if resolved is not None and resolved.is_member:
        return Scope(resolved.name, resolved.units)
    known = "、".join(template_units(plan))
    raise ValueError(f"unknown unit {unit!r} / 未知单位“{unit}”; known units: {known}")


def indicator_rows(plan, scope: Scope, year: int) -> list[tuple[object, str, float | None]]:
    """(indicator, 牵头/配合, target) for every indicator the scope answers for, in plan order."""
    rows = []
    for ind in plan.indicators:
        answering = plan.indicator_units(ind)
        if not any(u in answering for u in scope.units):
            continue
        leads = plan.indicator_leads(ind)
        role = LEAD if any(u in leads for u in scope.units) else CO
        rows.append((ind, role, plan.target(ind, year)))
    return rows


def task_rows(plan, scope: Scope) -> list[tuple[object, object, str]]:
    """(task, key work, 牵头/配合) for every task the scope leads or co-owns, in plan order."""
    rows = []
    for task in plan.tasks:
        if any(u in task.leads for u in scope.units):
            role = LEAD
        elif any(u in task.co_units for u in scope.units):
            role = CO
        else:
            continue
        rows.append((task, plan.task_place[task.id][1], role))
    return rows


def template_filename(unit: str, year: int, period: Period = Period.FY) -> str:
    """'2024_市法院_填报表.xlsx'; a partial period adds itself: '2024_上半年_市法院_填报表.xlsx'."""
    period = Period(period)
    middle = "" if period is Period.FY else f"{period.zh}_"
    return f"{year}_{middle}{unit}_填报表.xlsx"


# --- building the workbook ---------------------------------------------------------------------------


def build_template(plan, unit: str, year: int, period: Period = Period.FY, deadline: str | None = None):
    """The template workbook (openpyxl) for `unit` (canonical name), `year` and `period`.

    `deadline` replaces the usual deadline text of the period (DEADLINES). Raises ValueError for an
    unknown unit or a year outside the plan period.
    """
    from openpyxl import Workbook
    from openpyxl.workbook.protection import WorkbookProtection

    scope = scope_of(plan, unit)
    if year not in plan.plan_years:
        raise ValueError(
            f"year {year} is outside the plan period {plan.first_year}–{plan.meta.end_year} / 年度不在方案期内"
        )
    period = Period(period)
    wb = Workbook()
    wb.remove(wb.active)
    _info_sheet(wb.create_sheet(INFO_SHEET), plan, scope, year, period)
    _indicator_sheet(wb.create_sheet(INDICATOR_SHEET), plan, scope, year, period)
    _task_sheet(wb.create_sheet(TASK_SHEET), plan, scope, year, period)
    _notes_sheet(wb.create_sheet(NOTES_SHEET), plan, scope, year, period, deadline or DEADLINES[period])
    for ws in wb.worksheets:  # one selected tab: several would open "grouped" and edit together
        ws.sheet_view.tabSelected = False
    wb.active = 0
    wb.active.sheet_view.tabSelected = True
    # Structure locked without a password: sheets cannot be renamed, moved or deleted by accident.
    wb.security = WorkbookProtection(lockStructure=True)
    wb.properties.title = f"{year}年{period.zh} {scope.name} 填报表"
    wb.properties.subject = plan.meta.title
    wb.properties.creator = "lqip"
    return wb


def write_template(plan, unit: str, year: int, period: Period, path, force: bool = False,
                   deadline: str | None = None) -> Path:
    """Build the template and save it atomically at `path`; raises outputs.OutputExists without force."""
    wb = build_template(plan, unit, year, period, deadline)
    return atomic_save(path, lambda tmp: wb.save(tmp), force)


def write_all(plan, year: int, period: Period, directory, force: bool = False,
              deadline: str | None = None) -> list[Path]:
    """One template per unit of `template_units(plan)` in `directory`, named by `template_filename`."""
    targets = {unit: Path(directory) / template_filename(unit, year, period) for unit in template_units(plan)}
    if not force:  # refuse before writing anything, not half-way through
        for path in targets.values():
            if path.exists():
                raise OutputExists(path)
    return [write_template(plan, unit, year, period, path, force, deadline) for unit, path in targets.items()]


def _info_sheet(ws, plan, scope: Scope, year: int, period: Period) -> None:
    ws["A1"] = f"{plan.meta.title} {year}年{period.zh}填报表"
    ws["A1"].font = _font(bold=True, size=14)
    values = {"填报单位": scope.name, "报告年度": year, "报告期": period.zh}
    first, last = plan.first_year, plan.meta.end_year
    validations = {
        "填报单位": _prompt_only("填报单位", "本单位名称（简称或全称）；乡镇（街道）请填本乡镇（街道）名称，如“柳市镇”。"),
        "报告年度": _dv("whole", "报告年度", f"请填写 {first}–{last} 之间的四位年份。",
                     operator="between", formula1=str(first), formula2=str(last)),
        "报告期": _list_dv("报告期", PERIOD_CHOICES, "请从下拉列表选择：" + "、".join(PERIOD_CHOICES) + "。"),
        "填报人": _prompt_only("填报人", "经办人姓名。"),
        "联系电话": _prompt_only("联系电话", "手机或办公电话。"),
        "填报日期": _prompt_only("填报日期", "如 2025-01-08。"),
    }
    validations["报告年度"].prompt = f"四位年份，{first}–{last}。"
    validations["报告期"].prompt = "从下拉列表选择：" + "、".join(PERIOD_CHOICES) + "。"
    for offset, key in enumerate(INFO_FIELDS):
        row = HEADER_ROW + 1 + offset
        _fixed(ws.cell(row, 1, key), header=True)
        cell = ws.cell(row, 2, values.get(key))
        _input(cell)
        dv = validations[key]
        dv.promptTitle, dv.showInputMessage = key, True
        _validate(ws, cell, dv)
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = max(30, _text_width(scope.name) + 4)
    _finish(ws, freeze=None, print_rows=None)


def _indicator_sheet(ws, plan, scope: Scope, year: int, period: Period) -> None:
    rows = indicator_rows(plan, scope, year)
    title = f"{year}年{period.zh}指标完成情况（{scope.name}）"
    if not rows:
        title += "——本单位无牵头或配合的指标，本表无需填写"
    _title_and_header(ws, title, INDICATOR_HEADERS)
    value_col = INDICATOR_HEADERS.index("完成值") + 1
    note_col = INDICATOR_HEADERS.index("备注") + 1
    validations: dict[str, object] = {}
    for r, (ind, role, target) in enumerate(rows, start=FIRST_DATA_ROW):
        fixed = (ind.id, ind.name, year, ind.unit, _number(target), None, role, None)
        for c, value in enumerate(fixed, start=1):
            cell = ws.cell(r, c, value)
            centre = INDICATOR_HEADERS[c - 1] in CENTRED
            if c in (value_col, note_col):
                _input(cell)
            else:
                _fixed(cell, centre=centre)
        dv = validations.get(ind.unit)
        if dv is None:
            dv = validations[ind.unit] = _value_dv(plan, ind, period)
            ws.add_data_validation(dv)
        dv.add(ws.cell(r, value_col))
    _fit(ws, INDICATOR_HEADERS, min_height=20)
    _finish(ws, freeze=f"C{FIRST_DATA_ROW}", print_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _task_sheet(ws, plan, scope: Scope, year: int, period: Period) -> None:
    rows = task_rows(plan, scope)
    _title_and_header(ws, f"{year}年{period.zh}重点任务进展（{scope.name}）", TASK_HEADERS)
    status_col = TASK_HEADERS.index("进展状态") + 1
    progress_col = TASK_HEADERS.index("完成情况") + 1
    dv = _list_dv("进展状态", STATUS_CHOICES, "请从下拉列表选择：" + "、".join(STATUS_CHOICES) + "。")
    dv.prompt = "选择进展状态；选“已完成”或“滞后”的，请在“完成情况”写明进展或原因。"
    dv.promptTitle = "进展状态"
    dv.showInputMessage = True
    ws.add_data_validation(dv)
    for r, (task, key_work, role) in enumerate(rows, start=FIRST_DATA_ROW):
        fixed = (task.id, key_work.name, task.content, role, None, None)
        for c, value in enumerate(fixed, start=1):
            cell = ws.cell(r, c, value)
            centre = TASK_HEADERS[c - 1] in CENTRED
            if c in (status_col, progress_col):
                _input(cell, centre=centre)
            else:
                _fixed(cell, centre=centre)
        dv.add(ws.cell(r, status_col))
    _fit(ws, TASK_HEADERS, min_height=30)
    _finish(ws, freeze=f"B{FIRST_DATA_ROW}", print_rows=f"{HEADER_ROW}:{HEADER_ROW}")


def _notes_sheet(ws, plan, scope: Scope, year: int, period: Period, deadline: str) -> None:
    ws.column_dimensions["A"].width = NOTES_WIDTH
    for r, (text, heading) in enumerate(instructions(plan, scope, year, period, deadline), start=1):
        cell = ws.cell(r, 1, text)
        cell.alignment = _alignment(wrap=True, vertical="top")
        cell.font = _font(bold=heading, size=14 if r == 1 else 11)
        ws.row_dimensions[r].height = 16 * max(1, math.ceil(_text_width(text) / (NOTES_WIDTH - 4)))
    _finish(ws, freeze=None, print_rows=None, landscape=False)


def instructions(plan, scope: Scope, year: int, period: Period, deadline: str) -> list[tuple[str, bool]]:
    """The lines of the 填报说明 sheet as (text, is_heading)."""
    stocks = "、".join(f"{i.id} {i.name}" for i in plan.indicators if i.kind is Kind.STOCK) or "无"
    money = [i for i in plan.indicators if i.unit.endswith("元")]
    money_line = (
        f"4. 金额单位：{'、'.join(f'{i.id} {i.name}' for i in money)}以“{money[0].unit}”计，"
        f"85000万元应填 8.5，不要填 85000。" if money else "4. 金额请按“计量单位”列换算后填写。"
    )
    whole = "、".join(u for u, m in plan.measures.items() if m.whole)
    span = PERIOD_SPAN[period]
    first_ind, last_ind = plan.indicators[0].id, plan.indicators[-1].id
    first_task, last_task = plan.tasks[0].id, plan.tasks[-1].id
    return [
        ("填报说明", True),
        (f"{plan.meta.title}（{plan.meta.document}）{year}年{period.zh}（{span}）完成情况填报表，"
         f"填报单位：{scope.name}。", False),
        (f"报送时限：{deadline}，报送领导小组办公室（以办公室当期通知为准）。", False),
        ("一、怎么填", True),
        ("1. 只填黄色单元格；灰色单元格（编号、名称、年度、计量单位、目标值、责任类型、任务内容）由方案生成，请勿改动。", False),
        ("2. “填报信息”表：核对填报单位、报告年度、报告期（全年、一季度、上半年、前三季度）；"
         "乡镇（街道）请把填报单位改为本乡镇（街道）名称，如“柳市镇”；填写填报人、联系电话、填报日期。", False),
        (f"3. “指标完成情况”表：在“完成值”列只填阿拉伯数字，单位以“计量单位”列为准。"
         f"年度类指标填{span}的累计数；存量指标（{stocks}）填报告期末的数。"
         "牵头指标必须填报；配合指标有数据的也请填写。没有数据的留空并在“备注”说明原因；确实为零的填 0。"
         "“备注”可写数据来源或口径说明。", False),
        (money_line, False),
        (f"5. 以{whole}计的指标只能填整数。", False),
        ("6. “任务进展”表：“进展状态”从下拉列表选择 " + "、".join(STATUS_CHOICES) + "；"
         "“完成情况”简要写明主要做法、成效和存在问题。状态为“已完成”或“滞后”的必须填写完成情况。", False),
        ("二、常见错误（会导致退回）", True),
        ("1. 在“完成值”里写单位或文字，如“320件”“约300”“见附件”：只写数字 320。", False),
        ("2. 万元与亿元混淆：按“计量单位”列换算后再填。", False),
        ("3. 改动工作表名称、表头，删除或插入行列，调换行的顺序。", False),
        ("4. 合并单元格。", False),
        ("5. 使用公式或引用其他文件：请直接填写数值（部分软件保存的公式没有计算结果）。", False),
        ("6. 给文件设置打开密码或加密；另存为 .et、.wps、PDF 等格式。请保存为 .xlsx 后报送。", False),
        (f"7. 自行增加方案以外的指标或任务：指标编号为 {first_ind}–{last_ind}，任务编号为 {first_task}–{last_task}。", False),
        ("三、自查", True),
        ("报送前可用 lqip check 文件名.xlsx 自查；表内已设数据有效性，填写不符合要求时会提示。", False),
    ]


# --- styles and helpers ------------------------------------------------------------------------------


def _title_and_header(ws, title: str, headers: tuple[str, ...]) -> None:
    ws.cell(1, 1, title).font = _font(bold=True, size=14)
    for c, name in enumerate(headers, start=1):
        _fixed(ws.cell(HEADER_ROW, c, name), header=True)
    ws.row_dimensions[HEADER_ROW].height = 22


def _value_dv(plan, ind, period: Period):
    whole = plan.whole(ind)
    kind = "whole" if whole else "decimal"
    rule = "整数" if whole else "数字（可带小数）"
    span = PERIOD_SPAN[period]
    dv = _dv(kind, "完成值", f"请填写不小于 0 的{rule}，单位为{ind.unit}，不要填写文字或单位。",
             operator="greaterThanOrEqual", formula1="0")
    dv.promptTitle = f"单位：{ind.unit}"[:32]
    dv.prompt = f"填{span}完成值，只填{rule}，单位为“{ind.unit}”（不要写单位）；无数据请留空并在备注说明。"
    dv.showInputMessage = True
    return dv


def _dv(kind: str, title: str, error: str, **rule):
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(type=kind, allow_blank=True, showErrorMessage=True, errorStyle="stop",
                          errorTitle=f"{title}填写有误"[:32], error=error, **rule)


def _list_dv(title: str, choices: tuple[str, ...], error: str):
    return _dv("list", title, error, formula1='"' + ",".join(choices) + '"')


def _prompt_only(title: str, prompt: str):
    from openpyxl.worksheet.datavalidation import DataValidation

    return DataValidation(allow_blank=True, showInputMessage=True, promptTitle=title[:32], prompt=prompt)


def _validate(ws, cell, dv) -> None:
    ws.add_data_validation(dv)
    dv.add(cell)


def _font(bold: bool = False, size: int = 11):
    from openpyxl.styles import Font

    return Font(name="宋体", bold=bold, size=size)


def _alignment(wrap: bool = True, horizontal: str | None = None, vertical: str = "center"):
    from openpyxl.styles import Alignment

    return Alignment(wrap_text=wrap, horizontal=horizontal, vertical=vertical)


def _border():
    from openpyxl.styles import Border, Side

    thin = Side(style="thin", color="808080")
    return Border(left=thin, right=thin, top=thin, bottom=thin)


def _fill(colour: str):
    from openpyxl.styles import PatternFill

    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def _fixed(cell, header: bool = False, centre: bool = False) -> None:
    """A cell the unit must not change: grey, bordered, locked (the default once the sheet is protected)."""
    from openpyxl.styles import Protection

    cell.fill = _fill(HEADER_FILL if header else FIXED_FILL)
    cell.border = _border()
    cell.font = _font(bold=header)
    cell.alignment = _alignment(horizontal="center" if header or centre else None)
    cell.protection = Protection(locked=True)


def _input(cell, centre: bool = False) -> None:
    """A cell the unit fills: light yellow, bordered, unlocked."""
    from openpyxl.styles import Protection

    cell.fill = _fill(INPUT_FILL)
    cell.border = _border()
    cell.font = _font()
    cell.alignment = _alignment(horizontal="center" if centre else "left")
    cell.protection = Protection(locked=False)


def _number(value: float | None):
    """A target as a cell value: 300 rather than 300.0, None stays blank."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _text_width(text: object) -> int:
    """Display width: CJK (wide and full-width) characters count as 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text or ""))


def _fit(ws, headers: tuple[str, ...], min_height: float) -> None:
    """Column widths from the content (capped, with wrap), row heights from the wrapped lines."""
    from openpyxl.utils import get_column_letter

    widths = []
    for c, header in enumerate(headers, start=1):
        longest = max((_text_width(ws.cell(r, c).value) for r in range(HEADER_ROW, ws.max_row + 1)), default=0)
        width = min(max(longest, _text_width(header)) + 3, MAX_WIDTH.get(header, DEFAULT_MAX_WIDTH))
        if header in ("完成情况", "备注"):
            width = MAX_WIDTH[header]  # room to write in
        widths.append(max(width, 8))
        ws.column_dimensions[get_column_letter(c)].width = widths[-1]
    for r in range(FIRST_DATA_ROW, ws.max_row + 1):
        lines = max(math.ceil(_text_width(ws.cell(r, c).value) / max(w - 2, 1)) for c, w in enumerate(widths, 1))
        ws.row_dimensions[r].height = max(min_height, 15 * lines + 4)


def _finish(ws, freeze: str | None, print_rows: str | None, landscape: bool = True) -> None:
    """Protection (no password, input cells stay unlocked), frozen panes and A4 page setup."""
    protection = ws.protection
    protection.sheet = True
    protection.formatColumns = False  # False = allowed: widths and heights may still be adjusted
    protection.formatRows = False
    if freeze:
        ws.freeze_panes = freeze
    if print_rows:
        ws.print_title_rows = print_rows
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


__all__ = [
    "SHEETS", "INDICATOR_HEADERS", "TASK_HEADERS", "INFO_FIELDS", "STATUS_CHOICES", "DEADLINES",
    "Scope", "template_units", "scope_of", "indicator_rows", "task_rows", "template_filename",
    "build_template", "write_template", "write_all", "instructions",
]
