"""Machine-readable formats: JSON, one line per issue, GitHub workflow commands, JUnit XML."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from lqip.findings import CATALOGUE, Severity
from lqip.report import issue_record

PRETTY_JSON_MAX_ISSUES = 2000


def render_json(report, lang: str, out) -> None:
    """Indented for a readable report; compact past PRETTY_JSON_MAX_ISSUES issues, where the C
    encoder (used only without indent) is several times faster."""
    data = report.to_dict(lang)
    indent = 2 if len(report.findings) <= PRETTY_JSON_MAX_ISSUES else None
    out.write(json.dumps(data, ensure_ascii=False, indent=indent))
    out.write("\n")


def _where(f) -> str:
    return f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or f.cell or "-")


def render_lines(report, lang: str, out) -> None:
    """`path:sheet!cell: CODE message` — one line per issue (grep- and editor-friendly)."""
    for file in report.files:
        for f in file.findings:
            out.write(f"{file.path}:{_where(f)}: {f.code} {f.message(lang)}\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(report, lang: str, out) -> None:
    """GitHub Actions workflow commands: `::error file=…,title=…::message` per issue."""
    for file in report.files:
        for f in file.findings:
            title = f"{f.code} {_where(f)}"
            message = f.message(lang)
            hint = f.hint(lang)
            if hint:
                message = f"{message}\n{hint}"
            out.write(
                f"::{_GITHUB_LEVEL[f.severity]} file={_escape_property(file.path)},"
                f"title={_escape_property(title)}::{_escape_data(message)}\n"
            )
    counts = report.counts()
    out.write(f"lqip: {counts['files']} file(s), {counts['errors']} error(s), {counts['warnings']} warning(s)\n")


def _check_codes() -> list[str]:
    """Codes in registry order: reading codes first, then one per registered check."""
    return [c for c in CATALOGUE if c != "V320"]


def render_junit(report, lang: str, out) -> None:
    """JUnit XML: one <testsuite> per file, one <testcase> per check code; a failure per finding
    of severity error (and warning, reported as failures of type 'warning')."""
    codes = _check_codes()
    total_tests = len(codes) * len(report.files)
    total_failures = sum(1 for f in report.findings if f.severity is not Severity.INFO)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<testsuites name="lqip check" tests="{total_tests}" failures="{total_failures}" errors="0">\n')
    for index, file in enumerate(report.files):
        by_code: dict[str, list] = {}
        for f in file.findings:
            by_code.setdefault(f.code, []).append(f)
        failures = sum(1 for f in file.findings if f.severity is not Severity.INFO)
        out.write(
            f'  <testsuite name={quoteattr(file.path)} id="{index}" tests="{len(codes)}" '
            f'failures="{failures}" errors="0" skipped="0">\n'
        )
        for code in codes:
            entry = CATALOGUE[code]
            name = f"{code} {entry.en}".split(":")[0].split("{")[0].strip()
            out.write(f'    <testcase classname={quoteattr(file.path)} name={quoteattr(name)}>\n')
            for f in by_code.get(code, []):
                record = issue_record(f, lang)
                text = f"{record['code']} {_where(f)}: {record['message']}"
                if f.severity is Severity.INFO:
                    out.write(f"      <system-out>{escape(text)}</system-out>\n")
                else:
                    out.write(
                        f"      <failure type={quoteattr(f.severity.value)} message={quoteattr(text)}>"
                        f"{escape(text)}</failure>\n"
                    )
            out.write("    </testcase>\n")
        out.write("  </testsuite>\n")
    out.write("</testsuites>\n")

