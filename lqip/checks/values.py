"""V301–V313: the indicator figures."""

from __future__ import annotations

import math

from lqip.findings import finding
from lqip.model import IS_NONE, NOT_NONE
from lqip.plan import Kind, fmt
from lqip.values import Problem, parse_value


def unknown_indicator(ret, plan):
    """V301: neither the code nor the name names an indicator of the plan."""
    t = ret.table
    for i in t.where(t.code_id, IS_NONE):
        if t.name_id[i] is not None:
            continue
        field = "code" if t.code[i] and not t.name[i] else "name"
        yield finding("V301", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, field) or t.cell(i, "code"),
                      value=t.name[i] or t.code[i])


def code_name_disagree(ret, plan):
    """V302: the code names one indicator and the name another."""
    t = ret.table
    for i in t.where(t.indicator, IS_NONE):  # both known and different leaves the indicator unknown
        if not (t.code_id[i] and t.name_id[i] and t.code_id[i] != t.name_id[i]):
            continue
        yield finding("V302", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "code"), code=t.code[i],
                      name=t.name[i], name_id=t.name_id[i])


def not_a_number(ret, plan):
    """V303: a value cell that cannot be read as a figure."""
    t = ret.table
    for i in t.where_parsed(lambda p: p is not None and p.problem == Problem.NOT_NUMBER):
        yield finding("V303", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"),
                      value=_show(t.value_raw[i]))


def negative(ret, plan):
    """V304: a figure below zero."""
    t = ret.table
    for i in t.where(t.value, _below_zero):
        yield finding("V304", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), value=t.value[i])


def _below_zero(value) -> bool:
    return value is not None and value < 0


def fraction_of_whole(ret, plan):
    """V305: a fraction where the indicator counts whole things (件, 个, 家, 人次)."""
    t = ret.table
    whole = {ind.id for ind in plan.indicators if plan.whole(ind)}
    fractions = {v for v in set(t.value) if v is not None and math.isfinite(v) and abs(v - round(v)) > 1e-9}
    if not fractions:
        return
    for i in t.where(t.value, fractions.__contains__):
        if t.indicator[i] in whole:
            ind = plan.indicator_by_id[t.indicator[i]]
            yield finding("V305", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), indicator=ind.id,
                          measure=ind.unit, value=t.value[i])


def incompatible_unit(ret, plan):
    """V306: the value or its 计量单位 cell names a unit that is not the indicator's."""
    t = ret.table
    wrong_unit = t.where_parsed(lambda p: p is not None and p.problem == Problem.UNIT)
    unfilled = t.where_parsed(lambda p: p is None or p.empty)
    wrong_column: dict[tuple[str, str], bool] = {}  # (indicator, 计量单位) -> names a unit it cannot take
    for i in sorted(wrong_unit + unfilled):  # in row order, the two kinds together
        if t.indicator[i] is None:
            continue
        ind = plan.indicator_by_id[t.indicator[i]]
        aliases = tuple(ind.unit_aliases)
        parsed = t.parsed[i]
        if parsed is not None and parsed.problem == Problem.UNIT:
            raw = t.value_raw[i]
            in_value = isinstance(raw, str) and not parse_value(raw, ind.unit, aliases).problem
            cell = t.cell(i, "unit") if in_value or not isinstance(raw, str) else t.cell(i, "value")
            yield finding("V306", file=ret.path, sheet=t.sheet[i], cell=cell or t.cell(i, "value"),
                          written=parsed.written, indicator=ind.id, measure=ind.unit)
            continue
        if not t.unit_raw[i]:
            continue
        key = (ind.id, t.unit_raw[i])  # an unfilled row whose 计量单位 is already wrong
        if key not in wrong_column:
            wrong_column[key] = parse_value(1, ind.unit, aliases, t.unit_raw[i]).problem == Problem.UNIT
        if wrong_column[key]:
            yield finding("V306", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "unit"),
                          written=t.unit_raw[i], indicator=ind.id, measure=ind.unit)


def converted(ret, plan):
    """V307 (info): a figure converted from another scale (万元 → 亿元)."""
    t = ret.table
    for i in t.where_parsed(lambda p: p is not None and p.converted and p.value is not None):
        parsed = t.parsed[i]
        ind = plan.indicator_by_id[t.indicator[i]]
        written = _show(t.value_raw[i])
        if parsed.written and not str(written).endswith(parsed.written):
            written = f"{written} {parsed.written}"
        yield finding("V307", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), value=written,
                      converted=t.value[i], measure=ind.unit)


def year_outside_plan(ret, plan):
    """V308: a year the plan does not cover (info sheet once, then rows with a year of their own)."""
    years = plan.plan_years
    first, last = years.start, years.stop - 1
    info = ret.info.get("year")
    if ret.year is not None and ret.year not in years and info is not None:
        yield finding("V308", file=ret.path, sheet=info.sheet, cell=info.cell, value=ret.year, first=first, last=last)
    t = ret.table
    outside = {y for y in set(t.year) if y is None or y not in years}
    if not outside:
        return
    for i in t.where(t.year, outside.__contains__):
        raw = t.year_raw[i]
        if raw is None or raw == "" or not t.cell(i, "year"):
            continue
        year = t.year[i]  # unreadable ("23年") or outside the plan
        yield finding("V308", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "year"),
                      value=year if year is not None else raw, first=first, last=last)


def _figures(t) -> list[int]:
    """Rows with a figure and a year."""
    rows = t.where(t.value, NOT_NONE)
    return [i for i in rows if t.year[i] is not None] if None in t.year else rows


