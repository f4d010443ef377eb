"""Views of the plan itself: the targets table, tasks by project, units — records and their tables."""

from __future__ import annotations

import sys

from lqip.plan import Plan, fmt
from lqip.renderers.labels import words


def targets_records(plan: Plan, year: int | None = None) -> list[dict]:
    years = [year] if year is not None else list(plan.meta.years)
    out = []
    for ind in plan.indicators:
        out.append({
            "id": ind.id,
            "name": ind.name,
            "name_en": ind.name_en,
            "unit": ind.unit,
            "kind": ind.kind.value,
            "aggregation": ind.aggregation.value,
            "targets": {str(y): plan.target(ind, y) for y in years},
            "total": ind.total,
            "leads": plan.indicator_leads(ind),
            "co_units": [u for u in plan.indicator_units(ind) if u not in plan.indicator_leads(ind)],
            "tasks": list(ind.tasks),
        })
    return out


def _console():
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, width=None if sys.stdout.isatty() else 160)


def print_targets(plan: Plan, year: int | None, lang: str) -> None:
    from rich.table import Table

    w = words(lang)
    years = [year] if year is not None else list(plan.meta.years)
    title = f"{plan.meta.title}  {plan.meta.document}"
    table = Table(title=title, header_style="bold", title_style="bold")
    table.add_column("ID", no_wrap=True)
    table.add_column(w["indicator"])
    if lang != "zh":
        table.add_column("", style="dim")
    table.add_column(w["measure"], no_wrap=True)
    table.add_column(w["kind"], no_wrap=True)
    for y in years:
        table.add_column(str(y), justify="right", no_wrap=True)
    table.add_column(f"{w['total']} (→{plan.meta.end_year})", justify="right", no_wrap=True, style="bold")
    table.add_column(w["lead"])
    for r in targets_records(plan, year):
        names = [r["name"]] if lang == "zh" else [r["name"], r["name_en"]]
        kind = w[r["kind"]] + (" Σ" if r["aggregation"] == "sum" else "")
        table.add_row(r["id"], *names, r["unit"], kind, *[fmt(r["targets"][str(y)]) or "—" for y in years],
                      fmt(r["total"]), "、".join(r["leads"]))
    _console().print(table)


def task_records(plan: Plan, resolved=None, lead_only: bool = False) -> list[dict]:
    """Tasks in plan order with project and key work; filtered to a unit (any of its plan units)."""
    names = set(resolved.units) if resolved else None
    out = []
    for project in plan.projects:
        for kw in project.key_works:
            for task in kw.tasks:
                if names is not None:
                    leads = names & set(task.leads)
                    co = names & set(task.co_units)
                    if not leads and (lead_only or not co):
                        continue
                out.append({
                    "id": task.id,
                    "project": project.id,
                    "project_name": project.name,
                    "key_work": kw.id,
                    "key_work_name": kw.name,
                    "content": task.content,
                    "leads": list(task.leads),
                    "co_units": list(task.co_units),
                    "role": None if names is None else ("lead" if names & set(task.leads) else "co"),
                    "target": task.target.indicator if task.target else None,
                })
    return out


def print_tasks(plan: Plan, records: list[dict], resolved, lang: str) -> None:
    from rich.table import Table

    console = _console()
    if resolved is not None:
        console.print(f"[bold]{resolved.name}[/] — {len(records)} {'项任务' if lang == 'zh' else 'task(s)'}")
    current = None
    table = None
    for r in records:
        if r["project"] != current:
            if table is not None:
                console.print(table)
            current = r["project"]
            table = Table(title=f"{r['project']} {r['project_name']}", title_justify="left", title_style="bold",
                          header_style="bold", expand=True)
            table.add_column("ID", no_wrap=True)
            table.add_column("重点工作" if lang == "zh" else "key work", max_width=14)
            table.add_column("主要内容" if lang == "zh" else "content", ratio=3)
            table.add_column("牵头单位" if lang == "zh" else "leads", ratio=1)
            table.add_column("配合单位" if lang == "zh" else "co-units", ratio=1)
        lead_text = "、".join(r["leads"])
        if r["role"] == "lead":
            lead_text = f"[bold]{lead_text}[/]"
        table.add_row(r["id"], f"{r['key_work']} {r['key_work_name']}", r["content"], lead_text, "、".join(r["co_units"]))
    if table is not None:
        console.print(table)


def unit_records(plan: Plan) -> list[dict]:
    out = []
    for unit in plan.units:
        duty = plan.responsibility[unit.name]
        out.append({
            "name": unit.name,
            "aliases": list(unit.aliases),
            "collective": unit.collective,
            "members": unit.members,
            "lead_tasks": len(duty["lead_tasks"]),
            "co_tasks": len(duty["co_tasks"]),
            "lead_indicators": sorted(duty["lead_indicators"]),
            "co_indicators": sorted(duty["co_indicators"]),
        })
    return out


def print_units(records: list[dict], lang: str) -> None:
    from rich.table import Table

    zh = lang == "zh"
    table = Table(header_style="bold", title="责任单位" if zh else "Responsible units", title_style="bold")
    table.add_column("单位" if zh else "unit", no_wrap=True)
    table.add_column("别名" if zh else "aliases")
    table.add_column("牵头任务" if zh else "leads", justify="right")
    table.add_column("配合任务" if zh else "co-owns", justify="right")
    table.add_column("牵头指标" if zh else "lead indicators")
    for r in records:
        name = r["name"] + (" [dim](集体/collective)[/]" if r["collective"] else "")
        aliases = "、".join(r["aliases"]) or (f"[dim]≈ {r['members']}[/]" if r["members"] else "")
        table.add_row(name, aliases, str(r["lead_tasks"]), str(r["co_tasks"]), " ".join(r["lead_indicators"]))
    _console().print(table)


def config_report(plan: Plan) -> dict:
    flows = [i for i in plan.indicators if i.kind.value == "flow"]
    return {
        "valid": True,
        "source": str(plan.source),
        "title": plan.meta.title,
        "document": plan.meta.document,
        "years": list(plan.meta.years),
        "end_year": plan.meta.end_year,
        "indicators": len(plan.indicators),
        "flows": len(flows),
        "stocks": len(plan.indicators) - len(flows),
        "projects": len(plan.projects),
        "key_works": sum(len(p.key_works) for p in plan.projects),
        "tasks": len(plan.tasks),
        "units": len(plan.units),
        "checks": [
            "every task's units exist",
            "ids are unique",
            "indicators link to existing tasks",
            "totals agree with the yearly targets (flows: sum; stocks: last year)",
            "target years lie within the plan",
            "task targets agree with their indicators",
        ],
        "notes": plan.consistency_report(),
    }


def print_config_report(report: dict, lang: str) -> None:
    console = _console()
    zh = lang == "zh"
    console.print(f"[bold green]✔ {'配置有效' if zh else 'config is valid'}[/]  {report['source']}")
    console.print(f"  {report['title']}  {report['document']}")
    console.print(
        f"  {report['indicators']} {'项指标' if zh else 'indicators'} ({report['flows']} flow, {report['stocks']} stock) · "
        f"{report['projects']} {'项工程' if zh else 'projects'} · {report['key_works']} {'项重点工作' if zh else 'key works'} · "
        f"{report['tasks']} {'项任务' if zh else 'tasks'} · {report['units']} {'个单位' if zh else 'units'} · "
        f"{report['years'][0]}–{report['end_year']}"
    )
    for check in report["checks"]:
        console.print(f"  [green]✓[/] {check}")
    for note in report["notes"]:
        console.print(f"  [cyan]•[/] {note}")
