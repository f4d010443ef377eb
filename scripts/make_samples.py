#!/usr/bin/env python
"""Regenerate samples/: returns that look like the ones the units really send, and typical mistakes.

    python scripts/make_samples.py            # writes samples/returns/ and samples/bad/
    python scripts/make_samples.py --out DIR  # somewhere else (tests use this)

Deterministic: fixed figures, no randomness, no clock. Workbook properties carry a fixed date and
the zip containers are rewritten with fixed entry times, so two runs give the same bytes.

The good returns (2022–2024, one 上半年 return for 2024) come from the units that carry the
indicators. Some are the `lqip template` workbook filled in; others are laid out by hand the way
departments write their own forms: a title row, the spelled-out unit name, figures typed as text
with units ("320件", "85000万元", "1，200"), a single sheet with "填报单位：… 报告年度：…" in the
title, an .xls and an .ods. Figures meet, miss or leave out the plan's targets across the years.
samples/bad/ holds one mistake per file, named after it and its issue code.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lqip.model import Period  # noqa: E402
from lqip.outputs import atomic_save  # noqa: E402
from lqip.plan import load_plan  # noqa: E402
from lqip.template import (  # noqa: E402
    FIRST_DATA_ROW,
    HEADER_ROW,
    INDICATOR_SHEET,
    INFO_SHEET,
    TASK_SHEET,
    build_template,
)

FIXED = dt.datetime(2025, 1, 8, 9, 30, 0)
FIXED_ZIP_TIME = (2025, 1, 8, 9, 30, 0)
PLAN = load_plan()

# --- the figures -------------------------------------------------------------------------------------
# unit -> (year, period) -> {indicator: figure as the unit writes it}. None = left blank.
# 2022 mostly met; 2023 I01 missed (286 < 300) and I10 reported by 市人行 and 市市场监管局 alike;
# 2024 I04 missed, I10 left to 市人行; the 2024 half-year return behind on several.
FY, H1 = Period.FY, Period.H1
FIGURES: dict[str, dict[tuple[int, Period], dict[str, object]]] = {
    "市市场监管局": {
        (2022, FY): {"I01": 412, "I03": 103562, "I04": 1, "I07": 41, "I08": 3, "I09": 5, "I10": 8.5, "I12": 3,
                     "I13": 9, "I14": 6, "I15": 8, "I16": 1, "I17": 620, "I18": 2},
        (2023, FY): {"I01": 286, "I03": "108,911", "I04": 2, "I07": 39, "I08": 3, "I09": 6, "I10": "10.6亿元",
                     "I12": 3, "I13": 15, "I14": 7, "I15": 9, "I16": 1, "I17": "1，200", "I18": 3},
        (2024, FY): {"I01": 365, "I03": 115230, "I04": 1, "I07": 45, "I08": 3, "I09": 6, "I10": None, "I12": 4,
                     "I13": 16, "I14": 8, "I15": 10, "I16": 2, "I17": 540, "I18": 4},
        (2024, H1): {"I01": 160, "I03": 111800, "I04": 0, "I07": 21, "I08": 1, "I09": 3, "I10": 5.4, "I12": 1,
                     "I13": 7, "I14": 4, "I15": 9, "I16": 1, "I17": 260, "I18": 1},
    },
    "市法院": {(2022, FY): {"I06": 213}, (2023, FY): {"I06": 226}, (2024, FY): {"I06": 208}},
    "市科技局": {
        (2022, FY): {"I02": 7.2, "I11": 43},
        (2023, FY): {"I02": 7.6, "I11": 52},
        (2024, FY): {"I02": "8.1件", "I11": "61个"},
    },
    "市委宣传部": {(2022, FY): {"I05": "268件"}, (2023, FY): {"I05": 271}, (2024, FY): {"I05": 310}},
    "市司法局": {(2022, FY): {"I07": 62}, (2023, FY): {"I07": 58}, (2024, FY): {"I07": 70}},
    "市人行": {(2022, FY): {"I10": "85000万元"}, (2023, FY): {"I10": "10.6亿元"}, (2024, FY): {"I10": 12.3}},
    "各乡镇（街道）": {(2023, FY): {"I07": 8}, (2024, FY): {"I07": 9}},
}
NOTES = {("市市场监管局", 2024, FY, "I10"): "以市人行统计数据为准",
         ("市人行", 2022, FY, "I10"): "辖内银行机构知识产权质押融资授信合计"}
CONTACTS = {  # 填报人, 联系电话 (masked, as published samples are)
    "市市场监管局": ("陈晓", "0577-6***2101"), "市法院": ("周航", "0577-6***3312"),
    "市科技局": ("林雪", "0577-6***4520"), "市委宣传部": ("黄杰", "0577-6***1188"),
    "市司法局": ("郑宁", "0577-6***7703"), "市人行": ("吴倩", "0577-6***9016"),
    "各乡镇（街道）": ("叶磊", "0577-6***5561"),
}

# --- task progress ----------------------------------------------------------------------------------

DONE_TEXT = ("已按方案完成年度任务，相关工作台账已归档。", "年度目标任务已全部完成，工作总结已报送领导小组办公室。",
             "已完成，具体做法和成效见本单位年度工作总结。")
GOING_TEXT = ("按计划推进，已完成年度工作量的六成左右。", "已制定工作方案，正在组织实施。",
              "持续推进中，下阶段将加强与相关单位的协作。")
BEHIND_TEXT = ("受项目审批进度影响，进度滞后，计划下季度完成。", "相关单位协调尚未到位，进度滞后，已列入下阶段重点。")
NOT_STARTED_TEXT = ("计划下半年启动。",)


def progress(task_id: str, year: int, period: Period) -> tuple[str, str]:
    """(status, progress text) for a task: a fixed rule, not a random draw."""
    n = int(task_id[1:])
    h = (n * 7 + year) % 10
    if period is H1:
        if h in (0, 5):
            return "滞后", BEHIND_TEXT[n % 2]
        if h == 7:
            return "未启动", NOT_STARTED_TEXT[0]
        return "推进中", GOING_TEXT[n % 3]
    done_below = {2022: 3, 2023: 5, 2024: 8}.get(year, 5)
    if h < done_below:
        return "已完成", DONE_TEXT[n % 3]
    if h == 9 and year == 2023:
        return "滞后", BEHIND_TEXT[n % 2]
    return "推进中", GOING_TEXT[n % 3]


def tasks_of(unit: str) -> list:
    duty = PLAN.responsibility[unit]
    ids = duty["lead_tasks"] | duty["co_tasks"]
    return [t for t in PLAN.tasks if t.id in ids]


# --- saving, deterministically ----------------------------------------------------------------------


def normalise_zip(path: Path) -> None:
    """Rewrite a zip container (xlsx, ods) with fixed entry times and fixed document dates."""
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info.filename)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info, data in entries:
            item = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            item.compress_type = info.compress_type
            item.external_attr = 0o644 << 16
            dst.writestr(item, _fixed_dates(info.filename, data))
    path.write_bytes(out.getvalue())


def _fixed_dates(name: str, data: bytes) -> bytes:
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%S").encode()
    if name == "docProps/core.xml":
        data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp + b"Z", data)
    elif name == "meta.xml":
        data = re.sub(rb"(<(meta:creation-date|dc:date)>)[^<]*", rb"\g<1>" + stamp, data)
    return data


def save_xlsx(wb, path: Path) -> Path:
    wb.properties.created = FIXED
    wb.properties.modified = FIXED

    def write(tmp: Path) -> None:
        wb.save(tmp)
        normalise_zip(tmp)

    return atomic_save(path, write, force=True)


def save_bytes(data: bytes, path: Path) -> Path:
    return atomic_save(path, lambda tmp: tmp.write_bytes(data), force=True)


# --- returns from the template ------------------------------------------------------------------------


def filled_template(unit: str, year: int, period: Period = FY, reporter: str | None = None,
                    date: str = "2025-01-08", with_tasks: bool = True):
    """The unit's template with its figures, contact, and the progress of its tasks filled in."""
    wb = build_template(PLAN, unit, year, period)
    info = wb[INFO_SHEET]
    contact, phone = CONTACTS[unit]
    rows = {info.cell(r, 1).value: r for r in range(1, info.max_row + 1)}
    if reporter:
        info.cell(rows["填报单位"], 2).value = reporter
    info.cell(rows["填报人"], 2).value = contact
    info.cell(rows["联系电话"], 2).value = phone
    info.cell(rows["填报日期"], 2).value = date
    figures = FIGURES.get(unit, {}).get((year, period), {})
    ind = wb[INDICATOR_SHEET]
    for r in range(FIRST_DATA_ROW, ind.max_row + 1):
        code = ind.cell(r, 1).value
        if figures.get(code) is not None:
            ind.cell(r, 6).value = figures[code]
        note = NOTES.get((unit, year, period, code))
        if note:
            ind.cell(r, 8).value = note
    if with_tasks:
        ws = wb[TASK_SHEET]
        for r in range(FIRST_DATA_ROW, ws.max_row + 1):
            status, text = progress(ws.cell(r, 1).value, year, period)
            ws.cell(r, 5).value = status
            ws.cell(r, 6).value = text
    return wb


