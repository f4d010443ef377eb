"""S103, S104: who is reporting and for which year."""

from __future__ import annotations

from lqip.findings import finding


def _info_cell(ret, key: str) -> tuple[str, str]:
    cell = ret.info.get(key)
    if cell is not None:
        return cell.sheet, cell.cell
    return ret.indicator_sheet or ret.task_sheet or "", ""


def unit_missing(ret, plan):
    """S103: no 填报单位 in the info sheet, and some row has no 填报单位 of its own."""
    if "unit" in ret.info and ret.info["unit"].text:
        return
    if not (ret.indicator_sheet or ret.task_sheet):
        return  # S101 says it: nothing to report for
    t = ret.table
    if (len(t) or ret.tasks) and all(t.reporter_raw) and all(r.reporter_raw for r in ret.tasks):
        return
    sheet, cell = _info_cell(ret, "unit")
    yield finding("S103", file=ret.path, sheet=sheet, cell=cell)


def year_missing(ret, plan):
    """S104: no readable 报告年度, and some indicator row (or the task sheet) has no year of its own."""
    if ret.year is not None:
        return
    t = ret.table
    if len(t) and None not in t.year and not ret.tasks:
        return
    if not len(t) and not ret.tasks and not (ret.indicator_sheet or ret.task_sheet):
        return
    sheet, cell = _info_cell(ret, "year")
    yield finding("S104", file=ret.path, sheet=sheet, cell=cell)
