"""V301–V313: the indicator figures."""

from __future__ import annotations

from lqip.findings import finding
from lqip.plan import Kind, fmt
from lqip.values import Problem, parse_value


def unknown_indicator(ret, plan):
    """V301: neither the code nor the name names an indicator of the plan."""
    for row in ret.indicators:
        if row.code_id is None and row.name_id is None:
            field = "code" if row.code and not row.name else "name"
            yield finding("V301", file=ret.path, sheet=row.sheet, cell=row.cell(field) or row.cell("code"),
                          value=row.name or row.code)


def code_name_disagree(ret, plan):
    """V302: the code names one indicator and the name another."""
    for row in ret.indicators:
        if row.code_id and row.name_id and row.code_id != row.name_id:
            yield finding("V302", file=ret.path, sheet=row.sheet, cell=row.cell("code"), code=row.code,
                          name=row.name, name_id=row.name_id)


def _parsed(ret, problem=None):
    for row in ret.indicators:
        if row.parsed is not None and (problem is None or row.parsed.problem == problem):
            yield row


def not_a_number(ret, plan):
    """V303: a value cell that cannot be read as a figure."""
    for row in _parsed(ret, Problem.NOT_NUMBER):
        yield finding("V303", file=ret.path, sheet=row.sheet, cell=row.cell("value"), value=_show(row.value_raw))


def negative(ret, plan):
    """V304: a figure below zero."""
    for row in _parsed(ret):
        if row.value is not None and row.value < 0:
            yield finding("V304", file=ret.path, sheet=row.sheet, cell=row.cell("value"), value=row.value)


def fraction_of_whole(ret, plan):
    """V305: a fraction where the indicator counts whole things (件, 个, 家, 人次)."""
    whole = {ind.id for ind in plan.indicators if plan.whole(ind)}
    for row in _parsed(ret):
        value = row.value
        if value is not None and row.indicator in whole and abs(value - round(value)) > 1e-9:
            ind = plan.indicator_by_id[row.indicator]
            yield finding("V305", file=ret.path, sheet=row.sheet, cell=row.cell("value"), indicator=ind.id,
                          measure=ind.unit, value=value)


def incompatible_unit(ret, plan):
    """V306: the value or its 计量单位 cell names a unit that is not the indicator's."""
    for row in ret.indicators:
        if row.indicator is None:
            continue
        ind = plan.indicator_by_id[row.indicator]
        aliases = tuple(ind.unit_aliases)
        if row.parsed is not None and row.parsed.problem == Problem.UNIT:
            in_value = isinstance(row.value_raw, str) and not parse_value(row.value_raw, ind.unit, aliases).problem
            cell = row.cell("unit") if in_value or not isinstance(row.value_raw, str) else row.cell("value")
            yield finding("V306", file=ret.path, sheet=row.sheet, cell=cell or row.cell("value"),
                          written=row.parsed.written, indicator=ind.id, measure=ind.unit)
        elif row.unit_raw and (row.parsed is None or row.parsed.empty):
            # An unfilled row whose 计量单位 is already wrong.
            if parse_value(1, ind.unit, aliases, row.unit_raw).problem == Problem.UNIT:
                yield finding("V306", file=ret.path, sheet=row.sheet, cell=row.cell("unit"),
                              written=row.unit_raw, indicator=ind.id, measure=ind.unit)


def converted(ret, plan):
    """V307 (info): a figure converted from another scale (万元 → 亿元)."""
    for row in _parsed(ret):
        if row.parsed.converted and row.value is not None:
            ind = plan.indicator_by_id[row.indicator]
            written = _show(row.value_raw)
            if row.parsed.written and not str(written).endswith(row.parsed.written):
                written = f"{written} {row.parsed.written}"
            yield finding("V307", file=ret.path, sheet=row.sheet, cell=row.cell("value"), value=written,
                          converted=row.value, measure=ind.unit)


def year_outside_plan(ret, plan):
    """V308: a year the plan does not cover (info sheet once, then rows with a year of their own)."""
    years = plan.plan_years
    first, last = years.start, years.stop - 1
    info = ret.info.get("year")
    if ret.year is not None and ret.year not in years and info is not None:
        yield finding("V308", file=ret.path, sheet=info.sheet, cell=info.cell, value=ret.year, first=first, last=last)
    for row in ret.indicators:
        if row.year_raw in (None, "") or not row.cell("year"):
            continue
        if row.year is None or row.year not in years:  # unreadable ("23年") or outside the plan
            shown = row.year if row.year is not None else row.year_raw
            yield finding("V308", file=ret.path, sheet=row.sheet, cell=row.cell("year"), value=shown,
                          first=first, last=last)


