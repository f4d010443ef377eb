"""The scorecard workbook of `lqip summary --output FILE.xlsx`.

Sheets 指标 / 单位 / 任务 (the three views) and 问题清单 (every finding with file and cell), each
with a bold frozen header row, an auto-filter, widths that fit Chinese text (a CJK character
counts two) and statuses filled green (pass), red (fail) and yellow (missing, behind, not
reported). The 指标 sheet carries a native bar chart of the completion ratio by indicator for the
year of the view.

Text that comes from a return (unit and file names, messages…) is always written as a string
cell, never a formula, and one that starts like a formula is also marked quote-prefixed, so Excel
and WPS show it as typed. Library only: openpyxl is imported inside the functions.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from lqip.outputs import atomic_save
from lqip.renderers.summary_formats import (
    COLUMNS,
    FORMULA_START,
    ISSUES,
    SEVERITY_WORDS,
    TASK_KEYS,
    TASK_WORDS,
    headers,
    status_word,
    table,
)
from lqip.scoring import TOTAL
from lqip.summary import View

SHEET_NAMES = {View.INDICATOR: "指标", View.UNIT: "单位", View.TASK: "任务", ISSUES: "问题清单"}
FILLS = {  # status -> background (ARGB without alpha)
    "pass": "C6EFCE", "on_track": "C6EFCE", "done": "C6EFCE",
    "fail": "FFC7CE", "error": "FFC7CE",
    "missing": "FFEB9C", "behind": "FFEB9C", "unreported": "FFEB9C", "not_started": "FFEB9C", "warning": "FFEB9C",
}
HEADER_FILL = "D9D9D9"
MAX_WIDTH = 60
MIN_WIDTH = 6
STATUS_COLUMNS = {"status", "severity"}
FLAG_COLUMNS = {  # count or list columns filled when not zero / empty
    "fail": "fail", "missing": "missing", "behind": "behind", "unreported": "unreported",
    "lead_behind": "behind", "lead_not_started": "not_started", "lead_unreported": "unreported",
    "unreported_leads": "unreported",
}
PERCENT_COLUMNS = {"ratio", "elapsed"}


def display_width(text: str) -> int:
    """Columns a text takes on screen: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def write_scorecard(summary, path: str | os.PathLike, lang: str = "zh", force: bool = False) -> Path:
    """Write the scorecard of `summary` to `path` atomically (OutputExists when it exists and not `force`)."""
    return atomic_save(path, lambda tmp: build_scorecard(summary, lang).save(tmp), force=force)


def build_scorecard(summary, lang: str = "zh"):
    """The scorecard as an openpyxl Workbook (not saved)."""
    from openpyxl import Workbook

    records = summary.to_dict(lang)
    book = Workbook()
    book.remove(book.active)
    for which in (View.INDICATOR, View.UNIT, View.TASK, ISSUES):
        sheet = book.create_sheet(SHEET_NAMES[which])
        _fill_sheet(sheet, which, table(records, which, lang), lang)
    _chart(book[SHEET_NAMES[View.INDICATOR]], summary, lang)
    return book


def _header_text(key: str, lang: str) -> str:
    h = headers(lang)
    if key.startswith(("lead_", "co_")) and key.partition("_")[2] in TASK_KEYS:
        side, _, status = key.partition("_")
        return f"{h[side]}·{TASK_WORDS['zh' if lang == 'zh' else 'en'][status]}"
    return h[key]


def _shown(key: str, value: object, lang: str) -> object:
    """The value as the sheet shows it: statuses in words, the plan-period year as a word."""
    if key in STATUS_COLUMNS and value:
        if key == "severity":
            return SEVERITY_WORDS["zh" if lang == "zh" else "en"][value]
        return status_word(value, lang)
    if key == "year" and value == TOTAL:
        return "方案期" if lang == "zh" else "plan"
    return value


def set_text(cell, value: object) -> None:
    """Write a value; text is always a string cell (never a formula), formula-like text quote-prefixed,
    and control characters XML cannot hold (a file name may have them) become U+FFFD."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True


def _fill_sheet(sheet, which: str, rows: list[dict], lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = COLUMNS[which]
    widths = [display_width(_header_text(k, lang)) for k in columns]
    for c, key in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=c)
        set_text(cell, _header_text(key, lang))
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    fills = {k: PatternFill("solid", fgColor=v) for k, v in FILLS.items()}
    for r, row in enumerate(rows, start=2):
        total = row.get("year") == TOTAL
        for c, key in enumerate(columns, start=1):
            value = row.get(key)
            cell = sheet.cell(row=r, column=c)
            set_text(cell, _shown(key, value, lang))
            if key in PERCENT_COLUMNS and isinstance(value, (int, float)):
                cell.number_format = "0%"
            flag = value if key in STATUS_COLUMNS else (FLAG_COLUMNS.get(key) if value else None)
            if flag in fills:
                cell.fill = fills[flag]
            if total:
                cell.font = Font(italic=True, color="595959")
            shown = cell.value
            text = f"{shown:.0%}" if key in PERCENT_COLUMNS and isinstance(shown, (int, float)) else str(shown or "")
            widths[c - 1] = max(widths[c - 1], display_width(text))
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
    sheet.freeze_panes = "B2" if which != ISSUES else "A2"
    # Offices print: A4 landscape, every column on one page width, the header row on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_area = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"  # the table, not the chart
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def chart_year(summary) -> int | None:
    """The year the chart shows: the one asked for, else the latest year of the view."""
    return summary.year if summary.year is not None else summary.last_year


def _chart(sheet, summary, lang: str) -> None:
    """A bar chart of the completion ratio by indicator for the chart year, from its own small table
    to the right of the view (the view's rows of one year are not contiguous)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.utils import get_column_letter

    year = chart_year(summary)
    if year is None:
        return
    lines = [ln for ln in summary.lines if ln.score.year == year]
    if not lines:
        return
    first_col = len(COLUMNS[View.INDICATOR]) + 2
    h = headers(lang)
    set_text(sheet.cell(row=1, column=first_col), h["indicator"])
    set_text(sheet.cell(row=1, column=first_col + 1), f"{year} {h['ratio']}")
    for i, line in enumerate(lines, start=2):
        set_text(sheet.cell(row=i, column=first_col), line.indicator.id)
        cell = sheet.cell(row=i, column=first_col + 1)
        cell.value = None if line.score.ratio is None else round(line.score.ratio, 4)
        cell.number_format = "0%"
    sheet.column_dimensions[get_column_letter(first_col + 1)].width = 14
    chart = BarChart()
    chart.type = "col"
    chart.title = f"{year} {'指标完成率' if lang == 'zh' else 'completion ratio by indicator'}"
    chart.y_axis.title = h["ratio"]
    chart.y_axis.numFmt = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.title = h["indicator"]
    chart.legend = None
    data = Reference(sheet, min_col=first_col + 1, min_row=1, max_row=len(lines) + 1)
    cats = Reference(sheet, min_col=first_col, min_row=2, max_row=len(lines) + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    chart.width, chart.height = 24, 10
    sheet.add_chart(chart, f"{get_column_letter(first_col + 3)}2")
