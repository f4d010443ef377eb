"""Machine-readable formats: JSON, one line per issue, GitHub workflow commands, JUnit XML.

Every format is built from the report's records. What they promise (docs/ci.md):

- json: `Report.to_dict`, UTF-8; a file name that is not valid UTF-8 shows U+FFFD where the bytes were.
- lines: `path:sheet!cell: CODE message`, exactly one line per issue (a line break inside a message or
  a name is written `\\n`); `-` stands for the location of a file-level issue.
- github: `::error file=…,title=…::message` (warning, notice for info) with the runner's escaping:
  `%`, CR and LF in the message, and also `:` and `,` in the properties; file paths are made relative
  to $GITHUB_WORKSPACE so the annotation lands on the file.
- junit: one <testsuite> per file, one <testcase> per check code, a <failure> per error or warning
  (type = the severity; a warning fails only the JUnit view, not lqip's exit code without --strict),
  info issues in the testcase's <system-out>; characters XML 1.0 cannot carry are dropped.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime

from lqip.findings import CATALOGUE, Severity
from lqip.report import issue_record

# One line per check in JUnit, named as the contract names them (shared spec returns.md).
CHECK_TITLES = {
    "F001": "file missing or unreadable",
    "F002": "not a spreadsheet we read",
    "F003": "corrupt, encrypted or unsafe workbook",
    "F004": "over the safety limits",
    "S101": "indicators or tasks sheet present",
    "S102": "required columns present",
    "S103": "reporting unit given",
    "S104": "reporting year given",
    "S105": "reporting period known",
    "U201": "reporting unit known",
    "U202": "unit responsible for the indicators it reports",
    "U203": "unit leads or co-owns the tasks it reports",
    "V301": "indicator known",
    "V302": "indicator code and name agree",
    "V303": "value is a number",
    "V304": "value not negative",
    "V305": "whole number where the unit counts things",
    "V306": "measurement unit compatible",
    "V307": "value converted from another unit",
    "V308": "year inside the plan period",
    "V309": "no indicator reported twice",
    "V310": "lead indicators reported",
    "V311": "formulas have cached values",
    "V312": "written target matches the plan",
    "V313": "plausible values",
    "T401": "task known",
    "T402": "task status known",
    "T403": "progress text given for done or behind tasks",
    "T404": "no task reported twice with different content",
}


def clean(text: object) -> str:
    """Text safe to write as UTF-8: lone surrogates (undecodable bytes of a file name) become U+FFFD."""
    text = "" if text is None else str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a surrogate that is not an escaped byte
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _clean_tree(value):
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k): _clean_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(v) for v in value]
    return value


def render_json(report, lang: str, out) -> None:
    json.dump(_clean_tree(report.to_dict(lang)), out, ensure_ascii=False, indent=2)
    out.write("\n")


def _where(f) -> str:
    return f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or f.cell or "-")


_BREAKS = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", _BREAKS.sub(r"\\n", clean(text)))


def render_lines(report, lang: str, out) -> None:
    """`path:sheet!cell: CODE message` — one line per issue (grep- and editor-friendly)."""
    for file in report.files:
        path = _one_line(file.path)
        for f in file.findings:
            out.write(f"{path}:{_one_line(_where(f))}: {f.code} {_one_line(f.message(lang))}\n")


def _escape_data(text: str) -> str:
    escaped = clean(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _CONTROL.sub(" ", escaped)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_path(path: str) -> str:
    """The path as GitHub resolves annotations: relative to the workspace, with forward slashes."""
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and os.path.isabs(path):
        try:
            relative = os.path.relpath(path, workspace)
        except ValueError:  # another drive (Windows)
            relative = path
        if not relative.startswith(".."):
            path = relative
    return path.replace("\\", "/")


_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(report, lang: str, out) -> None:
    """GitHub Actions workflow commands: `::error file=…,title=…::message` per issue."""
    for file in report.files:
        path = _escape_property(github_path(file.path))
        for f in file.findings:
            where = f.location()
            title = f"{f.code} {where}" if where else f.code
            message = f.message(lang)
            hint = f.hint(lang)
            if hint:
                message = f"{message}\n{hint}"
            out.write(f"::{_GITHUB_LEVEL[f.severity]} file={path},title={_escape_property(title)}::"
                      f"{_escape_data(message)}\n")
    counts = report.counts()
    out.write(f"lqip: {counts['files']} file(s), {counts['errors']} error(s), {counts['warnings']} warning(s)\n")


def _check_codes() -> list[str]:
    """Codes in catalogue order (reading codes first); V320 belongs to `summary`, not to a file."""
    return [c for c in CATALOGUE if c != "V320"]


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    from xml.sax.saxutils import escape  # here: it imports urllib and ssl, 11 ms of every start-up

    return escape(_XML_ILLEGAL.sub("", clean(text)))


def _xml_attr(text: str) -> str:
    from xml.sax.saxutils import quoteattr

    return quoteattr(_XML_ILLEGAL.sub("", clean(text)), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _title(code: str) -> str:
    if code in CHECK_TITLES:
        return f"{code} {CHECK_TITLES[code]}"
    template = CATALOGUE[code].en
    return f"{code} " + re.sub(r"\s+", " ", re.sub(r"[{(].*?[})]|'", "", template)).strip(" :")


def render_junit(report, lang: str, out) -> None:
    """JUnit XML (the Jenkins/GitLab schema): one <testsuite> per file, one <testcase> per check code,
    a <failure> for every error or warning, info issues in <system-out>."""
    import socket

    codes = _check_codes()
    stamp = datetime.now().replace(microsecond=0).isoformat()
    host = _xml_attr(socket.gethostname() or "localhost")
    counted = [f for f in report.findings if f.severity is not Severity.INFO]
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(f'<testsuites name="lqip check" tests="{len(codes) * len(report.files)}" '
              f'failures="{len(counted)}" errors="0" skipped="0" time="0">\n')
    for index, file in enumerate(report.files):
        by_code: dict[str, list] = {}
        for f in file.findings:
            by_code.setdefault(f.code, []).append(f)
        failures = sum(1 for f in file.findings if f.severity is not Severity.INFO)
        name = _xml_attr(file.path)
        out.write(f'  <testsuite name={name} id="{index}" package="lqip" tests="{len(codes)}" '
                  f'failures="{failures}" errors="0" skipped="0" time="0" timestamp="{stamp}" hostname={host}>\n')
        out.write("    <properties>\n")
        for key, value in (("unit", file.unit), ("year", file.year), ("period", getattr(file.period, "value", ""))):
            out.write(f"      <property name=\"{key}\" value={_xml_attr('' if value is None else value)}/>\n")
        out.write("    </properties>\n")
        for code in codes:
            out.write(f'    <testcase name={_xml_attr(_title(code))} classname={name} time="0"')
            found = by_code.get(code, [])
            if not found:
                out.write("/>\n")
                continue
            out.write(">\n")
            infos = []
            for f in found:
                record = issue_record(f, lang)
                text = f"{record['code']} {_where(f)}: {record['message']}"
                if f.severity is Severity.INFO:
                    infos.append(text)
                    continue
                body = text + (f"\n{record['hint']}" if record.get("hint") else "")
                out.write(f"      <failure type={_xml_attr(f.severity.value)} message={_xml_attr(text)}>"
                          f"{_xml_text(body)}</failure>\n")
            if infos:
                out.write(f"      <system-out>{_xml_text(chr(10).join(infos))}</system-out>\n")
            out.write("    </testcase>\n")
        summary = f"unit: {file.unit or '-'}; year: {file.year or '-'}; issues: {len(file.findings)}"
        out.write(f"    <system-out>{_xml_text(summary)}</system-out>\n")
        out.write("    <system-err></system-err>\n")
        out.write("  </testsuite>\n")
    out.write("</testsuites>\n")
