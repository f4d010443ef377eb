"""The checks over one tidy return: each a small pure function `(ret, plan) -> iterable of Finding`.

Reading problems (F001–F004, S101, S102, S105) are found by the reader itself; everything that
concerns the meaning of a return is here. A new check is one function and one line in CHECKS.
"""

from __future__ import annotations

from lqip.checks import structure, tasks, units, values

CHECKS = [
    structure.unit_missing,  # S103
    structure.year_missing,  # S104
    units.unknown_unit,  # U201
    units.indicator_not_responsible,  # U202
    units.task_not_responsible,  # U203
    values.unknown_indicator,  # V301
    values.code_name_disagree,  # V302
    values.not_a_number,  # V303
    values.negative,  # V304
    values.fraction_of_whole,  # V305
    values.incompatible_unit,  # V306
    values.converted,  # V307
    values.year_outside_plan,  # V308
    values.duplicate_figure,  # V309
    values.lead_indicator_not_reported,  # V310
    values.formula_without_value,  # V311
    values.target_differs,  # V312
    values.implausible,  # V313
    tasks.unknown_task,  # T401
    tasks.unknown_status,  # T402
    tasks.no_progress_text,  # T403
    tasks.duplicate_task,  # T404
]


def run_checks(ret, plan) -> list:
    """Every check over a readable return, in registry order."""
    found = []
    for check in CHECKS:
        found.extend(check(ret, plan))
    return found
