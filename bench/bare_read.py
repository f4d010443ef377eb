"""The floor for reading: open each workbook with python-calamine and load every sheet, nothing else.

    python bench/bare_read.py FILE_OR_DIR...

Directories are walked for .xlsx files (sorted); the files are read one after another in this one
process, the way the simplest possible checker would read them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from python_calamine import CalamineWorkbook


def files(args: list[str]) -> list[Path]:
    out: list[Path] = []
    for arg in args:
        path = Path(arg)
        out.extend(sorted(path.rglob("*.xlsx")) if path.is_dir() else [path])
    return out


def main() -> int:
    cells = 0
    for path in files(sys.argv[1:]):
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            rows = book.get_sheet_by_name(name).to_python()
            cells += sum(len(row) for row in rows)
    print(cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
