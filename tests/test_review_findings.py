"""Found by a differential review of the column rewrite of the checks against the row-by-row version
(01ad795): the order of V306 findings, and a figure that overflows in its scale."""

from __future__ import annotations

import pytest
from helpers import ind, make_return

from lqip.check import check_file
from lqip.plan import load_plan


def test_v306_findings_come_in_row_order(tmp_path):
    """Base: one pass over the rows, so an unfilled row whose 计量单位 is wrong (D2) comes before a
    later row whose figure has a wrong unit (D3). The rewrite yields every filled row first, then
    the unfilled ones (D3, D2): the order of findings differs from the old one."""
    path = make_return(tmp_path, indicators=[
        ind("I01", "", 2023, "个", None, None),  # unfilled, 计量单位 个 where I01 counts 件
        ind("I01", "", 2023, "个", None, 5),  # filled, unit 个: a Problem.UNIT parse
    ])
    report = check_file(path, load_plan())
    cells = [f.cell for f in report.findings if f.code == "V306"]
    assert cells == ["D2", "D3"]


@pytest.mark.parametrize("code", ["I02", "I01"])  # a fractional measure (件/万人) and a whole one (件)
def test_a_figure_that_overflows_in_its_scale_is_v303_not_f003(tmp_path, code):
    """1e305 in a row whose 计量单位 is 万件 is 1e309: infinite. It is not a number (V303 at its
    cell), and the rest of the file is checked (V305 once rounded it and lost the file to an F003)."""
    path = make_return(tmp_path, indicators=[ind(code, "", 2023, "万件", None, 1e305),
                                             ind("I06", "", 2023, "件", 200, -1)])
    report = check_file(path, load_plan())
    assert [(f.code, f.cell) for f in report.findings if f.code in ("F003", "V303", "V304")] == [
        ("V303", "F2"), ("V304", "F3")]
