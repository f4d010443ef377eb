"""The report of a check: plain records every output format is built from (returns.md, Outputs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lqip import exitcodes
from lqip.findings import Finding, Severity
from lqip.model import Period
from lqip.scoring import TOTAL, Score, Status

SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(slots=True)
class FileReport:
    path: str
    unit: str | None
    year: int | None
    period: Period = Period.FY
    findings: list[Finding] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    ret: object = None  # the tidy Return (None when the file could not be read, or not kept)
    digest: object = None  # what a summary takes from it (summary.Digest), when worked out where it was read

    @property
    def readable(self) -> bool:
        """The file was read (its Return, or its digest, is here)."""
        return self.digest is not None or bool(getattr(self.ret, "readable", False))

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def record(self, lang: str = "en") -> dict:
        return {
            "path": self.path,
            "unit": self.unit,
            "year": self.year,
            "period": self.period.value,
            "issues": [issue_record(f, lang) for f in self.findings],
            "scores": [s.record() for s in self.scores],
        }


def issue_record(f: Finding, lang: str = "en") -> dict:
    """One finding as a JSON-ready record (keys of the contract, plus file and hint)."""
    record = {
        "code": f.code,
        "severity": f.severity.value,
        "file": f.file,
        "sheet": f.sheet or None,
        "cell": f.cell or None,
        "message": f.message(lang),
    }
    hint = f.hint(lang)
    if hint:
        record["hint"] = hint
    if f.unit:
        record["unit"] = f.unit
    return record


@dataclass(slots=True)
class Report:
    files: list[FileReport]

    @property
    def findings(self) -> list[Finding]:
        return [f for file in self.files for f in file.findings]

    def counts(self) -> dict:
        by_severity = {s.value: 0 for s in Severity}
        for f in self.findings:
            by_severity[f.severity.value] += 1
        statuses = {s.value: 0 for s in Status}
        for file in self.files:
            for score in file.scores:
                if score.year != TOTAL:
                    statuses[score.status.value] += 1
        return {
            "files": len(self.files),
            "files_with_errors": sum(1 for f in self.files if f.count(Severity.ERROR)),
            "errors": by_severity["error"],
            "warnings": by_severity["warning"],
            "infos": by_severity["info"],
            **{f"status_{k.replace('/', '')}": v for k, v in statuses.items() if k != "open"},
        }

    def failed_targets(self) -> int:
        return sum(1 for f in self.files for s in f.scores if s.year != TOTAL and s.status in (Status.FAIL, Status.BEHIND))

    def exit_code(self, strict: bool = False, fail_on_target: bool = False) -> int:
        counts = self.counts()
        if counts["errors"] or (strict and counts["warnings"]):
            return exitcodes.FINDINGS
        if fail_on_target and self.failed_targets():
            return exitcodes.FINDINGS
        return exitcodes.OK

    def to_dict(self, lang: str = "en") -> dict:
        return {"files": [f.record(lang) for f in self.files], "summary": self.counts()}
