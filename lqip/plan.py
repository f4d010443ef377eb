"""The plan as data: pydantic models of the two YAML files, loading and consistency checks.

Nothing about a particular county lives here; `config/targets.yaml` and
`config/responsibilities.yaml` hold the plan. `load_plan(dir)` returns a validated `Plan` or
raises `ConfigError` whose lines name the file, the key path and what is wrong.
"""

from __future__ import annotations

import os
import re
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

TARGETS_FILE = "targets.yaml"
RESPONSIBILITIES_FILE = "responsibilities.yaml"
DEFAULT_CONFIG_DIR = Path(__file__).parent / "config"
MAX_CONFIG_BYTES = 2 * 1024 * 1024  # a plan is a few dozen KB; anything near this is hostile


class Kind(StrEnum):
    FLOW = "flow"
    STOCK = "stock"


class Aggregation(StrEnum):
    SINGLE = "single"
    SUM = "sum"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanMeta(_Strict):
    title: str
    title_en: str | None = None
    document: str
    issuer: str | None = None
    issued: str | None = None
    region: str
    unit_prefixes: list[str] = Field(default_factory=list)
    years: list[int] = Field(min_length=1)
    end_year: int

    @field_validator("issued", mode="before")
    @classmethod
    def _date_as_text(cls, value: object) -> object:
        return value if value is None or isinstance(value, str) else str(value)


class Measure(_Strict):
    whole: bool = False


class Indicator(_Strict):
    id: str = Field(pattern=r"^[A-Z]\d{2,}$")
    name: str
    name_en: str
    aliases: list[str] = Field(default_factory=list)
    unit: str
    unit_aliases: list[str] = Field(default_factory=list)
    kind: Kind
    aggregation: Aggregation = Aggregation.SINGLE
    targets: dict[int, float] = Field(default_factory=dict)
    total: float
    total_source: str | None = None
    tasks: list[str] = Field(min_length=1)
    weight: float = Field(default=1.0, ge=0)


class TaskTarget(_Strict):
    indicator: str
    targets: dict[int, float] = Field(default_factory=dict)
    total: float | None = None


class Task(_Strict):
    id: str = Field(pattern=r"^[A-Z]\d{2,}$")
    content: str
    leads: list[str] = Field(min_length=1)
    co_units: list[str] = Field(default_factory=list)
    target: TaskTarget | None = None


class KeyWork(_Strict):
    id: str
    name: str
    tasks: list[Task] = Field(min_length=1)


class Project(_Strict):
    id: str
    name: str
    key_works: list[KeyWork] = Field(min_length=1)


class Unit(_Strict):
    name: str
    name_en: str | None = None
    aliases: list[str] = Field(default_factory=list)
    collective: bool = False
    members: str | None = None  # regex a member's name matches (collectives only)

    @field_validator("members")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class TargetsFile(_Strict):
    plan: PlanMeta
    measures: dict[str, Measure]
    indicators: list[Indicator] = Field(min_length=1)


class ResponsibilitiesFile(_Strict):
    units: list[Unit] = Field(min_length=1)
    projects: list[Project] = Field(min_length=1)


