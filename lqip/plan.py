"""The plan as data: the plan's records, loading (validated by lqip/schema.py) and consistency checks.

Nothing about a particular county lives here; `config/targets.yaml` and
`config/responsibilities.yaml` hold the plan. `load_plan(dir)` returns a validated `Plan` or
raises `ConfigError` whose lines name the file, the key path and what is wrong.

Start-up matters (every command loads the plan): the YAML is validated by the pydantic models of
lqip/schema.py into the plain records below, and the validated plan is kept in a persistent cache
keyed by the exact bytes of both files (see "Persistent cache" below). A later process with the same
config unpickles it instead of parsing and validating, and never imports pydantic.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import stat
import sys
from dataclasses import dataclass, field, fields
from enum import StrEnum
from functools import cached_property
from pathlib import Path

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


# The plan as the commands use it: plain frozen records (lqip/schema.py holds the pydantic models
# that validate the YAML into these; the field names are the same).


@dataclass(frozen=True, slots=True)
class PlanMeta:
    title: str
    document: str
    region: str
    years: list[int]
    end_year: int
    title_en: str | None = None
    issuer: str | None = None
    issued: str | None = None
    unit_prefixes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Measure:
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Indicator:
    id: str
    name: str
    name_en: str
    unit: str
    kind: Kind
    total: float
    tasks: list[str]
    aliases: list[str] = field(default_factory=list)
    unit_aliases: list[str] = field(default_factory=list)
    aggregation: Aggregation = Aggregation.SINGLE
    targets: dict[int, float] = field(default_factory=dict)
    total_source: str | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class TaskTarget:
    indicator: str
    targets: dict[int, float] = field(default_factory=dict)
    total: float | None = None


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    content: str
    leads: list[str]
    co_units: list[str] = field(default_factory=list)
    target: TaskTarget | None = None


@dataclass(frozen=True, slots=True)
class KeyWork:
    id: str
    name: str
    tasks: list[Task]


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    key_works: list[KeyWork]


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    name_en: str | None = None
    aliases: list[str] = field(default_factory=list)
    collective: bool = False
    members: str | None = None  # regex a member's name matches (collectives only)


_RECORDS = (PlanMeta, Measure, Indicator, TaskTarget, Task, KeyWork, Project, Unit)


def _record(value: object) -> object:
    """A validated pydantic model (recursively) as the dataclass of this module with its name."""
    cls = globals().get(type(value).__name__)
    if cls in _RECORDS:
        return cls(**{f.name: _record(getattr(value, f.name)) for f in fields(cls)})
    if isinstance(value, list):
        return [_record(v) for v in value]
    if isinstance(value, dict):
        return {k: _record(v) for k, v in value.items()}
    return value


class ConfigError(Exception):
    """A config that cannot be used; `problems` are lines 'file: key.path: what is wrong'."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Plan:
    """The validated plan with the lookups every command needs."""

    def __init__(self, meta: PlanMeta, measures: dict[str, Measure], indicators: list[Indicator], units: list[Unit],
                 projects: list[Project], source: Path):
        self.meta = meta
        self.measures = measures
        self.indicators = indicators
        self.units = units
        self.projects = projects
        self.source = source

    # --- pickling (the persistent cache) -------------------------------------------------------
    _STATE = ("meta", "measures", "indicators", "units", "projects")

    def __getstate__(self) -> dict:
        """Only the constructor's arguments: lookups (cached properties) and attributes other
        modules attach (the reader's `_indicator_index`) are rebuilt lazily after unpickling."""
        state = {name: getattr(self, name) for name in self._STATE}
        return {**state, "source": str(self.source)}  # a str: unpickling needs no class from outside this module

    def __setstate__(self, state: dict) -> None:
        self.__init__(*(state[name] for name in self._STATE), Path(state["source"]))

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
    if abs(number) >= 1e15:  # beyond what anyone writes out digit by digit (and inf)
        return f"{number:g}"
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


_CACHE: dict[tuple, Plan] = {}  # this process: (path, mtime, size) of both files -> plan


