"""Templates for the units (lqip.template): structure, files, and round trips through `lqip check`.

Every workbook is built in code. The LibreOffice round trips convert a generated template with
`soffice --headless` and are skipped (with the reason) only when soffice is not installed; CI
installs it with .ci/setup-libreoffice.sh.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from lqip import template
from lqip.findings import Severity
from lqip.model import Period
from lqip.outputs import OutputExists
from lqip.plan import load_plan
from lqip.reader import INDICATOR_COLUMNS, INFO_KEYS, SHEET_NAMES, TASK_COLUMNS, header_key
from lqip.text import fold

PLAN = load_plan()
UNITS = template.template_units(PLAN)


def _check_file():
    check = pytest.importorskip("lqip.check", reason="lqip.check (the checker) is not written yet")
    return check.check_file


# --- helpers -----------------------------------------------------------------------------------------


def header_columns(ws) -> dict[str, int]:
    """Header text -> 1-based column, from the template's header row."""
    return {ws.cell(template.HEADER_ROW, c).value: c for c in range(1, ws.max_column + 1)
            if ws.cell(template.HEADER_ROW, c).value}


def data_rows(ws) -> range:
    return range(template.FIRST_DATA_ROW, ws.max_row + 1)


def column_values(ws, header: str) -> list:
    col = header_columns(ws)[header]
    return [ws.cell(r, col).value for r in data_rows(ws)]


def fill_workbook(wb, plan=PLAN, unit: str | None = None) -> None:
    """Fill every value cell with a valid figure (the target, or 1 without one) and every status."""
    if unit is not None:
        wb[template.INFO_SHEET]["B3"] = unit
    ind = wb[template.INDICATOR_SHEET]
    cols = header_columns(ind)
    for r in data_rows(ind):
        target = ind.cell(r, cols["目标值"]).value
        ind.cell(r, cols["完成值"]).value = target if target is not None else 1
    tasks = wb[template.TASK_SHEET]
    cols = header_columns(tasks)
    for r in data_rows(tasks):
        tasks.cell(r, cols["进展状态"]).value = "推进中"
        tasks.cell(r, cols["完成情况"]).value = "按计划推进，已完成年度工作的一半。"


def fill_file(path: Path, unit: str | None = None) -> None:
    wb = openpyxl.load_workbook(path)
    fill_workbook(wb, unit=unit)
    wb.save(path)


def problems(report, allowed: set[str] = frozenset()):
    """Findings of warning or error severity, except the allowed codes, as (code, sheet, cell)."""
    return [(f.code, f.sheet, f.cell) for f in report.findings
            if f.severity in (Severity.ERROR, Severity.WARNING) and f.code not in allowed]


def lead_indicators_with_target(unit: str, year: int) -> set[str]:
    leads = PLAN.responsibility[unit]["lead_indicators"]
    return {i.id for i in PLAN.indicators if i.id in leads and PLAN.target(i, year) is not None}


# --- what a template holds ---------------------------------------------------------------------------


def test_template_units_are_the_units_with_tasks_in_plan_order():
    expected = [u.name for u in PLAN.units
                if PLAN.responsibility[u.name]["lead_tasks"] or PLAN.responsibility[u.name]["co_tasks"]]
    assert UNITS == expected
    assert "市法院" in UNITS and "各乡镇（街道）" in UNITS and "有关乡镇（街道）" in UNITS
    assert len(UNITS) == len(PLAN.units)  # in this plan every unit is named in some task


def test_unknown_unit_and_year_outside_plan_are_refused():
    with pytest.raises(ValueError, match="unknown unit"):
        template.build_template(PLAN, "市知识产权局", 2024)
    with pytest.raises(ValueError, match="outside the plan period"):
        template.build_template(PLAN, "市法院", 2021)