def duplicate_figure(ret, plan):
    """V309: the same unit, indicator and year twice: error if the figures differ, warning if equal."""
    t = ret.table
    rows = _figures(t)
    if len(rows) < 2:
        return
    keys = t.keys(rows, t.unit_name, t.indicator, t.year)
    if len(set(keys)) == len(keys):
        return
    first: dict[tuple, int] = {}
    for i, key in zip(rows, keys, strict=True):
        earlier = first.setdefault(key, i)
        if earlier == i:
            continue
        yield finding("V309", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), unit=key[0] or "—",
                      indicator=key[1], year=key[2], other=f"{t.sheet[earlier]}!{t.cell(earlier, 'value')}",
                      equal=abs(t.value[earlier] - t.value[i]) < 1e-9)


def lead_indicator_not_reported(ret, plan):
    """V310: an indicator the unit leads, with a target in the return's year, has no figure."""
    if ret.year is None or ret.year not in plan.plan_years:
        return
    if any(f.code == "S102" and f.sheet == ret.indicator_sheet for f in ret.findings):
        return  # the sheet could not be read: S102 says so
    t = ret.table
    names = t.unit_name
    reported: set[tuple[str, str]] = set()
    empty_rows: dict[tuple[str, str], int] = {}
    for i in t.where(t.year, {None, ret.year}.__contains__):
        if not names[i]:
            continue
        written = t.value_raw[i] is not None or t.formula_without_value[i]  # V303/V311… say the rest
        if t.indicator[i] is None:
            if written:  # V301/V302 say what is wrong with the row; it was not left out
                reported.update((names[i], x) for x in (t.code_id[i], t.name_id[i]) if x)
            continue
        key = (names[i], t.indicator[i])
        if written:
            reported.add(key)
        else:
            empty_rows.setdefault(key, i)
    for unit in ret.units:
        leads = set()
        for name in unit.units:
            leads |= plan.responsibility.get(name, {}).get("lead_indicators", set())
        for ind in plan.indicators:
            if ind.id not in leads or (unit.name, ind.id) in reported:
                continue
            if plan.target(ind, ret.year) is None:
                continue
            i = empty_rows.get((unit.name, ind.id))
            sheet = t.sheet[i] if i is not None else (ret.indicator_sheet or "")
            cell = t.cell(i, "value") if i is not None else ""
            yield finding("V310", file=ret.path, sheet=sheet, cell=cell, unit=unit.name, indicator=ind.id,
                          name=ind.name, year=ret.year)


def formula_without_value(ret, plan):
    """V311: a formula whose result was never computed and saved (no cached value)."""
    t = ret.table
    for i in t.where(t.formula_without_value, bool):
        yield finding("V311", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"))


def target_differs(ret, plan):
    """V312: a 目标值 written in the return that is not the plan's target for that year."""
    t = ret.table
    if all(raw is None or raw == "" for raw in set(t.target_raw)):
        return
    for i in t.where(t.target_raw, _written):
        if t.parsed[i] is None or t.year[i] is None:
            continue
        ind = plan.indicator_by_id[t.indicator[i]]
        target = plan.target(ind, t.year[i])
        written = parse_value(t.target_raw[i], ind.unit, tuple(ind.unit_aliases), t.unit_raw[i])
        if target is None or written.value is None:
            continue
        if abs(written.value - target) > 1e-9 * max(1.0, abs(target)):
            yield finding("V312", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "target"), written=written.value,
                          target=target)


def _written(raw) -> bool:
    return raw is not None and raw != ""


def implausible(ret, plan):
    """V313: a stock that falls year on year within the return, or a figure over 10× its target."""
    t = ret.table
    rows = _figures(t)
    if not rows:
        return
    years = {y for y in set(t.year) if y is not None}
    targets = {(ind_id, year): plan.target(plan.indicator_by_id[ind_id], year)  # every pair the rows can hold
               for ind_id in set(t.indicator) if ind_id is not None for year in years}
    lowest = min((target for target in targets.values() if target), default=None)
    if lowest is not None:  # only a value over ten times the lowest target can be over ten times its own
        high = {v for v in set(t.value) if v is not None and v > 10 * lowest}
        for i in (i for i in t.where(t.value, high.__contains__) if t.year[i] is not None) if high else ():
            target = targets[(t.indicator[i], t.year[i])]
            if target and t.value[i] > 10 * target:
                yield finding("V313", file=ret.path, sheet=t.sheet[i], cell=t.cell(i, "value"), why="over10",
                              indicator=t.indicator[i], value=t.value[i], target=target)
    stock_ids = {ind.id for ind in plan.indicators if ind.kind is Kind.STOCK}
    stock_rows = [i for i in t.where(t.indicator, stock_ids.__contains__) if t.value[i] is not None
                  and t.year[i] is not None]
    keys = t.keys(stock_rows, t.unit_name, t.indicator)
    if len(set(keys)) == len(keys):
        return  # no unit gives a stock twice
    stocks: dict[tuple[str, str], list[int]] = {}
    for i, key in zip(stock_rows, keys, strict=True):
        group = stocks.get(key)
        if group is None:
            stocks[key] = [i]
        else:
            group.append(i)
    for (_, ind_id), group in stocks.items():
        group.sort(key=t.year.__getitem__)
        for prev, cur in zip(group, group[1:], strict=False):
            if t.year[cur] > t.year[prev] and t.value[cur] < t.value[prev]:
                yield finding("V313", file=ret.path, sheet=t.sheet[cur], cell=t.cell(cur, "value"), why="falls",
                              indicator=ind_id, prev=t.value[prev], prev_year=t.year[prev], value=t.value[cur],
                              year=t.year[cur])


def _show(raw: object) -> object:
    if isinstance(raw, float):
        return fmt(raw)
    return raw
