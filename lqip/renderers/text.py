"""The human report: findings grouped by sheet with cells, a score table, one line of totals."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lqip.plan import fmt
from lqip.renderers.labels import SEVERITY_STYLE, STATUS_STYLE, status_label, words
from lqip.report import SEVERITY_ORDER
from lqip.scoring import TOTAL


def make_console(out) -> Console:
    """Colour on a terminal, plain text when piped or with NO_COLOR (rich honours it)."""
    return Console(file=out, highlight=False, soft_wrap=False, width=None if out.isatty() else 160)


def render_check(report, lang: str, out, plan=None) -> None:
    console = make_console(out)
    w = words(lang)
    for file in report.files:
        _file_header(console, file, w, lang)
        _issues(console, file, w, lang)
        _scores(console, file, w, lang, plan)
    _totals(console, report, w)


def _file_header(console, file, w, lang) -> None:
    parts = [f"{w['unit']}: {file.unit or w['unknown']}"]
    if file.year:
        parts.append(f"{w['year']}: {file.year}")
    parts.append(f"{w['period']}: {file.period.zh if lang == 'zh' else file.period.value}")
    console.rule(Text(f" {file.path} ", style="bold"), align="left")
    console.print("  " + "  ·  ".join(parts), style="dim")


MAX_ROWS_PER_SHEET = 200  # a person reads the first ones; `--format lines` lists every issue


def _issues(console, file, w, lang) -> None:
    if not file.findings:
        console.print(f"  [green]✓ {w['no_issues']}[/]")
        return
    groups: dict[str, list] = {}
    for f in file.findings:
        groups.setdefault(f.sheet or w["file_level"], []).append(f)
    for sheet, items in groups.items():
        items.sort(key=lambda f: (SEVERITY_ORDER[f.severity], _cell_key(f.cell)))
        table = Table(title=f"{w['sheet']}: {sheet}", title_justify="left", title_style="bold", expand=False,
                      show_edge=False, pad_edge=False, box=None, padding=(0, 1))
        table.add_column(w["severity"], no_wrap=True)
        table.add_column(w["cell"], no_wrap=True, style="bold")
        table.add_column(w["code"], no_wrap=True)
        table.add_column(w["message"], overflow="fold")
        for f in items[:MAX_ROWS_PER_SHEET]:
            message = Text(f.message(lang))
            hint = f.hint(lang)
            if hint:
                message.append(f"  → {hint}", style="dim")
            sev = f.severity.value
            table.add_row(Text(w[sev], style=SEVERITY_STYLE[sev]), f.cell or "—", f.code, message)
        console.print(table)
        if len(items) > MAX_ROWS_PER_SHEET:
            more = len(items) - MAX_ROWS_PER_SHEET
            console.print(f"  … {more} more / 另有 {more} 条 (--format lines)", style="dim")
        console.print()


def _cell_key(cell: str) -> tuple:
    letters = "".join(c for c in cell if c.isalpha())
    digits = "".join(c for c in cell if c.isdigit())
    return (int(digits) if digits else 0, len(letters), letters)


def score_table(scores, w, lang, plan=None, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold")
    for name, justify in (("indicator", "left"), ("name", "left"), ("year", "left"), ("target", "right"),
                          ("actual", "right"), ("ratio", "right"), ("status", "left")):
        table.add_column(w[name], justify=justify, no_wrap=name != "name")
    for s in scores:
        name = plan.indicator_by_id[s.indicator].name if plan else ""
        year = w["total"] if s.year == TOTAL else str(s.year)
        if s.year != TOTAL and s.period.value != "FY":
            year += f" {s.period.zh if lang == 'zh' else s.period.value}"
        if s.year == TOTAL and s.elapsed is not None:
            year += f" ({w['elapsed']} {s.elapsed:.0%})"
        ratio = "" if s.ratio is None else f"{s.ratio:.0%}"
        style = STATUS_STYLE.get(s.status.value, "")
        table.add_row(s.indicator, name, year, fmt(s.target), fmt(s.actual), ratio,
                      Text(status_label(s.status, lang), style=style),
                      style="dim" if s.year == TOTAL else None)
    return table


def _scores(console, file, w, lang, plan) -> None:
    if not file.scores:
        return
    console.print(score_table(file.scores, w, lang, plan, title=w["scores"]))
    console.print()


def _totals(console, report, w) -> None:
    c = report.counts()
    ok = c["errors"] == 0
    verdict = Text(f" {w['verdict_ok'] if ok else w['verdict_fail']} ", style="bold white on green" if ok else "bold white on red")
    line = Text.assemble(
        verdict, "  ",
        (f"{c['files']} {w['files']}", "bold"), " · ",
        (f"{c['errors']} {w['errors']}", SEVERITY_STYLE["error"] if c["errors"] else "green"), " · ",
        (f"{c['warnings']} {w['warnings']}", SEVERITY_STYLE["warning"] if c["warnings"] else "green"), " · ",
        (f"{c['infos']} {w['infos']}", "cyan"), "   ",
        (f"✔ {c['status_pass']}", STATUS_STYLE["pass"]), " ",
        (f"✘ {c['status_fail']}", STATUS_STYLE["fail"]), " ",
        (f"? {c['status_missing']}", STATUS_STYLE["missing"]), " ",
        (f"⏳ {c['status_on_track']}/{c['status_behind']}", "yellow"),
    )
    console.print(line)

