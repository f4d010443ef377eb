"""The human scorecard of `lqip summary`: one rich table per view, a line of totals, the issues on demand.

Colours as in `check`: green pass, red fail, yellow missing or behind; plain text when piped or
with NO_COLOR. Built from the same records as the other formats (`Summary.to_dict`).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from lqip.plan import fmt
from lqip.renderers.labels import SEVERITY_STYLE, STATUS_STYLE
from lqip.renderers.summary_formats import (
    ISSUES,
    SEVERITY_WORDS,
    TASK_KEYS,
    VIEW_TITLES,
    headers,
    status_word,
    unreported_text,
)
from lqip.renderers.text import make_console
from lqip.scoring import TOTAL
from lqip.summary import INDICATOR_SHARE, View

TASK_STYLE = {"done": "bold green", "in_progress": "green", "not_started": "yellow", "behind": "bold red",
              "unreported": "yellow"}
TASK_MARK = {"done": "✔", "in_progress": "▶", "not_started": "○", "behind": "⚠", "unreported": "?"}

WORDS = {
    "zh": {"summary": "汇总", "files": "个文件", "unreadable": "个无法读取", "errors": "个错误", "warnings": "个警告",
           "conflicts": "处数据冲突", "plan": "方案期", "elapsed": "时间进度", "not_reported": "未报",
           "issues_hint": "用 --issues 列出全部问题", "no_issues": "未发现问题", "no_returns": "未读到任何填报表",
           "formula": "综合得分 = 100 ×（{a}×牵头指标达成度 + {b}×牵头任务进展），缺报计 0；详见 docs/summary.md",
           "legend": "任务：✔已完成 ▶推进中 ○未启动 ⚠滞后 ?未报", "ok": "通过", "fail": "不通过",
           "all_years": "全部年度", "unit_scope": "单位"},
    "en": {"summary": "summary", "files": "file(s)", "unreadable": "unreadable", "errors": "error(s)",
           "warnings": "warning(s)", "conflicts": "conflict(s)", "plan": "plan", "elapsed": "elapsed",
           "not_reported": "not reported", "issues_hint": "list them with --issues", "no_issues": "no issues found",
           "no_returns": "no returns read",
           "formula": "score = 100 × ({a} × lead indicators attained + {b} × lead tasks' progress), "
                      "missing counts 0; see docs/summary.md",
           "legend": "tasks: ✔ done ▶ in progress ○ not started ⚠ behind ? not reported", "ok": "PASSED",
           "fail": "FAILED", "all_years": "all years", "unit_scope": "unit"},
}


def _w(lang: str) -> dict:
    return WORDS["zh" if lang == "zh" else "en"]


def render_summary(summary, lang: str, out, view: View = View.INDICATOR, issues: bool = False) -> None:
    console = make_console(out)
    records = summary.to_dict(lang)
    _header(console, summary, records, lang)
    {View.INDICATOR: _indicators, View.UNIT: _units, View.TASK: _tasks}[view](console, summary, records, lang)
    if issues:
        _issues(console, records, lang)
    _totals(console, records, lang, issues)


def _header(console, summary, records, lang) -> None:
    w = _w(lang)
    scope = [str(summary.year) if summary.year is not None else
             (f"{summary.years[0]}–{summary.years[-1]}" if summary.years else w["all_years"])]
    if summary.unit:
        scope.append(summary.unit)
    console.rule(Text(f" {summary.plan.meta.title} · {w['summary']} ", style="bold"), align="left")
    c = records["summary"]
    files = f"{c['files']} {w['files']}"
    if c["unreadable"]:
        files += f"（{c['unreadable']} {w['unreadable']}）" if lang == "zh" else f" ({c['unreadable']} {w['unreadable']})"
    console.print("  " + "  ·  ".join([*scope, files]), style="dim")
    if not c["files"]:
        console.print(f"  [yellow]{w['no_returns']}[/]")


def _status(status: str | None, lang: str) -> Text:
    return Text(status_word(status, lang), style=STATUS_STYLE.get(status or "", ""))


def _indicators(console, summary, records, lang) -> None:
    h, w = headers(lang), _w(lang)
    table = Table(title=VIEW_TITLES["zh" if lang == "zh" else "en"][View.INDICATOR], title_justify="left",
                  title_style="bold", header_style="bold")
    for key, justify in (("indicator", "left"), ("name", "left"), ("year", "left"), ("target", "right"),
                         ("actual", "right"), ("ratio", "right"), ("status", "left"), ("units", "left")):
        table.add_column(h[key], justify=justify, no_wrap=key not in ("name", "units"),
                         overflow="fold", max_width=30 if key == "name" else None)
    names = {ind.id: (ind.name if lang == "zh" else ind.name_en) for ind in summary.plan.indicators}
    previous = shown = None
    for r in records["scores"]:
        if previous is not None and r["indicator"] != previous:
            table.add_section()
        previous = r["indicator"]
        total = r["year"] == TOTAL
        year = w["plan"] if total else str(r["year"])
        if total and r.get("elapsed") is not None:
            year += f" ({w['elapsed']} {r['elapsed']:.0%})"
        elif r.get("period", "FY") != "FY":
            year += f" {r['period']}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.0%}"
        sources = _sources(r, lang)
        first = r["indicator"] != shown
        shown = r["indicator"]
        table.add_row(r["indicator"] if first else "", names[r["indicator"]] if first else "", year,
                      fmt(r["target"]), fmt(r["actual"]) or "—", ratio, _status(r["status"], lang), sources,
                      style="dim" if total else None)
    console.print(table)


def _sources(r: dict, lang: str) -> Text:
    text = Text()
    counted = [u for u in r.get("units", []) if u.get("counted", True)]
    others = [u for u in r.get("units", []) if not u.get("counted", True)]
    for i, u in enumerate(counted):
        if i:
            text.append(" + ")
        text.append(f"{u['unit']} {fmt(u['value'])}")
        if u.get("period", "FY") != "FY":
            text.append(f" {u['period']}", style="dim")
    for u in others:
        style = "red" if r.get("conflict") else "dim"
        text.append(f"  ({u['unit']} {fmt(u['value'])})", style=style)
    if r.get("conflict"):
        text.append("  ⚠ V320", style="bold red")
    if r.get("unreported") and r["year"] != TOTAL and (counted or len(r["unreported"]) > 1):
        text.append(f"  {_w(lang)['not_reported']}: {'、'.join(r['unreported'])}", style="yellow")
    return text


def _score(value: float | None) -> Text:
    if value is None:
        return Text("—", style="dim")
    style = "bold green" if value >= 80 else "yellow" if value >= 60 else "bold red"
    return Text(f"{value:.0f}", style=style)


def _task_counts(counts: dict) -> Text:
    text = Text()
    for key in TASK_KEYS:
        n = counts.get(key, 0)
        if n:
            if text:
                text.append(" ")
            text.append(f"{TASK_MARK[key]}{n}", style=TASK_STYLE[key])
    return text if text else Text("—", style="dim")


def _units(console, summary, records, lang) -> None:
    h, w = headers(lang), _w(lang)
    table = Table(title=VIEW_TITLES["zh" if lang == "zh" else "en"][View.UNIT], title_justify="left",
                  title_style="bold", header_style="bold")
    table.add_column(h["unit"], no_wrap=True)
    table.add_column(h["indicators"], overflow="fold", max_width=24)
    for key in ("pass", "fail", "missing"):
        table.add_column(h[key], justify="right", no_wrap=True)
    table.add_column(f"{h['on_track']}/{h['behind']}", justify="right", no_wrap=True)
    table.add_column(w["not_reported"], overflow="fold", max_width=28)
    table.add_column(f"{h['lead']}·{h['task']}", no_wrap=True)
    table.add_column(f"{h['co']}·{h['task']}", no_wrap=True)
    table.add_column(h["score"], justify="right", no_wrap=True)
    for r in records["units"]:
        def n(key, r=r):
            value = r.get(key, 0)
            return Text(str(value), style=STATUS_STYLE[key] if value else "dim")

        progress = Text()
        if r["on_track"] or r["behind"]:
            progress.append(str(r["on_track"]), style=STATUS_STYLE["on_track"])
            progress.append("/")
            progress.append(str(r["behind"]), style=STATUS_STYLE["behind"])
        table.add_row(r["unit"], " ".join(r["indicators"]) or "—", n("pass"), n("fail"), n("missing"), progress,
                      Text(unreported_text(r["unreported"]), style="yellow"), _task_counts(r["tasks"]["lead"]),
                      _task_counts(r["tasks"]["co"]), _score(r["score"]))
    console.print(table)
    share = INDICATOR_SHARE
    console.print("  " + w["formula"].format(a=f"{share:g}", b=f"{1 - share:g}"), style="dim")
    console.print("  " + w["legend"], style="dim")


def _tasks(console, summary, records, lang) -> None:
    h, w = headers(lang), _w(lang)
    table = Table(title=VIEW_TITLES["zh" if lang == "zh" else "en"][View.TASK], title_justify="left",
                  title_style="bold", header_style="bold")
    table.add_column(h["task"], no_wrap=True)
    table.add_column(h["content"], overflow="ellipsis", no_wrap=True, max_width=28)
    table.add_column(h["leads"], overflow="fold", max_width=18)
    table.add_column(h["status"], no_wrap=True)
    table.add_column(h["statuses"], overflow="fold")
    table.add_column(w["not_reported"], overflow="fold", max_width=30)
    key_work = None
    for r in records["tasks"]:
        if r["key_work"] != key_work:
            if key_work is not None:
                table.add_section()
            key_work = r["key_work"]
            table.add_row(Text(f"{r['project']} {r['key_work']}", style="bold"),
                          Text(r["key_work_name"], style="bold"), "", "", "", "")
        statuses = Text()
        for i, s in enumerate(r["statuses"]):
            if i:
                statuses.append("；" if lang == "zh" else "; ")
            statuses.append(f"{s['unit']} ")
            statuses.append(status_word(s["status"], lang), style=TASK_STYLE[s["status"]])
        missing = Text()
        if r["unreported_leads"]:
            missing.append(f"{h['lead']}: {'、'.join(r['unreported_leads'])}", style="bold yellow")
        if r["unreported_co"]:
            if missing:
                missing.append("  ")
            missing.append(f"{h['co']}: {'、'.join(r['unreported_co'])}", style="yellow")
        status = r["status"] or "unreported"
        table.add_row(r["task"], r["content"], "、".join(r["leads"]),
                      Text(status_word(status, lang), style=TASK_STYLE[status]), statuses, missing)
    console.print(table)


def _issues(console, records, lang) -> None:
    h = headers(lang)
    if not records["issues"]:
        return
    table = Table(title=VIEW_TITLES["zh" if lang == "zh" else "en"][ISSUES], title_justify="left",
                  title_style="bold", header_style="bold", box=None, padding=(0, 1))
    table.add_column(h["severity"], no_wrap=True)
    table.add_column(h["file"], overflow="fold", max_width=40)
    table.add_column(h["cell"], no_wrap=True)
    table.add_column(h["code"], no_wrap=True)
    table.add_column(h["message"], overflow="fold")
    sev_words = SEVERITY_WORDS["zh" if lang == "zh" else "en"]
    for i in records["issues"]:
        where = f"{i['sheet']}!{i['cell']}" if i["sheet"] and i["cell"] else (i["sheet"] or i["cell"] or "—")
        message = Text(i["message"])
        if i.get("hint"):
            message.append(f"  → {i['hint']}", style="dim")
        table.add_row(Text(sev_words[i["severity"]], style=SEVERITY_STYLE[i["severity"]]), i["file"] or "—",
                      where, i["code"], message)
    console.print()
    console.print(table)


def _totals(console, records, lang, issues_listed: bool) -> None:
    w = _w(lang)
    c = records["summary"]
    ok = c["errors"] == 0
    verdict = Text(f" {w['ok'] if ok else w['fail']} ", style="bold white on green" if ok else "bold white on red")
    line = Text.assemble(
        verdict, "  ",
        (f"{c['files']} {w['files']}", "bold"), " · ",
        (f"{c['errors']} {w['errors']}", SEVERITY_STYLE["error"] if c["errors"] else "green"),
        (f" ({c['conflicts']} {w['conflicts']})" if c["conflicts"] else "", SEVERITY_STYLE["error"]), " · ",
        (f"{c['warnings']} {w['warnings']}", SEVERITY_STYLE["warning"] if c["warnings"] else "green"), "   ",
        (f"✔ {c['status_pass']}", STATUS_STYLE["pass"]), " ",
        (f"✘ {c['status_fail']}", STATUS_STYLE["fail"]), " ",
        (f"? {c['status_missing']}", STATUS_STYLE["missing"]), " ",
        (f"⏳ {c['status_on_track']}/{c['status_behind']}", "yellow"),
    )
    console.print()
    console.print(line)
    if (c["errors"] or c["warnings"]) and not issues_listed:
        console.print(f"  {w['issues_hint']}", style="dim")
