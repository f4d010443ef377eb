"""The scorecard workbook (`lqip summary -o FILE.xlsx`), reopened with openpyxl."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from lqip.check import check_paths
from lqip.cli import app
from lqip.outputs import OutputExists
from lqip.plan import load_plan
from lqip.scorecard import FILLS, SHEET_NAMES, display_width, write_scorecard
from lqip.summary import View, summarize

PLAN = load_plan()


def make_return(path, unit, year, indicators=()):
    """A return with 填报信息 and 指标完成情况 (code, value); text cells stay text (even '=…')."""
    book = Workbook()
    info = book.active
    info.title = "填报信息"
    info.append(["填报单位", unit])
    info.append(["报告年度", year])
    sheet = book.create_sheet("指标完成情况")
    sheet.append(["指标编号", "年度", "完成值"])
    for code, value in indicators:
        sheet.append([code, year, value])
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    book.save(path)


@pytest.fixture
def summary(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths: the file name itself starts with '='
    make_return(tmp_path / "=cmd().xlsx", "=cmd()镇", 2023, [("I07", 5), ("I01", "abc")])
    make_return(tmp_path / "scj.xlsx", "市市场监管局", 2023, [("I01", 320), ("I03", 100000), ("I10", 10.5)])
    make_return(tmp_path / "rh.xlsx", "市人行", 2023, [("I10", 11)])
    report = check_paths(["=cmd().xlsx", "scj.xlsx", "rh.xlsx"], PLAN, jobs=1)
    return summarize(report, PLAN, year=2023)


def _fill(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:] if cell.fill and cell.fill.fill_type == "solid" else ""


def _column(sheet, header: str) -> int:
    for cell in sheet[1]:
        if cell.value == header:
            return cell.column
    raise AssertionError(f"no column {header!r}")


def test_sheets_fills_frozen_headers_and_widths(summary, tmp_path):
    path = write_scorecard(summary, tmp_path / "card.xlsx", lang="zh")
    book = load_workbook(path)
    assert book.sheetnames == ["指标", "单位", "任务", "问题清单"]
    sheet = book["指标"]
    assert sheet.freeze_panes == "B2" and book["问题清单"].freeze_panes == "A2"
    assert sheet["A1"].font.bold
    status = _column(sheet, "状态")
    fills = {}
    for row in sheet.iter_rows(min_row=2):
        fills.setdefault(row[status - 1].value, _fill(row[status - 1]))
    assert fills["达标"] == FILLS["pass"]  # I01 320 ≥ 300
    assert fills["未达标"] == FILLS["fail"]  # I03 100000 < 105000
    assert fills["未填报"] == FILLS["missing"]
    name = _column(sheet, "名称")
    letter = sheet.cell(row=1, column=name).column_letter
    longest = max(display_width(ind.name) for ind in PLAN.indicators)
    assert sheet.column_dimensions[letter].width >= longest  # Chinese characters count double
    units = book["单位"]
    assert [c.value for c in units["A"][1:3]] == ["市市场监管局", "市科技局"]


def test_bar_chart_of_the_year(summary, tmp_path):
    path = write_scorecard(summary, tmp_path / "card.xlsx", lang="en")
    book = load_workbook(path)
    charts = book[SHEET_NAMES[View.INDICATOR]]._charts
    assert len(charts) == 1 and charts[0].tagname == "barChart"
    with zipfile.ZipFile(path) as archive:
        chart_xml = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert chart_xml and b"barChart>" in archive.read(chart_xml[0])
        assert b"2023" in archive.read(chart_xml[0])


def test_issues_sheet_lists_every_finding_with_file_and_cell(summary, tmp_path):
    path = write_scorecard(summary, tmp_path / "card.xlsx", lang="zh")
    sheet = load_workbook(path)["问题清单"]
    rows = [dict(zip([c.value for c in sheet[1]], [c.value for c in row], strict=True))
            for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == len(summary.findings)
    codes = {(r["代码"], r["文件"], r["单元格"]) for r in rows}
    assert ("V303", "=cmd().xlsx", "C3") in codes
    assert any(code == "V320" for code, _, _ in codes)


def test_formula_text_is_written_as_text(summary, tmp_path):
    path = write_scorecard(summary, tmp_path / "card.xlsx", lang="zh")
    book = load_workbook(path)
    issues = book["问题清单"]
    file_cells = [row[_column(issues, "文件") - 1] for row in issues.iter_rows(min_row=2)]
    injected = [c for c in file_cells if c.value == "=cmd().xlsx"]
    assert injected and all(c.data_type == "s" and c.quotePrefix for c in injected)
    sources = [row[_column(book["指标"], "填报单位（数据）") - 1] for row in book["指标"].iter_rows(min_row=2)]
    assert any(c.value == "=cmd()镇 5" and c.data_type == "s" for c in sources)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name), name  # no formula anywhere


def test_never_overwrites_without_force(summary, tmp_path):
    target = tmp_path / "card.xlsx"
    target.write_bytes(b"mine")
    with pytest.raises(OutputExists):
        write_scorecard(summary, target)
    assert target.read_bytes() == b"mine"
    write_scorecard(summary, target, force=True)
    assert load_workbook(target).sheetnames[0] == "指标"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".card.xlsx")]  # no temp file left


def test_cli_writes_the_scorecard(summary, tmp_path):
    runner = CliRunner()
    args = ["summary", "=cmd().xlsx", "scj.xlsx", "rh.xlsx", "--year", "2023", "-o", "out.xlsx", "--lang", "zh"]
    first = runner.invoke(app, args)
    assert first.exit_code == 1, first.output  # written, and the returns have errors (V303, V320)
    assert "out.xlsx" in first.stdout
    assert load_workbook(tmp_path / "out.xlsx").sheetnames == ["指标", "单位", "任务", "问题清单"]
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 1


def test_control_characters_do_not_break_the_workbook(tmp_path):
    from lqip.scorecard import set_text

    book = Workbook()
    cell = book.active["A1"]
    set_text(cell, "报表\x01.xlsx")
    book.save(tmp_path / "x.xlsx")
    assert load_workbook(tmp_path / "x.xlsx").active["A1"].value == "报表\ufffd.xlsx"
