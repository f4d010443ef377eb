"""The `lqip` command line: one thin function per command; the library does the work.

Heavy modules (pydantic via the plan, openpyxl, the reader) are imported inside the commands that need them, so
`lqip --help` and `lqip targets` start fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lqip import exitcodes
from lqip.findings import default_lang

if TYPE_CHECKING:
    from lqip.plan import Plan

app = typer.Typer(
    name="lqip",
    help="乐清市知识产权强县建设试点：填报表检查、汇总与模板 / Checks, consolidates and templates the returns of an IP-strong county work plan.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Validate a plan config / 校验方案配置", no_args_is_help=True)
app.add_typer(config_app, name="config")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config directory with targets.yaml and responsibilities.yaml "
                 "(default: $LQIP_CONFIG, else the plan shipped with lqip)", show_default=False),
]
LangOpt = Annotated[str | None, typer.Option("--lang", help="zh | en (default: from the locale)", show_default=False)]


def _plan(config: Path | None) -> Plan:
    from lqip.plan import ConfigError, load_plan  # pydantic loads only when a command needs the plan

    try:
        return load_plan(config)
    except ConfigError as exc:
        err = _err_console()
        err.print("[bold red]配置错误 / config error[/]")
        for line in exc.problems:
            err.print(f"  {line}", markup=False, highlight=False)
        raise typer.Exit(exitcodes.USAGE) from None


def _err_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def _lang(lang: str | None) -> str:
    if lang is None:
        return default_lang()
    if lang not in ("zh", "en"):
        raise typer.BadParameter("use zh or en", param_hint="--lang")
    return lang


def _json_out(data) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _format_choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"choose from {', '.join(allowed)}", param_hint="--format")
    return value


def _resolve_unit(plan: Plan, unit: str) -> str:
    """A canonical unit name for --unit, or exit 2 with the closest names."""
    resolved = plan.resolver.resolve(unit)
    if resolved is None:
        hints = "、".join(plan.resolver.suggest(unit)) or "—"
        _err_console().print(f"[red]未知单位 / unknown unit[/] {unit!r}; 您是否指 / did you mean: {hints}")
        raise typer.Exit(exitcodes.USAGE)
    return resolved.units[0] if resolved.is_member and len(resolved.units) == 1 else resolved.name


# --- plan commands ---------------------------------------------------------------------------------


@app.command()
def targets(
    year: Annotated[int | None, typer.Option("--year", "-y", help="Only this year's target column")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The targets table: indicator, unit, kind, yearly targets, total, lead units / 目标任务表."""
    from lqip import plan_views

    plan = _plan(config)
    _format_choice(format, ("text", "json"))
    if year is not None and year not in plan.plan_years:
        raise typer.BadParameter(f"{year} is outside the plan period {plan.first_year}–{plan.meta.end_year}",
                                 param_hint="--year")
    if format == "json":
        _json_out(plan_views.targets_records(plan, year))
    else:
        plan_views.print_targets(plan, year, _lang(lang))


