"""`lqip summary` as a library: the county's scorecard consolidated from every return read.

    >>> from lqip.check import check_paths
    >>> from lqip.plan import load_plan
    >>> from lqip.summary import summarize
    >>> plan = load_plan()
    >>> summary = summarize(check_paths(["returns/"], plan), plan, year=2023)
    >>> summary.to_dict("en")["scores"][0]

`summarize` is pure: it takes the reports `lqip check` produced (findings, tidy returns) and
returns a `Summary` whose `to_dict` is the machine contract (shared spec returns.md, Outputs):
one figure per indicator and year, plan-period progress, a card per unit, the tasks' latest
statuses, and every finding (the returns' own, plus V320 for figures that disagree).

Consolidation rules (docs/summary.md says the same for users):

- A figure counts only when its row was read cleanly: indicator, year in the plan, a unit, a
  number ≥ 0, and no error finding on any cell of the row (a V303/V304/V305/V306 value does not).
- Per unit, indicator and year, a later period supersedes an earlier one (FY over Q3 over H1 over
  Q1). Two returns of the same unit, year and period with different figures are a conflict (V320)
  and the first file listed stands.
- `sum` indicators add the units' parts. `single` indicators take one figure: the latest period
  reported by any unit; if the units reporting that period disagree, V320 names every source and
  the figure of the first-listed lead unit stands (else the first source). One V320 per indicator
  and year names every source involved.
- Statuses come from `scoring.status_of` with the period of the figure that stands (for a sum,
  the least advanced period among the parts); plan-period rows from `scoring.plan_progress`.
- `year` keeps the yearly rows of that year and counts the years up to it in the totals; `unit`
  keeps what concerns that unit. Figures are always consolidated over all returns: the county
  figure does not change with the view.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum

from lqip import exitcodes
from lqip.findings import Finding, Severity, finding
from lqip.model import Period, TaskStatus
from lqip.plan import Aggregation, Indicator, Kind, Plan, Task
from lqip.report import FileReport, Report, issue_record
from lqip.scoring import TOTAL, Score, Status, plan_progress, status_of, threshold

# --- the unit score (documented in unit_score and docs/summary.md) ----------------------------------

INDICATOR_SHARE = 0.7  # share of the indicators in a unit's score; the tasks weigh the rest
TASK_VALUE = {
    TaskStatus.DONE: 1.0,
    TaskStatus.IN_PROGRESS: 0.5,
    TaskStatus.BEHIND: 0.25,
    TaskStatus.NOT_STARTED: 0.0,
    None: 0.0,  # not reported
}
UNREPORTED = "unreported"
TOLERANCE = 1e-9


class View(StrEnum):
    INDICATOR = "indicator"
    UNIT = "unit"
    TASK = "task"


class UnknownUnit(ValueError):
    """`unit=` names no unit of the plan; `suggestions` are the closest names."""

    def __init__(self, name: str, suggestions: list[str]):
        super().__init__(f"unknown unit {name!r}; did you mean: {', '.join(suggestions) or '—'}")
        self.name = name
        self.suggestions = suggestions


# --- what the returns say ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """One figure one unit gave for one indicator and year, with where it came from."""

    unit: str  # the reporting unit as resolved (a township keeps its own name)
    units: tuple[str, ...]  # the plan units it speaks for
    indicator: str
    year: int
    value: float
    period: Period
    file: str
    sheet: str
    cell: str
    order: int  # position of the file among the returns read (first listed = 0)

    def where(self) -> str:
        return f"{self.file} {self.sheet}!{self.cell}" if self.cell else self.file

    def describe(self) -> str:
        from lqip.plan import fmt

        period = "" if self.period is Period.FY else f" {self.period.value}"
        return f"{self.unit} {fmt(self.value)}{period} ({self.where()})"

    def record(self, counted: bool = True) -> dict:
        return {"unit": self.unit, "value": self.value, "period": self.period.value, "file": self.file or None,
                "sheet": self.sheet or None, "cell": self.cell or None, "counted": counted}


@dataclass(frozen=True, slots=True)
class TaskReport:
    """One unit's status of one task, from one return."""

    task: str
    unit: str
    units: tuple[str, ...]
    status: TaskStatus
    progress: str
    year: int | None
    period: Period
    file: str
    sheet: str
    cell: str
    order: int

    @property
    def key(self) -> tuple:
        """Later is larger: year, then period; at equal year and period the file listed first wins."""
        return (self.year or 0, self.period.order, -self.order)

    def record(self) -> dict:
        return {"unit": self.unit, "status": self.status.value, "year": self.year, "period": self.period.value,
                "progress": self.progress or None, "file": self.file, "sheet": self.sheet or None,
                "cell": self.cell or None}


