"""samples/: regenerated deterministically by scripts/make_samples.py, and each file shows what it says.

Good returns check without errors (only the warnings listed here); each file of samples/bad/ gives
the issue code in its name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lqip.findings import CATALOGUE, Severity
from lqip.plan import load_plan
from lqip.workbook import Unreadable, open_book

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
SCRIPT = ROOT / "scripts" / "make_samples.py"
PLAN = load_plan()
SPREADSHEET = {".xlsx", ".xls", ".ods"}
GOOD = sorted(p for p in (SAMPLES / "returns").glob("*") if p.suffix in SPREADSHEET)
BAD = sorted(p for p in (SAMPLES / "bad").glob("*.*"))

# Warnings a good sample is meant to show (file -> codes); every other good sample has none.
GOOD_WARNINGS = {"2024_市市场监管局_填报表.xlsx": ["V310"]}  # I10 left to 市人行, said in 备注
# Findings a bad sample may show besides its own code, as a consequence of the same mistake.
ALSO_ALLOWED = {"工作表改名_S101.xlsx": {"S103"}, "编号名称不符_V302.xlsx": {"V310"},
                "缺少完成值列_S102.xlsx": {"V310"}}


def check_file(path):
    check = pytest.importorskip("lqip.check", reason="lqip.check (the checker) is not written yet")
    return check.check_file(path, PLAN)


def run_script(out: Path) -> list[str]:
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], capture_output=True, text=True,
                            timeout=300, check=True)
    return result.stdout.split()


def tree(base: Path) -> dict[str, bytes]:
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()
            and p.name != "README.md"}


def cells(path: Path) -> object:
    """Every sheet's cells, or the bytes of a file that is not a readable workbook."""
    try:
        book = open_book(path)
        return {name: book.sheet(name).rows for name in book.sheet_names}
    except Unreadable:
        return path.read_bytes()


# --- regeneration -----------------------------------------------------------------------------------------


