"""Output formats of `lqip check`: a renderer is a function `(report, lang, out)` in RENDERERS.

Every format is built from the same records (`Report.to_dict`, `issue_record`); only the text
renderer knows rich.
"""

from __future__ import annotations

from enum import StrEnum


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    LINES = "lines"
    GITHUB = "github"
    JUNIT = "junit"


def renderer(fmt: Format):
    if fmt is Format.TEXT:
        from lqip.renderers.text import render_check

        return render_check
    from lqip.renderers import machine

    return {
        Format.JSON: machine.render_json,
        Format.LINES: machine.render_lines,
        Format.GITHUB: machine.render_github,
        Format.JUNIT: machine.render_junit,
    }[fmt]
