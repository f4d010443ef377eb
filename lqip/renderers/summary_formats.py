"""Output formats of `lqip summary`: a renderer is `(summary, lang, out, view=, issues=)` in RENDERERS.

Every format is built from the summary's records (`Summary.to_dict`) flattened into tables by
`table(summary, view)`: JSON is the records as they are, CSV one table (the view, or the issues
with `issues=True`), Markdown the view's table and optionally the issues. The XLSX scorecard
(`lqip.scorecard`) writes the same tables. Only the text renderer (summary_text) knows rich.

CSV is machine-stable: headers are the JSON keys and statuses their codes (pass, fail…), whatever
the language; text that comes from a return and starts with = + - @ (or a tab or carriage return)
gets a leading apostrophe, so a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum

from lqip.model import TaskStatus
from lqip.plan import fmt
from lqip.scoring import TOTAL, Status
from lqip.summary import UNREPORTED, View


class SummaryFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


ISSUES = "issues"
TASK_KEYS = [s.value for s in TaskStatus] + [UNREPORTED]

COLUMNS: dict[str, list[str]] = {
    View.INDICATOR: ["indicator", "name", "year", "period", "target", "actual", "ratio", "status", "measure",
                     "units", "unreported", "elapsed"],
    View.UNIT: ["unit", "indicators", "pass", "fail", "missing", "on_track", "behind", "unreported",
                *[f"lead_{k}" for k in TASK_KEYS], *[f"co_{k}" for k in TASK_KEYS],
                "indicator_score", "task_score", "score"],
    View.TASK: ["task", "project", "key_work", "content", "leads", "co_units", "status", "statuses",
                "unreported_leads", "unreported_co"],
    ISSUES: ["code", "severity", "file", "sheet", "cell", "unit", "message", "hint"],
}

HEADERS = {
    "zh": {
        "indicator": "指标", "name": "名称", "year": "年度", "period": "报告期", "target": "目标", "actual": "完成",
        "ratio": "完成率", "status": "状态", "measure": "计量单位", "units": "填报单位（数据）",
        "unreported": "未报", "elapsed": "时间进度", "unit": "单位", "indicators": "牵头指标", "pass": "达标",
        "fail": "未达标", "missing": "未填报", "on_track": "进度正常", "behind": "进度滞后",
        "indicator_score": "指标得分", "task_score": "任务得分", "score": "综合得分", "task": "任务",
        "project": "工程", "key_work": "重点工作", "content": "主要内容", "leads": "牵头单位", "co_units": "配合单位",
        "statuses": "各单位最新进展", "unreported_leads": "牵头单位未报", "unreported_co": "配合单位未报",
        "code": "代码", "severity": "级别", "file": "文件", "sheet": "工作表", "cell": "单元格", "message": "说明",
        "hint": "建议", "lead": "牵头", "co": "配合",
    },
    "en": {
        "indicator": "indicator", "name": "name", "year": "year", "period": "period", "target": "target",
        "actual": "actual", "ratio": "ratio", "status": "status", "measure": "unit", "units": "sources",
        "unreported": "not reported", "elapsed": "time elapsed", "unit": "unit", "indicators": "leads indicators",
        "pass": "pass", "fail": "fail", "missing": "missing", "on_track": "on track", "behind": "behind",
        "indicator_score": "indicator score", "task_score": "task score", "score": "score", "task": "task",
        "project": "project", "key_work": "key work", "content": "content", "leads": "lead units",
        "co_units": "co-units", "statuses": "latest status by unit", "unreported_leads": "leads not reported",
        "unreported_co": "co-units not reported", "code": "code", "severity": "severity", "file": "file",
        "sheet": "sheet", "cell": "cell", "message": "message", "hint": "hint", "lead": "lead", "co": "co",
    },
}
SEVERITY_WORDS = {"zh": {"error": "错误", "warning": "警告", "info": "提示"},
                  "en": {"error": "error", "warning": "warning", "info": "info"}}
TASK_WORDS = {"zh": {**{s.value: s.zh for s in TaskStatus}, UNREPORTED: "未报"},
              "en": {**{s.value: s.value.replace("_", " ") for s in TaskStatus}, UNREPORTED: "not reported"}}
VIEW_TITLES = {
    "zh": {View.INDICATOR: "指标完成情况", View.UNIT: "各单位情况", View.TASK: "重点任务进展", ISSUES: "问题清单"},
    "en": {View.INDICATOR: "Indicators", View.UNIT: "Units", View.TASK: "Tasks", ISSUES: "Issues"},
}


def headers(lang: str) -> dict:
    return HEADERS["zh" if lang == "zh" else "en"]


def status_word(status: str | None, lang: str) -> str:
    """A score status (pass…) or a task status (done…) in words; '' for None."""
    if status is None:
        return ""
    if status in TASK_WORDS["en"]:
        return TASK_WORDS["zh" if lang == "zh" else "en"][status]
    return Status(status).zh if lang == "zh" else status


# --- tables: one flat dict per row, keys as COLUMNS -------------------------------------------------


def _sources_text(units: list[dict]) -> str:
    """'市司法局 60 + 市市场监管局 45'; figures given but not counted follow in brackets."""
    def one(u: dict) -> str:
        period = f" {u['period']}" if u.get("period") and u["period"] != "FY" else ""
        return f"{u['unit']} {fmt(u['value'])}{period}"

    text = " + ".join(one(u) for u in units if u.get("counted", True))
    others = [one(u) for u in units if not u.get("counted", True)]
    return f"{text} ({'; '.join(others)})" if others else text


def _period_word(code: str, lang: str | None) -> str:
    """FY/H1/… as 全年/上半年/… for Chinese readers; codes for machines (lang None) and English."""
    if lang != "zh":
        return code
    from lqip.model import Period

    try:
        return Period(code).zh
    except ValueError:
        return code


def indicator_rows(records: dict, lang: str | None = None) -> list[dict]:
    rows = []
    for r in records["scores"]:
        rows.append({
            "indicator": r["indicator"], "name": r["name"], "year": r["year"],
            "period": _period_word(r.get("period", "FY"), lang) if r["year"] != TOTAL else "",
            "target": r["target"], "actual": r["actual"], "ratio": r["ratio"], "status": r["status"],
            "measure": r.get("measure", ""), "units": _sources_text(r.get("units", [])),
            "unreported": "; ".join(r.get("unreported", [])),
            "elapsed": r.get("elapsed"),
        })
    return rows


def unreported_text(items: list[dict]) -> str:
    """[{"indicator": "I04", "year": 2023}, …] -> '2023: I04 I08; 2024: I04'."""
    by_year: dict[object, list[str]] = {}
    for item in items:
        by_year.setdefault(item["year"], []).append(item["indicator"])
    return "; ".join(f"{year}: {' '.join(ids)}" for year, ids in by_year.items())


def unit_rows(records: dict, lang: str | None = None) -> list[dict]:
    rows = []
    for r in records["units"]:
        row = {k: r.get(k) for k in ("unit", "pass", "fail", "missing", "on_track", "behind",
                                     "indicator_score", "task_score", "score")}
        row["indicators"] = " ".join(r["indicators"])
        row["unreported"] = unreported_text(r.get("unreported", []))
        for side in ("lead", "co"):
            for k in TASK_KEYS:
                row[f"{side}_{k}"] = r["tasks"][side].get(k, 0)
        rows.append(row)
    return rows


def task_rows(records: dict, lang: str | None = None) -> list[dict]:
    rows = []
    for r in records["tasks"]:
        rows.append({
            "task": r["task"], "project": f"{r['project']} {r['project_name']}",
            "key_work": f"{r['key_work']} {r['key_work_name']}", "content": r["content"],
            "leads": "、".join(r["leads"]), "co_units": "、".join(r["co_units"]), "status": r["status"],
            "statuses": "; ".join(f"{s['unit']}: {status_word(s['status'], lang) if lang else s['status']}"
                                  for s in r["statuses"]),
            "unreported_leads": "、".join(r["unreported_leads"]), "unreported_co": "、".join(r["unreported_co"]),
        })
    return rows


def issue_rows(records: dict, lang: str | None = None) -> list[dict]:
    return [{k: i.get(k) for k in COLUMNS[ISSUES]} for i in records["issues"]]


TABLES = {View.INDICATOR: indicator_rows, View.UNIT: unit_rows, View.TASK: task_rows, ISSUES: issue_rows}


def table(records: dict, which: str, lang: str | None = None) -> list[dict]:
    """The rows of one view (or ISSUES) built from `Summary.to_dict` records; with `lang`, task
    statuses inside text cells are words of that language (else their codes, as in CSV)."""
    return TABLES[which](records, lang)


# --- neutralising text bound for spreadsheets -------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return fmt(value)
    return neutralise(value)


# --- renderers --------------------------------------------------------------------------------------


def render_json(summary, lang: str, out, view: View = View.INDICATOR, issues: bool = False) -> None:
    json.dump(summary.to_dict(lang), out, ensure_ascii=False, indent=2)
    out.write("\n")


def render_csv(summary, lang: str, out, view: View = View.INDICATOR, issues: bool = False) -> None:
    """One table: the view's, or the issues with `issues=True`. Headers are the JSON keys."""
    which = ISSUES if issues else view
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS[which])
    for row in table(summary.to_dict(lang), which):
        writer.writerow([_csv_cell(row.get(k)) for k in COLUMNS[which]])