def load_plan(directory: str | os.PathLike | None = None) -> Plan:
    """Load and validate the plan in `directory` (see `config_dir`); raises ConfigError.

    A process loads each state of the files once (`_CACHE`); across processes the persistent
    cache (`cache_dir`) spares parsing and validating a config whose bytes were seen before.
    """
    base = config_dir(directory)
    files = [base / TARGETS_FILE, base / RESPONSIBILITIES_FILE]
    try:
        stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    except OSError:
        stamp = None
    if stamp and stamp in _CACHE:
        return _CACHE[stamp]
    plan = _load_uncached(base)
    if stamp:
        _CACHE[stamp] = plan
    return plan


def _load_uncached(base: Path) -> Plan:
    """The plan in `base`, bypassing `_CACHE`: from the persistent cache when these exact bytes
    were validated before, else parsed and validated (and then cached)."""
    tpath, rpath = base / TARGETS_FILE, base / RESPONSIBILITIES_FILE
    targets_bytes = _read_config(tpath)
    try:
        resp_bytes = _read_config(rpath)
    except ConfigError:
        _parse_yaml(tpath, targets_bytes)  # as ever, a broken targets.yaml is reported first
        raise
    entry = _cache_entry(targets_bytes, resp_bytes)
    plan = _cache_read(entry) if entry else None
    if plan is not None:
        plan.source = base  # the directory this user gave, not the one first cached
        return plan
    plan = _build_plan(base, targets_bytes, resp_bytes)
    if entry:
        _cache_write(entry, plan)
    return plan


def _build_plan(base: Path, targets_bytes: bytes, resp_bytes: bytes) -> Plan:
    """Parse, validate and cross-check the two files' bytes; raises ConfigError."""
    tpath, rpath = base / TARGETS_FILE, base / RESPONSIBILITIES_FILE
    targets_raw = _parse_yaml(tpath, targets_bytes)
    resp_raw = _parse_yaml(rpath, resp_bytes)
    from lqip.schema import ResponsibilitiesFile, TargetsFile

    problems: list[str] = []
    targets = _validate(TargetsFile, targets_raw, tpath, problems)
    resp = _validate(ResponsibilitiesFile, resp_raw, rpath, problems)
    if problems:
        raise ConfigError(problems)
    problems = cross_check(targets, resp, tpath, rpath)
    if problems:
        raise ConfigError(problems)
    return Plan(_record(targets.plan), _record(targets.measures), _record(targets.indicators), _record(resp.units),
                _record(resp.projects), base)


def _read_config(path: Path) -> bytes:
    """A config file's bytes; its size is checked against MAX_CONFIG_BYTES before reading."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    if size > MAX_CONFIG_BYTES:
        raise ConfigError([f"{path}: {size} bytes, over the {MAX_CONFIG_BYTES} byte limit for a config file"])
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)  # a file growing meanwhile is still capped
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read as UTF-8 text ({exc})"]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{path}: over the {MAX_CONFIG_BYTES} byte limit for a config file"])
    return data


def _parse_yaml(path: Path, data: bytes) -> object:
    """The YAML document in `data` (the bytes of `path`); raises ConfigError."""
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: cannot read as UTF-8 text ({exc})"]) from None
    if "\r" in text:  # line ends as text-mode reading gives them (universal newlines)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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


# --- persistent cache ------------------------------------------------------------------------------
#
# A validated plan is pickled to <cache_dir()>/plan-<sha256>.pickle. The key covers everything the
# plan is made of: both files' bytes, the source of this module and of lqip/schema.py (records,
# models and checks), the lqip and Python versions and _CACHE_FORMAT. An entry is read only when it
# is a regular file of this user that nobody else may write, and only this module's classes can come
# out of it. Any failure means a normal load; a config with errors is never cached.

CACHE_ENV = "LQIP_CACHE_DIR"
_CACHE_FORMAT = 2  # bump when the models or Plan's pickled state change
_CACHE_KEEP = 16  # newest entries kept in the cache directory; older ones are pruned on write
_CACHE_SUPPORTED = hasattr(os, "O_NOFOLLOW") and hasattr(os, "getuid")  # POSIX; off elsewhere


def cache_dir() -> Path | None:
    """Where validated plans are cached: $LQIP_CACHE_DIR, else $XDG_CACHE_HOME/lqip, else
    ~/.cache/lqip. None when LQIP_CACHE_DIR is `off` or empty (the cache is disabled)."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "off") else Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "lqip"
    try:
        return Path.home() / ".cache" / "lqip"
    except RuntimeError:  # no home directory
        return None