@app.command()
def tasks(
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Only this unit's tasks (any alias)")] = None,
    lead_only: Annotated[bool, typer.Option("--lead-only", help="Only tasks the unit leads")] = False,
    format: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Tasks by project and key work, with lead and co-units / 重点任务责任分解."""
    from lqip import plan_views

    plan = _plan(config)
    _format_choice(format, ("text", "json"))
    if lead_only and unit is None:
        raise typer.BadParameter("--lead-only needs --unit", param_hint="--lead-only")
    resolved = plan.resolver.resolve(unit) if unit else None
    if unit and resolved is None:
        _resolve_unit(plan, unit)
    records = plan_views.task_records(plan, resolved, lead_only)
    if format == "json":
        _json_out(records)
    else:
        plan_views.print_tasks(plan, records, resolved, _lang(lang))


@app.command()
def units(
    format: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    lang: LangOpt = None,
    config: ConfigOpt = None,
) -> None:
    """The responsible units, their aliases and what each leads and co-owns / 责任单位."""
    from lqip import plan_views

    plan = _plan(config)
    _format_choice(format, ("text", "json"))
    records = plan_views.unit_records(plan)
    if format == "json":
        _json_out(records)
    else:
        plan_views.print_units(records, _lang(lang))


@config_app.command("check")
def config_check(
    config: ConfigOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text | json")] = "text",
    lang: LangOpt = None,
) -> None:
    """Validate a config and print its consistency report (exit 2 when invalid) / 校验配置."""
    from lqip import plan_views
    from lqip.plan import ConfigError, load_plan

    _format_choice(format, ("text", "json"))
    try:
        plan = load_plan(config)
    except ConfigError as exc:
        if format == "json":
            _json_out({"valid": False, "problems": exc.problems})
        else:
            _err_console().print("[bold red]✘ 配置无效 / invalid config[/]")
            for line in exc.problems:
                _err_console().print(f"  {line}", markup=False, highlight=False)
        raise typer.Exit(exitcodes.USAGE) from None
    report = plan_views.config_report(plan)
    if format == "json":
        _json_out(report)
    else:
        plan_views.print_config_report(report, _lang(lang))


# --- check ---------------------------------------------------------------------------------------------


LIMIT_HELP = "Safety limit (see README, Safety limits)"


@app.command()
def check(
    paths: Annotated[list[str] | None, typer.Argument(help="Workbooks or directories; '-' reads paths from stdin")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text | json | lines | github | junit")] = "text",
    lang: LangOpt = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1)")] = False,
    fail_on_target: Annotated[bool, typer.Option("--fail-on-target", help="A failed or behind target exits 1")] = False,
    changed_since: Annotated[str | None, typer.Option("--changed-since", help="Only workbooks changed since this git ref")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel readers (default: all cores)")] = None,
    max_file_mb: Annotated[float | None, typer.Option("--max-file-mb", help=LIMIT_HELP)] = None,
    max_unzipped_mb: Annotated[float | None, typer.Option("--max-unzipped-mb", help=LIMIT_HELP)] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help=LIMIT_HELP)] = None,
    max_cells: Annotated[int | None, typer.Option("--max-cells", help=LIMIT_HELP)] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected failures")] = False,
    config: ConfigOpt = None,
) -> None:
    """Check returns cell by cell and score them against the targets / 检查填报表.

    Exit 0: no errors; 1: errors (or warnings with --strict, failed targets with --fail-on-target); 2: usage or config.
    """
    from lqip.check import check_paths
    from lqip.paths import expand
    from lqip.renderers import Format, renderer

    plan = _plan(config)
    fmt = Format(_format_choice(format, tuple(f.value for f in Format)))
    language = _lang(lang)
    selected = _select_paths(paths or [], changed_since)
    if not selected and not changed_since and "-" not in (paths or []):
        raise typer.BadParameter("give at least one workbook or directory", param_hint="PATHS")
    limits = _limits(max_file_mb, max_unzipped_mb, max_rows, max_cells)
    files = expand(selected)
    with _progress(fmt is Format.TEXT, len(files)) as advance:
        report = check_paths(files, plan, limits, debug=debug, jobs=jobs, progress=advance, keep_rows=False)
    render = renderer(fmt)
    if fmt is Format.TEXT:
        render(report, language, sys.stdout, plan=plan)
    else:
        render(report, language, sys.stdout)
    raise typer.Exit(report.exit_code(strict, fail_on_target))


def _limits(max_file_mb, max_unzipped_mb, max_rows, max_cells):
    from dataclasses import replace

    from lqip.workbook import Limits

    limits = Limits()
    changes = {}
    if max_file_mb is not None:
        changes["max_file_bytes"] = int(max_file_mb * 1024 * 1024)
    if max_unzipped_mb is not None:
        changes["max_unzipped_bytes"] = int(max_unzipped_mb * 1024 * 1024)
    if max_rows is not None:
        changes["max_rows"] = max_rows
    if max_cells is not None:
        changes["max_cells"] = max_cells
    return replace(limits, **changes) if changes else limits


def _select_paths(paths: list[str], changed_since: str | None) -> list[str]:
    from lqip.paths import changed_files, stdin_paths

    selected: list[str] = []
    for p in paths:
        selected.extend(stdin_paths(sys.stdin) if p == "-" else [p])
    if changed_since:
        try:
            changed = changed_files(changed_since, selected or ["."])
        except RuntimeError as exc:
            _err_console().print(f"[red]--changed-since:[/] {exc}")
            raise typer.Exit(exitcodes.USAGE) from None
        return changed
    return selected


class _progress:
    """A rich progress bar on a terminal when reading more than a few files; else nothing."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and total > 3 and sys.stderr.isatty()
        self.total = total

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import Progress

        self._bar = Progress(transient=True, console=_err_console())
        self._bar.__enter__()
        task = self._bar.add_task("读取 / reading", total=self.total)
        return lambda n=1: self._bar.advance(task, n)

    def __exit__(self, *exc):
        if self.enabled:
            self._bar.__exit__(*exc)
        return False


# --- summary -------------------------------------------------------------------------------------------


@app.command()
def summary(
    paths: Annotated[list[str] | None, typer.Argument(help="Workbooks or directories (default: --returns, "
                                                      "$LQIP_RETURNS, else ./returns); '-' reads paths from stdin")] = None,
    by: Annotated[str, typer.Option("--by", "-b", help="indicator | unit | task")] = "indicator",
    year: Annotated[int | None, typer.Option("--year", "-y", help="Only this year (totals count the years up to it)")] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Only what concerns this unit (any alias)")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text | json | csv | markdown")] = "text",
    issues: Annotated[bool, typer.Option("--issues", help="List the issues (csv: the issues table instead of the view)")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file: .xlsx = the scorecard workbook, "
                                                "else the --format output")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file")] = False,
    returns: Annotated[Path | None, typer.Option("--returns", help="Directory of returns when no path is given")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1)")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parallel readers (default: all cores)")] = None,
    lang: LangOpt = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of unexpected failures")] = False,
    config: ConfigOpt = None,
) -> None:
    """The county's scorecard from all returns: by indicator, unit or task / 汇总.

    Exit 0: no errors; 1: errors in the returns, including V320 conflicts between units (or warnings with --strict); 2: usage or config.
    """
    from lqip.outputs import OutputExists, atomic_write_text
    from lqip.renderers.summary_formats import SummaryFormat, renderer
    from lqip.summary import View, default_returns_dir, read_returns, summarize

    plan = _plan(config)
    fmt = SummaryFormat(_format_choice(format, tuple(f.value for f in SummaryFormat)))
    if by not in tuple(v.value for v in View):
        raise typer.BadParameter("choose from indicator, unit, task", param_hint="--by")
    if year is not None and year not in plan.plan_years:
        raise typer.BadParameter(f"{year} is outside the plan period {plan.first_year}–{plan.meta.end_year}",
                                 param_hint="--year")
    language = _lang(lang)
    unit_name = _resolve_unit(plan, unit) if unit else None
    selected = _select_paths(paths or [], None)
    if not selected:
        where, source = default_returns_dir(returns)
        if not where.is_dir():
            _err_console().print(
                f"[red]未找到填报表 / no returns to read:[/] {where} ({source}) does not exist.\n"
                "  请给出文件或目录，或用 --returns DIR，或设置环境变量 LQIP_RETURNS。\n"
                "  Give workbooks or directories, or --returns DIR, or set LQIP_RETURNS.")
            raise typer.Exit(exitcodes.USAGE)
        selected = [str(where)]
    elif returns is not None:
        selected.append(str(returns))
    from lqip.paths import expand

    files = expand(selected)  # once: the directories are walked here, not again by the reader
    with _progress(True, len(files)) as advance:
        report = read_returns(files, plan, debug=debug, jobs=jobs, progress=advance)
    result = summarize(report, plan, year=year, unit=unit_name)
    view = View(by)
    try:
        if output is not None and output.suffix.lower() == ".xlsx":
            from lqip.scorecard import write_scorecard

            print(write_scorecard(result, output, language, force=force))
        elif output is not None:
            import io

            buffer = io.StringIO()
            renderer(fmt)(result, language, buffer, view=view, issues=issues)
            print(atomic_write_text(output, buffer.getvalue(), force=force))
        else:
            renderer(fmt)(result, language, sys.stdout, view=view, issues=issues)
    except OutputExists as exc:
        _err_console().print(f"[red]{exc}[/]")
        raise typer.Exit(exitcodes.USAGE) from None
    raise typer.Exit(result.exit_code(strict))