# --- hand-made layouts ----------------------------------------------------------------------------------


@dataclass
class Sheet:
    """A sheet as a department lays it out: rows from A1, the table's header row, merges, widths."""

    name: str
    rows: list[list]
    header: int | None = None  # 1-based row of the table header (borders from there down)
    merges: list[str] = field(default_factory=list)
    widths: dict[str, float] = field(default_factory=dict)


def handmade_xlsx(sheets: list[Sheet], author: str = "Administrator"):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    wb.remove(wb.active)
    thin = Side(style="thin")
    for spec in sheets:
        ws = wb.create_sheet(spec.name)
        for row in spec.rows:
            ws.append(row)
        for r, row in enumerate(ws.iter_rows(), start=1):
            for cell in row:
                cell.font = Font(name="宋体", size=11, bold=spec.header == r)
                if spec.header and r >= spec.header and r < spec.header + _table_height(spec):
                    cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
                    cell.alignment = Alignment(wrap_text=True, vertical="center")
        if spec.rows and spec.header and spec.header > 1:
            ws["A1"].font = Font(name="黑体", size=16)
            ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
            ws.row_dimensions[1].height = 28
        for merge in spec.merges:
            ws.merge_cells(merge)
        for col, width in spec.widths.items():
            ws.column_dimensions[col].width = width
        _row_heights(ws, spec)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.creator = author
    wb.properties.lastModifiedBy = author
    return wb