def _md(value: object) -> str:
    if value is None:
        return ""
    text = fmt(value) if isinstance(value, float) else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _md_cell(key: str, value: object, lang: str) -> str:
    if key == "status":
        return _md(status_word(value, lang))
    if key == "severity" and value:
        return SEVERITY_WORDS["zh" if lang == "zh" else "en"][value]
    if key in ("ratio", "elapsed") and isinstance(value, (int, float)):
        return f"{value:.0%}"
    if key == "year" and value == TOTAL:
        return "方案期" if lang == "zh" else "plan"
    return _md(value)


MD_COLUMNS = {  # the Markdown tables keep the columns a reader looks at
    View.INDICATOR: ["indicator", "name", "year", "target", "actual", "ratio", "status", "units", "unreported"],
    View.UNIT: ["unit", "indicators", "pass", "fail", "missing", "unreported", "lead_done", "lead_in_progress",
                "lead_not_started", "lead_behind", "lead_unreported", "score"],
    View.TASK: ["task", "key_work", "leads", "status", "statuses", "unreported_leads", "unreported_co"],
    ISSUES: ["severity", "code", "file", "sheet", "cell", "message"],
}


def _md_header(key: str, lang: str) -> str:
    h = headers(lang)
    if key.startswith(("lead_", "co_")):
        side, _, status = key.partition("_")
        return f"{h[side]}·{TASK_WORDS['zh' if lang == 'zh' else 'en'][status]}"
    return h[key]