# --- the consolidated result -----------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    """One row of the by-indicator view: an indicator and year (or "total") with its figure's sources."""

    indicator: Indicator
    score: Score
    sources: list[Source] = field(default_factory=list)  # one per unit, after period supersession
    counted: list[Source] = field(default_factory=list)  # the ones the figure is made of
    unreported: list[str] = field(default_factory=list)  # lead units that gave no figure
    conflict: bool = False
    years: dict[int, float] = field(default_factory=dict)  # total rows: the yearly figures counted

    @property
    def is_total(self) -> bool:
        return self.score.year == TOTAL

    def record(self) -> dict:
        s = self.score
        record = s.record()
        counted = {id(c) for c in self.counted}
        record["units"] = [src.record(id(src) in counted) for src in self.sources]
        record.update({
            "name": self.indicator.name,
            "measure": self.indicator.unit,
            "kind": self.indicator.kind.value,
            "aggregation": self.indicator.aggregation.value,
            "period": s.period.value,
        })
        if self.is_total:
            record["elapsed"] = None if s.elapsed is None else round(s.elapsed, 4)
            record["years"] = {str(y): v for y, v in sorted(self.years.items())}
        else:
            record["unreported"] = list(self.unreported)
            record["conflict"] = self.conflict
        return record


@dataclass(slots=True)
class UnitCard:
    """One row of the by-unit view (see `unit_score` for the score)."""

    unit: str
    indicators: list[str]  # the indicators it leads
    statuses: dict[str, int]  # status -> count over its lead indicator-years with a target
    unreported: list[dict]  # {"indicator", "year"}: lead indicator-years it gave no figure for
    lead_tasks: dict[str, int]  # latest status -> count ("unreported" for none)
    co_tasks: dict[str, int]
    indicator_score: float | None
    task_score: float | None
    score: float | None

    def record(self) -> dict:
        return {
            "unit": self.unit,
            "indicators": list(self.indicators),
            "pass": self.statuses.get("pass", 0),
            "fail": self.statuses.get("fail", 0),
            "missing": self.statuses.get("missing", 0),
            "tasks": {"lead": dict(self.lead_tasks), "co": dict(self.co_tasks)},
            "score": self.score,
            "on_track": self.statuses.get("on_track", 0),
            "behind": self.statuses.get("behind", 0),
            "unreported": [dict(u) for u in self.unreported],
            "indicator_score": self.indicator_score,
            "task_score": self.task_score,
        }


@dataclass(slots=True)
class TaskLine:
    """One row of the by-task view: a task, its latest status per unit, and who has not reported."""

    task: Task
    project: str
    project_name: str
    key_work: str
    key_work_name: str
    reports: list[TaskReport]  # latest per reporting unit: leads first, then co-units, then others
    unreported_leads: list[str]
    unreported_co: list[str]
    status: TaskStatus | None  # the least advanced of the leads' statuses (None: no lead reported)

    def record(self) -> dict:
        return {
            "task": self.task.id,
            "project": self.project,
            "project_name": self.project_name,
            "key_work": self.key_work,
            "key_work_name": self.key_work_name,
            "content": self.task.content,
            "leads": list(self.task.leads),
            "co_units": list(self.task.co_units),
            "status": self.status.value if self.status else None,
            "statuses": [r.record() for r in self.reports],
            "unreported_leads": list(self.unreported_leads),
            "unreported_co": list(self.unreported_co),
        }


