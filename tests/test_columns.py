"""The columnar tidy table, the summary digest and the paused collector (issue 7's fast paths).

Each test pins a fast path to the behaviour it replaced: the IndicatorTable's bulk operations
against plain loops, the digest a worker sends back against the summary of the whole Return, and
the collector's state around a read.
"""

from __future__ import annotations

import gc
import pickle

import pytest
from helpers import ind, make_return, write_xlsx

from lqip.batch import collector_paused
from lqip.check import check_file, check_paths
from lqip.model import IndicatorTable
from lqip.plan import load_plan
from lqip.summary import digest, read_returns, summarize

PLAN = load_plan()


def table_of(**columns) -> IndicatorTable:
    n = len(next(iter(columns.values())))
    raw = {name: columns.get(name, [None] * n) for name in IndicatorTable.RAW}
    raw["sheet"] = columns.get("sheet", ["s"] * n)
    raw["row"] = columns.get("row", list(range(2, n + 2)))
    raw["cols"] = columns.get("cols", [{"value": "D", "code": "A"}] * n)
    table = IndicatorTable()
    table.extend(**raw)
    return table


def test_first_rows_keeps_the_first_row_of_each_key_in_row_order():
    t = table_of(code=["b", "a", "b", "c", "a"], name=["x", "x", "x", "y", "x"])
    indices = [0, 1, 2, 3, 4]
    loop: dict = {}
    for i in indices:
        loop.setdefault((t.code[i], t.name[i]), i)
    assert t.first_rows(indices, t.code, t.name) == loop == {("b", "x"): 0, ("a", "x"): 1, ("c", "y"): 3}
    assert list(t.first_rows(indices, t.code, t.name)) == [("b", "x"), ("a", "x"), ("c", "y")]
    assert t.first_rows([4, 3], t.code) == {("a",): 4, ("c",): 3}  # of the given rows only


def test_where_and_where_among_match_plain_loops():
    marker, other = object(), object()
    t = table_of(value_raw=[1.0, None, "", 0.0, None])
    t.parsed = [marker, other, marker, None, other]
    assert t.where(t.value_raw, lambda v: v is None) == [1, 4]
    assert t.where_among(t.parsed, [marker]) == [0, 2]
    assert t.where_among(t.parsed, []) == []
    assert t.distinct(t.parsed) == [marker, other, None]
    assert t.where_parsed(lambda p: p is other or p is None) == [1, 3, 4]


def test_rows_are_records_of_every_column_and_the_table_pickles():
    t = table_of(code=["I01", "I06"], name=["发明专利授权量", ""], value_raw=[300.0, None])
    t.value = [300.0, None]
    rows = t.rows()
    assert [(r.code, r.value, r.cell("value"), r.cell("target")) for r in rows] == [
        ("I01", 300.0, "D2", ""), ("I06", None, "D3", "")]
    copy = pickle.loads(pickle.dumps(t))
    assert [getattr(copy, name) for name in t.__slots__] == [getattr(t, name) for name in t.__slots__]


def test_a_wide_sheet_is_reordered_by_row_in_every_column(tmp_path):
    path = write_xlsx(tmp_path / "wide.xlsx", {
        "填报信息": [["填报单位", "市市场监管局"], ["报告年度", 2023]],
        "指标": [["指标编号", "2022年", "2023年"], ["I01", 280, 310], ["I06", 190, 210]],
    })
    t = check_file(path, PLAN).ret.table
    assert list(zip(t.code, t.year, t.value, t.row, strict=True)) == [
        ("I01", 2022, 280, 2), ("I01", 2023, 310, 2), ("I06", 2022, 190, 3), ("I06", 2023, 210, 3)]
    assert [t.cell(i, "value") for i in range(4)] == ["B2", "C2", "B3", "C3"]


def test_many_rows_give_the_findings_row_by_row_checks_gave(tmp_path):
    """Repeated codes, reporters and values across many rows: one finding per offending row, at its
    own cell, in row order (the bulk operations must not merge or reorder rows)."""
    rows = [["指标编号", "年度", "完成值", "填报单位"]]
    for n in range(300):
        value = -1 if n % 50 == 7 else ("很多" if n % 75 == 3 else 10 + n % 3)
        rows.append(["I06", 2022 + n % 3, value, "市市场监管局" if n % 2 else "市文化和广电旅游体育局"])
    path = write_xlsx(tmp_path / "big.xlsx", {"指标": rows})
    found = [(f.code, f.cell) for f in check_file(path, PLAN).findings if f.code in ("V303", "V304")]
    expected = [("V303", f"C{n + 2}") for n in range(300) if n % 75 == 3]
    expected += [("V304", f"C{n + 2}") for n in range(300) if n % 50 == 7 and n % 75 != 3]
    assert found == expected


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_during_a_read_and_restored_after(enabled, tmp_path):
    path = make_return(tmp_path, indicators=[ind("I06", "", 2023, "件", 200, 210)])
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        check_file(path, PLAN)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_the_digest_summary_equals_the_summary_of_whole_returns(tmp_path):
    paths = [
        make_return(tmp_path, "a.xlsx", indicators=[ind("I06", "", 2023, "件", 200, 210),
                                                     ind("I01", "", 2023, "件", 300, -5)]),
        make_return(tmp_path, "b.xlsx", unit="市文化和广电旅游体育局", indicators=[ind("I06", "", 2022, "件", 200, 150)],
                    tasks=[("T01", "已完成", "完成")]),
        tmp_path / "missing.xlsx",
    ]
    whole = check_paths(paths, PLAN, jobs=1)
    digested = read_returns(paths, PLAN, jobs=1)
    assert all(f.ret is None for f in digested.files)
    assert [f.readable for f in digested.files] == [True, True, False]
    assert digested.files[0].digest == digest(whole.files[0], PLAN)
    for year, unit in [(None, None), (2023, None), (None, "市文化和广电旅游体育局"), (2022, "市市场监管局")]:
        assert (summarize(digested, PLAN, year=year, unit=unit).to_dict()
                == summarize(whole, PLAN, year=year, unit=unit).to_dict())
