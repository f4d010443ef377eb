"""The reader reads what a careful person would read: layouts and spellings departments use."""

from __future__ import annotations

import pytest
from helpers import ind, make_return, write_xlsx

from lqip.check import check_file
from lqip.model import Period, TaskStatus, parse_period, parse_status
from lqip.plan import load_plan

PLAN = load_plan()


@pytest.mark.parametrize(("raw", "period"), [
    ("全年", Period.FY), ("", Period.FY), ("2023年度", Period.FY), ("FY", Period.FY), ("1-12月", Period.FY),
    ("一季度", Period.Q1), ("第一季度", Period.Q1), ("1～3月", Period.Q1),
    ("上半年", Period.H1), ("2023年上半年", Period.H1), ("上半年（1-6月）", Period.H1), ("二季度", Period.H1),
    ("H1", Period.H1), ("前三季度", Period.Q3), ("2024年1-9月", Period.Q3), ("Q3", Period.Q3),
    ("年中", None), ("第五季度", None),
])
def test_periods(raw, period):
    assert parse_period(raw) == period


@pytest.mark.parametrize(("raw", "status"), [
    ("已完成", TaskStatus.DONE), ("完成", TaskStatus.DONE), ("Done", TaskStatus.DONE), ("已完成。", TaskStatus.DONE),
    ("推进中", TaskStatus.IN_PROGRESS), ("进行中", TaskStatus.IN_PROGRESS), ("正在推进", TaskStatus.IN_PROGRESS),
    ("推进中（完成70%）", TaskStatus.IN_PROGRESS), ("In progress", TaskStatus.IN_PROGRESS),
    ("未启动", TaskStatus.NOT_STARTED), ("未开始", TaskStatus.NOT_STARTED), ("Not started", TaskStatus.NOT_STARTED),
    ("滞后", TaskStatus.BEHIND), ("Behind", TaskStatus.BEHIND), ("未完成", None), ("搞定", None),
])
def test_statuses(raw, status):
    assert parse_status(raw) == status


def test_codes_names_and_numbering(tmp_path):
    path = make_return(tmp_path, unit="市市场监管局", year=2023, indicators=[
        ["i1", "", 2023, "件", 300, 310, ""],
        ["I-03", "", 2023, "件", 105000, 106000, ""],
        [4, "", 2023, "件", 2, 2, ""],
        ["", "5.计算机软件等版权登记量（件）", 2023, "件", 265, 270, ""],
        ["", "“知识产权中介机构累计数量（含分支机构）”", 2023, "家", 9, 9, ""],
        ["", "新增地理标志\"红标\"使用主体", 2023, "家", None, 3, ""],
    ])
    rows = [(r.indicator, r.value) for r in check_file(path, PLAN).ret.indicators]
    assert rows == [("I01", 310), ("I03", 106000), ("I04", 2), ("I05", 270), ("I15", 9), ("I18", 3)]


def test_info_year_with_period_and_english_sheets(tmp_path):
    sheets = {
        "Info": [["Unit", "Yueqing Court"], ["填报单位：", "乐清市人民法院"], ["报告年度", "2024年上半年"]],
        "Indicators": [["Code", "Indicator", "Year", "Actual", "Unit", "Target", "Note"],
                       ["I06", "知识产权司法诉讼案件一审审结", 2024, 90, "件", 200, ""]],
        "Tasks": [["Task", "Status", "Progress"], ["T11", "In progress", "ok"]],
    }
    report = check_file(write_xlsx(tmp_path / "en.xlsx", sheets), PLAN)
    # 'Unit' row names an unknown unit first: it is the first key found, so U201 says so.
    assert report.ret.info["unit"].text == "Yueqing Court"
    assert (report.year, report.period) == (2024, Period.H1)
    assert [(r.task, r.status) for r in report.ret.tasks] == [("T11", TaskStatus.IN_PROGRESS)]
    assert report.scores[0].status.value in ("behind", "on_track")


def test_several_indicator_sheets_are_all_read(tmp_path):
    header = ["指标编号", "指标名称", "年度", "完成值"]
    sheets = {
        "填报信息": [["填报单位", "市法院"]],
        "2022年": [["2022年指标"], header, ["I06", "知识产权司法诉讼案件一审审结", 2022, 205]],
        "2023年": [header, ["I06", "知识产权司法诉讼案件一审审结", 2023, 198]],
    }
    report = check_file(write_xlsx(tmp_path / "two.xlsx", sheets), PLAN)
    rows = [(r.sheet, r.cell("value"), r.year, r.value) for r in report.ret.indicators]
    assert rows == [("2022年", "D3", 2022, 205), ("2023年", "D2", 2023, 198)]
    total = next(s for s in report.scores if s.year == "total")
    assert total.actual == 403