@dataclass(slots=True)
class Summary:
    plan: Plan
    year: int | None  # the --year asked for
    unit: str | None  # the --unit asked for (canonical)
    years: list[int]  # the years of the yearly rows
    lines: list[Line]  # per indicator: its yearly rows, then its total row
    units: list[UnitCard]
    tasks: list[TaskLine]
    findings: list[Finding]  # in scope: the returns' findings, then V320
    files: list[FileReport]  # in scope
    files_read: int  # every file read, in scope or not

    @property
    def scores(self) -> list[Score]:
        return [line.score for line in self.lines]

    @property
    def last_year(self) -> int | None:
        return self.years[-1] if self.years else None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def counts(self) -> dict:
        statuses = {s.value.replace("/", ""): 0 for s in Status if s is not Status.OPEN}
        for line in self.lines:
            if not line.is_total:
                statuses[line.score.status.value.replace("/", "")] += 1
        unreadable = sum(1 for f in self.files if not f.readable)
        return {
            "files": len(self.files),
            "files_read": self.files_read,
            "unreadable": unreadable,
            "errors": self.count(Severity.ERROR),
            "warnings": self.count(Severity.WARNING),
            "infos": self.count(Severity.INFO),
            "conflicts": sum(1 for f in self.findings if f.code == "V320"),
            **{f"status_{k}": v for k, v in statuses.items()},
        }

    def exit_code(self, strict: bool = False) -> int:
        if self.count(Severity.ERROR) or (strict and self.count(Severity.WARNING)):
            return exitcodes.FINDINGS
        return exitcodes.OK

    def to_dict(self, lang: str = "en") -> dict:
        """The JSON contract: scores, units, issues (plus tasks and counts)."""
        return {
            "scores": [line.record() for line in self.lines],
            "units": [card.record() for card in self.units],
            "issues": [issue_record(f, lang) for f in self.findings],
            "tasks": [t.record() for t in self.tasks],
            "year": self.year,
            "years": list(self.years),
            "unit": self.unit,
            "summary": self.counts(),
        }


# --- consolidation -----------------------------------------------------------------------------------------


def summarize(reports, plan: Plan, year: int | None = None, unit: str | None = None) -> Summary:
    """Consolidate `reports` (a `Report` or a list of `FileReport`) into the county's scorecard.

    `year` (a plan year) keeps the yearly rows of that year and counts the years up to it in the
    plan-period rows; `unit` (any alias) keeps the indicators, tasks, units and issues that concern
    it. Raises ValueError for a year outside the plan and UnknownUnit for an unknown unit.
    """
    files = list(getattr(reports, "files", reports))
    digests = [digest(f, plan) for f in files]  # once each (a Return's is worked out here)
    if year is not None and year not in plan.plan_years:
        raise ValueError(f"{year} is outside the plan period {plan.first_year}–{plan.meta.end_year}")
    unit_name = _canonical_unit(plan, unit) if unit else None

    sources = collect_sources(files, plan, digests)
    read_years = {s.year for s in sources} | {f.year for f, d in zip(files, digests, strict=True)
                                              if d is not None and f.year in plan.plan_years}
    last = year if year is not None else max(read_years, default=None)
    in_view = [s for s in sources if last is not None and s.year <= last]

    per_unit, disputes = _supersede(in_view)
    lines, conflicts = _consolidate(plan, per_unit, disputes, last)
    years = [year] if year is not None else (list(range(plan.first_year, last + 1)) if last else [])
    lines = [ln for ln in lines if ln.is_total or ln.score.year in years]

    task_reports = collect_task_reports(files, plan, last if year is not None else None, digests)
    cards = [_unit_card(plan, u.name, lines, task_reports) for u in plan.units if _has_duties(plan, u.name)]
    tasks = _task_lines(plan, task_reports)

    in_scope = [f for f, d in zip(files, digests, strict=True) if _in_scope(d, year, unit_name)]
    findings = [f for report in in_scope for f in report.findings]
    order = {ind.id: i for i, ind in enumerate(plan.indicators)}
    conflicts.sort(key=lambda c: (order.get(dict(c.args)["indicator"], 0), dict(c.args)["year"]))
    findings.extend(c for c in conflicts if _conflict_in_scope(c, unit_name))

    if unit_name:
        duty = plan.responsibility.get(unit_name, {})
        answers = duty.get("lead_indicators", set()) | duty.get("co_indicators", set())
        lines = [ln for ln in lines if ln.indicator.id in answers]
        cards = [c for c in cards if c.unit == unit_name]
        tasks = [t for t in tasks if unit_name in t.task.leads or unit_name in t.task.co_units]
    return Summary(plan, year, unit_name, years, lines, cards, tasks, findings, in_scope, len(files))


