"""`lqip check` as a library: read returns, run the checks, score them, return one Report.

    >>> from lqip.check import check_paths
    >>> report = check_paths(["samples/"])
    >>> report.to_dict("en")["summary"]

The CLI prints exactly this report; nothing here prints or exits.
"""

from __future__ import annotations

import os
import traceback

from lqip.batch import collector_paused, release_later
from lqip.checks import run_checks
from lqip.findings import finding
from lqip.paths import expand
from lqip.plan import Plan, load_plan
from lqip.reader import read_return
from lqip.report import FileReport, Report
from lqip.scoring import score_return
from lqip.workbook import Limits


def check_return(ret, plan: Plan, score: bool = True) -> FileReport:
    """Checks and (unless `score` is False) scores of a return already read."""
    findings = list(ret.findings)
    scores = []
    if ret.readable:
        findings.extend(run_checks(ret, plan))
        scores = score_return(ret, plan) if score else []
    return FileReport(
        path=ret.path,
        unit=ret.unit.name if ret.unit else None,
        year=ret.year,
        period=ret.period,
        findings=findings,
        scores=scores,
        ret=ret,
    )


def check_file(path: str | os.PathLike, plan: Plan | None = None, limits: Limits | None = None,
               debug: bool = False, score: bool = True) -> FileReport:
    """Read and check one file. Never raises for a bad file: an unexpected failure is an F003.
    `score=False` leaves the report's scores empty (a summary scores the consolidated figures)."""
    plan = plan or load_plan()
    try:
        with collector_paused():
            ret = read_return(path, plan, limits)
            return check_return(ret, plan, score)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - the promise: a finding, never a traceback
        if debug:
            traceback.print_exc()
        reason = f"unexpected {type(exc).__name__}: {str(exc)[:160]}"
        return FileReport(path=str(path), unit=None, year=None, findings=[finding("F003", file=path, reason=reason)])


def _check_file_without_rows(path, plan: Plan, limits: Limits | None = None, debug: bool = False) -> FileReport:
    """check_file, dropping the tidy rows: a worker then sends back findings and scores only."""
    report = check_file(path, plan, limits, debug)
    release_later(report.ret)
    report.ret = None
    return report


def check_paths(paths: list[str | os.PathLike], plan: Plan | None = None, limits: Limits | None = None,
                debug: bool = False, jobs: int | None = None, progress=None, keep_rows: bool = True) -> Report:
    """Check every file the paths mean (directories recursively); one Report, files in order.

    `keep_rows=False` leaves `FileReport.ret` empty: the tidy rows of a 100,000-row workbook cost
    more to send back from a worker process than to read, and only `summary` needs them."""
    from lqip.batch import map_files

    plan = plan or load_plan()
    files = expand(paths)
    fn = check_file if keep_rows else _check_file_without_rows
    reports = map_files(fn, files, plan, limits, debug=debug, jobs=jobs, progress=progress)
    return Report(files=reports)
