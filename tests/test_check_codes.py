"""Every issue code of the contract: the smallest return that triggers it (code, severity, sheet,
cell), and a clean twin that must not."""

from __future__ import annotations

import zipfile

import pytest
from helpers import TASK_HEADER, ind, make_return, return_sheets, write_xlsx

from lqip.check import check_file
from lqip.plan import load_plan
from lqip.workbook import Limits

PLAN = load_plan()
IND = "指标完成情况"
TASK = "任务进展"
INFO = "填报信息"

I06 = ("I06", "知识产权司法诉讼案件一审审结")  # 市法院 leads it; 件; 2023 target 200


def court(value=210, year=2023, unit="件", target=200, code=I06[0], name=I06[1]):
    return ind(code, name, year, unit, target, value)


# name -> (kwargs of the trigger, expected (code, severity, sheet, cell), kwargs of the clean twin)
CASES = {
    "S103 unit missing": (
        dict(unit=None, indicators=[court()]), ("S103", "error", IND, ""), dict(unit="市法院", indicators=[court()])),
    "S104 year missing": (
        dict(unit="市法院", year=None, indicators=[court(year=None)]), ("S104", "error", IND, ""),
        dict(unit="市法院", year=None, indicators=[court(year=2023)])),
    "U201 unknown unit": (
        dict(unit="乐清市不存在局", indicators=[court()]), ("U201", "error", INFO, "B1"),
        dict(unit="乐清市人民法院", indicators=[court()])),
    "U202 not responsible for indicator": (
        dict(unit="市法院", indicators=[court(), ind("I01", "发明专利授权量", 2023, "件", 300, 320)]),
        ("U202", "warning", IND, "F3"), dict(unit="市法院", indicators=[court()])),
    "U203 not responsible for task": (
        dict(unit="市法院", indicators=[court()], tasks=[["T01", "推进中", "开展中"]]), ("U203", "warning", TASK, "A2"),
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "推进中", "开展中"]])),
    "V301 unknown indicator": (
        dict(unit="市法院", indicators=[court(), ind("I99", "不存在的指标", 2023, "件", 1, 1)]),
        ("V301", "error", IND, "B3"), dict(unit="市法院", indicators=[court()])),
    "V302 code and name disagree": (
        dict(unit="市法院", indicators=[court(code="I01")]), ("V302", "error", IND, "A2"),
        dict(unit="市法院", indicators=[court(code="I06")])),
    "V303 not a number": (
        dict(unit="市法院", indicators=[court(value="二百一十")]), ("V303", "error", IND, "F2"),
        dict(unit="市法院", indicators=[court(value="210件")])),
    "V304 negative": (
        dict(unit="市法院", indicators=[court(value=-5)]), ("V304", "error", IND, "F2"),
        dict(unit="市法院", indicators=[court(value=5)])),
    "V305 fraction of a whole unit": (
        dict(unit="市法院", indicators=[court(value=210.5)]), ("V305", "error", IND, "F2"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V306 unit in the value": (
        dict(unit="市法院", indicators=[court(value="210个")]), ("V306", "error", IND, "F2"),
        dict(unit="市法院", indicators=[court(value="210件")])),
    "V306 unit column": (
        dict(unit="市法院", indicators=[court(unit="亿元")]), ("V306", "error", IND, "D2"),
        dict(unit="市法院", indicators=[court(unit="件")])),
    "V307 converted": (
        dict(unit="市人行", indicators=[ind("I10", "知识产权质押融资授信额", 2023, "亿元", 10, "105000万元")]),
        ("V307", "info", IND, "F2"),
        dict(unit="市人行", indicators=[ind("I10", "知识产权质押融资授信额", 2023, "亿元", 10, "10.5亿元")])),
    "V308 year outside the plan": (
        dict(unit="市法院", indicators=[court(), court(year=2030)]), ("V308", "error", IND, "C3"),
        dict(unit="市法院", indicators=[court(), court(year=2024)])),
    "V309 twice, different": (
        dict(unit="市法院", indicators=[court(value=210), court(value=220)]), ("V309", "error", IND, "F3"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V309 twice, equal": (
        dict(unit="市法院", indicators=[court(value=210), court(value=210)]), ("V309", "warning", IND, "F3"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V310 lead indicator empty": (
        dict(unit="市法院", indicators=[court(value=None)]), ("V310", "warning", IND, "F2"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V310 no indicators sheet": (
        dict(unit="市法院", tasks=[["T11", "推进中", "开展中"]]), ("V310", "warning", "", ""),
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "推进中", "开展中"]])),
    "V311 formula without cached value": (
        dict(unit="市法院", indicators=[court(value="=200+10")]), ("V311", "error", IND, "F2"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V312 target differs": (
        dict(unit="市法院", indicators=[court(target=250)]), ("V312", "warning", IND, "E2"),
        dict(unit="市法院", indicators=[court(target=200)])),
    "V313 over 10x target": (
        dict(unit="市法院", indicators=[court(value=2100)]), ("V313", "warning", IND, "F2"),
        dict(unit="市法院", indicators=[court(value=210)])),
    "V313 stock falls": (
        dict(unit="市市场监管局", indicators=[ind("I03", "有效注册商标量累计", 2022, "件", 100000, 101000),
                                          ind("I03", "有效注册商标量累计", 2023, "件", 105000, 99000)]),
        ("V313", "warning", IND, "F3"),
        dict(unit="市市场监管局", indicators=[ind("I03", "有效注册商标量累计", 2022, "件", 100000, 101000),
                                          ind("I03", "有效注册商标量累计", 2023, "件", 105000, 106000)])),
    "T401 unknown task": (
        dict(unit="市法院", indicators=[court()], tasks=[["T99", "推进中", "x"]]), ("T401", "error", TASK, "A2"),
        dict(unit="市法院", indicators=[court()], tasks=[["T12", "推进中", "x"]])),
    "T402 unknown status": (
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "搞定了", "x"]]), ("T402", "error", TASK, "B2"),
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "已完成", "x"]])),
    "T403 done without progress": (
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "已完成", None]]), ("T403", "warning", TASK, "C2"),
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "已完成", "已建成三合一审判机制"]])),
    "T404 task twice": (
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "推进中", "a"], ["T11", "已完成", "b"]]),
        ("T404", "error", TASK, "A3"),
        dict(unit="市法院", indicators=[court()], tasks=[["T11", "推进中", "a"], ["T12", "已完成", "b"]])),
    "S105 unknown period": (
        dict(unit="市法院", period="第五季度", indicators=[court()]), ("S105", "warning", INFO, "B3"),
        dict(unit="市法院", period="上半年", indicators=[court()])),
}