# --- template ------------------------------------------------------------------------------------------


@app.command()
def template(
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="The unit (any alias)")] = None,
    year: Annotated[int, typer.Option("--year", "-y", help="Reporting year")] = ...,
    period: Annotated[str, typer.Option("--period", "-p", help="全年 | 一季度 | 上半年 | 前三季度 (FY, Q1, H1, Q3)")] = "全年",
    all_units: Annotated[bool, typer.Option("--all", help="One workbook per unit into -o DIR")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (or directory with --all)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files")] = False,
    config: ConfigOpt = None,
) -> None:
    """Write the workbook a unit fills in / 生成填报模板."""
    from lqip.model import parse_period
    from lqip.outputs import OutputExists
    from lqip.template import template_filename, write_all, write_template

    plan = _plan(config)
    if year not in plan.plan_years:
        raise typer.BadParameter(f"{year} is outside the plan period {plan.first_year}–{plan.meta.end_year}",
                                 param_hint="--year")
    which = parse_period(period)
    if which is None:
        raise typer.BadParameter("use 全年, 一季度, 上半年 or 前三季度 (FY, Q1, H1, Q3)", param_hint="--period")
    try:
        if all_units:
            if unit:
                raise typer.BadParameter("--all and --unit exclude each other", param_hint="--all")
            written = write_all(plan, year, which, output or Path(f"templates_{year}"), force=force)
        else:
            if not unit:
                raise typer.BadParameter("give --unit U (or --all)", param_hint="--unit")
            name = _resolve_unit(plan, unit)
            target = output or Path(template_filename(name, year, which))
            written = [write_template(plan, name, year, which, target, force=force)]
    except OutputExists as exc:
        _err_console().print(f"[red]{exc}[/]")
        raise typer.Exit(exitcodes.USAGE) from None
    for path in written:
        print(path)


def main() -> None:
    """Entry point: typer's usage errors exit 2; anything else unexpected still never shows a traceback
    unless --debug is given."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001
        if "--debug" in sys.argv:
            raise
        _err_console().print(f"[red]lqip: unexpected error[/] {type(exc).__name__}: {exc} (run with --debug for details)")
        sys.exit(exitcodes.USAGE)


if __name__ == "__main__":
    main()
