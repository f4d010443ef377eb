"""Targets × actuals → statuses, the way the contract (returns.md, Scores) defines them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from lqip.model import Period
from lqip.plan import Aggregation, Indicator, Kind

TOTAL = "total"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    MISSING = "missing"
    NA = "n/a"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    OPEN = "open"

    @property
    def zh(self) -> str:
        return {"pass": "达标", "fail": "未达标", "missing": "未填报", "n/a": "无目标", "on_track": "进度正常",
                "behind": "进度滞后", "open": "未完成"}[self.value]


@dataclass(slots=True)
class Score:
    indicator: str
    year: int | str  # a year, or "total" for plan-period progress
    target: float | None
    actual: float | None
    ratio: float | None
    status: Status
    period: Period = Period.FY
    units: list[str] = field(default_factory=list)
    elapsed: float | None = None  # total rows: share of the plan's time elapsed

    def record(self) -> dict:
        return {"indicator": self.indicator, "year": self.year, "target": self.target, "actual": self.actual,
                "ratio": None if self.ratio is None else round(self.ratio, 4), "status": self.status.value}


def threshold(plan, ind: Indicator, year: int, period: Period) -> float | None:
    """The figure a return of `period` must reach: the target, or its share for partial periods.

    Flows: target × 0.25 / 0.5 / 0.75. Stocks: the previous year's target plus that share of the
    year's increase (in the plan's first year, with no previous target, the year's target itself).
    """
    target = plan.target(ind, year)
    if target is None or period is Period.FY:
        return target
    if ind.kind is Kind.FLOW:
        return target * period.share
    previous = plan.target(ind, year - 1)
    if previous is None:
        return target
    return previous + period.share * (target - previous)


def status_of(plan, ind: Indicator, year: int, actual: float | None, period: Period = Period.FY) -> Score:
    """Score one figure (None = not reported) of `ind` for `year` and `period`."""
    target = plan.target(ind, year)
    if target is None:
        return Score(ind.id, year, None, actual, None, Status.NA, period)
    if actual is None:
        return Score(ind.id, year, target, None, None, Status.MISSING, period)
    ratio = actual / target if target else None
    needed = threshold(plan, ind, year, period)
    reached = actual >= needed - 1e-9
    if period is Period.FY:
        status = Status.PASS if reached else Status.FAIL
    else:
        status = Status.ON_TRACK if reached else Status.BEHIND
    return Score(ind.id, year, target, actual, ratio, status, period)


def plan_progress(plan, ind: Indicator, figures: dict[int, float], up_to: int | None = None) -> Score:
    """Plan-period progress: flows summed over the years, stocks at their latest year, vs the total."""
    years = sorted(y for y in figures if up_to is None or y <= up_to)
    if not years:
        actual = None
    elif ind.kind is Kind.FLOW:
        actual = sum(figures[y] for y in years)
    else:
        actual = figures[years[-1]]
    if actual is None:
        status = Status.MISSING
    else:
        status = Status.PASS if actual >= ind.total - 1e-9 else Status.OPEN
    ratio = actual / ind.total if actual is not None and ind.total else None
    last = up_to if up_to is not None else (years[-1] if years else plan.first_year)
    return Score(ind.id, TOTAL, ind.total, actual, ratio, status, elapsed=elapsed_share(plan, last))


def elapsed_share(plan, year: int) -> float:
    """Share of the plan's years elapsed at the end of `year` (2023 of 2022–2025 → 0.5)."""
    span = plan.meta.end_year - plan.first_year + 1
    return max(0.0, min(1.0, (year - plan.first_year + 1) / span))


def combine(plan, ind: Indicator, parts: list[tuple[str, float]]) -> float:
    """One figure from several units' parts: `sum` adds them; `single` takes the first lead's."""
    if ind.aggregation is Aggregation.SUM:
        return sum(value for _, value in parts)
    leads = plan.indicator_leads(ind)
    for lead in leads:
        for unit, value in parts:
            if unit == lead:
                return value
    return parts[0][1]


def _leads(plan, resolved, indicator: str) -> bool:
    return any(indicator in plan.responsibility.get(u, {}).get("lead_indicators", ()) for u in resolved.units)


def score_return(ret, plan) -> list[Score]:
    """Scores of one return: each indicator and year it covers (and the lead indicators it leaves
    empty, as `missing`), then plan-period progress rows for the indicators it gives figures for."""
    figures: dict[tuple[str, int], dict[str, float]] = {}
    wanted: dict[tuple[str, int], None] = {}
    years = plan.plan_years
    t = ret.table
    in_plan = {y for y in set(t.year) if y is not None and y in years}
    rows = [i for i in t.where(t.year, in_plan.__contains__) if t.indicator[i] is not None] if in_plan else []
    counted = [i for i in rows if t.value[i] is not None and t.value[i] >= 0]
    columns = (t.indicator, t.year, t.unit_name, t.value)
    for ind_id, year, unit, value in zip(*(map(column.__getitem__, counted) for column in columns), strict=True):
        parts = figures.get((ind_id, year))
        if parts is None:
            parts = figures[(ind_id, year)] = {}
        if unit not in parts:  # the first figure per unit stands (V309 says the rest)
            parts[unit] = value
    wanted.update(dict.fromkeys(figures))
    leads: dict[tuple, bool] = {}
    for i in rows if len(counted) < len(rows) else ():
        value = t.value[i]
        if value is not None and value >= 0:
            continue
        key = (t.indicator[i], t.year[i])
        unit = t.unit[i]
        if unit is not None:
            lead = (unit.units, key[0])
            if lead not in leads:
                leads[lead] = _leads(plan, unit, key[0])
        if unit is None or leads[lead]:
            wanted.setdefault(key)  # a blank row counts as missing only for a unit that leads it
    if ret.year in years:
        for unit in ret.units:
            for name in unit.units:
                for ind_id in plan.responsibility.get(name, {}).get("lead_indicators", ()):
                    if plan.target(plan.indicator_by_id[ind_id], ret.year) is not None:
                        wanted.setdefault((ind_id, ret.year))
    order = {ind.id: i for i, ind in enumerate(plan.indicators)}
    scores: list[Score] = []
    by_indicator: dict[str, dict[int, float]] = {}
    for ind_id, year in sorted(wanted, key=lambda k: (order[k[0]], k[1])):
        ind = plan.indicator_by_id[ind_id]
        parts = list(figures.get((ind_id, year), {}).items())
        actual = combine(plan, ind, parts) if parts else None
        score = status_of(plan, ind, year, actual, ret.period)
        score.units = [u for u, _ in parts]
        scores.append(score)
        if actual is not None:
            by_indicator.setdefault(ind_id, {})[year] = actual
    for ind_id in sorted(by_indicator, key=order.get):
        scores.append(plan_progress(plan, plan.indicator_by_id[ind_id], by_indicator[ind_id]))
    return scores