def _md_table(rows: list[dict], which: str, lang: str, out) -> None:
    cols = MD_COLUMNS[which]
    out.write("| " + " | ".join(_md_header(c, lang) for c in cols) + " |\n")
    out.write("|" + "|".join("---:" if c in ("target", "actual", "ratio", "score", "pass", "fail", "missing")
                             else "---" for c in cols) + "|\n")
    for row in rows:
        out.write("| " + " | ".join(_md_cell(c, row.get(c), lang) for c in cols) + " |\n")


def render_markdown(summary, lang: str, out, view: View = View.INDICATOR, issues: bool = False) -> None:
    records = summary.to_dict(lang)
    titles = VIEW_TITLES["zh" if lang == "zh" else "en"]
    scope = []
    if summary.year is not None:
        scope.append(str(summary.year))
    if summary.unit:
        scope.append(summary.unit)
    out.write(f"# {summary.plan.meta.title}\n\n")
    c = records["summary"]
    if lang == "zh":
        out.write(f"{' · '.join(scope) + ' · ' if scope else ''}{c['files']} 个文件 · {c['errors']} 个错误"
                  f"（数据冲突 {c['conflicts']}）· {c['warnings']} 个警告\n\n")
    else:
        out.write(f"{' · '.join(scope) + ' · ' if scope else ''}{c['files']} file(s) · {c['errors']} error(s) "
                  f"({c['conflicts']} conflict(s)) · {c['warnings']} warning(s)\n\n")
    out.write(f"## {titles[view]}\n\n")
    _md_table(table(records, view, lang), view, lang, out)
    if issues:
        out.write(f"\n## {titles[ISSUES]}\n\n")
        _md_table(table(records, ISSUES, lang), ISSUES, lang, out)


RENDERERS = {
    SummaryFormat.JSON: render_json,
    SummaryFormat.CSV: render_csv,
    SummaryFormat.MARKDOWN: render_markdown,
}


def renderer(fmt_: SummaryFormat):
    """The renderer of a format (the text one is imported only when asked: it loads rich)."""
    if fmt_ is SummaryFormat.TEXT:
        from lqip.renderers.summary_text import render_summary

        return render_summary
    return RENDERERS[fmt_]