def duplicate_figure(ret, plan):
    """V309: the same unit, indicator and year twice: error if the figures differ, warning if equal."""
    first: dict[tuple, object] = {}
    for row in _parsed(ret):
        if row.value is None or row.year is None:
            continue
        key = (row.unit.name if row.unit else "", row.indicator, row.year)
        earlier = first.setdefault(key, row)
        if earlier is row:
            continue
        yield finding("V309", file=ret.path, sheet=row.sheet, cell=row.cell("value"), unit=key[0] or "—",
                      indicator=row.indicator, year=row.year, other=f"{earlier.sheet}!{earlier.cell('value')}",
                      equal=abs(earlier.value - row.value) < 1e-9)


def lead_indicator_not_reported(ret, plan):
    """V310: an indicator the unit leads, with a target in the return's year, has no figure."""
    if ret.year is None or ret.year not in plan.plan_years:
        return
    if any(f.code == "S102" and f.sheet == ret.indicator_sheet for f in ret.findings):
        return  # the sheet could not be read: S102 says so
    reported: set[tuple[str, str]] = set()
    empty_rows: dict[tuple[str, str], object] = {}
    for row in ret.indicators:
        if row.unit is None or (row.year not in (None, ret.year)):
            continue
        written = row.value_raw is not None or row.formula_without_value  # V303/V311… say the rest
        if row.indicator is None:
            if written:  # V301/V302 say what is wrong with the row; it was not left out
                reported.update((row.unit.name, i) for i in (row.code_id, row.name_id) if i)
            continue
        key = (row.unit.name, row.indicator)
        if written:
            reported.add(key)
        else:
            empty_rows.setdefault(key, row)
    for unit in ret.units:
        leads = set()
        for name in unit.units:
            leads |= plan.responsibility.get(name, {}).get("lead_indicators", set())
        for ind in plan.indicators:
            if ind.id not in leads or (unit.name, ind.id) in reported:
                continue
            if plan.target(ind, ret.year) is None:
                continue
            row = empty_rows.get((unit.name, ind.id))
            sheet = row.sheet if row else (ret.indicator_sheet or "")
            cell = row.cell("value") if row else ""
            yield finding("V310", file=ret.path, sheet=sheet, cell=cell, unit=unit.name, indicator=ind.id,
                          name=ind.name, year=ret.year)


def formula_without_value(ret, plan):
    """V311: a formula whose result was never computed and saved (no cached value)."""
    for row in ret.indicators:
        if row.formula_without_value:
            yield finding("V311", file=ret.path, sheet=row.sheet, cell=row.cell("value"))


def target_differs(ret, plan):
    """V312: a 目标值 written in the return that is not the plan's target for that year."""
    for row in _parsed(ret):
        if row.target_raw in (None, "") or row.year is None:
            continue
        ind = plan.indicator_by_id[row.indicator]
        target = plan.target(ind, row.year)
        written = parse_value(row.target_raw, ind.unit, tuple(ind.unit_aliases), row.unit_raw)
        if target is None or written.value is None:
            continue
        if abs(written.value - target) > 1e-9 * max(1.0, abs(target)):
            yield finding("V312", file=ret.path, sheet=row.sheet, cell=row.cell("target"), written=written.value,
                          target=target)


def implausible(ret, plan):
    """V313: a stock that falls year on year within the return, or a figure over 10× its target."""
    stocks: dict[tuple[str, str], list] = {}
    targets: dict[tuple[str, int], float | None] = {}
    stock_ids = {ind.id for ind in plan.indicators if ind.kind is Kind.STOCK}
    for row in _parsed(ret):
        if row.value is None or row.year is None:
            continue
        key = (row.indicator, row.year)
        if key not in targets:
            targets[key] = plan.target(plan.indicator_by_id[row.indicator], row.year)
        target = targets[key]
        if target and row.value > 10 * target:
            yield finding("V313", file=ret.path, sheet=row.sheet, cell=row.cell("value"), why="over10",
                          indicator=row.indicator, value=row.value, target=target)
        if row.indicator in stock_ids:
            stocks.setdefault((row.unit.name if row.unit else "", row.indicator), []).append(row)
    for (_, ind_id), rows in stocks.items():
        rows.sort(key=lambda r: r.year)
        for prev, cur in zip(rows, rows[1:], strict=False):
            if cur.year > prev.year and cur.value < prev.value:
                yield finding("V313", file=ret.path, sheet=cur.sheet, cell=cur.cell("value"), why="falls",
                              indicator=ind_id, prev=prev.value, prev_year=prev.year, value=cur.value, year=cur.year)


def _show(raw: object) -> object:
    if isinstance(raw, float):
        return fmt(raw)
    return raw