def test_sheets_in_order_and_headers_exact():
    wb = template.build_template(PLAN, "市法院", 2024)
    assert wb.sheetnames == ["填报信息", "指标完成情况", "任务进展", "填报说明"]
    ind = wb["指标完成情况"]
    assert [c.value for c in ind[template.HEADER_ROW]] == [
        "指标编号", "指标名称", "年度", "计量单位", "目标值", "完成值", "责任类型", "备注"]
    tasks = wb["任务进展"]
    assert [c.value for c in tasks[template.HEADER_ROW]] == [
        "任务编号", "重点工作", "主要内容", "责任类型", "进展状态", "完成情况"]
    assert ind["A1"].value and "指标完成情况" in ind["A1"].value  # a title row above the header


def test_sheet_names_and_headers_are_ones_the_reader_accepts():
    accepted_sheets = {role: {fold(n) for n in names} for role, names in SHEET_NAMES.items()}
    assert fold(template.INFO_SHEET) in accepted_sheets["info"]
    assert fold(template.INDICATOR_SHEET) in accepted_sheets["indicators"]
    assert fold(template.TASK_SHEET) in accepted_sheets["tasks"]
    ind_aliases = {header_key(a) for aliases in INDICATOR_COLUMNS.values() for a in aliases}
    for header in set(template.INDICATOR_HEADERS) - {"责任类型"}:
        assert header_key(header) in ind_aliases, header
    task_aliases = {header_key(a) for aliases in TASK_COLUMNS.values() for a in aliases}
    for header in ("任务编号", "进展状态", "完成情况"):
        assert header_key(header) in task_aliases, header
    info_aliases = {header_key(a) for aliases in INFO_KEYS.values() for a in aliases}
    for key in template.INFO_FIELDS:
        assert header_key(key) in info_aliases, key


@pytest.mark.parametrize("period", list(Period))
def test_info_sheet_prefilled(period):
    ws = template.build_template(PLAN, "市科技局", 2023, period)["填报信息"]
    info = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}
    assert info["填报单位"] == "市科技局"
    assert info["报告年度"] == 2023
    assert info["报告期"] == period.zh
    for key in ("填报人", "联系电话", "填报日期"):
        assert key in info and info[key] is None
    # nothing to the right of an empty value: the reader would take it as the value
    assert ws.max_column == 2


def test_collective_unit_prefilled_with_its_name():
    ws = template.build_template(PLAN, "各乡镇（街道）", 2024)["填报信息"]
    assert ws["B3"].value == "各乡镇（街道）" and ws["A3"].value == "填报单位"


@pytest.mark.parametrize("unit", UNITS)
def test_indicators_and_tasks_are_exactly_the_units_duties(unit):
    year = 2024
    wb = template.build_template(PLAN, unit, year)
    duty = PLAN.responsibility[unit]
    ind = wb["指标完成情况"]
    codes = column_values(ind, "指标编号")
    assert set(codes) == duty["lead_indicators"] | duty["co_indicators"]
    assert codes == [i.id for i in PLAN.indicators if i.id in set(codes)]  # plan order
    roles = dict(zip(codes, column_values(ind, "责任类型"), strict=True))
    assert {c for c, r in roles.items() if r == "牵头"} == duty["lead_indicators"]
    assert {c for c, r in roles.items() if r == "配合"} == duty["co_indicators"]
    for code, name, yr, measure, target, value in zip(
        codes, *(column_values(ind, h) for h in ("指标名称", "年度", "计量单位", "目标值", "完成值")), strict=True
    ):
        indicator = PLAN.indicator_by_id[code]
        assert (name, yr, measure) == (indicator.name, year, indicator.unit)
        assert target == PLAN.target(indicator, year)
        assert value is None
    tasks = wb["任务进展"]
    ids = column_values(tasks, "任务编号")
    assert set(ids) == duty["lead_tasks"] | duty["co_tasks"]
    roles = dict(zip(ids, column_values(tasks, "责任类型"), strict=True))
    assert {t for t, r in roles.items() if r == "牵头"} == duty["lead_tasks"]
    assert {t for t, r in roles.items() if r == "配合"} == duty["co_tasks"]
    assert column_values(tasks, "主要内容") == [PLAN.task_by_id[t].content for t in ids]
    assert column_values(tasks, "重点工作") == [PLAN.task_place[t][1].name for t in ids]
    assert all(v is None for v in column_values(tasks, "进展状态"))