def test_make_samples_is_deterministic(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    listed = run_script(first)
    run_script(second)
    a, b = tree(first), tree(second)
    assert len(a) == len(listed) >= 40
    assert a.keys() == b.keys()
    different = [name for name in a if a[name] != b[name]]
    assert different == [], "not byte-identical across runs"


def test_committed_samples_match_the_script(tmp_path):
    fresh = tmp_path / "fresh"
    run_script(fresh)
    committed = {k for k in tree(SAMPLES)}
    assert committed == set(tree(fresh)), "samples/ is stale: run scripts/make_samples.py"
    for name in sorted(committed):
        assert cells(SAMPLES / name) == cells(fresh / name), name


def test_samples_are_small():
    for path in SAMPLES.rglob("*"):
        if path.is_file():
            assert path.stat().st_size < 30 * 1024, path


def test_readme_lists_every_sample():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name in tree(SAMPLES):
        assert Path(name).name in readme, name
    assert "数据不一致_V320" in readme


def test_the_mix_the_samples_promise():
    suffixes = {p.suffix for p in GOOD}
    assert suffixes == SPREADSHEET
    years = {int(p.name[:4]) for p in GOOD}
    assert years == {2022, 2023, 2024}
    names = " ".join(p.name for p in GOOD)
    for unit in ("市市场监管局", "市法院", "市科技局", "市委宣传部", "市司法局", "市人行", "柳市镇"):
        assert unit in names or unit in _spelled_out(names), unit
    assert "上半年" in names


def _spelled_out(names: str) -> str:
    return names.replace("乐清市人民法院", "市法院").replace("中国人民银行乐清市支行", "市人行") \
        .replace("乐清市市场监督管理局", "市市场监管局").replace("乐清市司法局", "市司法局")


# --- good returns -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_sample_checks_without_errors(path):
    report = check_file(path)
    assert [f.code for f in report.findings if f.severity is Severity.ERROR] == []
    warnings = sorted(f.code for f in report.findings if f.severity is Severity.WARNING)
    assert warnings == GOOD_WARNINGS.get(path.name, [])
    assert report.unit and report.year in (2022, 2023, 2024)
    assert report.scores, "a sample should give figures or at least missing scores"


def _report(name: str):
    return check_file(SAMPLES / "returns" / name)


def _actual(report, indicator: str):
    return next(s.actual for s in report.scores if s.indicator == indicator and s.year != "total")


def _status(report, indicator: str) -> str:
    return next(str(s.status) for s in report.scores if s.indicator == indicator and s.year != "total")


def test_spelled_out_units_text_figures_and_layouts_are_read():
    court = _report("2022_乐清市人民法院_知识产权审判指标.xlsx")  # single sheet, unit and year in the title
    assert (court.unit, court.year, _actual(court, "I06")) == ("市法院", 2022, 213)
    bank = _report("2022_中国人民银行乐清市支行_质押融资.xlsx")
    assert bank.unit == "市人行" and _actual(bank, "I10") == pytest.approx(8.5)
    assert [(f.code, f.severity) for f in bank.findings] == [("V307", Severity.INFO)]  # 85000万元 → 8.5 亿元
    market = _report("2023_乐清市市场监督管理局_指标及任务完成情况.xlsx")
    assert market.unit == "市市场监管局"
    assert _actual(market, "I17") == 1200 and _actual(market, "I03") == 108911 and _actual(market, "I10") == 10.6
    science = _report("2024_市科技局_指标完成情况.xlsx")
    assert _actual(science, "I02") == pytest.approx(8.1) and _actual(science, "I11") == 61
    assert _report("2023_市法院_填报表.xls").unit == "市法院"
    assert _actual(_report("2023_市科技局_填报表.ods"), "I11") == 52
    town = _report("2024_柳市镇_填报表.xlsx")
    assert town.unit == "柳市镇" and _actual(town, "I07") == 9


def test_targets_met_missed_and_behind():
    assert _status(_report("2022_市市场监管局_填报表.xlsx"), "I01") == "pass"
    assert _status(_report("2023_乐清市市场监督管理局_指标及任务完成情况.xlsx"), "I01") == "fail"
    half = _report("2024_上半年_市市场监管局_填报表.xlsx")
    assert str(half.period) == "H1"
    assert _status(half, "I01") == "behind" and _status(half, "I03") == "on_track"
    assert _status(_report("2024_市市场监管局_填报表.xlsx"), "I10") == "missing"


def test_i10_agrees_between_bank_and_market_supervision():
    for year, bank, market in [(2022, "2022_中国人民银行乐清市支行_质押融资.xlsx", "2022_市市场监管局_填报表.xlsx"),
                               (2023, "2023_中国人民银行乐清市支行_质押融资.xlsx",
                                "2023_乐清市市场监督管理局_指标及任务完成情况.xlsx")]:
        assert _actual(_report(bank), "I10") == pytest.approx(_actual(_report(market), "I10")), year


# --- bad returns ---------------------------------------------------------------------------------------------


def _code(path: Path) -> str:
    match = re.search(r"_([FSUVT]\d{3})$", path.stem)
    assert match, f"{path.name}: a bad sample's name ends in its issue code"
    return match.group(1)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_sample_gives_the_code_in_its_name(path):
    code = _code(path)
    assert code in CATALOGUE
    report = check_file(path)
    codes = [f.code for f in report.findings]
    assert code in codes, codes
    others = {f.code for f in report.findings if f.severity is not Severity.INFO} - {code}
    assert others <= ALSO_ALLOWED.get(path.name, set()), others
    if not code.startswith("F") and code != "S101":  # file-level codes have no sheet
        located = [f for f in report.findings if f.code == code]
        assert all(f.sheet for f in located), "a sheet-level issue names its sheet"


def test_every_per_file_code_has_a_bad_sample():
    shown = {_code(p) for p in BAD}
    per_file = {c for c in CATALOGUE if c not in {"F001", "F004", "V307", "V320"}}
    assert per_file <= shown, per_file - shown


def test_conflicting_returns_check_clean_alone_but_disagree():
    folder = SAMPLES / "bad" / "数据不一致_V320"
    reports = [check_file(p) for p in sorted(folder.glob("*.xlsx"))]
    assert len(reports) == 2
    for report in reports:
        assert [f.code for f in report.findings if f.severity is not Severity.INFO] == []
    assert {r.unit for r in reports} == {"市人行", "市市场监管局"}
    assert len({_actual(r, "I10") for r in reports}) == 2


def test_conflicting_returns_give_v320_in_summary():
    result = subprocess.run([sys.executable, "-m", "lqip", "summary", str(SAMPLES / "bad" / "数据不一致_V320"),
                             "--format", "json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    if "No such command" in result.stderr:
        pytest.skip("lqip summary is not written yet")
    data = json.loads(result.stdout)
    assert any(issue["code"] == "V320" for issue in data["issues"]), data["issues"]
