"""`lqip --help` and `lqip targets` stay light: no pandas, no openpyxl (and no reader for --help).

Each command runs in a fresh interpreter that writes `sorted(sys.modules)` when it exits, so what
the test sees is exactly what a user's process imports (the test process itself has imported
everything by now).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("pandas", "openpyxl")


def imported_by(argv: list[str], tmp_path, env: dict | None = None) -> set[str]:
    out = tmp_path / "modules.txt"
    code = textwrap.dedent(f"""
        import atexit, sys
        sys.argv = ["lqip", *{argv!r}]
        atexit.register(lambda: open({str(out)!r}, "w").write("\\n".join(sorted(sys.modules))))
        from lqip.cli import main
        main()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return set(out.read_text().split())


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["--help"], ["targets"]], ids=["help", "targets"])
def test_no_heavy_imports(argv, tmp_path):
    found = top_level(imported_by(argv, tmp_path)) & set(HEAVY)
    assert not found, f"lqip {' '.join(argv)} imports {sorted(found)}"


def test_help_does_not_load_the_reader(tmp_path):
    modules = top_level(imported_by(["--help"], tmp_path))
    assert "python_calamine" not in modules
    assert "lqip" in modules  # the probe did run the CLI


def test_targets_prints_the_table(tmp_path):
    """The command the probe stands for works: `lqip targets` prints the plan's indicators."""
    proc = subprocess.run([sys.executable, "-m", "lqip", "targets", "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "I01" in proc.stdout


def test_a_check_with_a_cached_plan_does_not_import_pydantic(tmp_path):
    """pydantic validates the plan files; once the validated plan is cached (lqip/plan.py), a check
    runs without it (and typer is held below 0.29, whose option coercion imports pydantic)."""
    from helpers import ind, make_return

    path = make_return(tmp_path, indicators=[ind("I06", "", 2023, "件", 200, 210)])
    imported_by(["targets"], tmp_path)  # loads the plan: validated once, then cached (LQIP_CACHE_DIR, conftest)
    modules = top_level(imported_by(["check", str(path), "--format", "json"], tmp_path, {"LQIP_ISOLATE": "0"}))
    assert "python_calamine" in modules  # the probe did read the workbook, in this process
    assert "pydantic" not in modules