def issues(path, limits=None):
    report = check_file(path, PLAN, limits)
    return [(f.code, f.severity.value, f.sheet, f.cell) for f in report.findings]


@pytest.mark.parametrize("name", list(CASES))
def test_code_triggers_and_clean_twin_does_not(tmp_path, name):
    trigger, expected, clean = CASES[name]
    found = issues(make_return(tmp_path, "bad.xlsx", **trigger))
    assert expected in found, found
    twin = issues(make_return(tmp_path, "good.xlsx", **clean))
    assert not [f for f in twin if f[0] == expected[0]], twin


def test_s101_no_indicator_or_task_sheet(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", {"Sheet1": [["随便", "什么"], [1, 2]]})
    assert ("S101", "error", "", "") in issues(path)
    clean = make_return(tmp_path, "ok.xlsx", unit="市法院", indicators=[court()])
    assert "S101" not in [f[0] for f in issues(clean)]


def test_s102_required_column_missing_names_it_and_the_headers_seen(tmp_path):
    sheets = return_sheets(unit="市法院", indicators=[["I06", "x", 2023, 210]],
                           ind_header=["指标编号", "指标名称", "年度", "数量"])
    path = write_xlsx(tmp_path / "r.xlsx", sheets)
    report = check_file(path, PLAN)
    s102 = [f for f in report.findings if f.code == "S102"]
    assert [(f.sheet, f.severity.value) for f in s102] == [(IND, "error")]
    message = s102[0].message("zh")
    assert "完成值" in message and "数量" in message
    sheets_ok = return_sheets(unit="市法院", indicators=[court()])
    assert "S102" not in [f[0] for f in issues(write_xlsx(tmp_path / "ok.xlsx", sheets_ok))]


def test_f001_missing_file(tmp_path):
    assert [f[0] for f in issues(tmp_path / "nope.xlsx")] == ["F001"]


@pytest.mark.parametrize("content", [b"", b"hello, this is text\n", b"%PDF-1.4 fake pdf"])
def test_f002_not_a_spreadsheet(tmp_path, content):
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    assert [f[0] for f in issues(path)] == ["F002"]


def _zip(path, parts: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


CT = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def test_f003_corrupt_and_entity_bomb(tmp_path):
    corrupt = _zip(tmp_path / "c.xlsx", {"[Content_Types].xml": CT, "xl/workbook.xml": b"<workbook><sheets"})
    assert [f[0] for f in issues(corrupt)] == ["F003"]
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><sst>&lol2;</sst>'
    evil = _zip(tmp_path / "e.xlsx", {"[Content_Types].xml": CT, "xl/workbook.xml": b"<workbook/>",
                                       "xl/sharedStrings.xml": bomb})
    assert [f[0] for f in issues(evil)] == ["F003"]
    truncated = tmp_path / "t.xlsx"
    good = make_return(tmp_path, "g.xlsx", unit="市法院", indicators=[court()])
    truncated.write_bytes(good.read_bytes()[:300])
    assert [f[0] for f in issues(truncated)] == ["F003"]


def test_f003_encrypted_ole_container(tmp_path):
    path = tmp_path / "enc.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 512)
    assert [f[0] for f in issues(path)] == ["F003"]


def test_f004_over_the_limits(tmp_path):
    path = make_return(tmp_path, "r.xlsx", unit="市法院", indicators=[court()] * 30)
    assert [f[0] for f in issues(path, Limits(max_rows=10))] == ["F004"]
    assert [f[0] for f in issues(path, Limits(max_unzipped_bytes=1000))] == ["F004"]
    assert [f[0] for f in issues(path, Limits(max_file_bytes=100))] == ["F004"]
    assert "F004" not in [f[0] for f in issues(path)]


def test_every_contract_code_has_a_test():
    """The catalogue and this module agree: each code of the contract is exercised above."""
    import pathlib

    from lqip.findings import CATALOGUE

    text = pathlib.Path(__file__).read_text(encoding="utf-8")
    untested = [c for c in CATALOGUE if c != "V320" and f'"{c}' not in text]
    assert untested == []


def test_task_sheet_header_variants(tmp_path):
    sheets = return_sheets(unit="市法院", indicators=[court()],
                           tasks=[[1, "T11", "推进中", "x"]], task_header=["序号", "任务编号", "状态", "进展情况"])
    report = check_file(write_xlsx(tmp_path / "r.xlsx", sheets), PLAN)
    rows = report.ret.tasks
    assert [(r.task, r.status.value, r.progress) for r in rows] == [("T11", "in_progress", "x")]
    assert TASK_HEADER  # the default header is the contract's
