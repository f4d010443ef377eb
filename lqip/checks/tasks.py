"""T401–T404: the task progress sheet."""

from __future__ import annotations

from lqip.findings import finding
from lqip.model import TaskStatus


def unknown_task(ret, plan):
    """T401: a task number that is not in the plan."""
    for row in ret.tasks:
        if row.task is None:
            yield finding("T401", file=ret.path, sheet=row.sheet, cell=row.cell("task"), value=row.task_raw)


def unknown_status(ret, plan):
    """T402: a status outside the vocabulary (已完成, 推进中, 未启动, 滞后 and their aliases)."""
    for row in ret.tasks:
        if row.status_raw and row.status is None:
            yield finding("T402", file=ret.path, sheet=row.sheet, cell=row.cell("status"), value=row.status_raw)


def no_progress_text(ret, plan):
    """T403: done or behind, but nothing said about it."""
    for row in ret.tasks:
        if row.task and row.status in (TaskStatus.DONE, TaskStatus.BEHIND) and not row.progress:
            cell = row.cell("progress") or row.cell("status")
            yield finding("T403", file=ret.path, sheet=row.sheet, cell=cell, task=row.task, status=row.status_raw)


def duplicate_task(ret, plan):
    """T404: the same task (for the same unit) twice with a different status or progress text."""
    first: dict[tuple, object] = {}
    for row in ret.tasks:
        if row.task is None:
            continue
        key = (row.unit.name if row.unit else "", row.task)
        earlier = first.setdefault(key, row)
        if earlier is row:
            continue
        if (earlier.status, earlier.progress) != (row.status, row.progress):
            yield finding("T404", file=ret.path, sheet=row.sheet, cell=row.cell("task"), task=row.task,
                          other=f"{earlier.sheet}!{earlier.cell('task')}")