def test_targets_blank_where_the_plan_has_none():
    ind = template.build_template(PLAN, "市市场监管局", 2025)["指标完成情况"]
    targets = dict(zip(column_values(ind, "指标编号"), column_values(ind, "目标值"), strict=True))
    assert targets["I01"] is None  # a flow has no yearly target in 2025
    assert targets["I03"] == 110000  # a stock's 2025 target is the plan total
    assert template.build_template(PLAN, "市市场监管局", 2024)["指标完成情况"].cell(
        template.FIRST_DATA_ROW + column_values(ind, "指标编号").index("I18"), 5).value is None


def test_a_township_carries_its_collectives_duties():
    scope = template.scope_of(PLAN, "柳市镇")
    assert scope.name == "柳市镇" and set(scope.units) == {"各乡镇（街道）", "有关乡镇（街道）"}
    wb = template.build_template(PLAN, "柳市镇", 2024)
    assert wb["填报信息"]["B3"].value == "柳市镇"
    tasks = set(column_values(wb["任务进展"], "任务编号"))
    assert tasks == PLAN.responsibility["各乡镇（街道）"]["co_tasks"] | PLAN.responsibility["有关乡镇（街道）"]["co_tasks"]


def _validations(ws) -> list:
    return list(ws.data_validations.dataValidation)


def _validation_of(ws, coordinate: str):
    found = [dv for dv in _validations(ws) if coordinate in dv.sqref]
    assert len(found) == 1, f"{ws.title}!{coordinate}: {len(found)} validations"
    return found[0]


def test_value_cells_validated_whole_or_decimal():
    ws = template.build_template(PLAN, "市市场监管局", 2024)["指标完成情况"]
    cols = header_columns(ws)
    value_col = openpyxl.utils.get_column_letter(cols["完成值"])
    for r, code in zip(data_rows(ws), column_values(ws, "指标编号"), strict=True):
        dv = _validation_of(ws, f"{value_col}{r}")
        whole = PLAN.whole(PLAN.indicator_by_id[code])
        assert dv.type == ("whole" if whole else "decimal"), code
        assert dv.operator == "greaterThanOrEqual" and dv.formula1 == "0"
        assert dv.showErrorMessage and dv.error and dv.errorTitle
        assert dv.showInputMessage and dv.prompt
        assert any("\u4e00" <= ch <= "\u9fff" for ch in dv.error + dv.prompt)  # Chinese text
    kinds = {code: _validation_of(ws, f"{value_col}{r}").type
             for r, code in zip(data_rows(ws), column_values(ws, "指标编号"), strict=True)}
    assert kinds["I02"] == "decimal" and kinds["I10"] == "decimal" and kinds["I01"] == "whole"


@pytest.mark.parametrize("unit", ["市市场监管局", "各乡镇（街道）"])
def test_validations_do_not_overlap_and_fit_excel_limits(unit):
    wb = template.build_template(PLAN, unit, 2024, Period.H1)
    for ws in wb.worksheets:
        seen: set[str] = set()
        for dv in _validations(ws):
            cells = {cell for rng in dv.sqref.ranges for cell in rng.cells}  # (row, column) pairs
            assert not (cells & seen), f"{ws.title}: two validations on {cells & seen}"
            seen |= cells
            assert len(dv.prompt or "") <= 255 and len(dv.error or "") <= 255
            assert len(dv.promptTitle or "") <= 32 and len(dv.errorTitle or "") <= 32
    info = wb["填报信息"]
    assert _validation_of(info, "B4").type == "whole" and _validation_of(info, "B4").formula1 == str(PLAN.first_year)
    assert _validation_of(info, "B5").type == "list" and "上半年" in _validation_of(info, "B5").formula1


def test_one_tab_selected_and_opens_on_the_info_sheet(tmp_path):
    path = template.write_template(PLAN, "市法院", 2024, Period.FY, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.active.title == "填报信息"
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets] == [True, False, False, False]


