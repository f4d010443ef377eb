"""The same return in every format reads the same; statuses follow the contract."""

from __future__ import annotations

import pytest
from helpers import ind, make_return

from lqip.check import check_file
from lqip.plan import load_plan
from lqip.scoring import Status

PLAN = load_plan()

ROWS = [
    ind("I01", "发明专利授权量", 2023, "件", 300, "320件"),
    ind("I03", "有效注册商标量累计", 2023, "件", 105000, "10.2万"),
    ind("I10", "知识产权质押融资授信额", 2023, "亿元", 10, "85000万元"),
    ind("I14", "新增贯标企业", 2023, "家", 7, 7.5),
    ind("I99", "乱写", 2023, "件", 1, 1),
]


def _facts(report):
    findings = sorted((f.code, f.severity.value, f.sheet, f.cell) for f in report.findings)
    scores = [(s.indicator, s.year, s.target, s.actual, s.status.value) for s in report.scores]
    return findings, scores


def test_same_return_as_xlsx_xls_ods(tmp_path):
    kwargs = dict(unit="乐清市市场监督管理局", year=2023, indicators=ROWS, tasks=[["T01", "已完成", "印发政策"],
                                                                             ["T99", "推进中", "x"]])
    results = {suffix: _facts(check_file(make_return(tmp_path, f"r{suffix}", **kwargs), PLAN))
               for suffix in (".xlsx", ".xls", ".ods")}
    assert results[".xlsx"] == results[".xls"] == results[".ods"]
    codes = [f[0] for f in results[".xlsx"][0]]
    assert {"V301", "V305", "V307", "T401", "V310"} <= set(codes)


def _score(report, indicator, year):
    return next(s for s in report.scores if s.indicator == indicator and s.year == year)


@pytest.mark.parametrize(("value", "status"), [(160, Status.ON_TRACK), (150, Status.ON_TRACK), (149, Status.BEHIND)])
def test_half_year_flow(tmp_path, value, status):
    # I01 2023 target 300: half a year needs 150.
    path = make_return(tmp_path, unit="市市场监管局", year=2023, period="上半年",
                       indicators=[ind("I01", "发明专利授权量", 2023, "件", 300, value)])
    assert _score(check_file(path, PLAN), "I01", 2023).status is status


@pytest.mark.parametrize(("value", "status"), [(102600, Status.ON_TRACK), (102400, Status.BEHIND)])
def test_half_year_stock_against_previous_year_plus_share(tmp_path, value, status):
    # I03 targets 100000 (2022) → 105000 (2023): H1 2023 needs 100000 + 0.5 × 5000 = 102500.
    path = make_return(tmp_path, unit="市市场监管局", year=2023, period="H1",
                       indicators=[ind("I03", "有效注册商标量累计", 2023, "件", 105000, value)])
    assert _score(check_file(path, PLAN), "I03", 2023).status is status


@pytest.mark.parametrize(("value", "status"), [(105000, Status.PASS), (104999, Status.FAIL)])
def test_full_year_stock_against_its_years_level(tmp_path, value, status):
    path = make_return(tmp_path, unit="市市场监管局", year=2023,
                       indicators=[ind("I03", "有效注册商标量累计", 2023, "件", 105000, value)])
    score = _score(check_file(path, PLAN), "I03", 2023)
    assert (score.target, score.status) == (105000, status)


def test_2025_flow_is_na_and_counts_toward_total_stock_uses_total(tmp_path):
    path = make_return(tmp_path, unit="市市场监管局", year=2025, indicators=[
        ind("I01", "发明专利授权量", 2025, "件", None, 400),
        ind("I03", "有效注册商标量累计", 2025, "件", None, 111000),
    ])
    report = check_file(path, PLAN)
    assert _score(report, "I01", 2025).status is Status.NA
    assert _score(report, "I03", 2025).status is Status.PASS  # the 2025 level is the plan total, 110000
    total = _score(report, "I01", "total")
    assert (total.actual, total.target, total.status) == (400, 950, Status.OPEN)
    # No 2025 flow target to miss; the stocks' 2025 level is the plan total, so an unreported stock is V310.
    missed = {dict(f.args)["indicator"] for f in report.findings if f.code == "V310"}
    assert missed == {"I15"}


def test_plan_progress_flows_sum_stocks_take_latest(tmp_path):
    path = make_return(tmp_path, unit="市市场监管局", year=None, indicators=[
        ind("I01", "发明专利授权量", 2022, "件", 300, 500), ind("I01", "发明专利授权量", 2023, "件", 300, 460),
        ind("I03", "有效注册商标量累计", 2022, "件", 100000, 101000),
        ind("I03", "有效注册商标量累计", 2023, "件", 105000, 111000),
    ])
    report = check_file(path, PLAN)
    i01, i03 = _score(report, "I01", "total"), _score(report, "I03", "total")
    assert (i01.actual, i01.status) == (960, Status.PASS)
    assert (i03.actual, i03.status) == (111000, Status.PASS)
    assert i01.elapsed == 0.5  # 2022–2023 of 2022–2025


def test_sum_indicator_in_check_is_one_units_part(tmp_path):
    path = make_return(tmp_path, unit="市司法局", year=2023, indicators=[ind("I07", "知识产权调解案件数量", 2023, "件", 100, 60)])
    score = _score(check_file(path, PLAN), "I07", 2023)
    assert (score.target, score.actual, score.status) == (100, 60, Status.FAIL)


def test_missing_lead_indicator_scored_missing(tmp_path):
    path = make_return(tmp_path, unit="市法院", year=2023, indicators=[ind("I06", "知识产权司法诉讼案件一审审结", 2023, "件", 200, None)])
    score = _score(check_file(path, PLAN), "I06", 2023)
    assert (score.actual, score.status) == (None, Status.MISSING)


def test_title_rows_inline_info_and_aliases(tmp_path):
    from helpers import write_xlsx

    sheets = {"Sheet1": [
        ["乐清市知识产权强县建设指标完成情况"],
        ["填报单位：乐清市人民法院      报告年度：2023年"],
        [],
        ["序号", "主要指标（单位）", "完成情况", "备注"],
        [1, "知识产权司法诉讼案件一审审结（件）", "1，205件", ""],
        ["注：数据截至12月31日", None, None, None],
    ]}
    report = check_file(write_xlsx(tmp_path / "r.xlsx", sheets), PLAN)
    assert (report.unit, report.year) == ("市法院", 2023)
    rows = [(r.indicator, r.year, r.value, r.cell("value")) for r in report.ret.indicators]
    assert rows == [("I06", 2023, 1205.0, "C5")]
    assert [f.code for f in report.findings if f.severity.value == "error"] == ["V313"] or not [
        f for f in report.findings if f.severity.value == "error"]


def test_merged_cells_fill_their_range(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指标完成情况"
    ws.append(["填报单位", "指标名称", "年度", "完成值"])
    ws.append(["市司法局", "知识产权调解案件数量", 2022, 90])
    ws.append([None, "知识产权调解案件数量", 2023, 95])
    ws.merge_cells("A2:A3")
    path = tmp_path / "m.xlsx"
    wb.save(path)
    report = check_file(path, PLAN)
    assert [(r.unit.name, r.year, r.value) for r in report.ret.indicators] == [("市司法局", 2022, 90), ("市司法局", 2023, 95)]
    assert not [f for f in report.findings if f.code == "S103"]


def test_input_file_bytes_unchanged(tmp_path):
    path = make_return(tmp_path, unit="市法院", indicators=[ind("I06", "知识产权司法诉讼案件一审审结", 2023, "件", 200, "=1+1")])
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    check_file(path, PLAN)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
