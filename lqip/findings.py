"""Findings: one frozen record for every problem, and the catalogue of codes with their messages.

A finding stores its code and the arguments of its message; the text is rendered in Chinese or
English only when a report is written (`Finding.message(lang)`), so one list of findings serves
every output format and language. Severity is data (the catalogue), not code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - a table reads better


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    severity: Severity
    zh: str
    en: str
    hint_zh: str = ""
    hint_en: str = ""


def _c(code, severity, zh, en, hint_zh="", hint_en=""):
    return code, Code(code, severity, zh, en, hint_zh, hint_en)


# The contract's codes (shared spec returns.md). Messages are str.format templates over `args`.
CATALOGUE: dict[str, Code] = dict([
    _c("F001", E, "文件不存在或无法读取：{reason}", "file missing or unreadable: {reason}"),
    _c("F002", E, "不是可读取的电子表格（{reason}）", "not a spreadsheet we read ({reason})",
       "请另存为 .xlsx 后重新提交", "save it as .xlsx and submit again"),
    _c("F003", E, "工作簿损坏、加密或不安全：{reason}", "corrupt, encrypted or unsafe workbook: {reason}",
       "请取消密码保护，用 Excel/WPS 另存为 .xlsx 后重新提交",
       "remove the password and re-save it as .xlsx in Excel/WPS"),
    _c("F004", E, "超出安全限制：{reason}", "over the safety limits: {reason}",
       "请只提交填报表本身；限制可用 --max-* 选项调整", "submit the return alone; limits are set with --max-* options"),
    _c("S101", E, "未找到“指标完成情况”或“任务进展”工作表（现有工作表：{sheets}）",
       "no indicators or tasks sheet found (sheets: {sheets})",
       "请使用 lqip template 生成的模板", "use the workbook made by `lqip template`"),
    _c("S102", E, "缺少必需的列“{column}”（表头行中看到：{seen}）",
       "required column '{column}' missing (headers seen: {seen})"),
    _c("S103", E, "未填写填报单位", "reporting unit missing",
       "在“填报信息”表的“填报单位”一栏填写本单位名称", "fill in 填报单位 on the 填报信息 sheet"),
    _c("S104", E, "未填写报告年度", "reporting year missing",
       "在“填报信息”表填写“报告年度”，或在每行填写“年度”", "fill in 报告年度, or a 年度 on every row"),
    _c("S105", W, "无法识别的报告期“{value}”，按全年处理", "unknown reporting period '{value}', read as full year",
       "报告期可填：全年、一季度、上半年、前三季度", "periods: 全年, 一季度 (Q1), 上半年 (H1), 前三季度 (Q3)"),
    _c("U201", E, "未知的填报单位“{value}”", "unknown reporting unit '{value}'",
       "您是否指：{suggestions}", "did you mean: {suggestions}"),
    _c("U202", W, "{unit} 不负责指标 {indicator}（{name}）", "{unit} is not responsible for {indicator} ({name})"),
    _c("U203", W, "{unit} 既不牵头也不参与任务 {task}", "{unit} neither leads nor co-owns task {task}"),
    _c("V301", E, "未知的指标“{value}”", "unknown indicator '{value}'",
       "请使用指标编号 I01–I18 或方案中的指标名称", "use the codes I01–I18 or the plan's indicator names"),
    _c("V302", E, "指标编号 {code} 与指标名称“{name}”不一致（名称对应 {name_id}）",
       "indicator code {code} and name '{name}' disagree (the name is {name_id})"),
    _c("V303", E, "“{value}”不是数字", "'{value}' is not a number",
       "请填写阿拉伯数字，如 300、1,000、8.5", "write a number such as 300, 1,000 or 8.5"),
    _c("V304", E, "数值为负：{value}", "negative value: {value}"),
    _c("V305", E, "{indicator} 以“{measure}”计，应为整数，实为 {value}",
       "{indicator} is counted in {measure}: expected a whole number, got {value}"),
    _c("V306", E, "计量单位“{written}”与指标 {indicator} 的单位“{measure}”不符",
       "unit '{written}' is incompatible with {indicator}'s unit '{measure}'"),
    _c("V307", I, "已将 {value} 换算为 {converted} {measure}", "converted {value} to {converted} {measure}"),
    _c("V308", E, "年度 {value} 不在方案期 {first}–{last} 内", "year {value} is outside the plan period {first}–{last}"),
    _c("V309", E, "{unit} 的 {indicator} {year} 年数据重复填报（另见 {other}）",
       "{unit} reports {indicator} for {year} twice (also {other})"),
    _c("V310", W, "牵头指标 {indicator}（{name}）{year} 年未填报", "lead indicator {indicator} ({name}) not reported for {year}"),
    _c("V311", E, "公式没有计算结果（缓存值）", "formula without a cached value",
       "请在 Excel/WPS 中打开并保存一次，或直接填写数值", "open and save it once in Excel/WPS, or type the figure"),
    _c("V312", W, "填写的目标值 {written} 与方案目标 {target} 不一致", "target written {written} differs from the plan's {target}"),
    _c("V313", W, "数据存疑：{reason}", "implausible: {reason}"),
    _c("V320", E, "{indicator} {year} 年各填报表数据不一致：{sources}",
       "returns disagree on {indicator} for {year}: {sources}"),
    _c("T401", E, "未知的任务“{value}”", "unknown task '{value}'", "任务编号为 T01–T48", "tasks are T01–T48"),
    _c("T402", E, "无法识别的进展状态“{value}”", "unknown status '{value}'",
       "状态可填：已完成、推进中、未启动、滞后", "statuses: 已完成, 推进中, 未启动, 滞后"),
    _c("T403", W, "任务 {task} 状态为“{status}”但未填写进展情况", "task {task} is '{status}' with no progress text"),
    _c("T404", E, "任务 {task} 重复填报且内容不同（另见 {other}）", "task {task} appears twice with different content (also {other})"),
])

# Plain words used inside messages, per language.
WORDS = {
    "zh": {"falls": "存量指标 {indicator} 从 {prev}（{prev_year}）降至 {value}（{year}）",
           "over10": "{indicator} 的 {value} 超过目标 {target} 的 10 倍",
           "none": "无"},
    "en": {"falls": "stock {indicator} falls from {prev} ({prev_year}) to {value} ({year})",
           "over10": "{indicator} value {value} is over 10× its target {target}",
           "none": "none"},
}


def default_lang() -> str:
    """zh when the locale says so (LC_ALL, LC_MESSAGES, LANG start with 'zh'), else en."""
    for var in ("LQIP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a return (or in a set of returns, for V320)."""

    code: str
    file: str = ""
    sheet: str = ""
    cell: str = ""
    args: tuple[tuple[str, object], ...] = field(default=())
    unit: str = ""  # the reporting unit it concerns, when known

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity if self.code != "V309" else self._v309_severity()

    def _v309_severity(self) -> Severity:
        return Severity.WARNING if dict(self.args).get("equal") else Severity.ERROR

    def message(self, lang: str = "en") -> str:
        entry = CATALOGUE[self.code]
        template = entry.zh if lang == "zh" else entry.en
        args = dict(self.args)
        args.setdefault("unit", self.unit or "—")
        if "why" in args:  # V313: the reason is itself a phrase in the report's language
            words = WORDS["zh" if lang == "zh" else "en"]
            args["reason"] = _format(words[args["why"]], args, lang)
        return _format(template, args, lang)

    def hint(self, lang: str = "en") -> str:
        entry = CATALOGUE[self.code]
        template = entry.hint_zh if lang == "zh" else entry.hint_en
        return _format(template, {"unit": self.unit, **dict(self.args)}, lang) if template else ""

    def location(self) -> str:
        """'sheet!cell', 'sheet' or ''."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or self.cell


def finding(code: str, /, file: str = "", sheet: str = "", cell: str = "", unit: str = "", **args) -> Finding:
    """Build a finding; `args` fill the message template of `code`."""
    if code not in CATALOGUE:
        raise KeyError(f"unknown finding code {code}")
    return Finding(code, str(file), sheet or "", cell or "", tuple(args.items()), unit or "")


class _Default(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _format(template: str, args: dict, lang: str = "en") -> str:
    separator = "、" if lang == "zh" else ", "
    return template.format_map(_Default({k: _show(v, separator) for k, v in args.items()}))


def _show(value: object, separator: str = "、") -> object:
    if isinstance(value, float):
        from lqip.plan import fmt

        return fmt(value)
    if isinstance(value, (list, tuple)):
        return separator.join(str(_show(v, separator)) for v in value) or "—"
    return value