def test_status_cells_have_a_dropdown():
    ws = template.build_template(PLAN, "市法院", 2024)["任务进展"]
    col = openpyxl.utils.get_column_letter(header_columns(ws)["进展状态"])
    for r in data_rows(ws):
        dv = _validation_of(ws, f"{col}{r}")
        assert dv.type == "list"
        assert dv.formula1 == '"已完成,推进中,未启动,滞后"'
        assert dv.showErrorMessage


def test_protection_locks_everything_but_the_input_cells():
    wb = template.build_template(PLAN, "市科技局", 2024)
    assert wb.security is not None and wb.security.lockStructure
    for ws in wb.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title
    ind = wb["指标完成情况"]
    cols = header_columns(ind)
    for r in data_rows(ind):
        for header, c in cols.items():
            cell = ind.cell(r, c)
            unlocked = header in ("完成值", "备注")
            assert cell.protection.locked is not unlocked, (header, r)
            assert cell.fill.fgColor.rgb.endswith(template.INPUT_FILL if unlocked else template.FIXED_FILL)
            assert cell.border.left.style == "thin"
    for c in cols.values():
        assert ind.cell(template.HEADER_ROW, c).protection.locked
    tasks = wb["任务进展"]
    tcols = header_columns(tasks)
    for r in data_rows(tasks):
        assert not tasks.cell(r, tcols["进展状态"]).protection.locked
        assert not tasks.cell(r, tcols["完成情况"]).protection.locked
        assert tasks.cell(r, tcols["任务编号"]).protection.locked
    info = wb["填报信息"]
    assert not info["B3"].protection.locked and info["A3"].protection.locked


def test_layout_freeze_print_titles_page_setup(tmp_path):
    path = template.write_template(PLAN, "市市场监管局", 2024, Period.FY, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)  # as saved, not only as built
    for name in ("指标完成情况", "任务进展"):
        ws = wb[name]
        assert ws.freeze_panes and ws.freeze_panes.endswith(str(template.FIRST_DATA_ROW)), name
        assert ws.print_title_rows.replace("$", "") == f"{template.HEADER_ROW}:{template.HEADER_ROW}"
    for ws in wb.worksheets:
        assert str(ws.page_setup.paperSize) == ws.PAPERSIZE_A4  # "9"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    for name in ("填报信息", "指标完成情况", "任务进展"):
        assert wb[name].page_setup.orientation == "landscape"


def test_column_widths_fit_chinese_text():
    ws = template.build_template(PLAN, "市市场监管局", 2024)["指标完成情况"]
    width = ws.column_dimensions["B"].width
    longest = max(template._text_width(v) for v in column_values(ws, "指标名称"))
    assert longest > len(max(column_values(ws, "指标名称"), key=len))  # CJK counted as 2
    assert width >= min(longest, template.MAX_WIDTH["指标名称"])
    tasks = template.build_template(PLAN, "市市场监管局", 2024)["任务进展"]
    assert tasks.column_dimensions["C"].width == template.MAX_WIDTH["主要内容"]
    assert tasks.cell(template.FIRST_DATA_ROW, 3).alignment.wrap_text
    assert tasks.row_dimensions[template.FIRST_DATA_ROW].height > 15  # wrapped content gets room


def test_notes_sheet_says_what_when_and_the_common_mistakes():
    wb = template.build_template(PLAN, "市法院", 2024, Period.FY)
    text = "\n".join(str(c.value) for c in wb["填报说明"]["A"] if c.value)
    for phrase in ("次年1月10日前", "完成值", "亿元", "万元", "合并单元格", "公式", "密码", "工作表名称", "表头",
                   "已完成", "上半年", "市法院"):
        assert phrase in text, phrase
    h1 = "\n".join(str(c.value) for c in template.build_template(PLAN, "市法院", 2024, Period.H1)["填报说明"]["A"]
                   if c.value)
    assert "7月10日前" in h1 and "1–6月" in h1
    custom = template.build_template(PLAN, "市法院", 2024, deadline="2025年1月5日前")
    assert "2025年1月5日前" in "\n".join(str(c.value) for c in custom["填报说明"]["A"] if c.value)


