"""U201–U203: the reporting unit, and whether it answers for what it reports."""

from __future__ import annotations

from lqip.findings import finding
from lqip.model import IS_NONE, NOT_NONE


def unknown_unit(ret, plan):
    """U201: a 填报单位 (info sheet or a row's own) that names no unit of the plan."""
    seen: set[str] = set()
    info = ret.info.get("unit")
    if info is not None and info.text and ret.unit is None:
        seen.add(info.text)
        yield _u201(ret, plan, info.text, info.sheet, info.cell)
    t = ret.table
    for i in t.where(t.unit, IS_NONE):
        reporter = t.reporter_raw[i]
        if reporter and reporter not in seen:
            seen.add(reporter)
            yield _u201(ret, plan, reporter, t.sheet[i], t.cell(i, "reporter"))
    for row in ret.tasks:
        if row.reporter_raw and row.unit is None and row.reporter_raw not in seen:
            seen.add(row.reporter_raw)
            yield _u201(ret, plan, row.reporter_raw, row.sheet, row.cell("reporter"))


def _u201(ret, plan, text, sheet, cell):
    suggestions = plan.resolver.suggest(text) or ["—"]
    return finding("U201", file=ret.path, sheet=sheet, cell=cell, value=text, suggestions=suggestions)


def _answers(plan, units: tuple[str, ...], key_lead: str, key_co: str, item: str) -> bool:
    for unit in units:
        duty = plan.responsibility.get(unit)
        if duty and (item in duty[key_lead] or item in duty[key_co]):
            return True
    return False


def indicator_not_responsible(ret, plan):
    """U202: the unit reports an indicator none of its tasks is linked to (once per unit and indicator)."""
    t = ret.table
    rows = t.where(t.value, NOT_NONE)  # a value implies an indicator
    duties = {id(u): u.units for u in t.distinct(t.unit) if u is not None}
    duties[id(None)] = None
    answers: dict[tuple, bool] = {}  # (the unit's plan units, indicator) -> answers for it
    for duty in set(zip(map(duties.__getitem__, map(id, map(t.unit.__getitem__, rows))),
                        map(t.indicator.__getitem__, rows), strict=True)):
        if duty[0] is not None:
            answers[duty] = _answers(plan, duty[0], "lead_indicators", "co_indicators", duty[1])
    if all(answers.values()):
        return  # every unit answers for what it reports (the usual case: no row to look at)
    for (name, indicator), i in t.first_rows(rows, t.unit_name, t.indicator).items():
        unit = t.unit[i]
        if unit is None or answers[(unit.units, indicator)]:
            continue
        ind = plan.indicator_by_id[indicator]
        yield finding("U202", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), unit=name,
                      indicator=ind.id, name=ind.name)


def task_not_responsible(ret, plan):
    """U203: the unit reports a task it neither leads nor co-owns."""
    known: set[tuple[str, str]] = set()
    for row in ret.tasks:
        if row.unit is None or row.task is None or row.status is None:
            continue
        key = (row.unit.name, row.task)
        if key in known:
            continue
        known.add(key)
        if _answers(plan, row.unit.units, "lead_tasks", "co_tasks", row.task):
            continue
        yield finding("U203", file=ret.path, sheet=row.sheet, cell=row.cell("task"), unit=row.unit.name,
                      task=row.task)