def _canonical_unit(plan: Plan, unit: str) -> str:
    resolved = plan.resolver.resolve(unit)
    if resolved is None:
        raise UnknownUnit(unit, plan.resolver.suggest(unit))
    return resolved.units[0] if resolved.is_member and len(resolved.units) == 1 else resolved.name


def _error_cells(report: FileReport) -> set[tuple[str, str]]:
    return {(f.sheet, f.cell) for f in report.findings if f.severity is Severity.ERROR and f.cell}


_ROW_FIELDS = ("value", "unit", "year", "code", "name", "reporter")


@dataclass(slots=True)
class Digest:
    """What a summary takes from one readable return, worked out where the file was read (a worker
    sends this back instead of the whole Return: a tenth of the bytes to pickle and unpickle)."""

    units: set[str]  # every unit name the return speaks for (its own and its rows', with their plan units)
    years: set[int]  # the return's year and its rows' years
    figures: list[tuple]  # (unit, plan units, indicator, year, value, sheet, cell) of each figure that counts
    tasks: list[tuple]  # (task, unit, plan units, status, progress, sheet, cell) of each status that counts


def digest(report: FileReport, plan: Plan) -> Digest | None:
    """The digest of a report (None when the file could not be read)."""
    if report.digest is not None:
        return report.digest
    ret = report.ret
    if ret is None or not getattr(ret, "readable", False):
        return None
    bad = _error_cells(report)
    return Digest(
        units={u for r in ret.units for u in (r.name, *r.units)},
        years={y for y in {ret.year} | set(ret.table.year) if y is not None},
        figures=_figures(ret, plan, bad),
        tasks=_statuses(ret, bad),
    )


def summary_file(path, plan: Plan, limits=None, debug: bool = False) -> FileReport:
    """check_file for a summary: the report with its digest instead of its Return (see Digest), and
    no per-file scores (the summary scores the consolidated figures)."""
    from lqip.batch import release_later
    from lqip.check import check_file

    report = check_file(path, plan, limits, debug, score=False)
    report.digest = digest(report, plan)
    release_later(report.ret)
    report.ret = None
    return report


def read_returns(paths: list, plan: Plan, limits=None, debug: bool = False, jobs: int | None = None,
                 progress=None) -> Report:
    """check_paths for a summary: every file read in parallel, each report carrying its digest."""
    from lqip.batch import map_files
    from lqip.paths import expand

    files = expand(paths)
    return Report(files=map_files(summary_file, files, plan, limits, debug=debug, jobs=jobs, progress=progress))


def _figures(ret, plan: Plan, bad: set[tuple[str, str]]) -> list[tuple]:
    years = plan.plan_years
    out: list[tuple] = []
    seen: set[tuple[str, str, int]] = set()
    t = ret.table
    for i in t.where(t.value, _countable):
        indicator, year, unit = t.indicator[i], t.year[i], t.unit[i]
        if year is None or year not in years or unit is None or t.parsed[i].problem:
            continue
        if bad and any((t.sheet[i], t.cell(i, f)) in bad for f in _ROW_FIELDS if t.cell(i, f)):
            continue
        key = (unit.name, indicator, year)
        if key in seen:  # the same unit twice in one return: V309 speaks; the first row stands
            continue
        seen.add(key)
        out.append((unit.name, tuple(unit.units), indicator, year, float(t.value[i]), t.sheet[i],
                    t.cell(i, "value")))
    return out


def _statuses(ret, bad: set[tuple[str, str]]) -> list[tuple]:
    out: list[tuple] = []
    for row in ret.tasks:
        if row.task is None or row.status is None or row.unit is None:
            continue
        if any((row.sheet, row.cell(f)) in bad for f in ("task", "status", "reporter") if row.cell(f)):
            continue
        out.append((row.task, row.unit.name, tuple(row.unit.units), row.status, row.progress, row.sheet,
                    row.cell("status")))
    return out


def collect_sources(files: list[FileReport], plan: Plan, digests: list | None = None) -> list[Source]:
    """Every figure that counts: readable rows with a known indicator, a plan year, a unit and a
    number ≥ 0, none of whose cells carries an error finding. In file order, then row order.
    `digests` are the files' digests when already worked out."""
    out: list[Source] = []
    digests = digests if digests is not None else [digest(f, plan) for f in files]
    for order, (report, found) in enumerate(zip(files, digests, strict=True)):
        if found is None:
            continue
        for unit, units, indicator, year, value, sheet, cell in found.figures:
            out.append(Source(unit, units, indicator, year, value, report.period, report.path, sheet, cell, order))
    return out