def test_importing_the_module_does_not_import_openpyxl():
    code = "import sys, lqip.template; assert 'openpyxl' not in sys.modules; assert 'typer' not in sys.modules"
    subprocess.run([shutil.which("python") or "python", "-c", code], check=True)


# --- files ---------------------------------------------------------------------------------------------


def test_write_template_is_atomic_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "out" / "t.xlsx"
    assert template.write_template(PLAN, "市法院", 2024, Period.FY, path) == path
    first = path.read_bytes()
    with pytest.raises(OutputExists):
        template.write_template(PLAN, "市科技局", 2024, Period.FY, path)
    assert path.read_bytes() == first
    assert sorted(p.name for p in path.parent.iterdir()) == ["t.xlsx"]  # no temp file left behind
    template.write_template(PLAN, "市科技局", 2024, Period.FY, path, force=True)
    assert openpyxl.load_workbook(path)["填报信息"]["B3"].value == "市科技局"


def test_write_all_covers_every_template_unit(tmp_path):
    paths = template.write_all(PLAN, 2024, Period.FY, tmp_path)
    assert [p.name for p in paths] == [f"2024_{u}_填报表.xlsx" for u in UNITS]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    for path, unit in zip(paths, UNITS, strict=True):
        assert openpyxl.load_workbook(path, read_only=True)["填报信息"]["B3"].value == unit
    with pytest.raises(OutputExists):
        template.write_all(PLAN, 2024, Period.FY, tmp_path)
    assert len(template.write_all(PLAN, 2024, Period.FY, tmp_path, force=True)) == len(UNITS)