def _row_heights(ws, spec: Sheet) -> None:
    """Room for wrapped text in the table rows (a spreadsheet does not always refit them on opening)."""
    from lqip.template import _text_width

    if not spec.header:
        return
    for r in range(spec.header, spec.header + _table_height(spec)):
        lines = 1
        for cell in ws[r]:
            width = spec.widths.get(cell.column_letter, 9)
            lines = max(lines, -(-_text_width(cell.value) // max(int(width) - 1, 1)))
        if lines > 1:
            ws.row_dimensions[r].height = 15 * lines


def _table_height(spec: Sheet) -> int:
    height = 0
    for row in spec.rows[spec.header - 1:]:
        if not any(v not in (None, "") for v in row):
            break
        if str(row[0] or "").startswith(("注", "填表人", "审核")):
            break
        height += 1
    return height


def court_2022_single_sheet() -> Sheet:
    """市法院 2022: one sheet, the unit and year in a title row, no info sheet."""
    return Sheet(
        "Sheet1",
        [
            ["乐清市知识产权强县建设试点工作指标完成情况表"],
            ["填报单位：乐清市人民法院        报告年度：2022年"],
            ["序号", "指标名称", "计量单位", "目标值", "完成值", "备注"],
            [1, "知识产权司法诉讼案件一审审结（件）", "件", 200, 213, "含民事、刑事、行政一审知识产权案件"],
            [],
            ["填表人：周航    审核：王建    联系电话：0577-6***3312"],
        ],
        header=3, merges=["A1:F1", "A2:F2"], widths={"B": 36, "F": 36},
    )


def market_2023_handmade() -> list[Sheet]:
    """市市场监管局 2023: its own form — 基本信息, a 主要指标 table by name, 重点任务 by 序号."""
    figures = FIGURES["市市场监管局"][(2023, FY)]
    rows = [["2023年度乐清市知识产权强县建设主要指标完成情况"],
            ["序号", "主要指标", "计量单位", "2023年目标值", "2023年完成值", "数据来源"]]
    sources = {"I01": "国家知识产权局统计", "I03": "国家知识产权局商标局", "I10": "市人行、银保监组"}
    for n, ind in enumerate(i for i in PLAN.indicators if i.id in figures):
        target = PLAN.target(ind, 2023)
        label = ind.aliases[0] if ind.aliases else ind.name
        rows.append([n + 1, f"{label}（{ind.unit}）", ind.unit, _plain(target), figures[ind.id],
                     sources.get(ind.id, "本局统计")])
    rows += [[], ["注：有效注册商标量为年末累计数。"]]
    task_rows = [["乐清市知识产权强县建设重点任务推进情况（2023年）"], ["序号", "任务内容", "状态", "进展情况"]]
    for task in tasks_of("市市场监管局"):
        status, text = progress(task.id, 2023, FY)
        task_rows.append([int(task.id[1:]), task.content, {"推进中": "正在推进"}.get(status, status), text])
    info = [["填报单位", "乐清市市场监督管理局"], ["报告年度", "2023年度"], ["报告期", "全年"],
            ["填报人", "陈晓"], ["联系电话", "0577-6***2101"], ["填报日期", "2024年1月9日"]]
    return [
        Sheet("基本信息", info, widths={"A": 12, "B": 28}),
        Sheet("指标", rows, header=2, merges=["A1:F1"], widths={"B": 40, "F": 22}),
        Sheet("重点任务", task_rows, header=2, merges=["A1:D1"], widths={"B": 70, "D": 40}),
    ]


def science_2024_handmade() -> list[Sheet]:
    """市科技局 2024: figures typed with their units; its own column titles."""
    figures = FIGURES["市科技局"][(2024, FY)]
    rows = [["2024年乐清市知识产权强县建设指标完成情况（市科技局）"],
            ["指标", "单位", "2024年目标", "2024年完成值", "备注"]]
    for ind in PLAN.indicators:
        if ind.id in figures:
            rows.append([ind.name, ind.unit, _plain(PLAN.target(ind, 2024)), figures[ind.id], ""])
    info = [["填报单位", "乐清市科学技术局"], ["报告年度", 2024], ["填报人", "林雪"], ["联系电话", "0577-6***4520"]]
    return [Sheet("填报信息", info, widths={"A": 12, "B": 24}),
            Sheet("指标完成情况", rows, header=2, merges=["A1:E1"], widths={"A": 32, "D": 14})]


def publicity_2022_handmade() -> list[Sheet]:
    """市委宣传部 2022: the office's own name, "268件" typed in the value cell."""
    rows = [["版权工作指标完成情况（2022年度）"],
            ["编号", "指标名称", "年度", "目标值", "完成值", "备注"],
            ["I05", "计算机软件等版权登记量", 2022, 250, FIGURES["市委宣传部"][(2022, FY)]["I05"],
             "含作品登记和计算机软件著作权登记"]]
    info = [["填报单位", "中共乐清市委宣传部"], ["报告年度", "2022"], ["报告期", "全年"], ["填报人", "黄杰"]]
    return [Sheet("填报信息", info, widths={"A": 12, "B": 24}),
            Sheet("指标完成情况", rows, header=2, merges=["A1:F1"], widths={"B": 28, "F": 34})]


def justice_2024_handmade() -> list[Sheet]:
    """市司法局 2024: title row, tasks by plan 序号 with the status words people use."""
    rows = [["2024年知识产权纠纷调解工作情况"],
            ["指标名称", "计量单位", "目标值", "完成值", "备注"],
            ["知识产权调解案件数量", "件", 120, FIGURES["市司法局"][(2024, FY)]["I07"], "本局人民调解组织受理"]]
    task_rows = [["序号", "工作内容", "状态", "进展情况"]]
    for task in tasks_of("市司法局"):
        status, text = progress(task.id, 2024, FY)
        task_rows.append([int(task.id[1:]), task.content, {"已完成": "完成"}.get(status, status), text])
    info = [["填报单位", "乐清市司法局"], ["报告年度", "2024年"], ["填报人", "郑宁"], ["填报日期", "2025年1月6日"]]
    return [Sheet("基本信息", info, widths={"A": 12, "B": 24}),
            Sheet("指标", rows, header=2, merges=["A1:E1"], widths={"A": 26, "E": 26}),
            Sheet("重点工作", task_rows, header=1, widths={"B": 70, "D": 40})]


def bank_handmade(year: int, unit_column: str = "亿元") -> list[Sheet]:
    """市人行: spelled out as 中国人民银行乐清市支行; 2022 in 万元 (converted to 亿元)."""
    value = FIGURES["市人行"][(year, FY)]["I10"]
    rows = [[f"{year}年知识产权质押融资情况表"],
            ["填报单位：中国人民银行乐清市支行"],
            ["指标名称", "计量单位", "年度", "目标值（亿元）", "完成值", "备注"],
            ["知识产权质押融资授信额", unit_column, year, _plain(PLAN.target(PLAN.indicator_by_id["I10"], year)),
             value, NOTES.get(("市人行", year, FY, "I10"), "")]]
    info = [["填报单位", "中国人民银行乐清市支行"], ["报告年度", year], ["报告期", "全年"], ["填报人", "吴倩"]]
    return [Sheet("填报信息", info, widths={"A": 12, "B": 28}),
            Sheet("指标完成情况", rows, header=3, merges=["A1:F1", "A2:F2"], widths={"A": 26, "F": 34})]


def _plain(value):
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# --- .xls and .ods ------------------------------------------------------------------------------------


def court_2023_rows() -> dict[str, list[list]]:
    tasks = [["任务编号", "主要内容", "进展状态", "完成情况"]]
    for task in tasks_of("市法院"):
        status, text = progress(task.id, 2023, FY)
        tasks.append([task.id, task.content, status, text])
    return {
        "填报信息": [["填报单位", "乐清市人民法院"], ["报告年度", "2023年"], ["报告期", "全年"],
                 ["填报人", "周航"], ["联系电话", "0577-6***3312"], ["填报日期", "2024年1月8日"]],
        "指标完成情况": [["2023年度指标完成情况"], ["指标编号", "指标名称", "计量单位", "目标值", "完成值", "备注"],
                   ["I06", "知识产权司法诉讼案件一审审结", "件", 200, FIGURES["市法院"][(2023, FY)]["I06"], ""]],
        "任务进展": tasks,
    }


def write_xls(sheets: dict[str, list[list]], path: Path) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    bold = xlwt.easyxf("font: name 宋体, bold on; borders: left thin, right thin, top thin, bottom thin")
    plain = xlwt.easyxf("font: name 宋体; borders: left thin, right thin, top thin, bottom thin; "
                        "align: wrap on, vert centre")
    for name, rows in sheets.items():
        ws = book.add_sheet(name)
        header = next(i for i, row in enumerate(rows) if len(row) > 2) if any(len(r) > 2 for r in rows) else -1
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                ws.write(r, c, value, bold if r == header else plain)
        ws.col(1).width = 256 * 40
    return atomic_save(path, lambda tmp: book.save(str(tmp)), force=True)


def write_ods(sheets: dict[str, list[list]], path: Path) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            tr = TableRow()
            for value in row:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                cell.addElement(P(text="" if value is None else str(value)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)

    def write(tmp: Path) -> None:
        doc.save(str(tmp))
        normalise_zip(tmp)

    return atomic_save(path, write, force=True)


def science_2023_rows() -> dict[str, list[list]]:
    figures = FIGURES["市科技局"][(2023, FY)]
    rows = [["指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值", "备注"]]
    for ind in PLAN.indicators:
        if ind.id in figures:
            rows.append([ind.id, ind.name, 2023, ind.unit, _plain(PLAN.target(ind, 2023)), figures[ind.id], ""])
    tasks = [["任务编号", "进展状态", "完成情况"]]
    for task in tasks_of("市科技局"):
        status, text = progress(task.id, 2023, FY)
        tasks.append([task.id, status, text])
    return {"填报信息": [["填报单位", "市科技局"], ["报告年度", 2023], ["报告期", "全年"], ["填报人", "林雪"]],
            "指标完成情况": rows, "任务进展": tasks}


# --- the good returns ---------------------------------------------------------------------------------


def good_samples(out: Path) -> list[Path]:
    t = filled_template
    written = [
        save_xlsx(t("市市场监管局", 2022), out / "2022_市市场监管局_填报表.xlsx"),
        save_xlsx(handmade_xlsx(market_2023_handmade()), out / "2023_乐清市市场监督管理局_指标及任务完成情况.xlsx"),
        save_xlsx(t("市市场监管局", 2024), out / "2024_市市场监管局_填报表.xlsx"),
        save_xlsx(t("市市场监管局", 2024, H1, date="2024-07-09"), out / "2024_上半年_市市场监管局_填报表.xlsx"),
        save_xlsx(handmade_xlsx([court_2022_single_sheet()]), out / "2022_乐清市人民法院_知识产权审判指标.xlsx"),
        write_xls(court_2023_rows(), out / "2023_市法院_填报表.xls"),
        save_xlsx(t("市法院", 2024), out / "2024_市法院_填报表.xlsx"),
        save_xlsx(t("市科技局", 2022), out / "2022_市科技局_填报表.xlsx"),
        write_ods(science_2023_rows(), out / "2023_市科技局_填报表.ods"),
        save_xlsx(handmade_xlsx(science_2024_handmade()), out / "2024_市科技局_指标完成情况.xlsx"),
        save_xlsx(handmade_xlsx(publicity_2022_handmade()), out / "2022_市委宣传部_版权登记.xlsx"),
        save_xlsx(t("市委宣传部", 2023), out / "2023_市委宣传部_填报表.xlsx"),
        save_xlsx(t("市委宣传部", 2024), out / "2024_市委宣传部_填报表.xlsx"),
        save_xlsx(t("市司法局", 2022), out / "2022_市司法局_填报表.xlsx"),
        save_xlsx(t("市司法局", 2023), out / "2023_市司法局_填报表.xlsx"),
        save_xlsx(handmade_xlsx(justice_2024_handmade()), out / "2024_乐清市司法局_调解工作情况.xlsx"),
        save_xlsx(handmade_xlsx(bank_handmade(2022, unit_column="")), out / "2022_中国人民银行乐清市支行_质押融资.xlsx"),
        save_xlsx(handmade_xlsx(bank_handmade(2023, unit_column="")), out / "2023_中国人民银行乐清市支行_质押融资.xlsx"),
        save_xlsx(t("市人行", 2024), out / "2024_市人行_填报表.xlsx"),
        save_xlsx(t("各乡镇（街道）", 2023, reporter="柳市镇"), out / "2023_柳市镇_填报表.xlsx"),
        save_xlsx(t("各乡镇（街道）", 2024, reporter="柳市镇"), out / "2024_柳市镇_填报表.xlsx"),
    ]
    return written


# --- the typical mistakes -----------------------------------------------------------------------------
# Each is the 市法院 2024 return (filled template) with one thing wrong, unless said otherwise.


def court():
    return filled_template("市法院", 2024)


def _info(wb, key: str, value) -> None:
    ws = wb[INFO_SHEET]
    for r in range(1, ws.max_row + 1):
        if ws.cell(r, 1).value == key:
            ws.cell(r, 2).value = value
            return
    raise KeyError(key)


def _value(wb, value, row: int = FIRST_DATA_ROW, col: int = 6) -> None:
    wb[INDICATOR_SHEET].cell(row, col).value = value


def _task(wb, row: int, task_id=None, status=None, text=None) -> None:
    ws = wb[TASK_SHEET]
    for col, value in ((1, task_id), (5, status), (6, text)):
        if value is not None:
            ws.cell(row, col).value = value


def _append_indicator(wb, values: list) -> None:
    ws = wb[INDICATOR_SHEET]
    r = ws.max_row + 1
    for c, value in enumerate(values, start=1):
        ws.cell(r, c).value = value


def _append_task(wb, values: list) -> None:
    ws = wb[TASK_SHEET]
    r = ws.max_row + 1
    for c, value in enumerate(values, start=1):
        ws.cell(r, c).value = value


def _mutated(change: Callable) -> object:
    wb = court()
    change(wb)
    return wb


def bad_unit_name(wb):
    _info(wb, "填报单位", "乐清市知识产权局")


def bad_no_unit(wb):
    _info(wb, "填报单位", None)


def bad_no_year(wb):
    _info(wb, "报告年度", None)


def bad_period(wb):
    _info(wb, "报告期", "全年预计")


def bad_wrong_sheets(wb):
    for ws in wb.worksheets:
        ws.title = {"填报信息": "Sheet1", "指标完成情况": "Sheet2", "任务进展": "Sheet3"}.get(ws.title, ws.title)
    ws = wb["Sheet2"]
    ws.cell(HEADER_ROW, 1).value = "项目"
    ws.cell(HEADER_ROW, 6).value = "数量"
    tasks = wb["Sheet3"]
    tasks.cell(HEADER_ROW, 1).value = "项目"
    tasks.cell(HEADER_ROW, 5).value = "情况"


def bad_no_value_column(wb):
    """The 完成值 column deleted (the figure typed into 备注 instead)."""
    ws = wb[INDICATOR_SHEET]
    ws.data_validations.dataValidation = []
    ws.delete_cols(6)
    ws.cell(FIRST_DATA_ROW, 7).value = "全年审结208件"


def bad_not_responsible_indicator(wb):
    _append_indicator(wb, ["I01", "发明专利授权量", 2024, "件", 350, 12, "配合", "涉专利案件数"])


def bad_not_responsible_task(wb):
    task = PLAN.task_by_id["T35"]
    _append_task(wb, ["T35", PLAN.task_place["T35"][1].name, task.content, "配合", "推进中", "配合开展质押融资宣传。"])


def bad_unknown_indicator(wb):
    _append_indicator(wb, ["I25", "新增专利代理机构", 2024, "家", None, 2, "", ""])


def bad_code_name(wb):
    wb[INDICATOR_SHEET].cell(FIRST_DATA_ROW, 2).value = "发明专利授权量"


def bad_text_value(wb):
    _value(wb, "约210")


def bad_negative(wb):
    _value(wb, -3)


def bad_fraction(wb):
    _value(wb, 212.5)


def bad_year(wb):
    _info(wb, "报告年度", 2021)
    wb[INDICATOR_SHEET].cell(FIRST_DATA_ROW, 3).value = 2021


def bad_duplicate(wb):
    _append_indicator(wb, ["I06", "知识产权司法诉讼案件一审审结", 2024, "件", 200, 226, "牵头", "另一口径"])


def bad_unreported(wb):
    _value(wb, None)


def bad_formula(wb):
    _value(wb, "=SUM(105,103)")


def bad_target(wb):
    wb[INDICATOR_SHEET].cell(FIRST_DATA_ROW, 5).value = 180


def bad_implausible(wb):
    _value(wb, 2080)


def bad_unknown_task(wb):
    _append_task(wb, ["T49", "", "开展知识产权审判进校园活动", "牵头", "已完成", "开展活动3场。"])


def bad_status(wb):
    _task(wb, FIRST_DATA_ROW, status="基本完成")


def bad_no_progress(wb):
    _task(wb, FIRST_DATA_ROW, status="已完成", text="")
    wb[TASK_SHEET].cell(FIRST_DATA_ROW, 6).value = None


def bad_duplicate_task(wb):
    ws = wb[TASK_SHEET]
    _append_task(wb, [ws.cell(FIRST_DATA_ROW, c).value for c in range(1, 5)] + ["滞后", "年底前完成。"])


def bank_unit_mismatch() -> object:
    """市人行 writes the number of loans (笔) in place of the credit line."""
    sheets = bank_handmade(2023)
    sheets[1].rows[3][1] = "笔"
    sheets[1].rows[3][4] = 126
    return handmade_xlsx(sheets)


BAD_WORKBOOKS: dict[str, Callable] = {
    "单位名称写错_U201.xlsx": bad_unit_name,
    "缺少填报单位_S103.xlsx": bad_no_unit,
    "缺少报告年度_S104.xlsx": bad_no_year,
    "报告期不明_S105.xlsx": bad_period,
    "工作表改名_S101.xlsx": bad_wrong_sheets,
    "缺少完成值列_S102.xlsx": bad_no_value_column,
    "非本单位指标_U202.xlsx": bad_not_responsible_indicator,
    "非本单位任务_U203.xlsx": bad_not_responsible_task,
    "未知指标_V301.xlsx": bad_unknown_indicator,
    "编号名称不符_V302.xlsx": bad_code_name,
    "数值带文字_V303.xlsx": bad_text_value,
    "负数_V304.xlsx": bad_negative,
    "小数件数_V305.xlsx": bad_fraction,
    "年度超出_V308.xlsx": bad_year,
    "重复填报_V309.xlsx": bad_duplicate,
    "牵头指标未填_V310.xlsx": bad_unreported,
    "公式无缓存值_V311.xlsx": bad_formula,
    "目标值不符_V312.xlsx": bad_target,
    "数据存疑_V313.xlsx": bad_implausible,
    "未知任务_T401.xlsx": bad_unknown_task,
    "状态不明_T402.xlsx": bad_status,
    "已完成无说明_T403.xlsx": bad_no_progress,
    "任务重复_T404.xlsx": bad_duplicate_task,
}


def fake_encrypted_ole() -> bytes:
    """A minimal, well-formed OLE compound file holding the two streams of an encrypted workbook.

    It is not a real encrypted workbook (the streams hold zeros after a version header): it has the
    shape Excel gives a password-protected file, which is what a reader must recognise.
    """
    end, free, fat_sect, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    sector = 512
    stream_sectors = 8  # 4096 bytes each: at the mini-stream cutoff, so stored in regular sectors
    info_start, package_start = 2, 2 + stream_sectors
    n_sectors = package_start + stream_sectors
    fat = [fat_sect, end]
    for start in (info_start, package_start):
        fat += [start + i + 1 for i in range(stream_sectors - 1)] + [end]
    fat += [free] * (sector // 4 - len(fat))
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", bytes.fromhex("d0cf11e0a1b11ae1"), b"\0" * 16, 0x3E, 3,
                         0xFFFE, 9, 6, b"\0" * 6, 0, 1, 1, 0, 0x1000, end, 0, end, 0)
    header += struct.pack("<109I", 0, *([free] * 108))

    def entry(name: str, kind: int, colour: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = (name.encode("utf-16-le") + b"\0\0") if name else b""
        return struct.pack("<64sHBBIII16sIQQIQ", raw, len(raw), kind, colour, left, right, child, b"\0" * 16,
                           0, 0, 0, start, size)

    directory = b"".join([
        entry("Root Entry", 5, 1, nostream, nostream, 1, end, 0),
        entry("EncryptionInfo", 2, 1, nostream, 2, nostream, info_start, 4096),
        entry("EncryptedPackage", 2, 0, nostream, nostream, nostream, package_start, 4096),
        entry("", 0, 0, nostream, nostream, nostream, 0, 0),
    ])
    info = struct.pack("<HHI", 4, 2, 0x24).ljust(4096, b"\0")  # "standard encryption" version 4.2
    package = struct.pack("<Q", 4096 - 8).ljust(4096, b"\0")
    body = struct.pack(f"<{len(fat)}I", *fat) + directory + info + package
    data = header + body
    assert len(data) == sector * (n_sectors + 1)
    return data


FAKE_PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def conflict_pair(out: Path) -> list[Path]:
    """Two returns that each check clean but give I10 2023 differently: V320 in `lqip summary`."""
    market = handmade_xlsx(market_2023_handmade())
    ws = market["指标"]
    for r in range(1, ws.max_row + 1):
        if str(ws.cell(r, 2).value or "").startswith("知识产权质押融资"):
            ws.cell(r, 5).value = "10.2亿元"
    return [
        save_xlsx(market, out / "2023_市市场监管局_指标.xlsx"),
        save_xlsx(handmade_xlsx(bank_handmade(2023, unit_column="")), out / "2023_市人行_质押融资.xlsx"),
    ]


def bad_samples(out: Path) -> list[Path]:
    written = [save_xlsx(_mutated(change), out / name) for name, change in BAD_WORKBOOKS.items()]
    written.append(save_xlsx(bank_unit_mismatch(), out / "单位不符_V306.xlsx"))
    written.append(save_bytes(fake_encrypted_ole(), out / "加密文件_F003.xlsx"))
    written.append(save_bytes(FAKE_PDF, out / "不是表格_F002.xlsx"))
    written.append(save_bytes(b"", out / "空文件_F002.xlsx"))
    written += conflict_pair(out / "数据不一致_V320")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "samples", help="output directory (default: samples/)")
    args = parser.parse_args(argv)
    good = good_samples(args.out / "returns")
    bad = bad_samples(args.out / "bad")
    for path in good + bad:
        print(path.relative_to(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