def _countable(value) -> bool:
    return value is not None and value >= 0


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def _v320(indicator: str, year: int, dissent: Source, sources: list[Source]) -> Finding:
    return finding("V320", file=dissent.file, sheet=dissent.sheet, cell=dissent.cell, unit=dissent.unit,
                   indicator=indicator, year=year, sources=[s.describe() for s in sources],
                   units=tuple(sorted({u for s in sources for u in (s.unit, *s.units)})))


def _supersede(sources: list[Source]):
    """Per indicator and year, one source per unit: its latest period (the first file listed when
    several give that period). Returns that, and per indicator and year the groups of one unit's
    same-period figures that disagree (standing figure first)."""
    by_unit: dict[tuple[str, int, str], list[Source]] = {}
    for s in sources:
        by_unit.setdefault((s.indicator, s.year, s.unit), []).append(s)
    out: dict[tuple[str, int], list[Source]] = {}
    disputes: dict[tuple[str, int], list[list[Source]]] = {}
    for (ind, year, _), group in by_unit.items():
        latest = max(s.period.order for s in group)
        top = sorted((s for s in group if s.period.order == latest), key=lambda s: s.order)
        if any(not _same(s.value, top[0].value) for s in top[1:]):
            disputes.setdefault((ind, year), []).append(top)
        out.setdefault((ind, year), []).append(top[0])
    return out, disputes


def _consolidate(plan: Plan, per_unit, disputes, last: int | None) -> tuple[list[Line], list[Finding]]:
    lines: list[Line] = []
    conflicts: list[Finding] = []
    years = range(plan.first_year, last + 1) if last is not None else range(0)
    for ind in plan.indicators:
        leads = plan.indicator_leads(ind)
        yearly: list[Line] = []
        for y in years:
            sources = _lead_first(per_unit.get((ind.id, y), []), leads)
            line, conflict = _figure(plan, ind, y, sources, leads, disputes.get((ind.id, y), []))
            if conflict:
                conflicts.append(conflict)
            yearly.append(line)
        lines.extend(yearly)
        lines.append(_total(plan, ind, yearly, last))
    return lines, conflicts


def _lead_first(sources: list[Source], leads: list[str]) -> list[Source]:
    """Leads in the plan's order first, then the others in file order."""
    def rank(s: Source) -> tuple:
        positions = [leads.index(u) for u in s.units if u in leads]
        return (min(positions) if positions else len(leads), s.order)

    return sorted(sources, key=rank)


def _figure(plan: Plan, ind: Indicator, year: int, sources: list[Source], leads: list[str],
            disputes: list[list[Source]]):
    """The line of one indicator and year, and its V320 (one per indicator and year, naming every
    source involved: each unit's disagreeing returns and, for a single indicator, the units that
    disagree with the figure that stands)."""
    reported = {u for s in sources for u in s.units}
    unreported = [u for u in leads if u not in reported]
    if not sources:
        return Line(ind, status_of(plan, ind, year, None), unreported=unreported), None
    groups = list(disputes)
    if ind.aggregation is Aggregation.SUM:
        counted = list(sources)
        actual = sum(s.value for s in counted)
        period = min((s.period for s in counted), key=lambda p: p.order)
    else:
        latest = max(s.period.order for s in sources)
        top = [s for s in sources if s.period.order == latest]  # already lead-first
        counted = [top[0]]
        actual, period = top[0].value, top[0].period
        if any(not _same(s.value, top[0].value) for s in top[1:]):
            groups.insert(0, top)
    conflict = None
    if groups:
        named = list({id(s): s for group in groups for s in group}.values())
        dissent = next(s for group in groups for s in group[1:] if not _same(s.value, group[0].value))
        conflict = _v320(ind.id, year, dissent, named)
    score = status_of(plan, ind, year, actual, period)
    score.units = [s.unit for s in counted]
    return Line(ind, score, sources, counted, unreported, conflict is not None), conflict