class ConfigError(Exception):
    """A config that cannot be used; `problems` are lines 'file: key.path: what is wrong'."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Plan:
    """The validated plan with the lookups every command needs."""

    def __init__(self, targets: TargetsFile, responsibilities: ResponsibilitiesFile, source: Path):
        self.meta = targets.plan
        self.measures = targets.measures
        self.indicators = targets.indicators
        self.units = responsibilities.units
        self.projects = responsibilities.projects
        self.source = source

    # --- lookups -------------------------------------------------------------------------------
    @cached_property
    def indicator_by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    @cached_property
    def tasks(self) -> list[Task]:
        return [t for p in self.projects for k in p.key_works for t in k.tasks]

    @cached_property
    def task_by_id(self) -> dict[str, Task]:
        return {t.id: t for t in self.tasks}

    @cached_property
    def task_place(self) -> dict[str, tuple[Project, KeyWork]]:
        return {t.id: (p, k) for p in self.projects for k in p.key_works for t in k.tasks}

    @cached_property
    def unit_by_name(self) -> dict[str, Unit]:
        return {u.name: u for u in self.units}

    @property
    def first_year(self) -> int:
        return min(self.meta.years)

    @property
    def plan_years(self) -> range:
        """Every year a return may speak for: the first target year to the end year."""
        return range(self.first_year, self.meta.end_year + 1)

    @cached_property
    def resolver(self):
        from lqip.units import UnitResolver

        return UnitResolver(self)

    def indicator_leads(self, indicator: Indicator) -> list[str]:
        """Lead units of an indicator: the leads of its linked tasks, in order, without repeats."""
        seen: dict[str, None] = {}
        for task_id in indicator.tasks:
            for unit in self.task_by_id[task_id].leads:
                seen.setdefault(unit)
        return list(seen)

    def indicator_units(self, indicator: Indicator) -> list[str]:
        """Every unit answering for an indicator: leads first, then co-units."""
        seen = dict.fromkeys(self.indicator_leads(indicator))
        for task_id in indicator.tasks:
            for unit in self.task_by_id[task_id].co_units:
                seen.setdefault(unit)
        return list(seen)

    def target(self, indicator: Indicator, year: int) -> float | None:
        """The yearly target; a stock's target in the end year is the plan total (the 到YYYY年 level)."""
        if year in indicator.targets:
            return indicator.targets[year]
        if indicator.kind is Kind.STOCK and year == self.meta.end_year:
            return indicator.total
        return None

    def whole(self, indicator: Indicator) -> bool:
        return self.measures[indicator.unit].whole

    @cached_property
    def responsibility(self) -> dict[str, dict[str, set[str]]]:
        """unit name -> {"lead_tasks", "co_tasks", "lead_indicators", "co_indicators"}."""
        table: dict[str, dict[str, set[str]]] = {
            u.name: {"lead_tasks": set(), "co_tasks": set(), "lead_indicators": set(), "co_indicators": set()}
            for u in self.units
        }
        for task in self.tasks:
            for unit in task.leads:
                table[unit]["lead_tasks"].add(task.id)
            for unit in task.co_units:
                table[unit]["co_tasks"].add(task.id)
        for ind in self.indicators:
            leads = set(self.indicator_leads(ind))
            for unit in self.indicator_units(ind):
                table[unit]["lead_indicators" if unit in leads else "co_indicators"].add(ind.id)
        return table

    def consistency_report(self) -> list[str]:
        """Facts worth a reader's eye that are not errors (e.g. a task target phrased differently)."""
        notes = []
        for ind in self.indicators:
            if not ind.targets:
                notes.append(f"{ind.id} {ind.name}: no yearly targets, plan total {fmt(ind.total)} only")
        for unit in self.units:
            r = self.responsibility[unit.name]
            if not unit.collective and not (r["lead_tasks"] or r["co_tasks"]):
                notes.append(f"unit {unit.name}: named in no task")
        return notes


def fmt(number: float | None) -> str:
    """A figure as people write it: 300, 7.5, 0.85 (no trailing .0)."""
    if number is None:
        return ""
    if float(number).is_integer():
        return f"{int(number)}"
    return f"{number:.4f}".rstrip("0").rstrip(".")


# --- loading ---------------------------------------------------------------------------------------


