"""U201–U203: the reporting unit, and whether it answers for what it reports."""

from __future__ import annotations

from lqip.findings import finding


def unknown_unit(ret, plan):
    """U201: a 填报单位 (info sheet or a row's own) that names no unit of the plan."""
    seen: set[str] = set()
    info = ret.info.get("unit")
    if info is not None and info.text and ret.unit is None:
        seen.add(info.text)
        yield _u201(ret, plan, info.text, info.sheet, info.cell)
    for row in (*ret.indicators, *ret.tasks):
        if row.reporter_raw and row.unit is None and row.reporter_raw not in seen:
            seen.add(row.reporter_raw)
            yield _u201(ret, plan, row.reporter_raw, row.sheet, row.cell("reporter"))


def _u201(ret, plan, text, sheet, cell):
    suggestions = plan.resolver.suggest(text) or ["—"]
    return finding("U201", file=ret.path, sheet=sheet, cell=cell, value=text, suggestions=suggestions)


def _answers(plan, resolved, key_lead: str, key_co: str, item: str) -> bool:
    for unit in resolved.units:
        duty = plan.responsibility.get(unit)
        if duty and (item in duty[key_lead] or item in duty[key_co]):
            return True
    return False


def indicator_not_responsible(ret, plan):
    """U202: the unit reports an indicator none of its tasks is linked to (once per unit and indicator)."""
    known: set[tuple[str, str]] = set()
    for row in ret.indicators:
        if row.unit is None or row.indicator is None or row.value is None:
            continue
        key = (row.unit.name, row.indicator)
        if key in known:
            continue
        known.add(key)
        if _answers(plan, row.unit, "lead_indicators", "co_indicators", row.indicator):
            continue
        ind = plan.indicator_by_id[row.indicator]
        yield finding("U202", file=ret.path, sheet=row.sheet, cell=row.cell("value"), unit=row.unit.name,
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
        if _answers(plan, row.unit, "lead_tasks", "co_tasks", row.task):
            continue
        yield finding("U203", file=ret.path, sheet=row.sheet, cell=row.cell("task"), unit=row.unit.name,
                      task=row.task)