def _total(plan: Plan, ind: Indicator, yearly: list[Line], last: int | None) -> Line:
    figures = {ln.score.year: ln.score.actual for ln in yearly if ln.score.actual is not None}
    score = plan_progress(plan, ind, figures, up_to=last)
    if figures and ind.kind is Kind.STOCK:
        entering = [ln for ln in yearly if ln.score.year == max(figures)]
    else:
        entering = [ln for ln in yearly if ln.score.actual is not None]
    parts: dict[str, float] = {}
    first: dict[str, Source] = {}
    for ln in entering:
        for s in ln.counted:
            parts[s.unit] = parts.get(s.unit, 0.0) + s.value
            first.setdefault(s.unit, s)
    sources = [_part(first[u], value) for u, value in parts.items()]
    score.units = list(parts)
    return Line(ind, score, sources, list(sources), years=figures)


def _part(source: Source, value: float) -> Source:
    """A unit's share of a plan-period figure (its counted figures added over the years)."""
    return Source(source.unit, source.units, source.indicator, source.year, value, source.period, "", "", "",
                  source.order)


# --- tasks -----------------------------------------------------------------------------------------------


def collect_task_reports(files: list[FileReport], plan: Plan, up_to: int | None = None,
                         digests: list | None = None) -> list[TaskReport]:
    """Every task status reported in a readable row without an error finding (up to `up_to`)."""
    out: list[TaskReport] = []
    digests = digests if digests is not None else [digest(f, plan) for f in files]
    for order, (report, found) in enumerate(zip(files, digests, strict=True)):
        if found is None:
            continue
        if up_to is not None and (report.year is None or report.year > up_to):
            continue
        for task, unit, units, status, progress, sheet, cell in found.tasks:
            out.append(TaskReport(task, unit, units, status, progress, report.year, report.period, report.path,
                                  sheet, cell, order))
    return out


def _latest(reports: list[TaskReport]) -> TaskStatus | None:
    """The status of the latest report; several at the same year and period: the least advanced."""
    if not reports:
        return None
    top = max((r.year or 0, r.period.order) for r in reports)
    same = [r for r in reports if (r.year or 0, r.period.order) == top]
    return min((r.status for r in same), key=lambda s: TASK_VALUE[s])


def _task_lines(plan: Plan, reports: list[TaskReport]) -> list[TaskLine]:
    by_task: dict[str, dict[str, TaskReport]] = {}
    for r in reports:
        latest = by_task.setdefault(r.task, {})
        if r.unit not in latest or r.key > latest[r.unit].key:
            latest[r.unit] = r
    out = []
    for project in plan.projects:
        for kw in project.key_works:
            for task in kw.tasks:
                mine = list(by_task.get(task.id, {}).values())
                order = {u: i for i, u in enumerate([*task.leads, *task.co_units])}

                def rank(r: TaskReport, order=order) -> tuple:
                    return (min((order[u] for u in r.units if u in order), default=len(order)), r.order)

                mine.sort(key=rank)
                covered = {u for r in mine for u in r.units}
                lead_statuses = [_latest([r for r in mine if u in r.units]) for u in task.leads if u in covered]
                out.append(TaskLine(
                    task, project.id, project.name, kw.id, kw.name, mine,
                    [u for u in task.leads if u not in covered],
                    [u for u in task.co_units if u not in covered],
                    min(lead_statuses, key=TASK_VALUE.get) if lead_statuses else None,
                ))
    return out


# --- units -----------------------------------------------------------------------------------------------


def _has_duties(plan: Plan, unit: str) -> bool:
    duty = plan.responsibility.get(unit, {})
    return any(duty.get(k) for k in ("lead_tasks", "co_tasks", "lead_indicators", "co_indicators"))


def attainment(plan: Plan, score: Score) -> float | None:
    """How far a figure reaches what its period asks, capped at 1: min(actual / needed, 1), where
    `needed` is the target (full year) or its period share (Q1/H1/Q3, see scoring.threshold).
    A missing figure is 0; an indicator-year without a target is None (not scored)."""
    if score.target is None or score.year == TOTAL:
        return None
    if score.actual is None:
        return 0.0
    ind = plan.indicator_by_id[score.indicator]
    needed = threshold(plan, ind, score.year, score.period)
    if not needed:
        return 1.0
    return max(0.0, min(score.actual / needed, 1.0))