def config_dir(option: str | os.PathLike | None = None) -> Path:
    """Where the config comes from: --config, then $LQIP_CONFIG, then the copy shipped in the package."""
    if option:
        return Path(option)
    env = os.environ.get("LQIP_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_DIR


_CACHE: dict[tuple, Plan] = {}


def load_plan(directory: str | os.PathLike | None = None) -> Plan:
    """Load and validate the plan in `directory` (see `config_dir`); raises ConfigError."""
    base = config_dir(directory)
    files = [base / TARGETS_FILE, base / RESPONSIBILITIES_FILE]
    try:
        stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        stamp = None
    if stamp and stamp in _CACHE:
        return _CACHE[stamp]
    targets_raw = _read_yaml(files[0])
    resp_raw = _read_yaml(files[1])
    problems: list[str] = []
    targets = _validate(TargetsFile, targets_raw, files[0], problems)
    resp = _validate(ResponsibilitiesFile, resp_raw, files[1], problems)
    if problems:
        raise ConfigError(problems)
    problems = cross_check(targets, resp, files[0], files[1])
    if problems:
        raise ConfigError(problems)
    plan = Plan(targets, resp, base)
    if stamp:
        _CACHE[stamp] = plan
    return plan


def _read_yaml(path: Path) -> object:
    import yaml

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError([f"{path}: {size} bytes, over the {MAX_CONFIG_BYTES} byte limit for a config file"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read as UTF-8 text ({exc})"]) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 6× faster
    try:
        # Aliases (*name) are refused before anything is built: an alias bomb never expands.
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                raise ConfigError([f"{path}: line {mark.line + 1}: YAML aliases (*name) are not allowed in a plan config"])
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None


def _validate(model, raw: object, path: Path, problems: list[str]):
    if raw is None:
        problems.append(f"{path}: the file is empty")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            problems.append(f"{path}: {where}: {_describe(err, raw)}")
        return None


def _describe(err: dict, raw: object) -> str:
    if err["type"] == "missing":
        return "required key is missing"
    if err["type"] == "extra_forbidden":
        return "unknown key (not part of the schema)"
    return err["msg"]


def cross_check(targets: TargetsFile, resp: ResponsibilitiesFile, tpath: Path, rpath: Path) -> list[str]:
    """Consistency between and within the two files; each problem names file and key path."""
    problems: list[str] = []
    meta = targets.plan
    if meta.end_year < max(meta.years):
        problems.append(f"{tpath}: plan.end_year: {meta.end_year} is before the last target year {max(meta.years)}")
    if len(set(meta.years)) != len(meta.years):
        problems.append(f"{tpath}: plan.years: a year is listed twice")

    unit_names: dict[str, int] = {}
    for i, unit in enumerate(resp.units):
        if unit.name in unit_names:
            problems.append(f"{rpath}: units.{i}.name: duplicate unit {unit.name!r}")
        unit_names[unit.name] = i
        if unit.collective and not unit.members:
            problems.append(f"{rpath}: units.{i}.members: a collective unit needs a members pattern")
    tasks: dict[str, str] = {}
    ids: set[str] = set()
    for pi, project in enumerate(resp.projects):
        for ident, where in [(project.id, f"projects.{pi}.id")] + [
            (k.id, f"projects.{pi}.key_works.{ki}.id") for ki, k in enumerate(project.key_works)
        ]:
            if ident in ids:
                problems.append(f"{rpath}: {where}: duplicate id {ident!r}")
            ids.add(ident)
        for ki, kw in enumerate(project.key_works):
            for ti, task in enumerate(kw.tasks):
                where = f"projects.{pi}.key_works.{ki}.tasks.{ti}"
                if task.id in tasks:
                    problems.append(f"{rpath}: {where}.id: duplicate task id {task.id!r}")
                tasks[task.id] = where
                for field in ("leads", "co_units"):
                    for ui, name in enumerate(getattr(task, field)):
                        if name not in unit_names:
                            problems.append(f"{rpath}: {where}.{field}.{ui}: unknown unit {name!r} (not in units)")
                overlap = set(task.leads) & set(task.co_units)
                if overlap:
                    problems.append(f"{rpath}: {where}: {sorted(overlap)} both lead and co-unit")

    indicator_ids: set[str] = set()
    for ii, ind in enumerate(targets.indicators):
        where = f"indicators.{ii}"
        if ind.id in indicator_ids:
            problems.append(f"{tpath}: {where}.id: duplicate indicator id {ind.id!r}")
        indicator_ids.add(ind.id)
        if ind.unit not in targets.measures:
            problems.append(f"{tpath}: {where}.unit: {ind.unit!r} is not listed under measures")
        for year in ind.targets:
            if year not in meta.years:
                problems.append(f"{tpath}: {where}.targets.{year}: year outside the plan's years {meta.years}")
        for ti, task_id in enumerate(ind.tasks):
            if task_id not in tasks:
                problems.append(f"{tpath}: {where}.tasks.{ti}: unknown task {task_id!r}")
        if ind.targets:
            if ind.kind is Kind.FLOW:
                expected = sum(ind.targets.values())
                rule = "the sum of the yearly targets"
            else:
                expected = ind.targets[max(ind.targets)]
                rule = "the last year's target (a stock)"
            if abs(expected - ind.total) > 1e-9 * max(1.0, abs(expected)):
                problems.append(
                    f"{tpath}: {where}.total: {fmt(ind.total)} disagrees with {rule}, {fmt(expected)}"
                )
    by_id = {i.id: i for i in targets.indicators}
    for pi, project in enumerate(resp.projects):
        for ki, kw in enumerate(project.key_works):
            for ti, task in enumerate(kw.tasks):
                if task.target is None:
                    continue
                where = f"projects.{pi}.key_works.{ki}.tasks.{ti}.target"
                ind = by_id.get(task.target.indicator)
                if ind is None:
                    problems.append(f"{rpath}: {where}.indicator: unknown indicator {task.target.indicator!r}")
                    continue
                for year, value in task.target.targets.items():
                    if ind.targets.get(year) != value:
                        problems.append(
                            f"{rpath}: {where}.targets.{year}: {fmt(value)} disagrees with {ind.id}'s target "
                            f"{fmt(ind.targets.get(year))} in {TARGETS_FILE}"
                        )
                if task.target.total is not None and task.target.total != ind.total:
                    problems.append(
                        f"{rpath}: {where}.total: {fmt(task.target.total)} disagrees with {ind.id}'s total "
                        f"{fmt(ind.total)}"
                    )
    return problems