def _cache_entry(targets_bytes: bytes, resp_bytes: bytes) -> Path | None:
    """The cache file for these bytes, or None when caching is off or the directory is unsafe."""
    directory = cache_dir() if _CACHE_SUPPORTED else None
    if directory is None:
        return None
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(directory)):
            return None
    except OSError:
        return None
    return directory / f"plan-{_cache_key(targets_bytes, resp_bytes)}.pickle"


def _cache_key(*blobs: bytes) -> str:
    """sha256 over the config bytes and everything else that shapes the pickled plan."""
    import hashlib  # here: OpenSSL costs a process with the cache off ~1.5 ms

    from lqip import __version__

    digest = hashlib.sha256()
    for part in (str(_CACHE_FORMAT).encode(), __version__.encode(), sys.version.encode(), _own_source(),
                 *blobs):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two inputs hash alike
        digest.update(part)
    return digest.hexdigest()


def _own_source() -> bytes:
    """The source of this module and of the schema: an edited model or check invalidates the cache."""
    try:
        return Path(__file__).read_bytes() + Path(__file__).with_name("schema.py").read_bytes()
    except OSError:
        return b""


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by no one else."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _cache_read(entry: Path) -> Plan | None:
    """The plan stored in `entry`, or None when there is none to trust (any error counts)."""
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with open(fd, "rb") as handle:  # closes fd
            info = os.fstat(fd)
            if not (stat.S_ISREG(info.st_mode) and _private(info)):
                return None
            plan = _PlanUnpickler(handle).load()
    except Exception:  # corrupt, truncated, from another format: a normal load rewrites it
        return None
    return plan if isinstance(plan, Plan) else None


class _PlanUnpickler(pickle.Unpickler):
    """Resolves only this module's `Plan`, models and enums: a cache file can make a plan, nothing else."""

    def find_class(self, module: str, name: str):
        cls = globals().get(name) if module == __name__ else None
        if isinstance(cls, type) and cls.__module__ == __name__ and (cls is Plan or cls in _RECORDS
                                                                   or issubclass(cls, StrEnum)):
            return cls
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a plan")


def _cache_write(entry: Path, plan: Plan) -> None:
    """Store `plan` in `entry` atomically (a 0o600 temporary file renamed into place), then prune.
    Errors are ignored: the cache only ever saves time."""
    import tempfile

    tmp = None
    try:
        data = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".plan-", suffix=".tmp")  # mode 0o600
        with open(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, entry)
        tmp = None
        _prune(entry.parent)
    except Exception:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(directory: Path) -> None:
    """Keep the _CACHE_KEEP newest entries, so a config edited often leaves no pile behind."""
    entries = [e for e in os.scandir(directory) if e.name.startswith("plan-") and e.name.endswith(".pickle")]
    entries.sort(key=lambda e: e.stat(follow_symlinks=False).st_mtime_ns, reverse=True)
    for old in entries[_CACHE_KEEP:]:
        with contextlib.suppress(OSError):
            os.unlink(old.path)


def _validate(model, raw: object, path: Path, problems: list[str]):
    from pydantic import ValidationError

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


def cross_check(targets, resp, tpath: Path, rpath: Path) -> list[str]:
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
                for duty in ("leads", "co_units"):
                    for ui, name in enumerate(getattr(task, duty)):
                        if name not in unit_names:
                            problems.append(f"{rpath}: {where}.{duty}.{ui}: unknown unit {name!r} (not in units)")
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