def test_write_all_refuses_before_writing_anything(tmp_path):
    last = tmp_path / template.template_filename(UNITS[-1], 2024, Period.H1)
    last.write_bytes(b"someone's filled return")
    with pytest.raises(OutputExists):
        template.write_all(PLAN, 2024, Period.H1, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [last.name]
    assert last.read_bytes() == b"someone's filled return"


def test_file_names():
    assert template.template_filename("市法院", 2024) == "2024_市法院_填报表.xlsx"
    assert template.template_filename("市法院", 2024, Period.H1) == "2024_上半年_市法院_填报表.xlsx"


# --- round trips through the checker ----------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS)
def test_filled_template_checks_clean(tmp_path, unit):
    check_file = _check_file()
    path = template.write_template(PLAN, unit, 2024, Period.FY, tmp_path / "t.xlsx")
    fill_file(path)
    report = check_file(path, PLAN)
    assert problems(report) == []
    assert report.unit == unit and report.year == 2024


@pytest.mark.parametrize(("year", "period"), [(2022, Period.FY), (2023, Period.Q3), (2024, Period.H1),
                                              (2025, Period.FY)])
def test_filled_template_checks_clean_any_year_and_period(tmp_path, year, period):
    check_file = _check_file()
    path = template.write_template(PLAN, "市市场监管局", year, period, tmp_path / "t.xlsx")
    fill_file(path)
    report = check_file(path, PLAN)
    assert problems(report) == []
    assert report.period == period


def test_filled_collective_template_checks_clean_for_a_township(tmp_path):
    check_file = _check_file()
    path = template.write_template(PLAN, "各乡镇（街道）", 2024, Period.FY, tmp_path / "t.xlsx")
    fill_file(path, unit="柳市镇")
    assert problems(check_file(path, PLAN)) == []


@pytest.mark.parametrize("unit", UNITS)
def test_unfilled_template_gives_only_v310_for_lead_indicators(tmp_path, unit):
    check_file = _check_file()
    path = template.write_template(PLAN, unit, 2024, Period.FY, tmp_path / "t.xlsx")
    report = check_file(path, PLAN)
    assert problems(report, allowed={"V310"}) == []
    assert [f.severity for f in report.findings if f.code == "V310"] == [Severity.WARNING] * len(
        [f for f in report.findings if f.code == "V310"])
    flagged = {dict(f.args)["indicator"] for f in report.findings if f.code == "V310"}
    assert flagged == lead_indicators_with_target(unit, 2024)
    # each V310 points at the empty value cell of its row
    ws = openpyxl.load_workbook(path)["指标完成情况"]
    value_col = openpyxl.utils.get_column_letter(header_columns(ws)["完成值"])
    rows = dict(zip(column_values(ws, "指标编号"), data_rows(ws), strict=True))
    for f in report.findings:
        if f.code == "V310":
            assert (f.sheet, f.cell) == ("指标完成情况", f"{value_col}{rows[dict(f.args)['indicator']]}")


def test_mistakes_in_a_filled_template_are_caught(tmp_path):
    """The round trip can fail: a text figure and an unknown status in a filled template are found."""
    check_file = _check_file()
    path = template.write_template(PLAN, "市法院", 2024, Period.FY, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    fill_workbook(wb)
    wb["指标完成情况"]["F3"] = "约200"
    wb["任务进展"]["E3"] = "基本完成"
    wb.save(path)
    found = {(code, sheet, cell) for code, sheet, cell in problems(check_file(path, PLAN))}
    assert ("V303", "指标完成情况", "F3") in found
    assert ("T402", "任务进展", "E3") in found


# --- LibreOffice ----------------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not on PATH; install it with .ci/setup-libreoffice.sh")


def convert(source: Path, fmt: str, out: Path) -> Path:
    """`soffice --headless --convert-to fmt` into `out` with a private profile (parallel-safe)."""
    profile = out / "lo-profile"
    out.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to", fmt,
         "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=240,
    )
    converted = out / f"{source.stem}.{fmt}"
    assert converted.exists(), f"soffice failed: {result.stdout} {result.stderr}"
    return converted


@needs_soffice
def test_libreoffice_xlsx_round_trip_stays_clean(tmp_path):
    check_file = _check_file()
    unit = "市科技局"
    source = template.write_template(PLAN, unit, 2024, Period.FY, tmp_path / "src" / "t.xlsx")
    converted = convert(source, "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(converted)
    assert wb.sheetnames == list(template.SHEETS)
    assert wb["指标完成情况"].protection.sheet  # protection survives LibreOffice
    unfilled = check_file(converted, PLAN)
    assert problems(unfilled, allowed={"V310"}) == []
    assert {dict(f.args)["indicator"] for f in unfilled.findings if f.code == "V310"} == \
        lead_indicators_with_target(unit, 2024)
    fill_workbook(wb)
    wb.save(converted)
    report = check_file(converted, PLAN)
    assert problems(report) == []
    assert report.unit == unit and {s.indicator for s in report.scores} >= {"I02", "I11"}


@needs_soffice
def test_libreoffice_ods_unfilled_gives_only_v310(tmp_path):
    check_file = _check_file()
    unit = "市市场监管局"
    source = template.write_template(PLAN, unit, 2024, Period.FY, tmp_path / "src" / "t.xlsx")
    converted = convert(source, "ods", tmp_path / "lo")
    report = check_file(converted, PLAN)
    assert problems(report, allowed={"V310"}) == []
    assert {dict(f.args)["indicator"] for f in report.findings if f.code == "V310"} == \
        lead_indicators_with_target(unit, 2024)
    assert report.unit == unit and report.year == 2024


# --- the guide for the units ---------------------------------------------------------------------------


def test_guide_explains_every_issue_code_with_an_example_and_a_fix():
    from lqip.findings import CATALOGUE

    guide = (Path(__file__).resolve().parents[1] / "docs" / "填报指南.md").read_text(encoding="utf-8")
    assert "lqip template --unit 市法院 --year 2024" in guide
    sections = re.split(r"\n\*\*(?=[A-Z]\d{3} )", guide)
    explained = {s[:4]: s for s in sections[1:]}
    assert set(CATALOGUE) <= set(explained), set(CATALOGUE) - set(explained)
    for code, text in explained.items():
        body = text.split("\n\n")[0]
        assert "例：" in body and "改：" in body, code
        severity = {"error": "错误", "warning": "警告", "info": "提示"}[CATALOGUE[code].severity.value]
        assert severity in body.splitlines()[0], code
