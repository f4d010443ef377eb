"""Words of the human-readable outputs (text and spreadsheet), in Chinese and English."""

from __future__ import annotations

LABELS = {
    "zh": {
        "error": "错误", "warning": "警告", "info": "提示",
        "file": "文件", "unit": "填报单位", "year": "年度", "period": "报告期", "unknown": "未知",
        "sheet": "工作表", "cell": "单元格", "code": "代码", "message": "说明", "severity": "级别",
        "indicator": "指标", "name": "名称", "target": "目标", "actual": "完成", "ratio": "完成率",
        "status": "状态", "total": "方案期", "elapsed": "时间进度", "no_issues": "未发现问题",
        "scores": "目标完成情况", "issues": "问题清单", "files": "个文件", "errors": "个错误",
        "warnings": "个警告", "infos": "条提示", "verdict_ok": "通过", "verdict_fail": "不通过",
        "file_level": "文件", "no_scores": "无可评分的指标", "units": "单位", "lead": "牵头单位",
        "kind": "类型", "flow": "年度量", "stock": "累计量", "measure": "计量单位",
    },
    "en": {
        "error": "error", "warning": "warning", "info": "info",
        "file": "file", "unit": "unit", "year": "year", "period": "period", "unknown": "unknown",
        "sheet": "sheet", "cell": "cell", "code": "code", "message": "message", "severity": "severity",
        "indicator": "indicator", "name": "name", "target": "target", "actual": "actual", "ratio": "ratio",
        "status": "status", "total": "plan", "elapsed": "time elapsed", "no_issues": "no issues found",
        "scores": "Targets", "issues": "Issues", "files": "file(s)", "errors": "error(s)",
        "warnings": "warning(s)", "infos": "info", "verdict_ok": "PASSED", "verdict_fail": "FAILED",
        "file_level": "file", "no_scores": "no indicator to score", "units": "units", "lead": "lead units",
        "kind": "kind", "flow": "flow", "stock": "stock", "measure": "unit",
    },
}

STATUS_STYLE = {
    "pass": "bold green", "on_track": "green", "fail": "bold red", "behind": "yellow", "missing": "yellow",
    "n/a": "dim", "open": "cyan",
}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def words(lang: str) -> dict:
    return LABELS["zh" if lang == "zh" else "en"]


def status_label(status, lang: str) -> str:
    return status.zh if lang == "zh" else status.value