@pytest.mark.parametrize("header", [["指标名称", "实际完成"], ["主要指标（单位）", "2023年完成值"],
                                    ["考核指标", "完成数"], ["指标名称*", "完成值（必填）"]])
def test_value_header_spellings(tmp_path, header):
    sheets = {"Sheet1": [["填报单位：市法院  报告年度：2023"], header, ["知识产权司法诉讼案件一审审结", "210件"]]}
    report = check_file(write_xlsx(tmp_path / "h.xlsx", sheets), PLAN)
    assert [(r.indicator, r.year, r.value) for r in report.ret.indicators] == [("I06", 2023, 210)]


def test_unknown_header_is_s102_listing_what_was_seen(tmp_path):
    sheets = {"指标完成情况": [["指标名称", "数量"], ["知识产权司法诉讼案件一审审结", 210]]}
    report = check_file(write_xlsx(tmp_path / "s.xlsx", sheets), PLAN)
    s102 = [f for f in report.findings if f.code == "S102"]
    assert s102 and "数量" in s102[0].message("zh")


def test_township_return_speaks_for_the_collectives(tmp_path):
    path = make_return(tmp_path, unit="乐清市柳市镇", year=2023,
                       indicators=[ind("I07", "知识产权调解案件数量", 2023, "件", 100, 12)],
                       tasks=[["T21", "推进中", "设立调解工作室"], ["T27", "推进中", "开展联合惩戒"]])
    report = check_file(path, PLAN)
    assert report.unit == "柳市镇"
    assert not [f.code for f in report.findings if f.code.startswith("U")]


def test_wide_sheet_one_column_per_year(tmp_path):
    sheets = {
        "填报信息": [["填报单位", "市市场监管局"], ["报告年度", 2023]],
        "指标完成情况": [
            ["附件2 阶段性目标任务完成情况"],
            ["序号", "主要指标", "2022年目标", "2022年完成", "2023年目标", "2023年完成值"],
            [1, "发明专利授权量（件）", 300, 320, 300, 280],
            [3, "有效注册商标量累计（件）", 100000, "10.1万", 105000, None],
        ],
    }
    report = check_file(write_xlsx(tmp_path / "wide.xlsx", sheets), PLAN)
    rows = [(r.indicator, r.year, r.value, r.cell("value"), r.cell("target")) for r in report.ret.indicators]
    assert rows == [("I01", 2022, 320, "D3", "C3"), ("I01", 2023, 280, "F3", "E3"),
                    ("I03", 2022, 101000, "D4", "C4"), ("I03", 2023, None, "F4", "E4")]
    statuses = {(s.indicator, s.year): s.status.value for s in report.scores}
    assert statuses[("I01", 2022)] == "pass" and statuses[("I01", 2023)] == "fail"
    assert statuses[("I03", 2023)] == "missing"
    assert ("V310", "F4") in [(f.code, f.cell) for f in report.findings]


def test_wide_sheet_bare_year_headers(tmp_path):
    sheets = {"Sheet1": [["填报单位：乐清市人民法院"], ["指标名称", "2022年", "2023年", "2024年"],
                         ["知识产权司法诉讼案件一审审结", 201, 199, None]]}
    report = check_file(write_xlsx(tmp_path / "w.xlsx", sheets), PLAN)
    assert [(r.year, r.value) for r in report.ret.indicators] == [(2022, 201), (2023, 199), (2024, None)]
    assert not [f for f in report.findings if f.code in ("S102", "S104")]


def test_unit_with_a_stamp_remark_and_an_unreadable_row_year(tmp_path):
    path = make_return(tmp_path, unit="乐清市人民法院（盖章）", year=2023, indicators=[
        ind("I06", "知识产权司法诉讼案件一审审结", 2023, "件", 200, 210),
        ind("I06", "知识产权司法诉讼案件一审审结", "23年", "件", 200, 205),
    ])
    report = check_file(path, PLAN)
    assert report.unit == "市法院"
    assert ("V308", "C3") in [(f.code, f.cell) for f in report.findings]
    assert not [f for f in report.findings if f.code == "U201"]
