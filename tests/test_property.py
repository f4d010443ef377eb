"""Property: whatever form a careful person gives a return, the tidy table holds the figures written.

Hypothesis builds random but valid returns: the sheets in any order under any accepted name (case and
spaces varied) or found by their header, title and note rows above a header anywhere in the first 10
rows, the indicator columns in any order under any alias (decorated with 必填 marks and unit brackets),
codes and names in their accepted spellings, years as numbers or 2023年, and values as numeric cells or
text: "300件", "1,000", "１２３", "11万". `read_return(...).indicators` must give back exactly the
(indicator, year, value) rows written, in order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import WRITERS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lqip.plan import load_plan
from lqip.reader import INDICATOR_COLUMNS, SHEET_NAMES, read_return

PLAN = load_plan()
YEARS = list(PLAN.plan_years)
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TITLES = ["乐清市知识产权强县建设试点工作完成情况表", "附表1", "（2023年度）", "单位盖章：", "请于1月10日前报送"]


def _vary(name: str, draw) -> str:
    """An accepted spelling of a sheet name: trimmed and case-insensitive."""
    choice = draw(st.sampled_from(["as is", "upper", "spaces"]))
    if choice == "upper":
        return name.upper()
    if choice == "spaces":
        return f" {name} "
    return name


@st.composite
def header_cell(draw, field: str) -> str:
    alias = draw(st.sampled_from(INDICATOR_COLUMNS[field]))
    if alias.isascii() and draw(st.booleans()):
        alias = alias.capitalize()
    decoration = draw(st.sampled_from(["", "*", "（必填）", " ", "full-width"]))
    if decoration == "*":
        return "*" + alias
    if decoration == "（必填）":
        return alias + "（必填）"
    if decoration == " ":
        return f" {alias}\u3000"
    if decoration == "full-width":
        return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in alias)
    return alias


@st.composite
def spelled_value(draw, indicator) -> tuple[object, float]:
    """(what is written in the cell, the figure it means in the indicator's unit)."""
    money = indicator.unit == "亿元"
    if money:
        number = draw(st.integers(0, 400)) / 2  # 0, 0.5, … 200
    else:
        number = draw(st.integers(0, 200_000))
    whole = float(number).is_integer()
    forms = ["cell", "text"]
    if whole:
        forms += ["full-width", "unit", "unit"]
        if number >= 1000:
            forms += ["thousands", "thousands-cn"]
        if not money and number >= 10_000 and number % 10_000 == 0:
            forms += ["wan"]
    form = draw(st.sampled_from(forms))
    n = int(number) if whole else number
    written = {
        "cell": n,
        "text": str(n),
        "full-width": str(n).translate(FULL_WIDTH),
        "unit": f"{n}{indicator.unit}",
        "thousands": f"{n:,}",
        "thousands-cn": f"{n:,}".replace(",", "，"),
        "wan": f"{n // 10_000}万",
    }[form]
    return written, float(number)


@st.composite
def indicator_label(draw, indicator) -> tuple[str | None, str | None]:
    """(code cell, name cell) in accepted spellings; either may be left out, not both."""
    number = int(indicator.id[1:])
    code = draw(st.sampled_from([indicator.id, indicator.id.lower(), str(number), f"{number:02d}", f"I{number}"]))
    names = [indicator.name, *indicator.aliases]
    name = draw(st.sampled_from(names))
    spellings = [name, f" {name}", name.replace("知识产权", "知识产权 ", 1)]
    spellings.append(f"{name}（{indicator.unit}）")
    name = draw(st.sampled_from(spellings))
    which = draw(st.sampled_from(["code", "name", "both"]))
    return (code if which != "name" else None), (name if which != "code" else None)


@st.composite
def returns(draw):
    unit = "市市场监管局"
    info_year = draw(st.sampled_from(YEARS))
    indicators = draw(st.lists(st.sampled_from(PLAN.indicators), min_size=1, max_size=6, unique_by=lambda i: i.id))
    with_year = draw(st.booleans())
    labels = [draw(indicator_label(ind)) for ind in indicators]
    has_code = any(code for code, _ in labels)
    has_name = any(name for _, name in labels)
    fields = ["value"] + (["code"] if has_code else []) + (["name"] if has_name else [])
    fields += [f for f in ("year",) if with_year]
    fields += draw(st.lists(st.sampled_from(["unit", "target", "note"]), unique=True))
    fields = draw(st.permutations(fields))
    ignored = draw(st.lists(st.sampled_from(["序号", "联系人", "责任类型"]), unique=True, max_size=2))
    columns = list(fields) + ignored
    columns = draw(st.permutations(columns))
    header = [draw(header_cell(c)) if c in INDICATOR_COLUMNS else c for c in columns]
    rows, expected = [], []
    for serial, (ind, (code, name)) in enumerate(zip(indicators, labels, strict=True), 1):
        year = draw(st.sampled_from(YEARS)) if with_year else info_year
        written, value = draw(spelled_value(ind))
        cells = {
            "value": written, "code": code, "name": name,
            "year": draw(st.sampled_from([year, f"{year}年", f"{year}年度", str(year)])),
            "unit": ind.unit, "target": PLAN.target(ind, year), "note": draw(st.sampled_from(["", "统计口径：年报", "—"])),
            "序号": serial, "联系人": "李四", "责任类型": "牵头",
        }
        rows.append([cells[c] for c in columns])
        expected.append((ind.id, year, value))
    title_rows = draw(st.lists(st.sampled_from(TITLES), max_size=9))
    indicator_sheet = draw(st.sampled_from([_vary(n, draw) for n in SHEET_NAMES["indicators"]] + ["Sheet1", "数据"]))
    info_sheet = _vary(draw(st.sampled_from(SHEET_NAMES["info"])), draw)
    sheets = {
        info_sheet: [["填报单位", unit], ["报告年度", draw(st.sampled_from([info_year, f"{info_year}年"]))]],
        indicator_sheet: [[t] for t in title_rows] + [header] + rows,
    }
    if draw(st.booleans()):
        sheets["填表说明"] = [["请如实填写"], ["数据以统计年报为准"]]
    order = draw(st.permutations(list(sheets)))
    fmt = draw(st.sampled_from([".xlsx", ".xlsx", ".xls", ".ods"]))
    return {name: sheets[name] for name in order}, expected, fmt


def _write(path: Path, sheets: dict[str, list[list]]) -> None:
    WRITERS[path.suffix](path, sheets)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(returns())
def test_the_tidy_table_recovers_the_figures_written(case):
    sheets, expected, suffix = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"return{suffix}"
        _write(path, sheets)
        ret = read_return(path, PLAN)
    assert [f.code for f in ret.findings if f.code.startswith(("F", "S"))] == []
    tidy = [(row.indicator, row.year, row.parsed.value if row.parsed else None) for row in ret.indicators]
    assert tidy == expected


def test_canonical_name_ending_in_a_bracket_with_a_unit_bracket(tmp_path):
    path = tmp_path / "i15.xlsx"
    _write(path, {"填报信息": [["填报单位", "市市场监管局"], ["报告年度", 2023]],
                  "指标完成情况": [["指标名称", "完成值"], ["知识产权中介机构累计数量（含分支机构）（家）", 35]]})
    ret = read_return(path, PLAN)
    assert [(row.indicator, row.year, row.parsed.value if row.parsed else None) for row in ret.indicators] == [
        ("I15", 2023, 35.0)]