def unit_score(indicators: list[tuple[float, float]], tasks: list[TaskStatus | None]):
    """A unit's 0–100 score: (score, indicator part, task part), each None when nothing is scored.

    - Indicator part I = Σ wᵢ·aᵢ / Σ wᵢ over the unit's lead indicator-years that have a target,
      where wᵢ is the indicator's `weight` (targets.yaml, default 1; 0 leaves it out) and aᵢ the
      attainment of the consolidated figure (see `attainment`: min(actual / needed, 1)); aᵢ is 0
      when the figure is missing or when this unit gave no figure of its own (a co-lead of a
      `single` indicator, or one part of a `sum`).
    - Task part T = the mean over the tasks the unit leads of the value of its latest status:
      done 1, in progress 0.5, behind 0.25, not started 0, not reported 0.
    - score = 100 × (0.7·I + 0.3·T); with only indicators or only tasks to score, 100 × that part;
      None when the unit leads neither.
    """
    weight = sum(w for w, _ in indicators)
    ind_part = sum(w * a for w, a in indicators) / weight if weight > 0 else None
    task_part = sum(TASK_VALUE[s] for s in tasks) / len(tasks) if tasks else None
    if ind_part is not None and task_part is not None:
        total = INDICATOR_SHARE * ind_part + (1 - INDICATOR_SHARE) * task_part
    else:
        total = ind_part if ind_part is not None else task_part

    def pct(x):  # one decimal, halves up (0.6375 → 63.8, not the binary 63.7499…)
        return None if x is None else round(100 * x + 1e-9, 1)

    return pct(total), pct(ind_part), pct(task_part)


def _task_counts(task_ids: set[str], plan: Plan, by_unit: list[TaskReport]) -> tuple[dict, list]:
    counts = {s.value: 0 for s in TaskStatus} | {UNREPORTED: 0}
    statuses = []
    order = {t.id: i for i, t in enumerate(plan.tasks)}
    for task_id in sorted(task_ids, key=order.get):
        status = _latest([r for r in by_unit if r.task == task_id])
        statuses.append(status)
        counts[status.value if status else UNREPORTED] += 1
    return counts, statuses


def _unit_card(plan: Plan, unit: str, lines: list[Line], task_reports: list[TaskReport]) -> UnitCard:
    duty = plan.responsibility[unit]
    order = {ind.id: i for i, ind in enumerate(plan.indicators)}
    leads = sorted(duty["lead_indicators"], key=order.get)
    statuses: dict[str, int] = {}
    unreported: list[dict] = []
    scored: list[tuple[float, float]] = []
    for line in lines:
        if line.is_total or line.indicator.id not in duty["lead_indicators"] or line.score.target is None:
            continue
        status = line.score.status.value
        statuses[status] = statuses.get(status, 0) + 1
        a = attainment(plan, line.score)
        if unit in line.unreported:
            unreported.append({"indicator": line.indicator.id, "year": line.score.year})
            a = 0.0  # the county figure may stand on others' returns; this unit's own is missing
        if a is not None and line.indicator.weight > 0:
            scored.append((line.indicator.weight, a))
    mine = [r for r in task_reports if unit in r.units]
    lead_counts, lead_statuses = _task_counts(duty["lead_tasks"], plan, mine)
    co_counts, _ = _task_counts(duty["co_tasks"], plan, mine)
    score, ind_part, task_part = unit_score(scored, lead_statuses)
    return UnitCard(unit, leads, statuses, unreported, lead_counts, co_counts, ind_part, task_part, score)


# --- scope of the findings ----------------------------------------------------------------------------


def _in_scope(found: Digest | None, year: int | None, unit: str | None) -> bool:
    """A file is kept when it may feed the view; a file whose year or unit is unknown (or that could
    not be read) is always kept (it could be anyone's)."""
    if found is None:
        return True
    if year is not None and found.years and min(found.years) > year:
        return False
    if unit is not None and found.units and unit not in found.units:
        return False
    return True


def _conflict_in_scope(conflict: Finding, unit: str | None) -> bool:
    if unit is None:
        return True
    return unit in dict(conflict.args).get("units", ())


def default_returns_dir(option: str | os.PathLike | None = None):
    """Where the returns are when no path is given: --returns, then $LQIP_RETURNS, then ./returns.
    Returns (path, where it came from)."""
    from pathlib import Path

    if option:
        return Path(option), "--returns"
    env = os.environ.get("LQIP_RETURNS")
    if env:
        return Path(env), "LQIP_RETURNS"
    return Path("returns"), "./returns"
