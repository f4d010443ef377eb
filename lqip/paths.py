"""Which files a path argument means: files as given, directories walked for spreadsheets."""

from __future__ import annotations

import os
from pathlib import Path

from lqip.workbook import SPREADSHEET_SUFFIXES


def _skipped(name: str) -> bool:
    return name.startswith(("~$", ".", "~"))


def expand(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given (whatever their type: the reader reports what they are), and every
    .xlsx/.xlsm/.xls/.ods under a directory, recursively, without lock (~$*) or hidden files.
    Symbolic links to directories are not followed (no loops); order is stable and duplicates go."""
    out: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not _skipped(d))
                for name in files:
                    if not _skipped(name) and Path(name).suffix.lower() in SPREADSHEET_SUFFIXES:
                        found.append(Path(root) / name)
            for file in sorted(found):
                out.setdefault(str(file), file)
        else:
            out.setdefault(str(path), path)
    return list(out.values())


def stdin_paths(stream) -> list[str]:
    """Paths from standard input, one per line (blank lines and #comments skipped)."""
    if stream is None or stream.closed:
        return []
    return [line.strip() for line in stream if line.strip() and not line.lstrip().startswith("#")]


def changed_files(ref: str, within: list[str]) -> list[str]:
    """Spreadsheets added, copied, modified or renamed since git `ref` (and not deleted), limited to
    the given paths. Raises RuntimeError when git or the ref is not there."""
    import subprocess

    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True)
        diff = subprocess.run(
            ["git", "-c", "core.quotepath=off", "diff", "--name-only", "--diff-filter=ACMR", "-z", ref, "--", *within],
            capture_output=True, text=True, check=True,
        )
    except FileNotFoundError:
        raise RuntimeError("git is not installed") from None
    except subprocess.CalledProcessError as exc:
        raise RuntimeError((exc.stderr or "").strip() or f"git diff {ref} failed") from None
    root = Path(top.stdout.strip())
    out = []
    for name in diff.stdout.split("\0"):
        if name and Path(name).suffix.lower() in SPREADSHEET_SUFFIXES and not _skipped(Path(name).name):
            path = root / name
            if path.exists():
                out.append(str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path))
    return out
